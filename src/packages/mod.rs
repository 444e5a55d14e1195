//! WIT packages from registries: a package that a project's WIT uses and that is neither in
//! the project (wit/, deps/) nor WASI that weld's runtime provides is fetched from the registry
//! wkg's configuration names for it, over OCI, every digest checked; pinned in weld.lock; kept
//! by digest in weld's cache; and written into the WIT directory's deps/ in wkg's layout
//! (`deps/NAMESPACE-NAME-VERSION/package.wit`), where every stage and every language's
//! toolchain (wit-bindgen's macro included) reads it. Files weld writes there start with
//! [`MARKER`]; anything else in deps/ is the user's and is never touched.
//!
//! `publish` is the other direction: a WIT package encoded as wkg encodes it, pushed as a Wasm
//! OCI artifact where wkg looks for it.

pub mod config;
pub mod lock;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use miette::Diagnostic;
use wit_parser::{PackageName, Resolve, UnresolvedPackageGroup};

pub use config::{Place, Registries};
pub use lock::{Lock, Pin};

/// The first line of every file weld writes into deps/.
pub const MARKER: &str = "// Fetched by weld";

/// Why registry packages could not be provided.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum PackageError {
    /// wkg's configuration file is wrong.
    #[error("{}: {message}", crate::fsutil::printable(path))]
    #[diagnostic(
        code(weld::packages::config),
        help(
            "the file is wkg's configuration (docs: https://github.com/bytecodealliance/wasm-pkg-tools/blob/main/docs/configuration.md)"
        )
    )]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// A package name that is not `namespace:name`.
    #[error("`{package}` is not a package name: {message}")]
    #[diagnostic(code(weld::packages::name))]
    Name {
        /// As written.
        package: String,
        /// Why.
        message: String,
    },

    /// No registry is configured for the package's namespace.
    #[error("no registry is configured for {package}")]
    #[diagnostic(
        code(weld::packages::no_registry),
        help(
            "set `default_registry` or a `[namespace_registries]` entry in {config} (wkg's configuration), or `registry` for it under [wit-dependencies] in weld.toml; or put its WIT in the WIT directory's deps/"
        )
    )]
    NoRegistry {
        /// `namespace:name`.
        package: String,
        /// wkg's configuration file.
        config: String,
    },

    /// The registry has no version that satisfies the requirement.
    #[error("{package}: {registry} has no version matching `{requirement}`{}", if available.is_empty() { " (it has none at all)".to_string() } else { format!(" (it has {})", available.join(", ")) })]
    #[diagnostic(
        code(weld::packages::no_version),
        help(
            "publish that version (`weld wit publish` or `wkg publish`), or change the version the WIT or weld.toml asks for"
        )
    )]
    NoVersion {
        /// `namespace:name`.
        package: String,
        /// The registry asked.
        registry: String,
        /// The requirement.
        requirement: String,
        /// The versions it has.
        available: Vec<String>,
    },

    /// A registry conversation failed.
    #[error("{package}: {source}")]
    #[diagnostic(code(weld::packages::registry), help("{}", help))]
    Registry {
        /// `namespace:name@version`.
        package: String,
        /// What failed.
        source: Box<crate::oci::OciError>,
        /// What to do.
        help: String,
    },

    /// The registry's bytes are not what weld.lock pins.
    #[error("{package}: the registry {registry} now holds {actual}, but weld.lock pins {locked}")]
    #[diagnostic(
        code(weld::packages::digest),
        help(
            "the tag was published again with other contents; if that is expected, `weld wit update {package}` takes the new one"
        )
    )]
    Digest {
        /// `namespace:name@version`.
        package: String,
        /// The registry.
        registry: String,
        /// The lock's digest.
        locked: String,
        /// What came.
        actual: String,
    },

    /// What the registry holds is not that WIT package.
    #[error("{package} from {registry}: {reason}")]
    #[diagnostic(
        code(weld::packages::not_wit),
        help(
            "a WIT package is published as an encoded package (`weld wit publish`, `wkg publish`), not as a component or text"
        )
    )]
    NotWit {
        /// `namespace:name@version`.
        package: String,
        /// The registry.
        registry: String,
        /// Why.
        reason: String,
    },

    /// The fetched packages do not fit together.
    #[error("{dir}: the registry packages do not fit together: {message}")]
    #[diagnostic(code(weld::packages::conflict))]
    Conflict {
        /// The WIT directory.
        dir: String,
        /// wit-parser's words.
        message: String,
    },

    /// `--locked` and the lock would change.
    #[error("weld.lock is out of date ({})", changes.join("; "))]
    #[diagnostic(
        code(weld::packages::locked),
        help("run without --locked (or `weld wit update`) to update weld.lock, and commit it")
    )]
    Locked {
        /// What would change.
        changes: Vec<String>,
    },

    /// `--offline` and a package is neither locked nor cached.
    #[error("{package} ({requirement}) is {what}, and --offline forbids the registry")]
    #[diagnostic(
        code(weld::packages::offline),
        help("run once without --offline to fetch it into weld.lock and the cache")
    )]
    Offline {
        /// `namespace:name`.
        package: String,
        /// The requirement.
        requirement: String,
        /// "not in weld.lock" or "not in the cache".
        what: String,
    },

    /// weld.toml's requirement and the WIT's version disagree.
    #[error(
        "{package}: the WIT uses version {wit}, which weld.toml's requirement `{requirement}` excludes"
    )]
    #[diagnostic(
        code(weld::packages::requirement),
        help(
            "a WIT reference names one exact version (`@{wit}`); change it or the requirement in [wit-dependencies]"
        )
    )]
    Requirement {
        /// `namespace:name`.
        package: String,
        /// The version in the WIT.
        wit: String,
        /// weld.toml's.
        requirement: String,
    },

    /// weld.lock cannot be read.
    #[error("{}: {message}", crate::fsutil::printable(path))]
    #[diagnostic(
        code(weld::packages::lock),
        help("weld.lock is written by weld; delete it to resolve every package again")
    )]
    Lock {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },

    /// A file cannot be written or read.
    #[error("{}: {message}", crate::fsutil::printable(path))]
    #[diagnostic(code(weld::packages::io))]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },

    /// The WIT package to publish does not parse or resolve.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Wit(#[from] crate::wit::WitError),

    /// The WIT package to publish is wrong.
    #[error("{dir}: {message}")]
    #[diagnostic(code(weld::packages::publish), help("{help}"))]
    Publish {
        /// The WIT directory.
        dir: String,
        /// What is wrong.
        message: String,
        /// What to do.
        help: String,
    },
}

