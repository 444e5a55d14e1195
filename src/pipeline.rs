//! The pipeline as library calls over one [`Plan`]: the check and compose stages of a project,
//! which `weld check`, `weld compose`, `weld up` and `weld test` all run through here, so no
//! command runs another command or reads its printed output.
//!
//! Building is [`crate::build::build`] and running is [`crate::run::Runtime`]; both already
//! take a plan's values directly.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::check::{self, Against, Finding, Loaded, Severity, load, plug, target};
use crate::compose::{self, ComposeError, Composed, ProjectInputs};
use crate::error::{Error, Result};
use crate::project::Plan;

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
