//! WIT directories: loading one (with its deps/) with wit-parser, and turning its errors into
//! diagnostics that point at the file, line and column, with a caret under the spot.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};
use wit_parser::{
    PackageId, PackageName, ParseError, ParseErrorKind, Resolve, ResolveError, ResolveErrorKind,
    UnresolvedPackageGroup,
};

/// Why a WIT directory does not load.
#[derive(Debug, Clone)]
pub struct WitError {
    /// The directory.
    pub dir: PathBuf,
    /// wit-parser's message for the innermost problem.
    pub message: String,
    /// What is declared nowhere, when that is the problem (deps/ may be missing it).
    pub unknown: Option<Unknown>,
    /// Whether the directory is not there at all (a usage error, not a WIT one).
    pub missing: bool,
    /// The file and span it concerns, when wit-parser knows them.
    location: Option<Box<(NamedSource<String>, SourceSpan)>>,
}

/// A name the WIT uses that is declared nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// A type, interface, world or non-WASI package.
    Name,
    /// A `wasi:` package at a release the runtime does not supply either.
    WasiPackage,
}

impl WitError {
    /// 2 when the directory is not there, 1 when its WIT is wrong.
    pub fn exit_code(&self) -> u8 {
        if self.missing {
            crate::exit::EXIT_USAGE
        } else {
            crate::exit::EXIT_FAILURE
        }
    }

    /// `file:line:col` of the problem, when known.
    pub fn location(&self) -> Option<String> {
        let (src, span) = self.location.as_deref()?;
        let contents = src.inner();
        let before = &contents[..span.offset().min(contents.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some(format!("{}:{line}:{col}", src.name()))
    }
}

impl fmt::Display for WitError {
    /// The message alone when the diagnostic carries the location; with the directory otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(_) => f.write_str(&self.message),
            None => write!(f, "{}: {}", self.dir.display(), self.message),
        }
    }
}

impl std::error::Error for WitError {}

impl Diagnostic for WitError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(if self.missing {
            "weld::wit::missing"
        } else {
            "weld::wit::invalid"
        }))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.location
            .as_deref()
            .map(|(src, _)| src as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, span) = self.location.as_deref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".into()),
            *span,
        ))))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.unknown == Some(Unknown::WasiPackage) {
            let v = runtime_wasi_version();
            return Some(Box::new(format!(
                "weld supplies WASI {}.{}.0 to {v} itself, the releases its runtime implements; \
                 use one of those, or put the package's WIT in deps/",
                v.major, v.minor
            )));
        }
        let help = if self.missing {
            "name the directory that holds the package's .wit files (with deps/ for its dependencies)"
        } else if self.unknown.is_some() {
            "a name must be declared in this package or `use`d from one in deps/ (deps/NAME/*.wit or deps/NAME.wit)"
        } else {
            "the WIT reference: https://component-model.bytecodealliance.org/design/wit.html"
        };
        Some(Box::new(help))
    }
}

/// Parses and resolves the WIT package in `dir` (and `dir/deps`).
pub fn load_dir(dir: &Path, shown: &Path) -> Result<(Resolve, PackageId), WitError> {
    if !dir.is_dir() {
        return Err(WitError {
            dir: shown.to_path_buf(),
            message: if dir.exists() {
                "this is not a directory: a WIT package is a directory of .wit files".into()
            } else {
                "no such directory".into()
            },
            unknown: None,
            missing: true,
            location: None,
        });
    }
    let mut resolve = Resolve::default();
    // wit-parser panics on some malformed text (found by fuzzing: a doc comment right after a
    // block comment); that is the input's fault, reported against the package.
    match crate::contained(|| resolve.push_dir(dir)) {
        Ok(Ok((pkg, _))) => Ok((resolve, pkg)),
        Ok(Err(e)) => match with_runtime_wasi(dir) {
            // WASI packages that deps/ lacks come from the runtime weld links.
            Some((resolve, pkg, _)) => Ok((resolve, pkg)),
            None => Err(locate(&resolve, &e, dir, shown)),
        },
        Err(panic) => Err(WitError {
            dir: shown.to_path_buf(),
            message: format!("wit-parser cannot read this package (it failed: {panic})"),
            unknown: None,
            missing: false,
            location: None,
        }),
    }
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/runtime_wit.rs"));
}

/// The WASI WIT of the wasmtime-wasi crates weld links, as (file name, contents): the packages
/// weld's runtime implements.
pub(crate) const RUNTIME_WASI: &[(&str, &str)] = embedded::WASI;

