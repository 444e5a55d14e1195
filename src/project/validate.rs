//! Turns the raw manifest into a [`Plan`], collecting every problem with its span.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use miette::NamedSource;
use toml::Spanned;
use wit_parser::{PackageId, Resolve};

use super::manifest::{RawComponent, RawCompose, RawManifest};

use super::{Component, Compose, Lang, ManifestError, ManifestIssue, Plan, ScriptSource, Wiring};
use crate::settings::Profile;
use crate::suggest::closest;

pub(super) fn plan_from_str(
    manifest: &Path,
    shown: &Path,
    text: &str,
) -> Result<Plan, ManifestError> {
    let parent = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut v = Validator {
        source: NamedSource::new(shown.display().to_string(), Arc::from(text))
            .with_language("toml"),
        root: parent(manifest),
        shown_base: shown_base(manifest, shown),
        issues: Vec::new(),
        wit: HashMap::new(),
        wit_reported: Vec::new(),
    };
    let raw: RawManifest = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            v.toml_error(&e);
            return Err(ManifestError::from_issues(shown.to_path_buf(), v.issues));
        }
    };
    let plan = v.plan(manifest, raw);
    if v.issues.is_empty() {
        Ok(plan)
    } else {
        Err(ManifestError::from_issues(shown.to_path_buf(), v.issues))
    }
}

pub(super) struct Validator {
    source: NamedSource<Arc<str>>,
    root: PathBuf,
    /// The directory diagnostics show paths relative to (where weld was started).
    shown_base: Option<PathBuf>,
    issues: Vec<ManifestIssue>,
    /// Parsed WIT directories, so that components sharing one parse it once.
    wit: HashMap<PathBuf, Result<(Resolve, PackageId), crate::wit::WitError>>,
    /// WIT directories whose error was reported: once each, however many components use them.
    wit_reported: Vec<PathBuf>,
}

impl Validator {
    pub(super) fn report(
        &mut self,
        code: &'static str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        let mut issue = ManifestIssue::new(&self.source, code, span, message, label);
        if let Some(help) = help {
            issue = issue.with_help(help);
        }
        self.issues.push(issue);
    }

    fn toml_error(&mut self, e: &toml::de::Error) {
        let message = e.message().trim().to_string();
        let (code, label, help) = if let Some(rest) = message.strip_prefix("unknown field `") {
            // serde says: unknown field `lnag`, expected one of `lang`, `path`, ...
            let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
            let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let help = match closest(field, known.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("known keys here: {}", known.join(", ")),
            };
            ("weld::manifest::unknown-key", "unknown key", Some(help))
        } else if message.starts_with("unknown variant") {
            (
                "weld::manifest::invalid-value",
                "not one of the allowed values",
                None,
            )
        } else if message.starts_with("invalid type") {
            ("weld::manifest::wrong-type", "wrong type", None)
        } else if message.starts_with("missing field") {
            let help = message.contains("`project`").then(|| {
                "weld.toml starts with a [project] table naming the project: name = \"my-app\""
                    .to_string()
            });
            (
                "weld::manifest::missing-key",
                "required key missing in this table",
                help,
            )
        } else {
            ("weld::manifest::syntax", "here", None)
        };
        self.report(code, e.span(), message, label, help);
    }

    /// `[wit-dependencies]`: names and requirements that parse, registries that are host names.
    fn wit_dependencies(&mut self, raw: &RawManifest) {
        for (name, entry) in &raw.wit_dependencies {
            if let Some(message) = super::manifest::package_name_error(name.get_ref()) {
                self.report(
                    "weld::manifest::wit-dependency",
                    Some(name.span()),
                    message,
                    "not a package name",
                    None,
                );
            }
            if let Err(message) = super::manifest::wit_dependency(entry.get_ref()) {
                self.report(
                    "weld::manifest::wit-dependency",
                    Some(entry.span()),
                    format!("[wit-dependencies] `{}`: {message}", name.get_ref()),
                    "here",
                    Some("write a semver requirement (\"1.2\", \"=0.2.0-draft\") or { version = \"1.2\", registry = \"ghcr.io\" }".into()),
                );
            }
        }
    }

    pub(super) fn path(&self, raw: &str) -> PathBuf {
        crate::fsutil::clean(&self.root.join(raw))
    }

