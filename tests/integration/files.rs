//! What weld writes, as a user's other tools expect to find it: artifacts with the mode the
//! user's umask gives a new file (0644 under 0022), as cargo and wasm-tools write theirs.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

use libtest_mimic::{Failed, Trial};

use crate::{expect_code, root, weld};

pub fn trials() -> Vec<Trial> {
    vec![crate::trial(
        "files::artifacts_follow_the_umask",
        artifacts_follow_the_umask,
    )]
}

/// Components, the composed app, `compose -o` and `weld new`'s files, under umask 0022 and
/// 0077: 0644 and 0600, directories 0755 and 0700.
fn artifacts_follow_the_umask() -> Result<(), Failed> {
    let components = root().join("tests/cli/check/components");
    for (umask, file_mode, dir_mode) in [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)] {
        let dir = crate::scratch(&format!("umask-{umask:03o}"))?;
        for part in ["chain-root", "chain-a", "chain-b"] {
            std::fs::copy(
                components.join(format!("{part}.wasm")),
                dir.join(format!("{part}.wasm")),
            )?;
        }
        std::fs::write(
            dir.join("weld.toml"),
            "[project]\nname = \"modes\"\n\n\
             [components.root]\nlang = \"wasm\"\npath = \"chain-root.wasm\"\n\n\
             [components.a]\nlang = \"wasm\"\npath = \"chain-a.wasm\"\n\n\
             [components.b]\nlang = \"wasm\"\npath = \"chain-b.wasm\"\n\n\
             [compose]\nroot = \"root\"\nplugs = [\"a\", \"b\"]\n",
        )?;
        let with_umask = |args: &[&str]| -> Result<(), Failed> {
            let mut cmd = weld();
            cmd.args(args).current_dir(&dir);
            // SAFETY: umask(2) in the child between fork and exec; it cannot fail.
            unsafe {
                cmd.pre_exec(move || {
                    libc::umask(umask);
                    Ok(())
                });
            }
            expect_code(&cmd.output()?, 0);
            Ok(())
        };
        with_umask(&["build"])?;
        with_umask(&["compose"])?;
        with_umask(&[
            "compose",
            "chain-root.wasm",
            "--plug",
            "chain-a.wasm",
            "--plug",
            "chain-b.wasm",
            "-o",
            "out/cli.wasm",
        ])?;
        with_umask(&["new", "greeter", "--lang", "python"])?;
        let mode = |path: &Path| -> Result<u32, Failed> {
            Ok(std::fs::metadata(dir.join(path))?.permissions().mode() & 0o777)
        };
        for file in [
            "target/weld/root.wasm",
            "target/weld/a.wasm",
            "target/weld/app.wasm",
            "out/cli.wasm",
            "weld.toml",
        ] {
            assert_eq!(
                mode(Path::new(file))?,
                file_mode,
                "{file} under umask {umask:03o}"
            );
        }
        for (sub, want) in [("out", dir_mode), ("greeter", dir_mode)] {
            assert_eq!(
                mode(Path::new(sub))?,
                want,
                "{sub}/ under umask {umask:03o}"
            );
        }
        for entry in walkdir::WalkDir::new(dir.join("greeter")) {
            let entry = entry?;
            let want = if entry.file_type().is_dir() {
                dir_mode
            } else {
                file_mode
            };
            assert_eq!(
                entry.metadata()?.permissions().mode() & 0o777,
                want,
                "{} under umask {umask:03o}",
                entry.path().display()
            );
        }
    }
    Ok(())
}
