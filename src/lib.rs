//! weld: build, check, compose and run WebAssembly components written in Rust, Python,
//! JavaScript and Go.
//!
//! The library holds every stage of the pipeline; the `weld` binary only parses flags and calls
//! it. Stages are modules named after the pipeline (see docs/architecture.md):
//! [`project`] (weld.toml → [`project::Plan`]), [`build`], [`check`], [`compose`], [`run`] and
//! [`test`], then [`serve`], [`oci`] (registries) and [`deploy`] (Kubernetes). [`pipeline`] runs
//! build → check → compose on a plan for every command that needs the app, and [`watch`] runs it
//! again on every change. [`host`] is the API an application embeds to run its users' plugins
//! (docs/embedding.md). [`report`] prints results and diagnostics and shows the stages as they
//! run; [`toolchain`] finds the language toolchains. Leaves that several stages share:
//! [`settings`] (grants and limits), [`lang`], [`call`] (a WAVE call), [`sources`], [`units`].

#![deny(missing_docs)]

pub mod build;
pub mod call;
pub mod check;
pub mod compose;
pub mod deploy;
pub mod error;
pub mod exit;
pub(crate) mod fingerprint;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod host;
pub mod lang;
pub mod oci;
pub mod packages;
pub mod pipeline;
pub mod project;
pub mod report;
pub mod run;
pub mod scaffold;
pub mod serve;
pub mod settings;
pub mod sources;
mod suggest;
pub mod test;
pub mod toolchain;
pub mod units;
pub mod watch;
pub mod wit;

/// Runs `f`, turning a panic inside it into an error with the panic's message: for calls into
/// dependencies (decoders, renderers) that a hostile input can make panic, so that the user gets
/// exit 1 and a message naming the input, never a crash. The panic is not printed.
pub(crate) fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    quiet_hook();
    // Set and reset around the call so that a nested call leaves the outer one quiet too.
    let outer = CONTAINED.replace(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CONTAINED.set(outer);
    result.map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into())
    })
}

thread_local! {
    /// Whether this thread is inside [`contained`], whose panics are not printed.
    static CONTAINED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs, once per process, a panic hook that is silent on a thread inside [`contained`] and
/// hands every other panic to the hook that was there before. Swapping the process-wide hook
/// around each call instead would race: two overlapping calls on parallel build jobs could leave
/// the silent hook installed for good, and silence other threads' panics meanwhile.
fn quiet_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINED.get() {
                previous(info);
            }
        }));
    });
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

    /// Contained panics on many threads at once, beside ordinary ones, in a child process (the
    /// panic hook is process-wide): the ordinary panics are still printed, the contained never.
    #[test]
    fn contained_panics_on_many_threads_leave_other_panics_printed() {
        const CHILD: &str = "WELD_CONTAINED_RACE_CHILD";
        let name = "tests::contained_panics_on_many_threads_leave_other_panics_printed";
        if std::env::var_os(CHILD).is_some() {
            let barrier = std::sync::Barrier::new(9);
            std::thread::scope(|scope| {
                for t in 0..8 {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        barrier.wait();
                        for i in 0..200 {
                            let r = super::contained(|| -> u8 { panic!("contained {t}/{i}") });
                            assert_eq!(r, Err(format!("contained {t}/{i}")));
                        }
                    });
                }
                let ordinary = scope.spawn(|| {
                    barrier.wait();
                    panic!("ordinary panic meanwhile");
                });
                assert!(ordinary.join().is_err());
            });
            panic!("ordinary panic afterwards");
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "the child's last panic fails it");
        assert!(stderr.contains("ordinary panic meanwhile"), "{stderr}");
        assert!(stderr.contains("ordinary panic afterwards"), "{stderr}");
        assert!(!stderr.contains("contained "), "{stderr}");
    }
}