impl PackageError {
    /// 1 when what was fetched or locked is wrong, 2 for usage and environment.
    pub fn exit_code(&self) -> u8 {
        match self {
            PackageError::Digest { .. }
            | PackageError::NotWit { .. }
            | PackageError::Conflict { .. }
            | PackageError::Locked { .. } => crate::exit::EXIT_FAILURE,
            PackageError::Registry { source, .. } => source.exit_code(),
            PackageError::Wit(e) => e.exit_code(),
            _ => crate::exit::EXIT_USAGE,
        }
    }
}

/// What weld.toml says about one package under `[wit-dependencies]`.
pub use crate::project::WitDependency as Declared;

/// How far a sync may go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    /// Use the lock where it has an answer; ask registries for the rest; update the lock.
    #[default]
    Normal,
    /// As Normal, but fail rather than change the lock (`--locked`).
    Locked,
    /// No network: the lock and the cache must have everything (`--offline`).
    Offline,
    /// Ask the registries again for these packages (all when empty), ignoring the lock.
    Update(Vec<String>),
}

/// What a project asks of registries.
#[derive(Debug, Clone)]
pub struct Request {
    /// The project's directory: weld.lock goes here.
    pub root: PathBuf,
    /// Every WIT directory of the project.
    pub wit_dirs: Vec<PathBuf>,
    /// `[wit-dependencies]`, by `namespace:name`.
    pub declared: BTreeMap<String, Declared>,
    /// weld's cache directory (fetched packages are kept under `wit/`).
    pub cache_dir: Option<PathBuf>,
    /// How far to go.
    pub mode: Mode,
}

/// One package provided.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Provided {
    /// `namespace:name`.
    pub package: String,
    /// The version.
    pub version: String,
    /// The registry.
    pub registry: String,
    /// `sha256:HEX`.
    pub digest: String,
    /// Whether it came over the network this time (else from the cache).
    pub fetched: bool,
}

/// What a sync did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Synced {
    /// Every registry package the project uses.
    pub packages: Vec<Provided>,
    /// Whether weld.lock was written.
    pub lock_written: bool,
    /// deps/ directories written or removed.
    pub written: Vec<PathBuf>,
}

/// A package a WIT directory uses and does not have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Wanted {
    /// `namespace:name`.
    name: String,
    version: Option<semver::Version>,
}

