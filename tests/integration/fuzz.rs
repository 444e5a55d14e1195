//! The fuzz targets' corpora replayed under stable `cargo test`: every seed (fuzz/seeds/, from
//! fixtures) and every input a fuzzer once crashed on (fuzz/regressions/) goes through the same
//! entry point libFuzzer drives (`weld::fuzzing`), which panics where weld breaks a promise.

use std::path::Path;
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};

pub fn trials() -> Vec<Trial> {
    weld::fuzzing::TARGETS
        .iter()
        .map(|&(name, target)| {
            crate::trial(format!("fuzz::{name}_corpus_replays"), move || {
                replay(name, target)
            })
        })
        .collect()
}

/// A bound per input, far above what any takes: a hang is a failure, not a stuck suite.
const BOUND: Duration = Duration::from_secs(5);

fn replay(name: &str, target: weld::fuzzing::Target) -> Result<(), Failed> {
    let root = crate::root().join("fuzz");
    let mut inputs = Vec::new();
    // Only what is committed: a fuzzer's local corpus (fuzz/corpus/) would make the suite
    // depend on the machine it runs on.
    for dir in ["seeds", "regressions"] {
        let dir = root.join(dir).join(name);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries {
                inputs.push(entry?.path());
            }
        }
    }
    inputs.sort();
    if inputs.len() < 5 {
        return Err(format!(
            "only {} inputs for `{name}`: run fuzz/seed.sh",
            inputs.len()
        )
        .into());
    }
    for path in &inputs {
        let bytes = std::fs::read(path)?;
        let start = Instant::now();
        let outcome = std::panic::catch_unwind(|| target(&bytes));
        let took = start.elapsed();
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Err(format!("{}: {message}", shown(path)).into());
        }
        if took > BOUND {
            return Err(format!("{}: took {took:?}", shown(path)).into());
        }
    }
    Ok(())
}

fn shown(path: &Path) -> String {
    path.strip_prefix(crate::root())
        .unwrap_or(path)
        .display()
        .to_string()
}