/// The WASI 0.3 WIT of the same crates, as (file name, contents).
pub(crate) const RUNTIME_WASI_P3: &[(&str, &str)] = embedded::WASI_P3;

/// Where [`RUNTIME_WASI`] came from: `wasmtime-wasi and wasmtime-wasi-http 48.0.8`.
pub const RUNTIME_WASI_SOURCE: &str = embedded::SOURCE;

/// A WIT file's name and text.
type WitFile = (String, String);

/// `dir` resolved with the runtime's WASI packages standing in for those its deps/ does not
/// declare, so a world can `include wasi:http/proxy@0.2.0` with no deps/ at all. `None` when
/// that does not resolve either (the caller reports the error of `dir` alone), or when deps/
/// holds something only wit-parser's own loader reads (an encoded package).
///
/// Returns the resolve, the main package and the WASI packages that were added, as (file
/// name, WIT text), every package once for each WASI release the WIT names.
fn with_runtime_wasi(dir: &Path) -> Option<(Resolve, PackageId, Vec<WitFile>)> {
    let main = UnresolvedPackageGroup::parse_dir(dir).ok()?;
    let mut deps = Vec::new();
    let deps_dir = dir.join("deps");
    if deps_dir.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&deps_dir)
            .ok()?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .ok()?;
        entries.sort();
        for path in entries {
            if path.is_dir() {
                deps.push(UnresolvedPackageGroup::parse_dir(&path).ok()?);
            } else {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("wit") => {
                        let text = std::fs::read_to_string(&path).ok()?;
                        deps.push(UnresolvedPackageGroup::parse(&path, &text).ok()?);
                    }
                    Some("wasm" | "wat") => return None,
                    // wit-parser ignores other files in deps/ too.
                    _ => {}
                }
            }
        }
    }
    let packages = || {
        std::iter::once(&main)
            .chain(&deps)
            .flat_map(|g| std::iter::once(&g.main).chain(&g.nested))
    };
    let declared: HashSet<&PackageName> = packages().map(|p| &p.name).collect();
    let wanted: HashSet<&PackageName> = packages()
        .flat_map(|p| p.foreign_deps.keys())
        .filter(|n| n.namespace == "wasi" && !declared.contains(n))
        .collect();
    let mut added = Vec::new();
    let mut groups = Vec::new();
    for version in runtime_wasi_as(&wanted)? {
        let (files, p3) = if version.minor == 3 {
            (RUNTIME_WASI_P3, true)
        } else {
            (RUNTIME_WASI, false)
        };
        for (name, text) in files {
            // 0.3.0 is the first 0.3 release: there is no older one to make.
            let text = if p3 {
                text.to_string()
            } else {
                reversion(text, &version)
            };
            // Built into weld, and a unit test parses every release: these always parse.
            let group = UnresolvedPackageGroup::parse(name, &text).ok()?;
            if !declared.contains(&group.main.name) {
                let file = Path::new(name).file_name()?.to_str()?;
                groups.push(group);
                added.push((format!("{version}-{file}"), text));
            }
        }
    }
    deps.extend(groups);
    let mut resolve = Resolve::default();
    let pkg = crate::contained(|| resolve.push_groups(main, deps))
        .ok()?
        .ok()?;
    Some((resolve, pkg, added))
}

/// The WASI releases the runtime's packages should stand in for: those `wanted` (the WASI
/// packages a WIT uses and does not declare) names, each a 0.2.x release at most the runtime's
/// own, since a world written against `wasi:http@0.2.0` also runs on a 0.2.12 host, or the
/// runtime's 0.3 release. `None` when nothing is wanted, or a release is newer than the
/// runtime's or of another line.
fn runtime_wasi_as(wanted: &HashSet<&PackageName>) -> Option<Vec<semver::Version>> {
    let runtime = runtime_wasi_version();
    let mut versions = Vec::new();
    for name in wanted {
        let v = name.version.as_ref()?;
        let compatible = v.pre.is_empty()
            && if v.minor == 3 {
                v == runtime_wasi_p3_version()
            } else {
                v.major == runtime.major && v.minor == runtime.minor && v.patch <= runtime.patch
            };
        if !compatible {
            return None;
        }
        if !versions.contains(v) {
            versions.push(v.clone());
        }
    }
    versions.sort();
    (!versions.is_empty()).then_some(versions)
}