/// Provides every registry package the request's WIT directories use: resolved, fetched or
/// taken from the cache, written into their deps/, and pinned in weld.lock.
pub fn sync(request: &Request) -> Result<Synced, PackageError> {
    let lock_path = request.root.join(lock::FILE);
    let old = Lock::read(&lock_path).map_err(|message| PackageError::Lock {
        path: lock_path.clone(),
        message,
    })?;
    let wanted: Vec<(PathBuf, BTreeSet<Wanted>)> = request
        .wit_dirs
        .iter()
        .filter_map(|dir| scan(dir).map(|w| (dir.clone(), w)))
        .collect();
    let all: BTreeSet<&Wanted> = wanted.iter().flat_map(|(_, w)| w).collect();
    if all.is_empty() && old.is_none() {
        // The usual project: nothing from registries, no lock; and deps/ may still hold
        // packages weld wrote before, which are now stale.
        let mut synced = Synced::default();
        for (dir, _) in &wanted {
            synced
                .written
                .extend(write_deps(dir, &Resolve::default(), &[])?);
        }
        return Ok(synced);
    }
    let old_pins = old.as_ref().map(Lock::pins).unwrap_or_default();
    let mut resolver = Resolver {
        request,
        old_pins: &old_pins,
        registries: None,
        pins: BTreeMap::new(),
        bytes: BTreeMap::new(),
        provided: Vec::new(),
    };
    // Each wanted (package, version) once, whichever directories want it.
    let mut keys: BTreeMap<&Wanted, (String, String)> = BTreeMap::new();
    for w in &all {
        let requirement = requirement(w, request.declared.get(&w.name))?;
        keys.insert(w, (w.name.clone(), requirement));
    }
    for (w, (name, requirement)) in &keys {
        resolver.provide(w, name, requirement)?;
    }
    let new = Lock::from_pins(&resolver.pins);
    let changed = old.as_ref() != Some(&new);
    if changed && request.mode == Mode::Locked {
        return Err(PackageError::Locked {
            changes: lock_changes(&old_pins, &resolver.pins),
        });
    }
    let mut synced = Synced {
        packages: resolver.provided.clone(),
        ..Synced::default()
    };
    for (dir, wants) in &wanted {
        let mut merged = Resolve::default();
        let mut sources = Vec::new();
        for w in wants {
            let (name, requirement) = &keys[w];
            let pin = &resolver.pins[&(name.clone(), requirement.clone())];
            let decoded = decode(&resolver.bytes[&pin.digest], name, pin)?;
            merged.merge(decoded).map_err(|e| PackageError::Conflict {
                dir: crate::fsutil::shown(dir),
                message: format!("{e:#}"),
            })?;
            sources.push(format!(
                "{name}@{} from {} ({})",
                pin.version, pin.registry, pin.digest
            ));
        }
        synced.written.extend(write_deps(dir, &merged, &sources)?);
    }
    if changed {
        crate::fsutil::write_atomic(&lock_path, new.text().as_bytes()).map_err(|e| {
            PackageError::Io {
                path: lock_path.clone(),
                message: format!("cannot write it: {e}"),
            }
        })?;
        synced.lock_written = true;
    }
    Ok(synced)
}

/// The requirement a wanted package is resolved under: `=VERSION` when the WIT names a version
/// (wit-parser matches package names exactly), else weld.toml's, else any.
fn requirement(w: &Wanted, declared: Option<&Declared>) -> Result<String, PackageError> {
    let declared = declared.and_then(|d| d.requirement.as_ref());
    match (&w.version, declared) {
        (Some(v), Some(req)) if !req.matches(v) => Err(PackageError::Requirement {
            package: w.name.clone(),
            wit: v.to_string(),
            requirement: req.to_string(),
        }),
        (Some(v), _) => Ok(format!("={v}")),
        (None, Some(req)) => Ok(req.to_string()),
        (None, None) => Ok("*".into()),
    }
}

/// What changed between two sets of pins, in words.
fn lock_changes(
    old: &BTreeMap<(String, String), Pin>,
    new: &BTreeMap<(String, String), Pin>,
) -> Vec<String> {
    let mut changes = Vec::new();
    for ((name, req), pin) in new {
        match old.get(&(name.clone(), req.clone())) {
            None => changes.push(format!("{name} {req} would be added at {}", pin.version)),
            Some(was) if was != pin => changes.push(format!(
                "{name} {req} would move from {} ({}) to {} ({})",
                was.version, was.digest, pin.version, pin.digest
            )),
            Some(_) => {}
        }
    }
    for (name, req) in old.keys() {
        if !new.contains_key(&(name.clone(), req.clone())) {
            changes.push(format!("{name} {req} would be removed"));
        }
    }
    changes
}

/// Resolves and obtains packages, remembering what it did.
struct Resolver<'a> {
    request: &'a Request,
    old_pins: &'a BTreeMap<(String, String), Pin>,
    registries: Option<Registries>,
    /// (package, requirement) → pin.
    pins: BTreeMap<(String, String), Pin>,
    /// digest → the package's bytes.
    bytes: BTreeMap<String, Vec<u8>>,
    provided: Vec<Provided>,
}