    fn plan(&mut self, manifest: &Path, raw: RawManifest) -> Plan {
        self.wit_dependencies(&raw);
        let project = raw.project.into_inner();
        let name = project.name.get_ref().clone();
        if !is_name(&name) {
            self.report(
                "weld::manifest::invalid-name",
                Some(project.name.span()),
                format!("`{name}` is not a valid project name"),
                "invalid name",
                Some(NAME_RULE.to_string()),
            );
        }
        let default_wit = match &project.wit {
            Some(wit) => self.dir(wit, "the project's WIT directory"),
            None => Some(self.path("wit")).filter(|p| p.is_dir()),
        };
        let target_dir = match &project.target {
            Some(t) => self.path(t.get_ref()),
            None => self.path("target"),
        }
        .join("weld");

        let names: Vec<String> = raw.components.keys().map(|k| k.get_ref().clone()).collect();
        let mut components = Vec::new();
        for (key, raw_component) in raw.components {
            if let Some(c) =
                self.component(&key, raw_component, default_wit.as_deref(), &target_dir)
            {
                components.push(c);
            }
        }
        let compose_span = raw.compose.as_ref().map(|c| c.span());
        let compose = raw
            .compose
            .and_then(|c| self.compose(c, &names, &target_dir));
        if let Some(c) = compose.as_ref()
            && let Some(clash) = components
                .iter()
                .find(|x: &&Component| x.output == c.output)
        {
            self.report(
                "weld::manifest::output-clash",
                compose_span,
                format!(
                    "the composed app and component `{}` would both be written to {}",
                    clash.name,
                    self.show(&c.output)
                ),
                "composes to the same file",
                Some("set [compose] `output` to another file, or rename the component".into()),
            );
        }
        let mut raw_run = raw.run.unwrap_or_default();
        let profile = self.profile(raw_run.profile.take());
        let run = self.run(raw_run, super::DEFAULT_TIMEOUT);
        let serve = self.serve(raw.serve.unwrap_or_default());
        let mut tests = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for raw_test in raw.tests {
            let span = raw_test.span();
            let name_span = raw_test.get_ref().name.span();
            if let Some(t) = self.test(raw_test.into_inner(), span, &names, compose.is_some()) {
                if seen.contains(&t.name) {
                    self.report(
                        "weld::manifest::duplicate-test",
                        Some(name_span),
                        format!("two tests are named `{}`", t.name),
                        "a second test of this name",
                        Some(
                            "test names must be unique so that `weld test NAME` is unambiguous"
                                .into(),
                        ),
                    );
                }
                seen.push(t.name.clone());
                tests.push(t);
            }
        }

        let about = super::About {
            version: project.version,
            description: project.description,
            license: project.license,
            source: project.source,
        };
        Plan {
            name,
            about,
            manifest: manifest.to_path_buf(),
            root: self.root.clone(),
            target_dir,
            components,
            compose,
            run,
            profile,
            serve,
            tests,
        }
    }

    /// `[run] profile`: `dev` (the default) or `release`.
    fn profile(&mut self, raw: Option<Spanned<String>>) -> Profile {
        let Some(raw) = raw else {
            return Profile::Dev;
        };
        match raw.get_ref().as_str() {
            "dev" => Profile::Dev,
            "release" => Profile::Release,
            other => {
                self.report(
                    "weld::manifest::invalid-value",
                    Some(raw.span()),
                    format!("`{other}` is not a profile"),
                    "expected \"dev\" or \"release\"",
                    Some(
                        "\"dev\" compiles with Winch (fast to compile), \"release\" with Cranelift (fast code)"
                            .into(),
                    ),
                );
                Profile::Dev
            }
        }
    }

    /// A directory that must exist.
    pub(super) fn dir(&mut self, raw: &Spanned<String>, what: &str) -> Option<PathBuf> {
        let path = self.path(raw.get_ref());
        if path.is_dir() {
            return Some(path);
        }
        let (label, problem) = if path.exists() {
            ("not a directory", "is not a directory")
        } else {
            ("no such directory", "does not exist")
        };
        self.report(
            "weld::manifest::missing-path",
            Some(raw.span()),
            format!("{what} `{}` {problem}", raw.get_ref()),
            label,
            Some(self.relative_help()),
        );
        None
    }

