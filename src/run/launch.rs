//! From a file to a finished run: a runtime for the profile, the app loaded (as its parts in the
//! dev profile, when they link in the host; else the composed file), then run once. What
//! `weld run` and `weld up` do, with what they show going to an [`Observer`].

use std::path::{Path, PathBuf};

use super::{Action, App, Compiling, Outcome, Profile, RunError, Runtime, RuntimeOptions, Stdio};
use crate::project::{Plan, Wiring};
use crate::settings::RunSettings;

/// What a caller sees of an app being loaded and run.
pub trait Observer: Sync {
    /// `app` (or one of its parts) is not in the compiled-code cache and is being compiled;
    /// `cached` says whether the result is kept for the next run.
    fn compiling(&self, app: &str, compiling: &Compiling, cached: bool);
    /// The app at `path` runs as its `parts` parts linked in the host, or (`linked` false)
    /// they could not be linked, so the composed file runs.
    fn parts(&self, path: &Path, parts: usize, linked: bool);
    /// The app at `path` is loaded; `cached` as for [`Observer::compiling`].
    fn loaded(&self, app: &App, path: &Path, cached: bool);
    /// The run ended.
    fn finished(&self, outcome: &Outcome);
}

/// How to load an app for a run.
#[derive(Debug, Clone, Default)]
pub struct Load {
    /// Which compiler.
    pub profile: Profile,
    /// Whether to use the compiled-code cache.
    pub cache: bool,
    /// The app's parts (name, file), to link in the host instead of loading the composed file.
    pub parts: Option<Vec<(String, PathBuf)>>,
}

/// A finished run of the app named `name`.
#[derive(Debug)]
pub struct Ran {
    /// The app's name.
    pub name: String,
    /// How it went.
    pub outcome: Outcome,
}

/// The parts a plan's app runs as in the dev profile: its root and plugs, each compiled on its
/// own, so that an edit to one compiles only that one. `None` in the release profile, and for
/// an app a WAC script wires (the script decides more than which part plugs where).
pub fn dev_parts(plan: &Plan, profile: Profile) -> Option<Vec<(String, PathBuf)>> {
    match &plan.compose.as_ref()?.wiring {
        Wiring::Plug { root, plugs } if profile == Profile::Dev => std::iter::once(root)
            .chain(plugs)
            .map(|name| {
                plan.component(name)
                    .map(|c| (c.name.clone(), c.output.clone()))
            })
            .collect(),
        _ => None,
    }
}

/// [`dev_parts`], when the parts are still the ones the app was composed from (none is newer
/// than the composed file): what `weld run` of a project runs, as `weld up` ran it.
pub fn current_dev_parts(plan: &Plan, profile: Profile) -> Option<Vec<(String, PathBuf)>> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let composed = modified(&plan.compose.as_ref()?.output);
    dev_parts(plan, profile).filter(|parts| {
        parts
            .iter()
            .all(|(_, part)| matches!((modified(part), composed), (Some(p), Some(c)) if p <= c))
    })
}

/// Loads the app at `path` (`name` in messages) as `load` says and runs it once under
/// `settings`, the guest's output going to the terminal.
pub fn run_app(
    path: &Path,
    name: &str,
    settings: &RunSettings,
    action: &Action,
    load: Load,
    observer: &dyn Observer,
) -> Result<Ran, RunError> {
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: if load.cache {
            super::default_cache_dir()
        } else {
            None
        },
        pool: None,
        profile: load.profile,
        functions: Vec::new(),
    })?;
    let linked = match &load.parts {
        Some(parts) => runtime.load_parts(path, name, parts, &|part, compiling| {
            observer.compiling(part, compiling, load.cache)
        })?,
        None => None,
    };
    if let Some(parts) = &load.parts {
        observer.parts(path, parts.len(), linked.is_some());
    }
    let app = match linked {
        Some(app) => app,
        None => {
            let shown = super::shown_app(path, name);
            runtime.load_notify(path, name, action.entry(), &|compiling| {
                observer.compiling(&shown, compiling, load.cache)
            })?
        }
    };
    observer.loaded(&app, path, load.cache);
    let outcome = runtime.run(&app, settings, action, &Stdio::Inherit)?;
    observer.finished(&outcome);
    Ok(Ran {
        name: app.name.clone(),
        outcome,
    })
}