/// The WASI 0.2 release the runtime implements (`0.2.12` for wasmtime 48).
pub fn runtime_wasi_version() -> &'static semver::Version {
    static VERSION: std::sync::OnceLock<semver::Version> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| http_version(RUNTIME_WASI))
}

/// The WASI 0.3 release the runtime implements (`0.3.0` for wasmtime 48).
pub fn runtime_wasi_p3_version() -> &'static semver::Version {
    static VERSION: std::sync::OnceLock<semver::Version> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| http_version(RUNTIME_WASI_P3))
}

/// The release of the wasi:http package among `files` (every WASI package of one release
/// shares it).
fn http_version(files: &[(&str, &str)]) -> semver::Version {
    let http = files
        .iter()
        .find(|(name, _)| name.ends_with("/http.wit"))
        .expect("build.rs embeds wasi:http");
    let group = UnresolvedPackageGroup::parse(http.0, http.1).expect("the embedded WIT parses");
    group
        .main
        .name
        .version
        .expect("WASI packages are versioned")
}

/// Whether a line of WIT declares a function on one line (`name: func(…) -> …;`), as every
/// function in WASI's WIT does.
fn is_function(line: &str) -> bool {
    let line = line.trim();
    line.ends_with(';') && (line.contains(": func(") || line.contains(": async func("))
}

/// The runtime's WASI text as release `version` of the same 0.2 line: references renamed, and
/// the functions added after `version` (`@since(version = …)` newer than it) left out, so the
/// package declares the functions that release declared.
fn reversion(text: &str, version: &semver::Version) -> String {
    let runtime = runtime_wasi_version();
    if version == runtime {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    // An item's doc comment precedes its annotation: held until the item is kept or left out.
    let mut docs: Vec<&str> = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("///") {
            docs.push(line);
            continue;
        }
        let newer = line
            .trim()
            .strip_prefix("@since(version = ")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|v| semver::Version::parse(v.trim()).ok())
            .is_some_and(|since| since > *version);
        if newer {
            // A function added later is left out, so a component built against the older
            // release does not declare it. A type added later stays: later items refer to it,
            // and an alias changes no signature.
            let mut rest = lines.clone();
            if rest.next().is_some_and(is_function) {
                lines = rest;
                docs.clear();
                continue;
            }
        }
        for doc in docs.drain(..) {
            out.push_str(doc);
            out.push('\n');
        }
        if newer {
            // A kept item cannot claim a release newer than its package (wit-parser refuses it).
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(&format!("{indent}@since(version = {version})"));
        } else {
            out.push_str(&line.replace(&format!("@{runtime}"), &format!("@{version}")));
        }
        out.push('\n');
    }
    for doc in docs {
        out.push_str(doc);
        out.push('\n');
    }
    out
}

/// A WIT directory a language toolchain can read on its own: `dir` itself when it resolves as
/// it is, otherwise a copy in `dest` with the runtime's WASI packages written into its deps/
/// (the same fallback [`load_dir`] applies), so componentize-py and componentize-js see the
/// exact WASI that `weld serve` implements. `dest` is replaced wholesale.
pub fn for_toolchain(dir: &Path, dest: &Path) -> Result<PathBuf, WitError> {
    let added = match wasi_to_add(dir) {
        Some(added) if added.is_empty() => return Ok(dir.to_path_buf()),
        Some(added) => added,
        // Not resolvable either way: load_dir says why, with the location.
        None => return load_dir(dir, dir).map(|_| dir.to_path_buf()),
    };
    let io = |e: std::io::Error, what: &Path| WitError {
        dir: dir.to_path_buf(),
        message: format!(
            "cannot stage its WIT for the toolchain in {}: {e}",
            what.display()
        ),
        unknown: None,
        missing: false,
        location: None,
    };
    if dest.exists() {
        std::fs::remove_dir_all(dest).map_err(|e| io(e, dest))?;
    }
    copy_wit_tree(dir, dest, 0).map_err(|e| io(e, dest))?;
    let deps = dest.join("deps");
    std::fs::create_dir_all(&deps).map_err(|e| io(e, &deps))?;
    for (name, text) in added {
        let path = deps.join(runtime_dep_name(&name));
        std::fs::write(&path, text).map_err(|e| io(e, &path))?;
    }
    Ok(dest.to_path_buf())
}

/// A WASI world named in full (`wasi:http/service@0.3.0`) by a component with no WIT of its
/// own, and the release the runtime stands in for.
struct WasiWorld<'a> {
    package: &'a str,
    version: semver::Version,
}

