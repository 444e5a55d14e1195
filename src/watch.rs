//! Watching a project for changes: what its plan reads (weld.toml, each component's source and
//! WIT, a WAC script), and for an HTTP app, serving it while every change is built, checked and
//! composed again and the new version swapped in without a failed request. `weld up --watch`
//! drives it.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use crate::error::{Error, Result};
use crate::project::Plan;

/// A watch on what a plan reads: weld.toml, sources, WIT, a WAC script.
pub struct Watch {
    inputs: Vec<PathBuf>,
    events: mpsc::Receiver<notify::Result<notify::Event>>,
    _watcher: notify::RecommendedWatcher,
}

impl Watch {
    /// Watches what `plan` reads, from now on.
    pub fn new(plan: &Plan) -> Result<Watch> {
        let (tx, events) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })
        .map_err(|e| watch_error(&plan.root, e))?;
        let inputs = watched(plan);
        for path in &inputs {
            // A file is watched through its directory: editors replace files by renaming,
            // which would end a watch on the file itself.
            let (dir, mode) = if path.is_dir() {
                (path.as_path(), RecursiveMode::Recursive)
            } else {
                (path.parent().unwrap_or(path), RecursiveMode::NonRecursive)
            };
            watcher.watch(dir, mode).map_err(|e| watch_error(dir, e))?;
        }
        Ok(Watch {
            inputs,
            events,
            _watcher: watcher,
        })
    }

    /// Waits for a change and returns the changed file, once editors have finished writing.
    /// `keep_waiting` is asked every 100 ms; `None` when it says stop.
    pub fn next(
        &self,
        plan: &Plan,
        keep_waiting: &mut dyn FnMut() -> bool,
    ) -> Result<Option<PathBuf>> {
        let changed = loop {
            if !keep_waiting() {
                return Ok(None);
            }
            match self.events.recv_timeout(Duration::from_millis(100)) {
                Ok(Ok(event)) => {
                    if let Some(path) = relevant(plan, &self.inputs, &event) {
                        break path;
                    }
                }
                Ok(Err(e)) => return Err(watch_error(&plan.root, e)),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(None),
            }
        };
        // Editors write in bursts (temp file, rename, touch): wait for a quiet moment.
        while self.events.recv_timeout(Duration::from_millis(300)).is_ok() {}
        Ok(Some(changed))
    }
}

/// What the pipeline reads: weld.toml, each component's source and WIT, a WAC script. Not the
/// whole project directory: outputs written there (a log, say) must not restart the run.
fn watched(plan: &Plan) -> Vec<PathBuf> {
    let mut paths = vec![plan.manifest.clone()];
    for c in &plan.components {
        paths.push(c.source.clone());
        paths.extend(c.wit.clone());
    }
    if let Some(crate::project::Wiring::Script { path, .. }) =
        plan.compose.as_ref().map(|c| &c.wiring)
    {
        paths.push(path.clone());
    }
    paths.sort();
    paths.dedup();
    // A directory already watched recursively covers what lies inside it.
    let dirs: Vec<PathBuf> = paths.iter().filter(|p| p.is_dir()).cloned().collect();
    paths.retain(|p| !dirs.iter().any(|d| p != d && p.starts_with(d)));
    paths
}

/// The changed file that should restart the pipeline, if any: build outputs, dependencies and
/// version control inside a source directory do not count (the pipeline writes them itself).
fn relevant(plan: &Plan, inputs: &[PathBuf], event: &notify::Event) -> Option<PathBuf> {
    if matches!(event.kind, EventKind::Access(_)) {
        return None;
    }
    event.paths.iter().find_map(|path| {
        let input = inputs
            .iter()
            .any(|i| path == i || (i.is_dir() && path.starts_with(i)));
        if !input {
            return None;
        }
        let rel = path.strip_prefix(&plan.root).unwrap_or(path);
        let ignored = path.starts_with(&plan.target_dir)
            || rel
                .components()
                .any(|c| c.as_os_str() == "target" || crate::sources::is_not_source(c.as_os_str()));
        (!ignored).then(|| path.clone())
    })
}

fn watch_error(root: &Path, e: notify::Error) -> Error {
    Error::Usage {
        message: format!("cannot watch {} for changes: {e}", root.display()),
    }
}

/// What a caller sees of serving while watching: the pipeline's stages and the server's lines,
/// and each change, reload and kept version.
pub trait Observer: crate::pipeline::Observer + crate::serve::Observer {
    /// `path` changed: the app is being built again while the running version serves.
    fn changed(&self, path: &Path);
    /// The new version took over: requests from now on go to it.
    fn reloaded(&self);
    /// The new version failed (`error`, shown here); the running one keeps serving.
    fn kept(&self, error: &Error);
}

/// Serves the app at `output` (built from `plan`) and, on every change of what the plan reads,
/// builds, checks and composes again while the running version keeps answering: a new version
/// that loads takes the requests that arrive from then on, requests in flight finish on the old
/// one, and one that fails leaves the old one serving. `reread` reads the plan again from its
/// manifest (a changed weld.toml may add components to watch; an invalid one keeps the last).
/// Returns when SIGINT or SIGTERM stopped the server.
pub fn serve_and_reload(
    mut plan: Plan,
    output: &Path,
    profile: crate::run::Profile,
    reread: &(dyn Fn(&Path) -> Result<Plan> + Sync),
    observer: &dyn Observer,
) -> Result<crate::serve::ServeSummary> {
    let settings = plan.serve.settings.clone();
    let name = plan.name.clone();
    let started = crate::serve::start(
        &crate::serve::Launch {
            path: output,
            name: &name,
            addr: plan.serve.addr,
            settings: &settings,
            profile,
            cache: true,
        },
        observer,
    )?;
    let reloader = started.server.reloader();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let runtime = &started.runtime;
    std::thread::scope(|scope| {
        let reload = scope.spawn(|| -> Result<()> {
            let mut watch = Watch::new(&plan)?;
            loop {
                let keep_waiting = &mut || !stop.load(std::sync::atomic::Ordering::Relaxed);
                let Some(changed) = watch.next(&plan, keep_waiting)? else {
                    return Ok(());
                };
                observer.changed(&changed);
                if let Ok(next) = reread(&plan.manifest) {
                    plan = next;
                }
                // Watched again before the rebuild: a change made during it starts another.
                watch = Watch::new(&plan)?;
                let loaded = crate::pipeline::prepare(&plan, None, observer).and_then(|output| {
                    let app = crate::serve::load(runtime, &output, &plan.name, observer)?;
                    reloader.replace(&app)?;
                    Ok(())
                });
                match loaded {
                    Ok(()) => observer.reloaded(),
                    Err(e) => observer.kept(&e),
                }
            }
        });
        let summary = started
            .server
            .run(runtime, started.listener, crate::serve::signals());
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let watched = reload.join().unwrap_or(Ok(()));
        let summary = summary?;
        watched?;
        crate::serve::Observer::stopped(observer, &summary);
        Ok(summary)
    })
}
