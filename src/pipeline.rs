//! The pipeline as library calls over one [`Plan`]: build → check → compose ([`prepare`]), and
//! each stage alone, which `weld build`, `check`, `compose`, `up`, `serve`, `push` and `test`
//! all run through here, so that no command runs another command or reads its printed output.
//! What the caller shows while it runs goes through an [`Observer`] (the reporter is one).
//!
//! Running is [`crate::run::Runtime`] and serving [`crate::serve`]; both take a plan's values.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::build::{self, BuildError, Built};
use crate::check::{self, Against, Finding, Loaded, Severity, load, plug, target};
use crate::compose::{self, ComposeError, Composed, ProjectInputs};
use crate::error::{Error, Result};
use crate::project::{Component, Plan};

/// A stage of [`prepare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Every component from source.
    Build,
    /// The components against each other, their worlds and the runtime.
    Check,
    /// The components into one app.
    Compose,
}

impl Stage {
    /// `build`, `check`, `compose`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Build => "build",
            Stage::Check => "check",
            Stage::Compose => "compose",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a stage of [`prepare`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageEnd {
    /// It did its work.
    Done,
    /// Nothing had changed since it last ran, so its output was kept (compose).
    UpToDate,
    /// It failed; the error follows.
    Failed,
}

/// What a caller sees of the pipeline while it runs: each component's build, each stage's end,
/// and the findings that stop a stage, which come before its error.
pub trait Observer: Sync {
    /// Progress of the build stage over `components`.
    fn build(&self, components: &[&Component]) -> Box<dyn build::Observer + '_>;
    /// A stage of [`prepare`] ended after `elapsed`.
    fn stage_end(&self, stage: Stage, elapsed: Duration, end: StageEnd);
    /// `findings` about `components` stopped check or compose.
    fn refused(&self, components: &[String], findings: &[Finding]);
    /// The composed app still imports something nobody provides (allowed without `strict`).
    fn unresolved(&self, composed: &Composed);
    /// Whether toolchain commands and their whole output are wanted (`-v`).
    fn detailed(&self) -> bool;
}

/// Builds, checks and composes `plan`'s app, building at most `jobs` components at once, and
/// returns the composed app's path. The first stage that fails stops it: check and compose
/// findings go to `observer` first, then [`Error::Checked`] says where it stopped.
pub fn prepare(
    plan: &Plan,
    jobs: Option<NonZeroUsize>,
    observer: &dyn Observer,
) -> Result<PathBuf> {
    let Some(settings) = &plan.compose else {
        return Err(Error::Usage {
            message: format!(
                "{} has no [compose] section, so there is no app. Name the component the app starts from (a command or an HTTP app) and those that provide what it imports:\n\n[compose]\nroot = \"NAME\"\nplugs = [\"NAME\", ...]\n\n(its components: {}; `weld build` builds them without an app)",
                crate::fsutil::shown(&plan.manifest),
                plan.components
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        });
    };
    timed(observer, Stage::Build, || {
        build_stage(plan, jobs, observer).map(|_| StageEnd::Done)
    })?;
    timed(observer, Stage::Check, || {
        let project = check(plan)?;
        if project.ok() {
            return Ok(StageEnd::Done);
        }
        observer.refused(&project.components, &project.findings);
        Err(stopped(Stage::Check))
    })?;
    timed(observer, Stage::Compose, || {
        let composition = compose_stage(plan, observer).map_err(|e| match e {
            Error::Compose(ComposeError::DoesNotFit { .. }) => stopped(Stage::Compose),
            e => e,
        })?;
        Ok(if composition.fresh {
            StageEnd::UpToDate
        } else {
            StageEnd::Done
        })
    })?;
    Ok(settings.output.clone())
}

/// Runs one stage, telling `observer` how and when it ended.
fn timed(
    observer: &dyn Observer,
    stage: Stage,
    f: impl FnOnce() -> Result<StageEnd>,
) -> Result<()> {
    let start = Instant::now();
    let outcome = f();
    let end = match &outcome {
        Ok(end) => *end,
        Err(_) => StageEnd::Failed,
    };
    observer.stage_end(stage, start.elapsed(), end);
    outcome.map(drop)
}

/// What a stage whose findings were shown returns.
fn stopped(stage: Stage) -> Error {
    Error::Checked(format!(
        "stopped at {stage} (exit status 1): fix what is shown above, then run it again"
    ))
}

/// Every component of `plan`, at most `jobs` at once (the machine's cores by default), in
/// cargo's release profile, progress to `observer`: the build stage of [`prepare`] and of
/// `weld test`. One failure is that failure, not "1 of N failed".
pub fn build_stage(
    plan: &Plan,
    jobs: Option<NonZeroUsize>,
    observer: &dyn Observer,
) -> Result<Vec<Built>> {
    build_only(plan, &[], jobs, observer)
}

/// [`build_stage`] for the components named in `only` (every one when it is empty).
pub fn build_only(
    plan: &Plan,
    only: &[String],
    jobs: Option<NonZeroUsize>,
    observer: &dyn Observer,
) -> Result<Vec<Built>> {
    let options = build::Options {
        only: only.to_vec(),
        jobs: jobs
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get),
        profile: build::Profile::Release,
        force: false,
        verbose: observer.detailed(),
        cache_dir: crate::run::default_cache_dir(),
    };
    let shown: Vec<&Component> = plan
        .components
        .iter()
        .filter(|c| only.is_empty() || only.contains(&c.name))
        .collect();
    let progress = observer.build(&shown);
    build::build(
        plan,
        &options,
        &crate::toolchain::Toolchains::default(),
        &*progress,
    )
    .map_err(one_failure)
}

/// A single failure needs no "1 of N failed" header around it.
pub fn one_failure(e: BuildError) -> Error {
    match e {
        BuildError::Failed { mut failures, .. } if failures.len() == 1 => {
            BuildError::Component(Box::new(failures.remove(0))).into()
        }
        e => e.into(),
    }
}

/// The compose stage of [`prepare`] and `weld test`: composes unless the output is current,
/// warns of imports nobody provides; when the components do not fit, their findings go to
/// `observer` and the error is [`ComposeError::DoesNotFit`].
pub fn compose_stage(plan: &Plan, observer: &dyn Observer) -> Result<Composition> {
    match compose(plan, &ComposeOptions::default()) {
        Ok(composition) => {
            observer.unresolved(&composition.composed);
            Ok(composition)
        }
        Err(Error::Compose(ComposeError::DoesNotFit {
            components,
            findings,
            errors,
        })) => {
            observer.refused(&components, &findings);
            Err(Error::Compose(ComposeError::DoesNotFit {
                components,
                findings,
                errors,
            }))
        }
        Err(e) => Err(e),
    }
}

/// The check stage's verdict on a project.
#[derive(Debug, Clone)]
pub struct ProjectCheck {
    /// The components checked, in the order the findings are grouped by.
    pub components: Vec<String>,
    /// For every import of every component, who provides it or why nobody does; and each
    /// component against the world weld.toml names for it.
    pub findings: Vec<Finding>,
}

impl ProjectCheck {
    /// Whether nothing is wrong.
    pub fn ok(&self) -> bool {
        !check::has_errors(&self.findings)
    }
}

/// Checks the project's components as its composition wires them (root and plugs, or the
/// wiring its WAC script makes), or each against the others without `[compose]`; and each
/// component that names a world against it.
pub fn check(plan: &Plan) -> Result<ProjectCheck> {
    check_inputs(plan, false)
}

/// [`check`]; with `composing`, a file the record knows valid has its modules recorded as
/// valid (`validate::trust`), so that validating the composition skips them. Hashing them is
/// work a check alone does not need.
fn check_inputs(plan: &Plan, composing: bool) -> Result<ProjectCheck> {
    let inputs = ProjectInputs::of(plan)?;
    // Validating code is most of loading a large component: a file validated before, and not
    // changed since, is not validated again.
    let record = plan.target_dir.join(".cache").join("validated.json");
    let mut validated: Vec<(PathBuf, Identity)> = std::fs::read(&record)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let mut loaded = Vec::new();
    for input in inputs.all() {
        let id = identity(&input.path);
        let known = id
            .as_ref()
            .is_some_and(|id| validated.contains(&(input.path.clone(), id.clone())));
        match load::load_with(&input.path, &input.name, !known) {
            Ok(component) => {
                if known && composing {
                    check::validate::trust(&component.bytes);
                }
                loaded.push(component)
            }
            // A script's wiring is typed by wac, which needs no WIT world; only a world target
            // (below) would.
            Err(e)
                if e.is_inexpressible()
                    && matches!(inputs, ProjectInputs::Script { .. })
                    && plan
                        .component(&input.name)
                        .is_none_or(|c| c.world.is_none()) => {}
            Err(e) => return Err(e.into()),
        }
        if let (false, Some(id)) = (known, id) {
            validated.retain(|(path, _)| *path != input.path);
            validated.push((input.path.clone(), id));
        }
    }
    // A record that cannot be written only costs the next check a validation.
    let json = serde_json::to_vec_pretty(&validated).expect("a record serializes");
    let _ = crate::fsutil::write_atomic(&record, &json);
    let mut findings = match &inputs {
        ProjectInputs::Plug { .. } => plug::check(&loaded, 1).findings,
        ProjectInputs::All(all) => plug::check(&loaded, all.len()).findings,
        ProjectInputs::Script { path, deps } => compose::wire_script(path, deps)?.checked.findings,
    };
    findings.extend(targets(plan, &loaded)?);
    // Every component, also one whose types WIT cannot express (its wiring is checked).
    let mut components: Vec<String> = inputs.all().iter().map(|i| i.name.clone()).collect();
    for f in sources(plan)? {
        // A component the composition leaves out is still built, so its source is checked.
        if !components.contains(&f.consumer) {
            components.push(f.consumer.clone());
        }
        findings.push(f);
    }
    Ok(ProjectCheck {
        components,
        findings,
    })
}

/// Each Python and JavaScript component's source, checked against its world (cached: after a
/// build, this reads the build's verdict).
fn sources(plan: &Plan) -> Result<Vec<Finding>> {
    let checked: Vec<&crate::project::Component> = plan
        .components
        .iter()
        .filter(|c| check::source::applies(c))
        .collect();
    if checked.is_empty() {
        return Ok(Vec::new());
    }
    let langs: Vec<_> = checked.iter().map(|c| c.lang).collect();
    let tools = check::source::Tools::probe(&crate::toolchain::Toolchains::default(), &langs);
    let mut findings = Vec::new();
    for c in checked {
        findings.extend(check::source::check(c, &plan.target_dir, &tools)?);
    }
    Ok(findings)
}

/// Each component that names its world in weld.toml, checked against that world.
fn targets(plan: &Plan, components: &[Loaded]) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for loaded in components {
        let Some(c) = plan.component(&loaded.name) else {
            continue;
        };
        let (Some(wit), Some(world)) = (&c.wit, &c.world) else {
            continue;
        };
        let (resolve, pkg) = crate::wit::load_dir(wit, &PathBuf::from(crate::fsutil::shown(wit)))?;
        let id = select_world(&resolve, pkg, world, wit)?;
        let short = resolve.worlds[id].name.clone();
        findings.extend(target::check(loaded, &resolve, id, &short));
    }
    Ok(findings)
}

/// The world `world` of the package in `wit`, or a usage error listing the worlds it has.
pub fn select_world(
    resolve: &wit_parser::Resolve,
    pkg: wit_parser::PackageId,
    world: &str,
    wit: &Path,
) -> Result<wit_parser::WorldId> {
    resolve.select_world(&[pkg], Some(world)).map_err(|_| {
        let known: Vec<&str> = resolve.packages[pkg]
            .worlds
            .keys()
            .map(String::as_str)
            .collect();
        Error::Usage {
            message: format!(
                "world `{world}` is not in the WIT package in {} (worlds: {})",
                wit.display(),
                known.join(", ")
            ),
        }
    })
}

/// The compose stage's result.
#[derive(Debug, Clone)]
pub struct Composition {
    /// What was composed.
    pub composed: Composed,
    /// Nothing changed since the output was composed, so it was kept as it is.
    pub fresh: bool,
}

/// How to compose a project.
#[derive(Debug, Clone, Default)]
pub struct ComposeOptions {
    /// Where to write the app [default: weld.toml's output].
    pub output: Option<PathBuf>,
    /// Refuse imports nobody provides, besides weld.toml's `strict`.
    pub strict: bool,
    /// Write WebAssembly text.
    pub wat: bool,
    /// Compose even if the record says the output is current.
    pub force: bool,
}

/// Composes the project as its `[compose]` says. When its inputs (each component file, the
/// script) and options are the ones the output was composed from, and the output is the file
/// that compose wrote, nothing is redone: the record beside the output says so, as builds' do.
pub fn compose(plan: &Plan, options: &ComposeOptions) -> Result<Composition> {
    let settings = plan.compose.as_ref().ok_or_else(|| Error::Usage {
        message: format!(
            "{} has no [compose] section: name a root and plugs there, or on the command line",
            crate::fsutil::shown(&plan.manifest)
        ),
    })?;
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| settings.output.clone());
    let strict = settings.strict || options.strict;
    let inputs = ProjectInputs::of(plan)?;
    let record_path = record_path(&plan.target_dir, &output);
    let fingerprint = fingerprint(plan, &inputs, &output, strict, options.wat)?;
    if !options.force
        && let Some(record) = load_record(&record_path)
        && record.fingerprint == fingerprint
        && identity(&output).is_some_and(|id| id == record.output)
    {
        return Ok(Composition {
            composed: record.composed,
            fresh: true,
        });
    }
    // The check stage's world checks hold for compose too: a component that does not
    // implement the world weld.toml names for it is not composed.
    let project = check_inputs(plan, true)?;
    let errors: Vec<Finding> = project
        .findings
        .iter()
        .filter(|f| f.against == Against::World && f.severity == Severity::Error)
        .cloned()
        .collect();
    if !errors.is_empty() {
        return Err(ComposeError::DoesNotFit {
            components: project.components,
            findings: project.findings,
            errors,
        }
        .into());
    }
    let composed = match &inputs {
        ProjectInputs::Plug { root, plugs } => {
            compose::compose(root, plugs, &output, strict, options.wat)?
        }
        ProjectInputs::Script { path, deps } => {
            compose::compose_script(path, deps, &output, strict, options.wat)?
        }
        ProjectInputs::All(_) => unreachable!("a plan with [compose] wires its components"),
    };
    // A record that cannot be written only costs the next run a compose.
    if let Some(output) = identity(&output) {
        let record = Record {
            fingerprint,
            output,
            composed: composed.clone(),
        };
        let json = serde_json::to_vec_pretty(&record).expect("a record serializes");
        let _ = crate::fsutil::write_atomic(&record_path, &json);
    }
    Ok(Composition {
        composed,
        fresh: false,
    })
}