impl Resolver<'_> {
    fn registries(&mut self) -> Result<&Registries, PackageError> {
        if self.registries.is_none() {
            self.registries = Some(Registries::load()?);
        }
        Ok(self.registries.as_ref().expect("just loaded"))
    }

    /// Pins `name` under `requirement` and has its bytes.
    fn provide(&mut self, w: &Wanted, name: &str, requirement: &str) -> Result<(), PackageError> {
        let key = (name.to_string(), requirement.to_string());
        let updating = match &self.request.mode {
            Mode::Update(only) => only.is_empty() || only.iter().any(|p| p == name),
            _ => false,
        };
        let declared = self.request.declared.get(name).cloned().unwrap_or_default();
        let locked = self.old_pins.get(&key).filter(|pin| {
            // A lock entry from another registry than weld.toml now names is not an answer.
            !updating
                && declared
                    .registry
                    .as_ref()
                    .is_none_or(|r| *r == pin.registry)
        });
        let offline = self.request.mode == Mode::Offline;
        let store = self.request.cache_dir.as_ref().map(|c| c.join("wit"));
        if let Some(pin) = locked.cloned() {
            if let Some(bytes) = store.as_deref().and_then(|s| cached(s, &pin.digest)) {
                self.keep(key, pin, bytes, false);
                return Ok(());
            }
            if offline {
                return Err(PackageError::Offline {
                    package: name.to_string(),
                    requirement: requirement.to_string(),
                    what: format!("locked at {} but not in the cache", pin.version),
                });
            }
            let place = self.place(name, declared.registry.as_deref(), Some(&pin.registry))?;
            let bytes = fetch(&place, name, &pin.version)?;
            let actual = crate::oci::artifact::digest(&bytes);
            if actual != pin.digest {
                return Err(PackageError::Digest {
                    package: format!("{name}@{}", pin.version),
                    registry: pin.registry.clone(),
                    locked: pin.digest.clone(),
                    actual,
                });
            }
            store_bytes(store.as_deref(), &pin.digest, &bytes)?;
            self.keep(key, pin, bytes, true);
            return Ok(());
        }
        if offline {
            return Err(PackageError::Offline {
                package: name.to_string(),
                requirement: requirement.to_string(),
                what: "not in weld.lock".into(),
            });
        }
        if self.request.mode == Mode::Locked {
            return Err(PackageError::Locked {
                changes: vec![format!("{name} {requirement} is not in it")],
            });
        }
        let place = self.place(name, declared.registry.as_deref(), None)?;
        let version = match &w.version {
            Some(v) => v.clone(),
            None => newest(&place, name, requirement)?,
        };
        let bytes = fetch(&place, name, &version)?;
        let digest = crate::oci::artifact::digest(&bytes);
        store_bytes(store.as_deref(), &digest, &bytes)?;
        let pin = Pin {
            registry: place.registry.clone(),
            version,
            digest,
        };
        self.keep(key, pin, bytes, true);
        Ok(())
    }

    fn keep(&mut self, key: (String, String), pin: Pin, bytes: Vec<u8>, fetched: bool) {
        self.provided.push(Provided {
            package: key.0.clone(),
            version: pin.version.to_string(),
            registry: pin.registry.clone(),
            digest: pin.digest.clone(),
            fetched,
        });
        self.bytes.insert(pin.digest.clone(), bytes);
        self.pins.insert(key, pin);
    }

    /// Where to find `name`: weld.toml's registry, else the one the lock names, else wkg's
    /// configuration's.
    fn place(
        &mut self,
        name: &str,
        declared: Option<&str>,
        locked: Option<&str>,
    ) -> Result<Place, PackageError> {
        let registries = self.registries()?;
        let chosen = declared.or(locked.filter(|r| !r.is_empty()));
        crate::oci::block_on(registries.place(name, chosen)).map_err(|e| PackageError::Io {
            path: PathBuf::from(name),
            message: e.to_string(),
        })?
    }
}

/// The versions the registry has of the package at `place`, oldest first (tags that are not
/// versions left out).
fn published_versions(place: &Place) -> Result<Vec<semver::Version>, crate::oci::OciError> {
    let reference = crate::oci::parse_reference(&place.reference(&semver::Version::new(0, 0, 0)))?;
    let tags = crate::oci::block_on(crate::oci::list_tags(&reference, &place.transport))??;
    let mut versions: Vec<semver::Version> = tags
        .iter()
        .filter_map(|t| semver::Version::parse(t).ok())
        .collect();
    versions.sort();
    Ok(versions)
}

/// The newest version in the registry satisfying `requirement`.
fn newest(place: &Place, name: &str, requirement: &str) -> Result<semver::Version, PackageError> {
    let req = semver::VersionReq::parse(requirement).expect("requirements are checked");
    let versions = published_versions(place).map_err(|e| registry_error(place, name, e))?;
    versions
        .iter()
        .rev()
        .find(|v| req.matches(v))
        .cloned()
        .ok_or_else(|| PackageError::NoVersion {
            package: name.to_string(),
            registry: place.registry.clone(),
            requirement: requirement.to_string(),
            available: versions.iter().map(ToString::to_string).collect(),
        })
}

