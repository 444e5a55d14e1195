//! What the two test binaries (tests/cli.rs, tests/host.rs) both need, included by each with
//! `#[path]`: finding the toolchains before `$HOME` moves, and recording each trial's time.

use std::path::PathBuf;

/// The toolchains the tests use but never write, found from the environment the suite started
/// in, before any test replaces `$HOME`: cargo and rustup find themselves through `$HOME`
/// unless told.
pub struct Toolchains {
    pub weld_home: PathBuf,
    pub cargo_home: PathBuf,
    pub rustup_home: PathBuf,
}

impl Toolchains {
    pub fn find() -> Toolchains {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let var = |name: &str, default: PathBuf| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or(default)
        };
        Toolchains {
            weld_home: weld::toolchain::weld_home(),
            cargo_home: var("CARGO_HOME", home.join(".cargo")),
            rustup_home: var("RUSTUP_HOME", home.join(".rustup")),
        }
    }
}

/// Appends `SECONDS<TAB>NAME` to the file `WELD_TEST_TIMES` names, if set: `.ci/run` prints the
/// slowest trials from it, so that a regression in the suite's time shows.
pub fn record_time(name: &str, elapsed: std::time::Duration) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("WELD_TEST_TIMES") else {
        return;
    };
    // One short line per write, in append mode: lines from parallel trials do not interleave.
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = file.write_all(format!("{:.1}\t{name}\n", elapsed.as_secs_f64()).as_bytes());
    }
}
