//! The components `weld check`'s golden cases use are built from the WIT beside them
//! (tests/cli/check/components/NAME.wit → NAME.wasm, real components with dummy bodies), or,
//! for what WIT cannot write, from WebAssembly text (NAME.wat → NAME.wasm). This keeps the
//! committed .wasm files in step with their sources; `BLESS=1` rewrites them.

use libtest_mimic::{Failed, Trial};

pub fn trials() -> Vec<Trial> {
    vec![crate::trial(
        "check::test_components_match_their_wit",
        components_match_their_wit,
    )]
}

fn components_match_their_wit() -> Result<(), Failed> {
    let dir = crate::root().join("tests/cli/check/components");
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let text = || std::fs::read_to_string(&path);
        let wasm = match path.extension().and_then(|e| e.to_str()) {
            Some("wit") => super::component_from_wit(&text()?),
            Some("wat") => wat::parse_str(text()?)?,
            _ => continue,
        };
        let target = path.with_extension("wasm");
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&target, &wasm)?;
        } else if std::fs::read(&target).ok().as_deref() != Some(&wasm[..]) {
            stale.push(target.display().to_string());
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "out of date with their WIT (rerun with BLESS=1): {}",
            stale.join(", ")
        )
        .into())
    }
}