/// Whether `world` names a world of a WASI package in full: `wasi:PACKAGE/WORLD@VERSION`.
pub fn is_wasi_world(world: &str) -> bool {
    world.starts_with("wasi:") && world.contains('/')
}

/// A WIT directory holding the WASI world `world` names (`wasi:cli/command@0.3.0`), for a
/// component that names such a world and has no WIT of its own, as componentize-py's examples
/// are built. It is the runtime's own WASI WIT in that release, written under `root` (once; an
/// existing copy with the same contents is left alone): the world's package at the top, the
/// others in deps/. An error says why the name cannot be served.
pub fn wasi_world_dir(world: &str, root: &Path) -> Result<PathBuf, String> {
    let wanted = parse_wasi_world(world)?;
    let p2 = runtime_wasi_version();
    let p3 = runtime_wasi_p3_version();
    let files: Vec<(&str, String)> = if wanted.version == *p3 {
        RUNTIME_WASI_P3
            .iter()
            .map(|(name, text)| (*name, text.to_string()))
            .collect()
    } else if wanted.version.major == 0
        && wanted.version.minor == 2
        && wanted.version.patch <= p2.patch
        && wanted.version.pre.is_empty()
    {
        RUNTIME_WASI
            .iter()
            .map(|(name, text)| (*name, reversion(text, &wanted.version)))
            .collect()
    } else {
        return Err(format!(
            "weld's runtime provides WASI 0.2.0 to {p2} and {p3}, not {}",
            wanted.version
        ));
    };
    let stem = |name: &str| {
        Path::new(name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string()
    };
    if !files.iter().any(|(name, _)| stem(name) == wanted.package) {
        let mut known: Vec<String> = files.iter().map(|(name, _)| stem(name)).collect();
        known.sort();
        return Err(format!(
            "there is no package wasi:{}@{} (WASI {} has {})",
            wanted.package,
            wanted.version,
            wanted.version,
            known
                .iter()
                .map(|k| format!("wasi:{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let dir = root.join(format!("wasi-{}@{}", wanted.package, wanted.version));
    for (name, text) in &files {
        let file = format!("{}.wit", stem(name));
        let path = if stem(name) == wanted.package {
            dir.join(file)
        } else {
            dir.join("deps").join(file)
        };
        if std::fs::read_to_string(&path).is_ok_and(|t| t == *text) {
            continue;
        }
        crate::fsutil::write_atomic(&path, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(dir)
}

fn parse_wasi_world(world: &str) -> Result<WasiWorld<'_>, String> {
    let bad = || {
        format!(
            "`{world}` is not a WASI world name in full: write `wasi:PACKAGE/WORLD@VERSION`, e.g. `wasi:http/service@0.3.0`"
        )
    };
    let rest = world.strip_prefix("wasi:").ok_or_else(bad)?;
    let (package, rest) = rest.split_once('/').ok_or_else(bad)?;
    let (_, version) = rest.split_once('@').ok_or_else(bad)?;
    let version = semver::Version::parse(version).map_err(|_| bad())?;
    Ok(WasiWorld { package, version })
}

/// Whether weld's runtime provides package `name` (so that a WIT using it needs no copy of
/// it): a WASI package of the runtime's releases, at a 0.2 version no newer than the runtime's
/// or at its 0.3 version.
pub fn runtime_provides(name: &PackageName) -> bool {
    if name.namespace != "wasi" {
        return false;
    }
    let Some(version) = &name.version else {
        return false;
    };
    let mut wanted = HashSet::new();
    wanted.insert(name);
    if runtime_wasi_as(&wanted).is_none() {
        return false;
    }
    let files = if version.minor == 3 {
        RUNTIME_WASI_P3
    } else {
        RUNTIME_WASI
    };
    files.iter().any(|(file, _)| {
        Path::new(file)
            .file_stem()
            .is_some_and(|stem| *stem == *name.name)
    })
}

/// deps/weld-runtime-0.2.0-cli.wit: a name no user dependency collides with by accident.
pub fn runtime_dep_name(name: &str) -> String {
    format!("weld-runtime-{name}")
}

/// The runtime's WASI packages that `dir` uses without declaring them in its deps/, as
/// (file name, WIT text): what a tool that reads `dir` on its own (wit-bindgen's macro) needs
/// written into deps/. Empty when `dir` resolves as it is, or not even with them.
pub fn undeclared_wasi(dir: &Path) -> Vec<(String, String)> {
    wasi_to_add(dir).unwrap_or_default()
}

/// The runtime's WASI packages `dir` needs beside its own to resolve: none when it resolves as
/// it is, `None` when it does not resolve even with them.
fn wasi_to_add(dir: &Path) -> Option<Vec<WitFile>> {
    let mut resolve = Resolve::default();
    if let Ok(Ok(_)) = crate::contained(|| resolve.push_dir(dir)) {
        return Some(Vec::new());
    }
    with_runtime_wasi(dir).map(|(_, _, added)| added)
}

/// Copies the .wit files of `from` and, at the top level only, its deps/ (one level of package
/// directories), which is all wit-parser reads.
fn copy_wit_tree(from: &Path, to: &Path, depth: u8) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        if path.is_dir() {
            let descend = match depth {
                0 => name == "deps",
                1 => true,
                _ => false,
            };
            if descend {
                copy_wit_tree(&path, &to.join(name), depth + 1)?;
            }
        } else if path.extension().is_some_and(|e| e == "wit") {
            std::fs::copy(&path, to.join(name))?;
        }
    }
    Ok(())
}

/// Finds wit-parser's typed error in the chain and the span it carries; the spans of a failed
/// `push_dir` stay valid against the `Resolve`'s source map.
fn locate(resolve: &Resolve, e: &anyhow::Error, dir: &Path, shown: &Path) -> WitError {
    let typed = e.chain().find_map(|cause| {
        cause
            .downcast_ref::<ParseError>()
            .map(|p| {
                let unknown = matches!(p.kind(), ParseErrorKind::ItemNotFound { .. })
                    .then_some(Unknown::Name);
                (p.kind().span(), p.kind().to_string(), unknown)
            })
            .or_else(|| {
                cause.downcast_ref::<ResolveError>().map(|r| {
                    let unknown = match r.kind() {
                        ResolveErrorKind::PackageNotFound { requested, .. } => {
                            Some(if requested.namespace == "wasi" {
                                Unknown::WasiPackage
                            } else {
                                Unknown::Name
                            })
                        }
                        _ => None,
                    };
                    (r.kind().span(), r.kind().to_string(), unknown)
                })
            })
    });
    let unknown = typed.as_ref().and_then(|t| t.2);
    let message = typed
        .as_ref()
        .map(|(_, m, _)| m.clone())
        .unwrap_or_else(|| e.root_cause().to_string());
    let location = typed.and_then(|(span, _, _)| {
        let loc = resolve.source_map.resolve_span(span)?;
        let path = Path::new(loc.path);
        let contents = std::fs::read_to_string(path).ok()?;
        let name = match path.strip_prefix(dir) {
            Ok(rel) => shown.join(rel).display().to_string(),
            Err(_) => path.display().to_string(),
        };
        let len = loc.range.end.saturating_sub(loc.range.start).max(1);
        Some(Box::new((
            NamedSource::new(name, contents).with_language("wit"),
            SourceSpan::new(loc.range.start.into(), len),
        )))
    });
    WitError {
        dir: shown.to_path_buf(),
        message,
        unknown,
        missing: false,
        location,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every 0.2 release up to the runtime's can be stood in for, and resolves.
    #[test]
    fn runtime_wasi_reversions_resolve() {
        let runtime = runtime_wasi_version();
        assert_eq!((runtime.major, runtime.minor), (0, 2));
        for patch in 0..=runtime.patch {
            let version = semver::Version::new(0, 2, patch);
            let groups: Vec<_> = RUNTIME_WASI
                .iter()
                .map(|(name, text)| {
                    UnresolvedPackageGroup::parse(name, &reversion(text, &version))
                        .unwrap_or_else(|(_, e)| panic!("{name} as {version}: {e}"))
                })
                .collect();
            let mut resolve = Resolve::default();
            for group in sort(groups) {
                resolve
                    .push_group(group)
                    .unwrap_or_else(|e| panic!("as {version}: {e}"));
            }
            let http = PackageName {
                namespace: "wasi".into(),
                name: "http".into(),
                version: Some(version.clone()),
            };
            assert!(resolve.package_names.contains_key(&http), "{version}");
            // exit-with-code came with 0.2.12: older releases do not have it.
            let exit = resolve
                .interfaces
                .iter()
                .find(|(_, i)| i.name.as_deref() == Some("exit"))
                .map(|(_, i)| i.functions.contains_key("exit-with-code"));
            assert_eq!(exit, Some(patch >= 12), "{version}");
        }
    }

    /// Dependencies first (io before clocks before the rest), as `push_group` needs.
    fn sort(mut groups: Vec<UnresolvedPackageGroup>) -> Vec<UnresolvedPackageGroup> {
        let mut sorted: Vec<UnresolvedPackageGroup> = Vec::new();
        while !groups.is_empty() {
            let known: HashSet<PackageName> = sorted.iter().map(|g| g.main.name.clone()).collect();
            let i = groups
                .iter()
                .position(|g| g.main.foreign_deps.keys().all(|d| known.contains(d)))
                .expect("no cycles");
            sorted.push(groups.remove(i));
        }
        sorted
    }

    /// A WASI world named in full needs no WIT: its package comes from the runtime, in the
    /// release named, and the world resolves in it.
    #[test]
    fn a_wasi_world_name_is_its_own_wit() {
        let root = tempfile::tempdir().unwrap();
        for (world, export) in [
            ("wasi:cli/command@0.3.0", "wasi:cli/run@0.3.0"),
            ("wasi:http/service@0.3.0", "wasi:http/handler@0.3.0"),
            ("wasi:http/proxy@0.2.0", "wasi:http/incoming-handler@0.2.0"),
            ("wasi:cli/command@0.2.6", "wasi:cli/run@0.2.6"),
        ] {
            let dir = wasi_world_dir(world, root.path()).unwrap();
            let (resolve, pkg) = load_dir(&dir, &dir).unwrap();
            let id = resolve.select_world(&[pkg], Some(world)).unwrap();
            let exports: Vec<String> = resolve.worlds[id]
                .exports
                .keys()
                .map(|k| resolve.name_world_key(k))
                .collect();
            assert_eq!(exports, [export], "{world}");
            // Asked again, nothing changes.
            assert_eq!(wasi_world_dir(world, root.path()).unwrap(), dir);
        }
        for (world, says) in [
            ("wasi:http/proxy@0.2.99", "not 0.2.99"),
            ("wasi:cli/command@0.4.0", "not 0.4.0"),
            ("wasi:nope/x@0.3.0", "no package wasi:nope@0.3.0"),
            ("wasi:cli/command", "WORLD@VERSION"),
        ] {
            let e = wasi_world_dir(world, root.path()).unwrap_err();
            assert!(e.contains(says), "{world}: {e}");
        }
    }

    #[test]
    fn a_world_with_no_deps_gets_the_runtime_wasi() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("world.wit"),
            "package demo:h;\nworld handler {\n  include wasi:http/proxy@0.2.0;\n}\n",
        )
        .unwrap();
        let (resolve, pkg) = load_dir(dir.path(), Path::new("wit")).unwrap();
        let world = resolve.select_world(&[pkg], Some("handler")).unwrap();
        let names: Vec<String> = resolve.worlds[world]
            .exports
            .keys()
            .map(|k| resolve.name_world_key(k))
            .collect();
        assert_eq!(names, ["wasi:http/incoming-handler@0.2.0"]);

        // A toolchain gets a copy with the packages in deps/, which resolves on its own.
        let staged = dir.path().join("staged");
        let out = for_toolchain(dir.path(), &staged).unwrap();
        assert_eq!(out, staged);
        let mut resolve = Resolve::default();
        resolve.push_dir(&staged).unwrap();

        // Two releases at once, one per world: each gets its own copy of the packages.
        std::fs::write(
            dir.path().join("world.wit"),
            "package demo:h;\nworld a {\n  include wasi:http/proxy@0.2.0;\n}\n\
             world b {\n  include wasi:http/proxy@0.2.10;\n}\n",
        )
        .unwrap();
        let (resolve, _) = load_dir(dir.path(), Path::new("wit")).unwrap();
        let http: Vec<String> = resolve
            .package_names
            .keys()
            .filter(|n| n.name == "http")
            .map(|n| n.to_string())
            .collect();
        assert_eq!(http, ["wasi:http@0.2.0", "wasi:http@0.2.10"]);

        // A release newer than the runtime's is not made up: the error names the package.
        std::fs::write(
            dir.path().join("world.wit"),
            "package demo:h;\nworld handler {\n  include wasi:http/proxy@0.2.99;\n}\n",
        )
        .unwrap();
        let e = load_dir(dir.path(), Path::new("wit")).unwrap_err();
        assert_eq!(e.unknown, Some(Unknown::WasiPackage), "{e}");
        assert!(e.message.contains("wasi:http@0.2.99"), "{e}");
    }
}
