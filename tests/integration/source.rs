//! The source-level contract check end to end: a WIT that changes under a Python and a
//! JavaScript component that built against the old one. tests/cli/build/source-*.toml hold the
//! goldens for each kind of mismatch; here are the sequences around them: the check in
//! `weld check` and in `weld build`, the cache, the last good artifact, and the opt-outs.

use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::weld;

pub fn trials() -> Vec<Trial> {
    vec![crate::trial(
        "source::changed_wit_is_caught_in_the_code",
        changed_wit_is_caught_in_the_code,
    )]
}

const WIT_V1: &str = "package demo:names@0.1.0;

interface tidy {
    initials: func(name: string) -> string;
    count: func(text: string) -> u32;
}

world provider {
    export tidy;
}
";

/// The WIT after the change the issue describes: `initials` grew a parameter, and `count` takes
/// a list of words instead of a text.
const WIT_V2: &str = "package demo:names@0.1.0;

interface tidy {
    initials: func(name: string, upper: bool) -> string;
    count: func(words: list<string>) -> u32;
}

world provider {
    export tidy;
}
";

const PYTHON: &str = r#"from wit_world import exports


class Tidy(exports.Tidy):
    # Written for `initials: func(name: string) -> string`.
    def initials(self, name: str) -> str:
        return "".join(word[0] for word in name.split())

    def count(self, text: str) -> int:
        return len(text.split())
"#;

const JS: &str = r#"export const tidy = {
  initials(name) {
    return name.split(' ').map((w) => w[0]).join('');
  },
  count,
};

/**
 * @param {string} text
 * @returns {number}
 */
function count(text) {
  return text.split(' ').filter(Boolean).length;
}
"#;

const MANIFEST: &str = r#"[project]
name = "names"
wit = "wit"

[components.py]
lang = "python"
path = "names-py"
world = "provider"

[components.js]
lang = "js"
path = "names-js/names.js"
world = "provider"
"#;

fn json(out: &std::process::Output) -> Result<Value, Failed> {
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into()
    })
}

/// The findings of `component` whose code starts with `source-`.
fn source_findings<'a>(report: &'a Value, component: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            f["consumer"] == component
                && f["code"].as_str().is_some_and(|c| c.starts_with("source-"))
        })
        .collect()
}

fn codes(findings: &[&Value]) -> Vec<String> {
    let mut codes: Vec<String> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap_or("?").to_string())
        .collect();
    codes.sort();
    codes
}

fn changed_wit_is_caught_in_the_code() -> Result<(), Failed> {
    let dir = crate::scratch("source-names")?;
    std::fs::create_dir_all(dir.join("wit"))?;
    std::fs::create_dir_all(dir.join("names-py"))?;
    std::fs::create_dir_all(dir.join("names-js"))?;
    std::fs::write(dir.join("wit/names.wit"), WIT_V1)?;
    std::fs::write(dir.join("names-py/app.py"), PYTHON)?;
    std::fs::write(dir.join("names-js/names.js"), JS)?;
    std::fs::write(dir.join("weld.toml"), MANIFEST)?;
    let project = dir.to_str().unwrap_or_default();
    let build = |extra: &[&str]| {
        let mut cmd = weld();
        cmd.args(["build", "-C", project, "--format", "json"])
            .args(extra);
        cmd.output()
    };

    // Code that matches its WIT builds, and the check says so.
    let out = build(&[])?;
    crate::expect_code(&out, 0);
    let out = build(&[])?;
    crate::expect_code(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.matches("\"status\":\"cached\"").count(),
        2,
        "a second build with nothing changed must be a no-op: {stdout}"
    );
    let out = weld()
        .args(["check", "-C", project, "--format", "json"])
        .output()?;
    crate::expect_code(&out, 0);
    let report = json(&out)?;
    for c in ["py", "js"] {
        assert_eq!(
            codes(&source_findings(&report, c)),
            ["source-checked"],
            "{report:#}"
        );
    }

    // The WIT changes; the code does not. `weld check` finds it in the code, at the method.
    std::fs::write(dir.join("wit/names.wit"), WIT_V2)?;
    let out = weld()
        .args(["check", "-C", project, "--format", "json"])
        .output()?;
    crate::expect_code(&out, 1);
    let report = json(&out)?;
    let py = source_findings(&report, "py");
    assert_eq!(codes(&py), ["source-arity", "source-type"], "{report:#}");
    let arity = py.iter().find(|f| f["code"] == "source-arity").unwrap();
    assert_eq!(arity["location"]["line"], 6, "{arity:#}");
    assert_eq!(arity["location"]["column"], 5, "{arity:#}");
    assert!(
        arity["location"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("names-py/app.py")),
        "{arity:#}"
    );
    assert_eq!(
        arity["expected"],
        "initials: func(name: string, upper: bool) -> string"
    );
    assert_eq!(arity["found"], "def initials(self, name: str) -> str");
    assert_eq!(arity["interface"], "demo:names/tidy@0.1.0");
    // JavaScript may take fewer parameters than it is given; its JSDoc type is what differs.
    let js = source_findings(&report, "js");
    assert_eq!(codes(&js), ["source-type"], "{report:#}");
    assert_eq!(js[0]["item"], "function `count`", "{:#}", js[0]);
    assert_eq!(js[0]["location"]["line"], 12, "{:#}", js[0]);

    // `weld build` stops before componentizing, says the same, and keeps the last good build.
    let before = std::fs::read(dir.join("target/weld/py.wasm"))?;
    let out = weld().args(["build", "-C", project]).output()?;
    crate::expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "error[source-arity]: `Tidy.initials` takes 1 parameter, but the WIT gives it 2 parameters",
        "names-py/app.py:6:5",
        "the WIT says:  initials: func(name: string, upper: bool) -> string",
        "the code has:  def initials(self, name: str) -> str",
        "error[source-type]: `count` does not match its WIT",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
    assert_eq!(std::fs::read(dir.join("target/weld/py.wasm"))?, before);

    // Without the check, componentize-py builds the code as it is, and the component fails the
    // first time `initials` is called: the run-time failure the check exists to prevent.
    let out = weld()
        .args(["build", "-C", project, "--no-source-check", "py"])
        .output()?;
    crate::expect_code(&out, 0);
    let out = weld()
        .env("WELD_CACHE_DIR", crate::shared_cache())
        .args(["run", "target/weld/py.wasm"])
        .args(["--invoke", "initials(\"Ada Lovelace\", true)"])
        .current_dir(&dir)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("takes 2 positional arguments but 3 were given"),
        "{stderr}"
    );

    // `source-check = false` turns it off for one component.
    let manifest = MANIFEST.replace(
        "path = \"names-js/names.js\"",
        "path = \"names-js/names.js\"\nsource-check = false",
    );
    std::fs::write(dir.join("weld.toml"), manifest)?;
    let out = weld()
        .args(["check", "-C", project, "--format", "json"])
        .output()?;
    let report = json(&out)?;
    assert!(source_findings(&report, "js").is_empty(), "{report:#}");
    assert!(!source_findings(&report, "py").is_empty(), "{report:#}");
    Ok(())
}
