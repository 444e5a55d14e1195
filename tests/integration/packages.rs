//! WIT packages from registries, against the reference client: packages published with
//! `wkg publish` to a loopback registry are fetched by weld for a project that has no copy of
//! them, which then builds, checks, composes and runs, and builds again with the registry gone;
//! packages weld publishes are fetched by `wkg fetch`; the two tools' locks agree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use libtest_mimic::{Failed, Trial};

use super::oci::Registry;
use crate::{expect_code, weld};

type Case = fn() -> Result<(), Failed>;

pub fn trials() -> Vec<Trial> {
    let cases: Vec<(&str, Case)> = vec![
        (
            "packages::wkg_published_interface_builds_runs_and_rebuilds_offline",
            from_wkg,
        ),
        ("packages::wkg_fetches_what_weld_publishes", to_wkg),
    ];
    cases
        .into_iter()
        .map(|(name, f)| crate::trial(name, f))
        .collect()
}

/// wkg 0.16.1, as `install.sh --dev` installs it.
fn wkg_path() -> PathBuf {
    weld::toolchain::weld_home().join("toolchains/dev/bin/wkg")
}

/// A scratch place: wkg's configuration pointing every namespace at `registry` (plain HTTP,
/// as a loopback registry is), and wkg's own cache.
struct Setup {
    dir: PathBuf,
    config: PathBuf,
}

impl Setup {
    fn new(registry: &Registry) -> Result<Setup, Failed> {
        let dir = crate::scratch("packages")?;
        let config = dir.join("wkg-config.toml");
        std::fs::write(
            &config,
            format!(
                "default_registry = \"{0}\"\n\n[registry.\"{0}\".oci]\nprotocol = \"http\"\n",
                registry.host
            ),
        )?;
        Ok(Setup { dir, config })
    }

    /// wkg in `dir`, isolated as weld is in the tests.
    fn wkg(&self, dir: &Path, args: &[&str]) -> Result<Output, Failed> {
        let mut cmd = Command::new(wkg_path());
        crate::isolate(&mut cmd);
        Ok(cmd
            .current_dir(dir)
            .env("WKG_CONFIG_FILE", &self.config)
            .env("WKG_CACHE_DIR", self.dir.join("wkg-cache"))
            .args(args)
            .output()
            .map_err(|e| {
                format!(
                    "cannot run {} (run ./install.sh --dev): {e}",
                    wkg_path().display()
                )
            })?)
    }

    /// weld in `dir` with wkg's configuration.
    fn weld(&self, dir: &Path, args: &[&str]) -> Result<Output, Failed> {
        Ok(weld()
            .current_dir(dir)
            .env("WKG_CONFIG_FILE", &self.config)
            .args(args)
            .output()?)
    }

    /// A copy of fixtures/registry/`name` to work in (a build writes into it).
    fn copy(&self, name: &str) -> Result<PathBuf, Failed> {
        self.copy_as(name, name)
    }

    /// A copy of fixtures/registry/`name` called `dest`.
    fn copy_as(&self, name: &str, dest: &str) -> Result<PathBuf, Failed> {
        let from = crate::root().join("fixtures/registry").join(name);
        let to = self.dir.join(dest);
        for entry in walkdir::WalkDir::new(&from)
            .into_iter()
            .filter_entry(|e| e.file_name() != "target")
        {
            let entry = entry?;
            let dest = to.join(entry.path().strip_prefix(&from)?);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&dest)?;
            } else {
                std::fs::copy(entry.path(), &dest)?;
            }
        }
        Ok(to)
    }
}