/// The record of the last compose to `output`.
#[derive(Serialize, Deserialize)]
struct Record {
    fingerprint: String,
    output: Identity,
    composed: Composed,
}

/// What identifies one version of a file without reading it: weld writes by rename, so a
/// rewritten file has a new inode, and an edit in place changes its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Identity {
    len: u64,
    modified_ns: u128,
    inode: u64,
}

fn identity(path: &Path) -> Option<Identity> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Identity {
        len: meta.len(),
        modified_ns: meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos(),
        inode,
    })
}

fn record_path(target_dir: &Path, output: &Path) -> PathBuf {
    let name = format!(
        "{:x}",
        Sha256::digest(output.as_os_str().as_encoded_bytes())
    );
    target_dir
        .join(".cache")
        .join(format!("compose-{}.json", &name[..16]))
}

fn load_record(path: &Path) -> Option<Record> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Everything a composition depends on: weld's version, the wiring, each input file's identity
/// and the world it must implement, the script's text, the output and the options.
fn fingerprint(
    plan: &Plan,
    inputs: &ProjectInputs,
    output: &Path,
    strict: bool,
    wat: bool,
) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(output.as_os_str().as_encoded_bytes());
    field(&[u8::from(strict), u8::from(wat)]);
    match inputs {
        ProjectInputs::Plug { .. } => field(b"plug"),
        ProjectInputs::All(_) => field(b"all"),
        ProjectInputs::Script { path, deps } => {
            field(b"script");
            let text = std::fs::read(path).map_err(|source| ComposeError::Read {
                path: path.clone(),
                source,
            })?;
            field(&text);
            for dep in deps {
                field(dep.package.as_bytes());
            }
        }
    }
    for input in inputs.all() {
        field(input.name.as_bytes());
        field(input.path.as_os_str().as_encoded_bytes());
        let world = plan.component(&input.name).and_then(|c| c.world.as_deref());
        field(world.unwrap_or_default().as_bytes());
        let id = identity(&input.path).ok_or_else(|| ComposeError::NotBuilt {
            name: input.name.clone(),
            path: input.path.clone(),
        })?;
        field(&serde_json::to_vec(&id).expect("serializes"));
    }
    // A WIT package's directory says nothing of edits inside it: its files' contents do.
    for package in inputs.wit_packages() {
        field(package.path.as_os_str().as_encoded_bytes());
        for entry in walkdir::WalkDir::new(&package.path)
            .sort_by_file_name()
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
        {
            field(entry.path().as_os_str().as_encoded_bytes());
            field(&std::fs::read(entry.path()).unwrap_or_default());
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}