    fn relative_help(&self) -> String {
        format!(
            "paths are relative to the directory holding weld.toml ({})",
            self.show(&self.root)
        )
    }

    /// A path as diagnostics show it: relative to where weld was started, when under it.
    pub(super) fn show(&self, path: &Path) -> String {
        let rel = self
            .shown_base
            .as_deref()
            .and_then(|b| path.strip_prefix(b).ok());
        match rel {
            Some(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Some(rel) => rel.display().to_string(),
            None => path.display().to_string(),
        }
    }

    fn component(
        &mut self,
        key: &Spanned<String>,
        raw: Spanned<RawComponent>,
        default_wit: Option<&Path>,
        target_dir: &Path,
    ) -> Option<Component> {
        let name = key.get_ref().clone();
        let table_span = raw.span();
        let raw = raw.into_inner();
        let lang = *raw.lang.get_ref();
        let mut ok = true;
        if !is_name(&name) {
            self.report(
                "weld::manifest::invalid-name",
                Some(key.span()),
                format!("`{name}` is not a valid component name"),
                "invalid name",
                Some(NAME_RULE.to_string()),
            );
            ok = false;
        }

        let mut source = self.path(raw.path.get_ref());
        if let Err((label, problem, help)) = check_source(lang, &source) {
            self.report(
                "weld::manifest::missing-path",
                Some(raw.path.span()),
                format!(
                    "component `{name}`: {lang} source `{}` {problem}",
                    raw.path.get_ref()
                ),
                label,
                Some(help.unwrap_or_else(|| self.relative_help())),
            );
            ok = false;
        }

        // A rust component named by its Cargo.toml is its package directory: that is what the
        // build fingerprints and cargo builds.
        if lang == Lang::Rust && source.is_file() {
            source.pop();
        }

        let module = self.module_key(&name, lang, &raw, &source, &mut ok);
        let source_check = self.source_check_key(&name, lang, &raw, &mut ok);
        let wasi_world = raw
            .world
            .as_ref()
            .filter(|w| raw.wit.is_none() && crate::wit::is_wasi_world(w.get_ref()));
        let wit = self.component_wit(&name, &raw, wasi_world, default_wit, target_dir, &mut ok);
        let world = match &raw.world {
            Some(_) if wasi_world.is_some() && wit.is_none() => None,
            Some(world) => self.world(&name, lang, world, wit.as_deref(), raw.wit.as_ref()),
            None if matches!(lang, Lang::Python | Lang::Js) => {
                self.missing_world(&name, lang, wit.as_deref(), table_span);
                None
            }
            None => None,
        };
        if raw.world.is_some() && world.is_none() {
            ok = false;
        }

        let wit_from_runtime = wasi_world.is_some() && wit.is_some();
        ok.then(|| Component {
            output: target_dir.join(format!("{name}.wasm")),
            wit_from_runtime,
            name,
            lang,
            source,
            wit,
            world,
            module,
            source_check,
        })
    }

    /// A Python component's `module` (`app` by default), which must be in its source; refused
    /// on other components.
    fn module_key(
        &mut self,
        name: &str,
        lang: Lang,
        raw: &RawComponent,
        source: &Path,
        ok: &mut bool,
    ) -> Option<String> {
        let module = match (&raw.module, lang) {
            (Some(m), Lang::Python) => m.get_ref().clone(),
            (None, Lang::Python) => "app".to_string(),
            (Some(m), _) => {
                self.report(
                    "weld::manifest::misplaced-key",
                    Some(m.span()),
                    format!("component `{name}`: `module` applies only to python components"),
                    format!("not used by a {lang} component"),
                    Some("remove this line".into()),
                );
                *ok = false;
                return None;
            }
            (None, _) => return None,
        };
        let file = module.replace('.', "/");
        if source.is_dir()
            && !source.join(format!("{file}.py")).is_file()
            && !source.join(&file).join("__init__.py").is_file()
        {
            let span = raw
                .module
                .as_ref()
                .map(|m| m.span())
                .unwrap_or(raw.path.span());
            self.report(
                "weld::manifest::missing-path",
                Some(span),
                format!(
                    "component `{name}`: python module `{module}` is not in `{}`",
                    raw.path.get_ref()
                ),
                "no such module",
                Some(format!(
                    "create `{}/{file}.py`, or set `module` to the module that defines the world's exports (the default is `app`)",
                    raw.path.get_ref()
                )),
            );
            *ok = false;
        }
        Some(module)
    }

    /// `source-check`, on by default, for the languages weld checks the source of.
    fn source_check_key(
        &mut self,
        name: &str,
        lang: Lang,
        raw: &RawComponent,
        ok: &mut bool,
    ) -> bool {
        match (&raw.source_check, lang) {
            (Some(v), Lang::Python | Lang::Js) => *v.get_ref(),
            (Some(v), _) => {
                self.report(
                    "weld::manifest::misplaced-key",
                    Some(v.span()),
                    format!(
                        "component `{name}`: `source-check` applies only to python and js components"
                    ),
                    format!("a {lang} component's source is not checked by weld"),
                    Some("remove this line".into()),
                );
                *ok = false;
                false
            }
            (None, _) => true,
        }
    }

    /// The component's WIT directory: its own `wit`, the runtime's WASI for a WASI world
    /// named alone, or the project's.
    fn component_wit(
        &mut self,
        name: &str,
        raw: &RawComponent,
        wasi_world: Option<&Spanned<String>>,
        default_wit: Option<&Path>,
        target_dir: &Path,
        ok: &mut bool,
    ) -> Option<PathBuf> {
        match (&raw.wit, wasi_world) {
            (Some(w), _) => self.dir(w, &format!("component `{name}`: WIT directory")),
            // `world = "wasi:http/service@0.3.0"` alone: the runtime's WASI is its WIT.
            (None, Some(world)) => {
                match crate::wit::wasi_world_dir(world.get_ref(), &target_dir.join(".wasi")) {
                    Ok(dir) => Some(dir),
                    Err(e) => {
                        self.report(
                            "weld::manifest::unknown-world",
                            Some(world.span()),
                            format!("component `{name}`: {e}"),
                            "weld cannot supply this world",
                            Some("name a WASI world of weld's runtime (e.g. `wasi:cli/command@0.3.0`, `wasi:http/proxy@0.2.0`), or set `wit = \"…\"` to a directory that defines this one".into()),
                        );
                        *ok = false;
                        None
                    }
                }
            }
            (None, None) => default_wit.map(Path::to_path_buf),
        }
    }

    /// A Python or JS component must name its world: its bindings are generated from it.
    fn missing_world(
        &mut self,
        name: &str,
        lang: Lang,
        wit: Option<&Path>,
        table_span: std::ops::Range<usize>,
    ) {
        let known = wit.map(|w| self.worlds_in(w)).unwrap_or_default();
        let help = if known.is_empty() {
            "add `world = \"…\"`: the world in its WIT package that this component implements"
                .to_string()
        } else {
            format!(
                "add `world = \"…\"`; worlds in its WIT package: {}",
                known.join(", ")
            )
        };
        self.report(
            "weld::manifest::missing-key",
            Some(table_span),
            format!("{lang} component `{name}` does not name its `world`"),
            "this component needs `world`",
            Some(help),
        );
    }

    /// Checks that `world` exists in the WIT package at `wit`; returns its qualified name.
    fn world(
        &mut self,
        component: &str,
        lang: Lang,
        world: &Spanned<String>,
        wit: Option<&Path>,
        wit_key: Option<&Spanned<String>>,
    ) -> Option<String> {
        let Some(wit) = wit else {
            if wit_key.is_some() {
                return None; // the missing directory itself was reported
            }
            self.report(
                "weld::manifest::missing-wit",
                Some(world.span()),
                format!("component `{component}` names world `{}`, but no WIT directory is set", world.get_ref()),
                "which WIT package is this world in?",
                Some("set `wit = \"…\"` on the component or under [project] (default: `wit`, when that directory exists)".into()),
            );
            return None;
        };
        let shown = PathBuf::from(self.show(wit));
        let loaded = self
            .wit
            .entry(wit.to_path_buf())
            .or_insert_with(|| crate::wit::load_dir(wit, &shown));
        let (resolve, pkg) = match loaded {
            Ok((resolve, pkg)) => (resolve, *pkg),
            Err(e) => {
                if self.wit_reported.iter().any(|d| d == wit) {
                    return None;
                }
                self.wit_reported.push(wit.to_path_buf());
                let e = e.clone();
                let span = wit_key.map(|w| w.span()).unwrap_or(world.span());
                let issue = ManifestIssue::new(
                    &self.source,
                    "weld::manifest::invalid-wit",
                    Some(span),
                    format!(
                        "the WIT in {} does not load (component `{component}` uses it)",
                        shown.display()
                    ),
                    "WIT used here",
                )
                .with_help("fix the WIT error shown below")
                .with_wit_error(e);
                self.issues.push(issue);
                return None;
            }
        };
        match resolve.select_world(&[pkg], Some(world.get_ref())) {
            Ok(id) => {
                let p3 = matches!(lang, Lang::Js | Lang::Go)
                    .then(|| wasi_0_3_item(resolve, id))
                    .flatten();
                if let Some(item) = p3 {
                    self.unsupported_p3(component, lang, world, &item);
                    return None;
                }
                Some(resolve.id_of_name(pkg, &resolve.worlds[id].name))
            }
            Err(_) => {
                let known: Vec<String> = resolve.packages[pkg].worlds.keys().cloned().collect();
                let pkg_name = resolve.packages[pkg].name.to_string();
                self.unknown_world(component, world, wit, wit_key, &known, &pkg_name);
                None
            }
        }
    }

    /// A JS or Go component's world uses WASI 0.3 (`item`), which its toolchain cannot build.
    fn unsupported_p3(&mut self, component: &str, lang: Lang, world: &Spanned<String>, item: &str) {
        let (tool, instead) = match lang {
            Lang::Js => (
                "componentize-js",
                format!(
                    "`wasi:http/proxy@{}` (its engine's release) or `wasi:cli/command@0.2.x`",
                    crate::toolchain::COMPONENTIZE_JS_WASI_HTTP
                ),
            ),
            _ => (
                "Go's wit-bindgen-go",
                "`wasi:http/proxy@0.2.x` or `wasi:cli/command@0.2.x`".to_string(),
            ),
        };
        self.report(
            "weld::manifest::unsupported-world",
            Some(world.span()),
            format!(
                "component `{component}`: {tool} cannot build WASI 0.3 components yet, and world `{}` uses {item}",
                world.get_ref()
            ),
            "a WASI 0.3 world",
            Some(format!("build it for a WASI 0.2 world instead: {instead}; Rust (the `wasip3` crate) and Python (componentize-py) build 0.3 components")),
        );
    }

    /// `world` is not in package `pkg_name`, whose worlds are `known`.
    fn unknown_world(
        &mut self,
        component: &str,
        world: &Spanned<String>,
        wit: &Path,
        wit_key: Option<&Spanned<String>>,
        known: &[String],
        pkg_name: &str,
    ) {
        // `wasi:cli/comand@0.3.0` is compared by its world's own name.
        let short = world
            .get_ref()
            .rsplit_once('/')
            .map_or(world.get_ref().as_str(), |(_, w)| {
                w.split_once('@').map_or(w, |(w, _)| w)
            });
        let help = match closest(short, known.iter().map(String::as_str)) {
            Some(best) => format!(
                "did you mean `{best}`? worlds in {pkg_name}: {}",
                known.join(", ")
            ),
            None if known.is_empty() => format!("{pkg_name} declares no worlds"),
            None => format!("worlds in {pkg_name}: {}", known.join(", ")),
        };
        let place = if wit_key.is_none() && crate::wit::is_wasi_world(world.get_ref()) {
            "weld's runtime's WASI".to_string()
        } else {
            self.show(wit)
        };
        self.report(
            "weld::manifest::unknown-world",
            Some(world.span()),
            format!(
                "component `{component}`: world `{}` is not in WIT package {pkg_name} ({place})",
                world.get_ref(),
            ),
            "no such world",
            Some(help),
        );
    }

    fn worlds_in(&mut self, wit: &Path) -> Vec<String> {
        let shown = PathBuf::from(self.show(wit));
        match self
            .wit
            .entry(wit.to_path_buf())
            .or_insert_with(|| crate::wit::load_dir(wit, &shown))
        {
            Ok((resolve, pkg)) => resolve.packages[*pkg].worlds.keys().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    fn compose(
        &mut self,
        raw: Spanned<RawCompose>,
        names: &[String],
        target_dir: &Path,
    ) -> Option<Compose> {
        let span = raw.span();
        let raw = raw.into_inner();
        let output = match &raw.output {
            Some(o) => self.path(o.get_ref()),
            None => target_dir.join("app.wasm"),
        };
        if let Some(o) = &raw.output
            && (o.get_ref().trim().is_empty() || output.is_dir())
        {
            let (message, label) = if o.get_ref().trim().is_empty() {
                ("compose output is empty".to_string(), "no file named")
            } else {
                (
                    format!("compose output `{}` is a directory", o.get_ref()),
                    "a directory",
                )
            };
            self.report(
                "weld::manifest::invalid-value",
                Some(o.span()),
                message,
                label,
                Some("name the .wasm file to write, e.g. `target/weld/app.wasm`".into()),
            );
        }
        let wiring = match (&raw.script, &raw.root) {
            (Some(script), Some(root)) => {
                self.report(
                    "weld::manifest::conflicting-keys",
                    Some(root.span()),
                    "[compose] has both `script` and `root`",
                    "remove this, or `script`",
                    Some(format!(
                        "a WAC script (`{}`) describes the whole wiring; `root` + `plugs` is the automatic alternative",
                        script.get_ref()
                    )),
                );
                None
            }
            (Some(script), None) => self.script(script, &raw, names),
            (None, Some(root)) => self.plugs(root, &raw, names),
            (None, None) => {
                self.report(
                    "weld::manifest::missing-key",
                    Some(span),
                    "[compose] needs `root` (with `plugs`) or `script`",
                    "incomplete",
                    Some("e.g. root = \"cli\" and plugs = [\"arith\", \"words\"]; or script = \"app.wac\"".into()),
                );
                None
            }
        }?;
        Some(Compose {
            wiring,
            output,
            strict: raw.strict,
        })
    }

    fn plugs(
        &mut self,
        root: &Spanned<String>,
        raw: &RawCompose,
        names: &[String],
    ) -> Option<Wiring> {
        let mut ok = self.component_ref(root, names, "compose root");
        if let Some((key, _)) = raw.deps.first() {
            self.report(
                "weld::manifest::misplaced-key",
                Some(key.span()),
                "[compose] `deps` applies only to a WAC `script`",
                "not used with `root`",
                Some("automatic plugging finds each plug by what it exports".into()),
            );
            ok = false;
        }
        let mut plugs: Vec<String> = Vec::new();
        for plug in raw.plugs.iter().flat_map(|p| p.get_ref()) {
            ok &= self.component_ref(plug, names, "plug");
            let name = plug.get_ref();
            if name == root.get_ref() {
                self.report(
                    "weld::manifest::invalid-value",
                    Some(plug.span()),
                    format!("`{name}` is the root; it cannot also be a plug"),
                    "also the root",
                    None,
                );
                ok = false;
            } else if plugs.contains(name) {
                self.report(
                    "weld::manifest::invalid-value",
                    Some(plug.span()),
                    format!("plug `{name}` is listed twice"),
                    "duplicate",
                    None,
                );
                ok = false;
            } else {
                plugs.push(name.clone());
            }
        }
        ok.then(|| Wiring::Plug {
            root: root.get_ref().clone(),
            plugs,
        })
    }

    fn script(
        &mut self,
        script: &Spanned<String>,
        raw: &RawCompose,
        names: &[String],
    ) -> Option<Wiring> {
        let mut ok = true;
        if let Some(plugs) = &raw.plugs {
            self.report(
                "weld::manifest::conflicting-keys",
                Some(plugs.span()),
                "[compose] has both `script` and `plugs`",
                "remove this, or `script`",
                Some("with a WAC script, name the components it uses under `deps`".into()),
            );
            ok = false;
        }
        let path = self.path(script.get_ref());
        if !path.is_file() {
            self.report(
                "weld::manifest::missing-path",
                Some(script.span()),
                format!("WAC script `{}` does not exist", script.get_ref()),
                "no such file",
                Some(self.relative_help()),
            );
            ok = false;
        }
        let mut deps = IndexMap::new();
        for (package, component) in &raw.deps {
            if !is_package_name(package.get_ref()) {
                self.report(
                    "weld::manifest::invalid-value",
                    Some(package.span()),
                    format!("`{}` is not a WAC package name", package.get_ref()),
                    "expected `namespace:name`",
                    Some("e.g. \"weld:arith\" = \"arith\"".into()),
                );
                ok = false;
            }
            // A component of the project, or else a directory holding a WIT package.
            let dir = self.path(component.get_ref());
            let source = if !names.contains(component.get_ref()) && dir.is_dir() {
                ScriptSource::Wit { dir }
            } else {
                ok &= self.component_ref(component, names, "WAC dependency");
                ScriptSource::Component(component.get_ref().clone())
            };
            deps.insert(package.get_ref().clone(), source);
        }
        ok.then_some(Wiring::Script { path, deps })
    }

    /// Checks that `name` is a component of the project.
    pub(super) fn component_ref(
        &mut self,
        name: &Spanned<String>,
        names: &[String],
        what: &str,
    ) -> bool {
        if names.iter().any(|n| n == name.get_ref()) {
            return true;
        }
        let help = match closest(name.get_ref(), names.iter().map(String::as_str)) {
            Some(best) => format!("did you mean `{best}`?"),
            None if names.is_empty() => "declare it under [components.NAME]".to_string(),
            None => format!("components: {}", names.join(", ")),
        };
        self.report(
            "weld::manifest::unknown-component",
            Some(name.span()),
            format!(
                "{what} `{}` is not a component of this project",
                name.get_ref()
            ),
            "unknown component",
            Some(help),
        );
        false
    }
}

/// Where `shown` is relative to: `manifest` with `shown`'s components taken off its end.
fn shown_base(manifest: &Path, shown: &Path) -> Option<PathBuf> {
    if shown.is_absolute() {
        return None;
    }
    manifest
        .ancestors()
        .nth(shown.components().count())
        .map(Path::to_path_buf)
}

const NAME_RULE: &str =
    "names start with a lowercase letter and use lowercase letters, digits, `-` and `_`";

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn is_package_name(name: &str) -> bool {
    name.split_once(':').is_some_and(|(ns, n)| {
        let part =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        part(ns) && part(n)
    })
}

/// What must be at a component's `path`, by language; the error is (label, problem, help).
fn check_source(
    lang: Lang,
    path: &Path,
) -> Result<(), (&'static str, &'static str, Option<String>)> {
    if !path.exists() {
        return Err(("no such file or directory", "does not exist", None));
    }
    match lang {
        Lang::Rust => {
            let manifest = if path.is_dir() { path.join("Cargo.toml") } else { path.to_path_buf() };
            if manifest.file_name().is_some_and(|n| n == "Cargo.toml") && manifest.is_file() {
                Ok(())
            } else {
                Err(("not a cargo package", "is not a cargo package", Some(
                    "a rust component's path is the directory that holds its Cargo.toml".into(),
                )))
            }
        }
        Lang::Python if !path.is_dir() => Err(("not a directory", "is not a directory", Some(
            "a python component's path is the directory that holds its module (set `module` to choose it)".into(),
        ))),
        Lang::Js if !path.is_file() => Err(("not a file", "is not a file", Some(
            "a js component's path is its entry module, e.g. `words-js/words.js`".into(),
        ))),
        Lang::Go if !path.is_dir() => Err(("not a directory", "is not a directory", Some(
            "a go component's path is its Go module directory (the one that holds go.mod, or will)".into(),
        ))),
        Lang::Wasm if !path.is_file() => Err(("not a file", "is not a file", Some(
            "a wasm component's path is the prebuilt .wasm file".into(),
        ))),
        _ => Ok(()),
    }
}

/// The first WASI 0.3 interface world `id` imports or exports, by name.
fn wasi_0_3_item(resolve: &wit_parser::Resolve, id: wit_parser::WorldId) -> Option<String> {
    let world = &resolve.worlds[id];
    world
        .imports
        .values()
        .chain(world.exports.values())
        .find_map(|item| match item {
            wit_parser::WorldItem::Interface { id, .. } => {
                let package = &resolve.packages[resolve.interfaces[*id].package?].name;
                let v = package.version.as_ref()?;
                (package.namespace == "wasi" && v.major == 0 && v.minor == 3)
                    .then(|| resolve.id_of(*id))
                    .flatten()
            }
            _ => None,
        })
}