fn ok(out: &Output, what: &str) -> Result<(), Failed> {
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .into())
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `(package, digest)` of every entry of a lock (weld.lock or wkg.lock: the same schema).
fn locked(path: &Path) -> Result<Vec<(String, String, String)>, Failed> {
    let lock: toml::Value = toml::from_str(&std::fs::read_to_string(path)?)?;
    let mut out = Vec::new();
    for p in lock["packages"].as_array().ok_or("no packages")? {
        for v in p["versions"].as_array().ok_or("no versions")? {
            out.push((
                p["name"].as_str().unwrap_or_default().to_string(),
                v["version"].as_str().unwrap_or_default().to_string(),
                v["digest"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    Ok(out)
}

/// Publishes fixtures/registry/`name` with `wkg build` and `wkg publish`; returns the package's
/// sha256.
fn wkg_publish(setup: &Setup, name: &str) -> Result<String, Failed> {
    let dir = setup.copy(name)?;
    let file = setup.dir.join(format!("{name}.wasm"));
    let built = setup.wkg(
        &dir,
        &["build", "-d", "wit", "-o", file.to_str().ok_or("path")?],
    )?;
    ok(&built, "wkg build")?;
    ok(
        &setup.wkg(&dir, &["publish", file.to_str().ok_or("path")?])?,
        "wkg publish",
    )?;
    Ok(format!("sha256:{}", sha256_hex(&std::fs::read(&file)?)))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// The interop that matters first: a project whose WIT imports acme:billing/rates@1.2.0 (which
/// uses acme:money) that only a registry holds, published there by wkg.
fn from_wkg() -> Result<(), Failed> {
    let registry = Registry::start()?;
    let setup = Setup::new(&registry)?;
    wkg_publish(&setup, "money")?;
    let billing = wkg_publish(&setup, "billing")?;
    let app = setup.copy("invoice")?;

    // Before anything is published at that version: the missing version is named.
    let wrong = app.join("wit/invoice.wit");
    let wit = std::fs::read_to_string(&wrong)?;
    std::fs::write(&wrong, wit.replace("rates@1.2.0", "rates@1.3.0"))?;
    let out = setup.weld(&app, &["build"])?;
    expect_code(&out, 2);
    let said = text(&out);
    assert!(
        said.contains("acme:billing")
            && said.contains("has no version matching `=1.3.0`")
            && said.contains("it has 1.2.0"),
        "{said}"
    );
    assert!(
        !app.join("weld.lock").exists(),
        "a failed resolution wrote weld.lock"
    );
    std::fs::write(&wrong, &wit)?;

    // With weld alone: fetched, built (Python and Rust, each reading the fetched WIT), checked,
    // composed and run.
    let out = setup.weld(&app, &["up"])?;
    ok(&out, "weld up")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 x tea at 250 EUR: 500") && stdout.contains("total: 1460"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("fetched acme:billing@1.2.0"),
        "{}",
        text(&out)
    );
    let pins = locked(&app.join("weld.lock"))?;
    assert_eq!(
        pins,
        vec![(
            "acme:billing".to_string(),
            "1.2.0".to_string(),
            billing.clone()
        )]
    );
    let fetched = std::fs::read_to_string(app.join("wit/deps/acme-billing-1.2.0/package.wit"))?;
    assert!(
        fetched.starts_with("// Fetched by weld") && fetched.contains("price: func"),
        "{fetched}"
    );
    // What acme:billing uses came with it.
    assert!(app.join("wit/deps/acme-money-1.0.0/package.wit").is_file());

    // wkg resolves the same project to the same bytes.
    let twin = setup.copy_as("invoice", "twin")?;
    ok(&setup.wkg(&twin, &["fetch"])?, "wkg fetch")?;
    assert_eq!(
        locked(&twin.join("wkg.lock"))?,
        pins,
        "wkg.lock and weld.lock differ"
    );

    // The registry gone: a checkout with only weld.lock (deps/ not committed) builds from the
    // lock and weld's cache; nothing asks the network.
    drop(registry);
    std::fs::remove_dir_all(app.join("wit/deps"))?;
    let out = setup.weld(&app, &["build", "--offline"])?;
    ok(&out, "weld build --offline")?;
    assert!(
        app.join("wit/deps/acme-billing-1.2.0/package.wit")
            .is_file()
    );
    ok(
        &setup.weld(&app, &["check", "--locked"])?,
        "weld check --locked",
    )?;

    // Offline with an empty cache: named, exit 2, nothing changed.
    let out = weld()
        .current_dir(&app)
        .env("WKG_CONFIG_FILE", &setup.config)
        .env("WELD_CACHE_DIR", setup.dir.join("empty-cache"))
        .args(["build", "--offline"])
        .output()?;
    expect_code(&out, 2);
    assert!(
        text(&out).contains("acme:billing (=1.2.0) is locked at 1.2.0 but not in the cache"),
        "{}",
        text(&out)
    );

    // --locked refuses a lock that would change: an entry nobody uses any more, and one that
    // is missing.
    let lock = std::fs::read_to_string(app.join("weld.lock"))?;
    std::fs::write(
        app.join("weld.lock"),
        format!(
            "{lock}\n[[packages]]\nname = \"acme:old\"\nregistry = \"{0}\"\n\n[[packages.versions]]\nrequirement = \"=0.1.0\"\nversion = \"0.1.0\"\ndigest = \"sha256:{1}\"\n",
            "127.0.0.1:1",
            "0".repeat(64)
        ),
    )?;
    let out = setup.weld(&app, &["build", "--locked"])?;
    expect_code(&out, 1);
    assert!(
        text(&out).contains("acme:old =0.1.0 would be removed"),
        "{}",
        text(&out)
    );
    std::fs::remove_file(app.join("weld.lock"))?;
    let out = setup.weld(&app, &["build", "--locked"])?;
    expect_code(&out, 1);
    assert!(
        text(&out).contains("weld.lock is out of date")
            && text(&out).contains("acme:billing =1.2.0 is not in it"),
        "{}",
        text(&out)
    );
    assert!(!app.join("weld.lock").exists(), "--locked wrote weld.lock");
    Ok(())
}

/// The other direction: weld publishes acme:money and acme:billing (billing's own dependency
/// fetched first), and wkg fetches them for a project, pinning the digests weld printed.
fn to_wkg() -> Result<(), Failed> {
    let registry = Registry::start()?;
    let setup = Setup::new(&registry)?;
    let mut digests = Vec::new();
    for name in ["money", "billing"] {
        let dir = setup.copy(name)?;
        let out = setup.weld(&dir, &["wit", "publish"])?;
        ok(&out, "weld wit publish")?;
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let (reference, digest) = line
            .split_once(' ')
            .ok_or_else(|| format!("not `REF DIGEST`: {line}"))?;
        assert!(
            reference.starts_with(&format!("{}/acme/{name}:", registry.host)),
            "{line}"
        );
        digests.push(digest.to_string());
    }
    // Published again unchanged: the same digest (weld encodes reproducibly).
    let out = setup.weld(&setup.dir.join("billing"), &["wit", "publish"])?;
    ok(&out, "weld wit publish, again")?;
    assert!(String::from_utf8_lossy(&out.stdout).contains(&digests[1]));

    let app = setup.copy("invoice")?;
    ok(&setup.wkg(&app, &["fetch"])?, "wkg fetch")?;
    let pins = locked(&app.join("wkg.lock"))?;
    assert_eq!(
        pins,
        vec![(
            "acme:billing".to_string(),
            "1.2.0".to_string(),
            digests[1].clone()
        )]
    );
    let wit = std::fs::read_to_string(app.join("wit/deps/acme-billing-1.2.0/package.wit"))?;
    assert!(
        wit.contains("price: func(item: string) -> result<amount, string>"),
        "{wit}"
    );

    // A weld project pins billing; then the tag is published again with other bytes. With the
    // cache gone, the registry's bytes no longer match the lock: refused, exit 1, the lock
    // kept. `weld wit update` takes the new bytes on purpose.
    let pinned = setup.copy_as("invoice", "pinned")?;
    ok(&setup.weld(&pinned, &["wit", "fetch"])?, "weld wit fetch")?;
    let lock = std::fs::read_to_string(pinned.join("weld.lock"))?;
    let billing = setup.dir.join("billing/wit/rates.wit");
    let wit = std::fs::read_to_string(&billing)?;
    std::fs::write(
        &billing,
        wit.replace("/// The acme platform's prices.", "/// Prices, revised."),
    )?;
    ok(
        &setup.weld(&setup.dir.join("billing"), &["wit", "publish"])?,
        "weld wit publish, changed",
    )?;
    let fresh = |args: &[&str]| {
        weld()
            .current_dir(&pinned)
            .env("WKG_CONFIG_FILE", &setup.config)
            .env("WELD_CACHE_DIR", setup.dir.join("fresh-cache"))
            .args(args)
            .output()
    };
    let out = fresh(&["wit", "fetch"])?;
    expect_code(&out, 1);
    let said = text(&out);
    assert!(
        said.contains("acme:billing@1.2.0: the registry")
            && said.contains(&registry.host)
            && said.contains("weld.lock pins")
            && said.contains(&digests[1]),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(pinned.join("weld.lock"))?,
        lock,
        "a refused fetch changed weld.lock"
    );
    let out = fresh(&["wit", "update", "acme:billing"])?;
    ok(&out, "weld wit update")?;
    assert!(!std::fs::read_to_string(pinned.join("weld.lock"))?.contains(&digests[1]));
    assert!(
        std::fs::read_to_string(pinned.join("wit/deps/acme-billing-1.2.0/package.wit"))?
            .contains("Prices, revised.")
    );

    // A package without a version cannot be published: said before anything is sent.
    let dir = setup.dir.join("unversioned");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("p.wit"),
        "package acme:loose;\ninterface i { f: func(); }\n",
    )?;
    let out = setup.weld(&setup.dir, &["wit", "publish", "unversioned"])?;
    expect_code(&out, 2);
    assert!(
        text(&out).contains("package acme:loose has no version"),
        "{}",
        text(&out)
    );
    Ok(())
}
