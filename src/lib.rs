//! weld: build, check, compose and run WebAssembly components written in Rust, Python and
//! JavaScript.
//!
//! The library holds every stage of the pipeline; the `weld` binary only parses flags and calls
//! it. Stages are modules named after the pipeline (see docs/architecture.md):
//! [`project`] (weld.toml → [`project::Plan`]), [`build`], [`check`], [`compose`], [`run`] and
//! [`test`], then [`serve`], [`oci`] (registries) and [`deploy`] (Kubernetes); [`pipeline`] runs the project-level stages on a plan for `weld up` and `weld test`.
//! [`report`] prints results and diagnostics; [`toolchain`] finds the language toolchains.

#![deny(missing_docs)]

pub mod build;
pub mod check;
pub mod compose;
pub mod deploy;
pub mod error;
pub mod exit;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod oci;
pub mod pipeline;
pub mod project;
pub mod report;
pub mod run;
pub mod scaffold;
pub mod serve;
pub mod test;
pub mod toolchain;
pub mod units;
pub mod wit;

/// Runs `f`, turning a panic inside it into an error with the panic's message: for calls into
/// dependencies (decoders, renderers) that a hostile input can make panic, so that the user gets
/// exit 1 and a message naming the input, never a crash. The panic is not printed.
pub(crate) fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into())
    })
}

/// A pool of at most `jobs` threads for `tasks` tasks; `None` where one thread does (or a pool
/// cannot be made), so the caller runs them in order.
pub(crate) fn pool(jobs: usize, tasks: usize) -> Option<rayon::ThreadPool> {
    let threads = jobs.clamp(1, tasks.max(1));
    if threads == 1 {
        return None;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_contained_panic_is_an_error_with_its_message() {
        assert_eq!(super::contained(|| 7), Ok(7));
        assert_eq!(
            super::contained(|| -> u8 { panic!("decoder gave up") }),
            Err("decoder gave up".to_string())
        );
        let n = 3;
        assert_eq!(
            super::contained(|| -> u8 { panic!("index {n} out of range") }),
            Err("index 3 out of range".to_string())
        );
    }
}