/// The package's bytes from the registry: the one layer of its Wasm artifact, the manifest's
/// and the layer's digests checked.
fn fetch(place: &Place, name: &str, version: &semver::Version) -> Result<Vec<u8>, PackageError> {
    let reference = crate::oci::parse_reference(&place.reference(version))
        .map_err(|e| registry_error(place, name, e))?;
    let pulled = crate::oci::block_on(crate::oci::pull(
        &reference,
        &place.transport,
        &crate::oci::Quiet,
    ))
    .map_err(|e| registry_error(place, name, e))?
    .map_err(|e| match e {
        crate::oci::OciError::NotFound { .. } => PackageError::NoVersion {
            package: name.to_string(),
            registry: place.registry.clone(),
            requirement: format!("={version}"),
            // What there is instead, when the registry says.
            available: published_versions(place)
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        crate::oci::OciError::NotWasm { kind, .. } => PackageError::NotWit {
            package: format!("{name}@{version}"),
            registry: place.registry.clone(),
            reason: kind,
        },
        other => registry_error(place, name, other),
    })?;
    Ok(pulled.component)
}

fn registry_error(place: &Place, name: &str, source: crate::oci::OciError) -> PackageError {
    PackageError::Registry {
        package: name.to_string(),
        help: format!(
            "{name} is looked up in {} ({}/{}); check that the registry is up and that wkg's configuration names the right one",
            place.registry, place.oci_registry, place.repository
        ),
        source: Box::new(source),
    }
}

/// The bytes kept under `digest` in the store, when they are there and still match it.
fn cached(store: &Path, digest: &str) -> Option<Vec<u8>> {
    let bytes = std::fs::read(blob_path(store, digest)).ok()?;
    (crate::oci::artifact::digest(&bytes) == digest).then_some(bytes)
}

fn blob_path(store: &Path, digest: &str) -> PathBuf {
    let hex: String = digest
        .strip_prefix("sha256:")
        .unwrap_or(digest)
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    store.join(format!("sha256-{hex}.wasm"))
}

fn store_bytes(store: Option<&Path>, digest: &str, bytes: &[u8]) -> Result<(), PackageError> {
    let Some(store) = store else {
        return Ok(());
    };
    let path = blob_path(store, digest);
    crate::fsutil::write_atomic(&path, bytes).map_err(|e| PackageError::Io {
        path: path.clone(),
        message: format!("cannot keep the fetched package: {e}"),
    })?;
    Ok(())
}

/// The package `name@pin.version` decoded from its bytes, or why they are not it.
fn decode(bytes: &[u8], name: &str, pin: &Pin) -> Result<Resolve, PackageError> {
    let not_wit = |reason: String| PackageError::NotWit {
        package: format!("{name}@{}", pin.version),
        registry: pin.registry.clone(),
        reason,
    };
    if wasmparser::Parser::is_core_wasm(bytes) || !bytes.starts_with(b"\0asm") {
        return Err(not_wit("it is not an encoded WIT package".into()));
    }
    let decoded = crate::contained(|| wit_component::decode(bytes))
        .map_err(|panic| not_wit(format!("decoding failed: {panic}")))?
        .map_err(|e| not_wit(format!("it does not decode: {e:#}")))?;
    let (resolve, pkg) = match decoded {
        wit_component::DecodedWasm::WitPackage(resolve, pkg) => (resolve, pkg),
        wit_component::DecodedWasm::Component(..) => {
            return Err(not_wit("it is a component, not a WIT package".into()));
        }
    };
    let found = &resolve.packages[pkg].name;
    let wanted = format!("{name}@{}", pin.version);
    if found.to_string() != wanted {
        return Err(not_wit(format!("it holds package {found}, not {wanted}")));
    }
    Ok(resolve)
}

/// The packages `dir`'s WIT uses that neither it nor its deps/ (what weld wrote there aside)
/// declares and that the runtime does not provide. `None` when the WIT does not parse (the
/// manifest's validation reports that, with its location).
fn scan(dir: &Path) -> Option<BTreeSet<Wanted>> {
    let main = crate::contained(|| UnresolvedPackageGroup::parse_dir(dir))
        .ok()?
        .ok()?;
    let mut groups = vec![main];
    let mut declared: HashSet<PackageName> = HashSet::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("deps")) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                if is_ours(&path) {
                    continue;
                }
                groups.push(
                    crate::contained(|| UnresolvedPackageGroup::parse_dir(&path))
                        .ok()?
                        .ok()?,
                );
            } else {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("wit") => {
                        let text = std::fs::read_to_string(&path).ok()?;
                        groups.push(
                            crate::contained(|| UnresolvedPackageGroup::parse(&path, &text))
                                .ok()?
                                .ok()?,
                        );
                    }
                    Some("wasm") => {
                        // An encoded package (wkg's `--type wasm`): it declares what it holds.
                        let bytes = std::fs::read(&path).ok()?;
                        if let Ok(Ok(d)) = crate::contained(|| wit_component::decode(&bytes)) {
                            declared
                                .extend(d.resolve().packages.iter().map(|(_, p)| p.name.clone()));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let packages = || {
        groups
            .iter()
            .flat_map(|g| std::iter::once(&g.main).chain(&g.nested))
    };
    declared.extend(packages().map(|p| p.name.clone()));
    let wanted = packages()
        .flat_map(|p| p.foreign_deps.keys())
        .filter(|n| !declared.contains(*n) && !crate::wit::runtime_provides(n))
        .map(|n| Wanted {
            name: format!("{}:{}", n.namespace, n.name),
            version: n.version.clone(),
        })
        .collect();
    Some(wanted)
}

/// Whether a deps/ entry is a package directory weld wrote.
fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path.join("package.wit")).is_ok_and(|t| t.starts_with(MARKER))
}

