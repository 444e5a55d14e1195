//! `weld new` in an empty directory, then `weld up`: for each language, a command that runs and
//! an HTTP app that answers, as generated.

use libtest_mimic::{Failed, Trial};

use crate::{expect_code, shared_cache, weld};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for lang in ["rust", "python", "js"] {
        trials.push(crate::trial(
            format!("new::{lang}_cli_then_up_runs"),
            move || cli(lang),
        ));
        trials.push(crate::trial(
            format!("new::{lang}_http_then_up_serves"),
            move || http(lang),
        ));
    }
    trials
}

/// A fresh, empty directory with `weld new NAME --lang LANG --template TEMPLATE` run in it.
fn scaffold(lang: &str, template: &str) -> Result<std::path::PathBuf, Failed> {
    let dir = crate::scratch(&format!("{lang}-{template}"))?;
    let out = weld()
        .current_dir(&dir)
        .args(["new", "hello", "--lang", lang, "--template", template])
        .output()?;
    expect_code(&out, 0);
    assert!(dir.join("weld.toml").is_file());
    let next = String::from_utf8_lossy(&out.stdout);
    assert!(next.contains("next: `weld up`"), "{next}");
    Ok(dir)
}

fn cli(lang: &str) -> Result<(), Failed> {
    let dir = scaffold(lang, "cli")?;
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .current_dir(&dir)
        .arg("up")
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    expect_code(&out, 0);
    assert_eq!(stdout, "Hello, world, from hello!\n");
    // It passes check as generated.
    let check = weld().current_dir(&dir).arg("check").output()?;
    expect_code(&check, 0);
    Ok(())
}

fn http(lang: &str) -> Result<(), Failed> {
    let dir = scaffold(lang, "http")?;
    let server = super::serve::Server::command(&[
        "up".into(),
        dir.to_string_lossy().into_owned(),
        "--addr".into(),
        "127.0.0.1:0".into(),
    ])?;
    assert_eq!(
        server.get("/greet?who=ada")?,
        (
            200,
            "Hello from hello! You asked for /greet?who=ada\n".into()
        )
    );
    Ok(())
}