/// deps/NAMESPACE-NAME-VERSION, as wkg names it.
fn dep_dir_name(name: &PackageName) -> String {
    name.to_string().replace([':', '@'], "-")
}

/// Writes every package of `merged` into `dir/deps/` (those the runtime provides left to it),
/// and removes the package directories weld wrote there before that are no longer wanted.
/// Files already holding the same text are not touched. Returns what changed.
fn write_deps(
    dir: &Path,
    merged: &Resolve,
    sources: &[String],
) -> Result<Vec<PathBuf>, PackageError> {
    let deps = dir.join("deps");
    let io = |path: &Path, e: std::io::Error| PackageError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut keep = HashSet::new();
    let mut changed = Vec::new();
    for (id, package) in &merged.packages {
        if crate::wit::runtime_provides(&package.name) {
            continue;
        }
        let mut printer = wit_component::WitPrinter::default();
        printer
            .print(merged, id, &[])
            .map_err(|e| PackageError::Conflict {
                dir: crate::fsutil::shown(dir),
                message: format!("cannot print {}: {e:#}", package.name),
            })?;
        let text = format!(
            "{MARKER} with {}: `weld wit update` rewrites it; do not edit.\n{}",
            sources.join(", "),
            printer.output
        );
        let name = dep_dir_name(&package.name);
        let path = deps.join(&name).join("package.wit");
        keep.insert(name);
        if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
            continue;
        }
        if path.parent().is_some_and(|p| p.exists() && !is_ours(p)) {
            // The user's own directory of that name: theirs wins; wit-parser will say if the
            // two disagree.
            continue;
        }
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|e| io(&path, e))?;
        changed.push(path);
    }
    if let Ok(entries) = std::fs::read_dir(&deps) {
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() && !keep.contains(&name) && is_ours(&path) {
                let file = path.join("package.wit");
                std::fs::remove_file(&file).map_err(|e| io(&file, e))?;
                // Only when empty: anything else in it is the user's.
                let _ = std::fs::remove_dir(&path);
                changed.push(path);
            }
        }
    }
    Ok(changed)
}

/// A WIT package encoded for a registry, as `wkg build` encodes it: the package (and what it
/// uses from others) as a component, with its name and version in the metadata.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// `namespace:name`.
    pub name: String,
    /// Its version.
    pub version: semver::Version,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Encodes the WIT package in `dir` (its deps resolved as every stage resolves them).
pub fn encode(dir: &Path) -> Result<Encoded, PackageError> {
    let shown = crate::fsutil::shown(dir);
    let (resolve, pkg) = crate::wit::load_dir(dir, dir)?;
    let package = &resolve.packages[pkg];
    let Some(version) = package.name.version.clone() else {
        return Err(PackageError::Publish {
            dir: shown,
            message: format!("package {} has no version", package.name),
            help: format!(
                "a registry tags each package with its version: write `package {}@0.1.0;`",
                package.name
            ),
        });
    };
    let bytes = wit_component::encode(&resolve, pkg, false).map_err(|e| PackageError::Publish {
        dir: shown.clone(),
        message: format!("it cannot be encoded: {e:#}"),
        help: "`weld check --wit` on the directory shows what wit-parser makes of it".into(),
    })?;
    let mut add = wasm_metadata::AddMetadata::default();
    add.name = wasm_metadata::AddMetadataField::Set(format!(
        "{}:{}",
        package.name.namespace, package.name.name
    ));
    add.processed_by = vec![("weld".into(), env!("CARGO_PKG_VERSION").into())];
    let bytes = add.to_wasm(&bytes).map_err(|e| PackageError::Publish {
        dir: shown,
        message: format!("cannot add its metadata: {e:#}"),
        help: String::new(),
    })?;
    Ok(Encoded {
        name: format!("{}:{}", package.name.namespace, package.name.name),
        version,
        bytes,
    })
}

/// Where `package` is published: `registry` when given, else where wkg's configuration sends it.
pub fn place(package: &str, registry: Option<&str>) -> Result<Place, PackageError> {
    let registries = Registries::load()?;
    crate::oci::block_on(registries.place(package, registry)).map_err(|e| PackageError::Io {
        path: PathBuf::from(package),
        message: e.to_string(),
    })?
}

/// What a publish did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    /// `namespace:name`.
    pub package: String,
    /// The version.
    pub version: String,
    /// The registry.
    pub registry: String,
    /// `REGISTRY/REPOSITORY:VERSION`.
    pub reference: String,
    /// The layer's digest: what a lock pins.
    pub digest: String,
    /// The push.
    pub pushed: crate::oci::Pushed,
}

/// Pushes `encoded` to `place` as a Wasm OCI artifact.
pub fn publish(
    encoded: &Encoded,
    place: &Place,
    created: Option<String>,
) -> Result<Published, PackageError> {
    let reference = place.reference(&encoded.version);
    let parsed = crate::oci::parse_reference(&reference)
        .map_err(|e| registry_error(place, &encoded.name, e))?;
    let meta = crate::oci::Metadata {
        // The layer's file name, as wkg names it.
        name: encoded
            .name
            .rsplit(':')
            .next()
            .unwrap_or("package")
            .to_string(),
        version: Some(encoded.version.to_string()),
        created,
        ..crate::oci::Metadata::default()
    };
    let artifact = crate::oci::Artifact::package(encoded.bytes.clone(), &meta)
        .map_err(|e| registry_error(place, &encoded.name, e))?;
    let pushed = crate::oci::block_on(crate::oci::push(
        &parsed,
        &artifact,
        &place.transport,
        std::sync::Arc::new(crate::oci::Quiet),
    ))
    .map_err(|e| registry_error(place, &encoded.name, e))?
    .map_err(|e| registry_error(place, &encoded.name, e))?;
    Ok(Published {
        package: encoded.name.clone(),
        version: encoded.version.to_string(),
        registry: place.registry.clone(),
        reference,
        digest: crate::oci::artifact::digest(&encoded.bytes),
        pushed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// acme:billing@1.2.0 (using acme:money@1.0.0), encoded as a registry holds it.
    fn billing_bytes() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("rates.wit"),
            "package acme:billing@1.2.0;\ninterface rates {\n  use acme:money/types@1.0.0.{amount};\n  price: func(item: string) -> amount;\n}\n",
        );
        write(
            &dir.path().join("deps/money.wit"),
            "package acme:money@1.0.0;\ninterface types { record amount { units: u64 } }\n",
        );
        let mut resolve = Resolve::default();
        let (pkg, _) = resolve.push_dir(dir.path()).unwrap();
        wit_component::encode(&resolve, pkg, false).unwrap()
    }

    fn app_wit(dir: &Path) {
        write(
            &dir.join("app.wit"),
            "package example:app;\nworld app {\n  import acme:billing/rates@1.2.0;\n  import wasi:cli/environment@0.2.0;\n  import local:thing/i;\n}\n",
        );
        write(
            &dir.join("deps/thing.wit"),
            "package local:thing;\ninterface i { f: func(); }\n",
        );
    }

    #[test]
    fn scan_wants_what_neither_the_project_nor_the_runtime_has() {
        let dir = tempfile::tempdir().unwrap();
        app_wit(dir.path());
        write(
            &dir.path().join("more.wit"),
            "interface kv { use wasi:keyvalue/store@0.2.0-draft.{bucket}; }\n",
        );
        let wanted: Vec<String> = scan(dir.path())
            .unwrap()
            .into_iter()
            .map(|w| format!("{}@{}", w.name, w.version.unwrap()))
            .collect();
        // wasi:cli is the runtime's, local:thing is in deps/; wasi:keyvalue is not the runtime's.
        assert_eq!(wanted, ["acme:billing@1.2.0", "wasi:keyvalue@0.2.0-draft"]);
        // WIT that does not parse is left to the manifest's validation, which locates the error.
        write(&dir.path().join("broken.wit"), "interface {");
        assert!(scan(dir.path()).is_none());
    }

    #[test]
    fn requirements_follow_the_wit_then_weld_toml() {
        let exact = Wanted {
            name: "acme:billing".into(),
            version: Some(semver::Version::new(1, 2, 0)),
        };
        let loose = Wanted {
            name: "acme:billing".into(),
            version: None,
        };
        let declared = |r: &str| Declared {
            requirement: Some(semver::VersionReq::parse(r).unwrap()),
            registry: None,
        };
        assert_eq!(requirement(&exact, None).unwrap(), "=1.2.0");
        assert_eq!(
            requirement(&exact, Some(&declared("1.2"))).unwrap(),
            "=1.2.0"
        );
        assert!(matches!(
            requirement(&exact, Some(&declared("^2"))),
            Err(PackageError::Requirement { .. })
        ));
        assert_eq!(requirement(&loose, Some(&declared("1.2"))).unwrap(), "^1.2");
        assert_eq!(requirement(&loose, None).unwrap(), "*");
    }

    /// From weld.lock and the cache alone (no registry, no network): the package and what it
    /// uses are written into deps/ in wkg's layout, the user's own deps/ left alone, and the
    /// lock not rewritten; a stale package weld wrote is removed when the WIT stops using it.
    #[test]
    fn offline_from_the_lock_and_the_cache() {
        let root = tempfile::tempdir().unwrap();
        let wit = root.path().join("wit");
        app_wit(&wit);
        let cache = root.path().join("cache");
        let bytes = billing_bytes();
        let digest = crate::oci::artifact::digest(&bytes);
        store_bytes(Some(&cache.join("wit")), &digest, &bytes).unwrap();
        let mut pins = BTreeMap::new();
        pins.insert(
            ("acme:billing".to_string(), "=1.2.0".to_string()),
            Pin {
                registry: "127.0.0.1:9".into(),
                version: semver::Version::new(1, 2, 0),
                digest: digest.clone(),
            },
        );
        let lock_text = Lock::from_pins(&pins).text();
        write(&root.path().join(lock::FILE), &lock_text);
        let request = Request {
            root: root.path().to_path_buf(),
            wit_dirs: vec![wit.clone()],
            declared: BTreeMap::new(),
            cache_dir: Some(cache.clone()),
            mode: Mode::Offline,
        };
        // A stale directory weld wrote before, and one of the user's that looks like it.
        write(
            &wit.join("deps/acme-old-0.1.0/package.wit"),
            &format!("{MARKER} with acme:old\npackage acme:old@0.1.0;\n"),
        );
        write(
            &wit.join("deps/acme-mine-0.1.0/package.wit"),
            "package acme:mine@0.1.0;\ninterface j { g: func(); }\n",
        );
        let synced = sync(&request).unwrap();
        assert!(!synced.lock_written);
        assert_eq!(synced.packages.len(), 1);
        assert!(!synced.packages[0].fetched);
        let billing =
            std::fs::read_to_string(wit.join("deps/acme-billing-1.2.0/package.wit")).unwrap();
        assert!(
            billing.starts_with(MARKER) && billing.contains(&digest),
            "{billing}"
        );
        assert!(wit.join("deps/acme-money-1.0.0/package.wit").is_file());
        assert!(!wit.join("deps/acme-old-0.1.0").exists());
        assert!(wit.join("deps/acme-mine-0.1.0/package.wit").is_file());
        assert_eq!(
            std::fs::read_to_string(root.path().join(lock::FILE)).unwrap(),
            lock_text
        );
        // What was written resolves with wit-parser, as every stage reads it.
        crate::wit::load_dir(&wit, &wit).unwrap();
        // A second sync changes nothing.
        assert!(sync(&request).unwrap().written.is_empty());

        // Bytes in the cache that no longer match their digest are not used.
        std::fs::write(blob_path(&cache.join("wit"), &digest), b"\0asm").unwrap();
        let e = sync(&request).unwrap_err();
        assert!(matches!(e, PackageError::Offline { .. }), "{e}");
        // --locked with the lock missing an entry: refused before anything is written.
        std::fs::remove_file(root.path().join(lock::FILE)).unwrap();
        let locked = Request {
            mode: Mode::Locked,
            ..request
        };
        let e = sync(&locked).unwrap_err();
        assert!(
            e.to_string().contains("acme:billing =1.2.0 is not in it"),
            "{e}"
        );
        assert!(!root.path().join(lock::FILE).exists());
    }

    #[test]
    fn bytes_that_are_not_the_package_are_named() {
        let pin = Pin {
            registry: "r".into(),
            version: semver::Version::new(1, 2, 0),
            digest: String::new(),
        };
        let bytes = billing_bytes();
        assert!(decode(&bytes, "acme:billing", &pin).is_ok());
        let e = decode(&bytes, "acme:other", &pin).unwrap_err().to_string();
        assert!(
            e.contains("holds package acme:billing@1.2.0, not acme:other@1.2.0"),
            "{e}"
        );
        for bad in [&b"hello"[..], b"\0asm\x01\0\0\0", b"\0asm\x0d\0\x01\0\xff"] {
            assert!(matches!(
                decode(bad, "acme:billing", &pin),
                Err(PackageError::NotWit { .. })
            ));
        }
    }
}
