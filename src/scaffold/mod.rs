//! `weld new`: a starter component in a project (making the project when there is none): its
//! sources, the WIT world it implements, and its entry in weld.toml, edited in place so the
//! file keeps its comments and order. Every starter builds, checks and runs (or serves) as
//! generated; a test runs `weld new` then `weld up` for each language and template.

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use toml_edit::{DocumentMut, Item, Table, value};

use crate::project::Lang;
use crate::toolchain::Toolchains;

mod skeleton;

/// What kind of app the starter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A command: exports `wasi:cli/run`, prints a greeting.
    Cli,
    /// An HTTP app: exports `wasi:http/incoming-handler`, answers every request.
    Http,
    /// A WASI 0.3 command: exports `wasi:cli/run@0.3.0`, an async function (Rust, Python).
    CliP3,
    /// A WASI 0.3 HTTP app: exports `wasi:http/handler@0.3.0` (Rust, Python).
    HttpP3,
}

impl Template {
    /// Whether it targets WASI 0.3.
    pub fn is_p3(self) -> bool {
        matches!(self, Template::CliP3 | Template::HttpP3)
    }

    /// Refuses a WASI 0.3 template in a language whose toolchain cannot make 0.3 components.
    pub fn fits(self, lang: Lang) -> Result<(), ScaffoldError> {
        if !self.is_p3() || !matches!(lang, Lang::Js | Lang::Go) {
            return Ok(());
        }
        Err(ScaffoldError::NoWasiP3 {
            tool: if lang == Lang::Js {
                "componentize-js"
            } else {
                "Go's wit-bindgen-go"
            },
            instead: if self == Template::HttpP3 {
                "http"
            } else {
                "cli"
            },
        })
    }

    /// The WASI world a 0.3 template implements, as weld.toml names it.
    fn p3_world(self) -> Option<&'static str> {
        match self {
            Template::CliP3 => Some("wasi:cli/command@0.3.0"),
            Template::HttpP3 => Some("wasi:http/service@0.3.0"),
            _ => None,
        }
    }
}

/// Why a starter cannot be made.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ScaffoldError {
    /// A bad component name.
    #[error("`{0}` cannot name a component")]
    #[diagnostic(
        code(weld::new::name),
        help("names start with a lowercase letter and use lowercase letters, digits and `-`")
    )]
    Name(String),

    /// Something is already where the starter would go.
    #[error("{} already exists", .0.display())]
    #[diagnostic(
        code(weld::new::exists),
        help("choose another name; weld new never overwrites a file")
    )]
    Exists(PathBuf),

    /// weld.toml already has a component of that name.
    #[error("weld.toml already has a component `{0}`")]
    #[diagnostic(code(weld::new::duplicate), help("choose another name"))]
    Duplicate(String),

    /// A WASI 0.3 template in a language whose toolchain cannot build 0.3 yet.
    #[error("{tool} cannot build WASI 0.3 components yet")]
    #[diagnostic(
        code(weld::new::wasi_0_3),
        help("use --template {instead} (WASI 0.2); Rust and Python have cli-p3 and http-p3")
    )]
    NoWasiP3 {
        /// The toolchain.
        tool: &'static str,
        /// The 0.2 template to use instead.
        instead: &'static str,
    },

    /// weld.toml is not TOML; `weld plan` says where.
    #[error("{}: {message}", path.display())]
    #[diagnostic(
        code(weld::new::manifest),
        help("fix weld.toml first (`weld plan` shows what is wrong)")
    )]
    Manifest {
        /// weld.toml.
        path: PathBuf,
        /// The parser's words.
        message: String,
    },

    /// The project's WIT does not parse.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Wit(#[from] crate::wit::WitError),

    /// `--world` names a world the WIT does not have.
    #[error("{wit} has no world `{world}`")]
    #[diagnostic(
        code(weld::new::world),
        help("its worlds are: {}; name one of them, or write the world there first", worlds.join(", "))
    )]
    UnknownWorld {
        /// The world as given.
        world: String,
        /// The WIT directory as weld.toml names it.
        wit: String,
        /// The worlds it has.
        worlds: Vec<String>,
    },

    /// A language that needs a WIT world and a project whose WIT is elsewhere.
    #[error("{0}")]
    #[diagnostic(code(weld::new::unsupported))]
    Unsupported(String),

    /// Writing failed.
    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(code(weld::new::io))]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl ScaffoldError {
    /// A WIT that does not parse is the checked thing being wrong; the rest are usage or
    /// environment problems.
    pub fn exit_code(&self) -> u8 {
        match self {
            ScaffoldError::Wit(e) => e.exit_code(),
            _ => crate::exit::EXIT_USAGE,
        }
    }
}

/// What `weld new` made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Created {
    /// weld.toml (created or edited).
    pub manifest: PathBuf,
    /// Whether weld.toml was made now.
    pub new_project: bool,
    /// Files written, in the order written.
    pub files: Vec<PathBuf>,
    /// Whether the component became the app's root (`[compose] root`).
    pub root: bool,
    /// Where it went in `[compose]`.
    pub place: Place,
    /// What the component is.
    pub kind: Kind,
}

/// What a new component is, as `weld up` would treat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The `cli` template: a command.
    Cli,
    /// An HTTP app: the `http` template, or a world exporting `wasi:http/incoming-handler`.
    Http,
    /// A world exporting `wasi:cli/run`.
    Command,
    /// A world exporting other interfaces or functions: a plug.
    Library,
    /// A world that exports nothing, made a command by its language's `main`.
    ImportsOnly,
}

/// Adds starter component `name` in `lang` to the project whose directory is `dir` (its
/// weld.toml is made if there is none).
pub fn new_component(
    dir: &Path,
    name: &str,
    lang: Lang,
    template: Template,
) -> Result<Created, ScaffoldError> {
    template.fits(lang)?;
    let (manifest, mut doc, new_project) = open(dir, name, lang)?;
    let source_dir = dir.join(name);

    // Python and JavaScript build against a WIT world: the project's WIT directory (`wit`)
    // gets one for this component. Rust's starters use the wasip2 crate's worlds; Go's command
    // needs none, and Go's HTTP app has a WIT directory of its own (one wasi:http release, so
    // its package is `export_wasi_http_incoming_handler` whatever else the project's WIT holds).
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let world = name.to_string();
    let mut own_wit = None;
    // A 0.3 template names its WASI world in full, which needs no WIT (weld supplies it).
    if matches!(lang, Lang::Python | Lang::Js) && !template.is_p3() {
        let wit_key = wit_key(&doc);
        let wit_dir = dir.join(&wit_key);
        let file = wit_dir.join(format!("{name}.wit"));
        if file.exists() {
            return Err(ScaffoldError::Exists(file));
        }
        let header = if package_of(&wit_dir).is_some() {
            // The directory is one package: this file joins it.
            String::new()
        } else {
            format!("package local:{};\n\n", project_name(dir))
        };
        files.push((file, world_wit(&header, &world, lang, template)));
    }
    match lang {
        Lang::Rust => files.extend(rust_files(&source_dir, name, template)),
        Lang::Python => files.push((source_dir.join("app.py"), python_app(name, template))),
        Lang::Js => files.push((
            source_dir.join(format!("{name}.js")),
            js_app(name, template),
        )),
        Lang::Go => {
            files.extend(go_files(&source_dir, name, template));
            if template == Template::Http {
                let wit = source_dir.join("wit").join(format!("{name}.wit"));
                let header = format!("package local:{name};\n\n");
                files.push((wit, world_wit(&header, &world, lang, template)));
                own_wit = Some(format!("{name}/wit"));
            }
        }
        Lang::Wasm => unreachable!("refused by open()"),
    }
    let world = match (lang, template) {
        (Lang::Rust, _) | (Lang::Go, Template::Cli) => None,
        (_, t) if t.is_p3() => t.p3_world(),
        _ => Some(world.as_str()),
    };
    // The app's root when there is no [compose] yet.
    let root = doc.get("compose").is_none();
    let place = if root {
        Place::Root { plugs: Vec::new() }
    } else {
        Place::Apart
    };
    finish(
        &manifest,
        &mut doc,
        name,
        lang,
        (own_wit.as_deref(), world),
        &place,
        &files,
    )?;
    Ok(Created {
        manifest,
        new_project,
        files: files.into_iter().map(|(p, _)| p).collect(),
        root,
        place,
        kind: match template {
            Template::Cli | Template::CliP3 => Kind::Cli,
            Template::Http | Template::HttpP3 => Kind::Http,
        },
    })
}

/// Adds component `name` in `lang` implementing `world` of the project's WIT: one stub per
/// export, typed as the language's bindings type it.
pub fn new_from_world(
    dir: &Path,
    name: &str,
    lang: Lang,
    world: &str,
    toolchains: &Toolchains,
) -> Result<Created, ScaffoldError> {
    let (manifest, mut doc, new_project) = open(dir, name, lang)?;
    let wit_key = wit_key(&doc);
    let wit = dir.join(&wit_key);
    if package_of(&wit).is_none() {
        return Err(ScaffoldError::Unsupported(format!(
            "--world names a world of the project's WIT, and {} has no WIT package: write the world there first (or start from --template)",
            wit.display()
        )));
    }
    let scratch = tempfile::tempdir().map_err(|source| ScaffoldError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let source_dir = dir.join(name);
    let src = skeleton::Source {
        name,
        dir: &source_dir,
        wit: &wit,
        wit_key: &wit_key,
        world,
        scratch: scratch.path(),
        toolchains,
    };
    let loaded = src.world()?;
    let files = match lang {
        Lang::Python => skeleton::python(&src, &loaded)?,
        Lang::Js => skeleton::js(&src, &loaded)?,
        Lang::Rust => skeleton::rust(&src, &loaded)?,
        Lang::Go => skeleton::go(&src, &loaded)?,
        Lang::Wasm => unreachable!("refused by open()"),
    };
    let (resolve, world_id, _) = &loaded;
    let world_id = *world_id;
    let shape = skeleton::Shape::of(resolve, world_id);
    let place = place(dir, &doc, shape, &interfaces(resolve, world_id));
    finish(
        &manifest,
        &mut doc,
        name,
        lang,
        (None, Some(world)),
        &place,
        &files,
    )?;
    Ok(Created {
        manifest,
        new_project,
        files: files.into_iter().map(|(p, _)| p).collect(),
        root: matches!(place, Place::Root { .. }),
        place,
        kind: match shape {
            skeleton::Shape::Command => Kind::Command,
            skeleton::Shape::Http => Kind::Http,
            skeleton::Shape::Library => Kind::Library,
            skeleton::Shape::ImportsOnly => Kind::ImportsOnly,
        },
    })
}

/// Where a new component went in `[compose]`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "as", rename_all = "kebab-case")]
pub enum Place {
    /// The app's root (there was no `[compose]`).
    Root {
        /// The components that export what it imports, now its plugs.
        plugs: Vec<String>,
    },
    /// One of the app's plugs.
    Plug {
        /// The app's root.
        root: String,
    },
    /// Not in the app, which gets what it exports from another component.
    Provided {
        /// That component.
        by: String,
    },
    /// Not in the app: a second command, or a library nothing in the app imports.
    Apart,
}

/// The interfaces a world imports and exports, by their WIT names (`demo:app/greet@1.0.0`).
struct Interfaces {
    imports: std::collections::BTreeSet<String>,
    exports: std::collections::BTreeSet<String>,
}

fn interfaces(resolve: &wit_parser::Resolve, world: wit_parser::WorldId) -> Interfaces {
    let names = |items: &wit_parser::IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>| {
        items
            .values()
            .filter_map(|item| match item {
                wit_parser::WorldItem::Interface { id, .. } => resolve.id_of(*id),
                _ => None,
            })
            .collect()
    };
    let w = &resolve.worlds[world];
    Interfaces {
        imports: names(&w.imports),
        exports: names(&w.exports),
    }
}

/// The interfaces of weld.toml's components, from their `world`s, each WIT directory loaded
/// once.
struct Components<'a> {
    dir: &'a Path,
    doc: &'a DocumentMut,
    loaded: std::collections::HashMap<String, Option<(wit_parser::Resolve, wit_parser::PackageId)>>,
}

impl Components<'_> {
    /// Component `name`'s interfaces (None for a component with no world, a template's, or
    /// WIT that does not load).
    fn interfaces(&mut self, name: &str) -> Option<Interfaces> {
        let entry = self.doc.get("components")?.get(name)?;
        let world = entry.get("world")?.as_str()?;
        let wit = entry
            .get("wit")
            .and_then(Item::as_str)
            .map_or_else(|| wit_key(self.doc), str::to_string);
        let dir = self.dir;
        let (resolve, pkg) = self
            .loaded
            .entry(wit)
            .or_insert_with_key(|wit| crate::wit::load_dir(&dir.join(wit), Path::new(wit)).ok())
            .as_ref()?;
        let id = resolve.select_world(&[*pkg], Some(world)).ok()?;
        Some(interfaces(resolve, id))
    }
}

/// A component that can start an app becomes its root when there is none, plugged with the
/// components that export what it imports; a library joins the app's plugs when something
/// in the app imports what it exports. Never a plug that nothing would use.
fn place(dir: &Path, doc: &DocumentMut, shape: skeleton::Shape, new: &Interfaces) -> Place {
    let mut components = Components {
        dir,
        doc,
        loaded: Default::default(),
    };
    let names: Vec<String> = doc
        .get("components")
        .and_then(Item::as_table_like)
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default();
    let Some(compose) = doc.get("compose") else {
        if shape == skeleton::Shape::Library {
            return Place::Apart;
        }
        // One provider for each import: the first component, in weld.toml's order, that
        // exports it (a second one would be an unused plug).
        let mut unprovided = new.imports.clone();
        let mut plugs = Vec::new();
        for other in names {
            let Some(o) = components.interfaces(&other) else {
                continue;
            };
            let provides: Vec<String> = o.exports.intersection(&unprovided).cloned().collect();
            if !provides.is_empty() {
                for i in &provides {
                    unprovided.remove(i);
                }
                plugs.push(other);
            }
        }
        return Place::Root { plugs };
    };
    if shape != skeleton::Shape::Library {
        return Place::Apart;
    }
    let Some(root) = compose.get("root").and_then(Item::as_str) else {
        return Place::Apart;
    };
    let plugs = compose
        .get("plugs")
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(Vec::new);
    // The app's components and what each imports and exports.
    let app: Vec<(String, Interfaces)> = std::iter::once(root.to_string())
        .chain(plugs)
        .filter_map(|c| components.interfaces(&c).map(|i| (c, i)))
        .collect();
    let imported: Vec<&String> = app
        .iter()
        .flat_map(|(_, c)| &c.imports)
        .filter(|i| new.exports.contains(*i))
        .collect();
    if imported.is_empty() {
        return Place::Apart;
    }
    match app
        .iter()
        .find(|(_, c)| imported.iter().any(|i| c.exports.contains(*i)))
    {
        Some((by, _)) => Place::Provided { by: by.clone() },
        None => Place::Plug {
            root: root.to_string(),
        },
    }
}

/// weld.toml (parsed, or a new one) once the name is known to be free.
fn open(dir: &Path, name: &str, lang: Lang) -> Result<(PathBuf, DocumentMut, bool), ScaffoldError> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !valid {
        return Err(ScaffoldError::Name(name.to_string()));
    }
    if lang == Lang::Wasm {
        return Err(ScaffoldError::Unsupported(
            "a prebuilt component has no sources to start from: add it to weld.toml with `lang = \"wasm\"` and its path".into(),
        ));
    }
    let manifest = dir.join("weld.toml");
    let new_project = !manifest.exists();
    let doc = if new_project {
        let project = project_name(dir);
        format!("[project]\nname = \"{project}\"\n")
            .parse::<DocumentMut>()
            .expect("a valid document")
    } else {
        let text = std::fs::read_to_string(&manifest).map_err(|source| ScaffoldError::Io {
            path: manifest.clone(),
            source,
        })?;
        text.parse::<DocumentMut>()
            .map_err(|e| ScaffoldError::Manifest {
                path: manifest.clone(),
                message: e.to_string(),
            })?
    };
    if doc
        .get("components")
        .and_then(Item::as_table_like)
        .is_some_and(|t| t.contains_key(name))
    {
        return Err(ScaffoldError::Duplicate(name.to_string()));
    }
    let source_dir = dir.join(name);
    if source_dir.exists() {
        return Err(ScaffoldError::Exists(source_dir));
    }
    Ok((manifest, doc, new_project))
}

/// `[project] wit`, or `wit`.
fn wit_key(doc: &DocumentMut) -> String {
    doc.get("project")
        .and_then(|p| p.get("wit"))
        .and_then(Item::as_str)
        .unwrap_or("wit")
        .to_string()
}

/// Writes the files (none may exist) and then weld.toml with the component added.
fn finish(
    manifest: &Path,
    doc: &mut DocumentMut,
    name: &str,
    lang: Lang,
    (wit, world): (Option<&str>, Option<&str>),
    place: &Place,
    files: &[(PathBuf, String)],
) -> Result<(), ScaffoldError> {
    let components = doc
        .entry("components")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| ScaffoldError::Manifest {
            path: manifest.to_path_buf(),
            message: "`components` is not a table".into(),
        })?;
    let mut entry = Table::new();
    entry.insert("lang", value(lang.as_str()));
    match lang {
        Lang::Js => {
            entry.insert("path", value(format!("{name}/{name}.js")));
        }
        _ => {
            entry.insert("path", value(name));
        }
    }
    if lang == Lang::Python {
        entry.insert("module", value("app"));
    }
    if let Some(wit) = wit {
        entry.insert("wit", value(wit));
    }
    if let Some(world) = world {
        entry.insert("world", value(world));
    }
    components.insert(name, Item::Table(entry));
    match place {
        Place::Root { plugs } => {
            let mut compose = Table::new();
            compose.insert("root", value(name));
            compose.insert("plugs", value(plugs.iter().collect::<toml_edit::Array>()));
            doc.insert("compose", Item::Table(compose));
        }
        Place::Plug { .. } => {
            let compose = doc
                .get_mut("compose")
                .and_then(Item::as_table_like_mut)
                .ok_or_else(|| ScaffoldError::Manifest {
                    path: manifest.to_path_buf(),
                    message: "`compose` is not a table".into(),
                })?;
            match compose.get_mut("plugs").and_then(Item::as_array_mut) {
                Some(plugs) => plugs.push(name),
                None => {
                    compose.insert("plugs", value(toml_edit::Array::from_iter([name])));
                }
            }
        }
        Place::Provided { .. } | Place::Apart => {}
    }
    for (path, text) in files {
        write_new(path, text)?;
    }
    crate::fsutil::write_atomic(manifest, doc.to_string().as_bytes()).map_err(|source| {
        ScaffoldError::Io {
            path: manifest.to_path_buf(),
            source,
        }
    })?;
    Ok(())
}

/// The directory's name as a project name (lower case, `-` for anything else).
fn project_name(dir: &Path) -> String {
    let raw = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".into());
    let mut name: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name = name.trim_matches('-').to_string();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name = format!("app-{name}").trim_end_matches('-').to_string();
    }
    name
}

/// The package a WIT directory declares, if it has .wit files that declare one.
fn package_of(dir: &Path) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "wit")
            && let Ok(text) = std::fs::read_to_string(&path)
            && let Some(line) = text
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("package "))
        {
            return Some(
                line.trim_start_matches("package ")
                    .trim_end_matches(';')
                    .to_string(),
            );
        }
    }
    None
}

/// Writes a file that must not exist yet, making its directory.
fn write_new(path: &Path, text: &str) -> Result<(), ScaffoldError> {
    let io = |source| ScaffoldError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                ScaffoldError::Exists(path.to_path_buf())
            } else {
                io(e)
            }
        })?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)
}

/// The WIT world a Python or JavaScript starter implements. WASI comes from weld (no deps/):
/// 0.2.0 for Python, and for JavaScript the release componentize-js's engine was built with.
fn world_wit(header: &str, world: &str, lang: Lang, template: Template) -> String {
    let release = match lang {
        Lang::Js => crate::toolchain::COMPONENTIZE_JS_WASI_HTTP,
        _ => "0.2.0",
    };
    let (what, item) = match template {
        Template::Cli | Template::CliP3 => ("A command", format!("export wasi:cli/run@{release};")),
        Template::Http | Template::HttpP3 => {
            ("An HTTP app", format!("include wasi:http/proxy@{release};"))
        }
    };
    format!(
        "{header}/// {what}: the world component `{world}` implements. Add imports and exports here;\n\
         /// weld supplies the WASI packages (no deps/ needed).\n\
         world {world} {{\n    {item}\n}}\n"
    )
}

fn rust_files(dir: &Path, name: &str, template: Template) -> Vec<(PathBuf, String)> {
    // wasip3 0.9 is WASI 0.3.0, the release weld's runtime implements; 0.10 is 0.3.2.
    const WASIP3: &str = "# WASI 0.3.0, the release weld's runtime implements (0.10 is for 0.3.2).\n\
                          wasip3 = { version = \"=0.9.0\", features = [\"async-spawn\"] }\n";
    let (lib, deps) = match template {
        Template::Cli => ("", ""),
        Template::Http => ("\n[lib]\ncrate-type = [\"cdylib\"]\n", "wasip2 = \"1.0\"\n"),
        Template::CliP3 => ("", WASIP3),
        Template::HttpP3 => ("\n[lib]\ncrate-type = [\"cdylib\"]\n", WASIP3),
    };
    let cargo = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n{lib}\n\
         [dependencies]\n{deps}\n\
         # A crate of its own, not a member of a workspace that holds this directory.\n[workspace]\n"
    );
    let source = match template {
        Template::Cli => (
            "src/main.rs",
            format!(
                "//! `{name}`: a command component. `weld up` builds it for wasm32-wasip2 and runs it;\n\
                 //! arguments after `--` and `[run] args` in weld.toml reach `std::env::args`.\n\n\
                 fn main() {{\n    let who = std::env::args().nth(1).unwrap_or_else(|| \"world\".into());\n    \
                 println!(\"Hello, {{who}}, from {name}!\");\n}}\n"
            ),
        ),
        Template::Http => (
            "src/lib.rs",
            format!(
                "//! `{name}`: an HTTP app (the wasi:http proxy world, from the `wasip2` crate). `weld up`\n\
                 //! serves it: every request runs in a fresh instance.\n\n\
                 use wasip2::http::types::{{\n    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,\n}};\n\n\
                 wasip2::http::proxy::export!(App);\n\n\
                 struct App;\n\n\
                 impl wasip2::exports::http::incoming_handler::Guest for App {{\n    \
                 fn handle(request: IncomingRequest, out: ResponseOutparam) {{\n        \
                 let path = request.path_with_query().unwrap_or_default();\n        \
                 let body = format!(\"Hello from {name}! You asked for {{path}}\\n\");\n        \
                 let headers = Fields::from_list(&[(\n            \"content-type\".to_string(),\n            b\"text/plain; charset=utf-8\".to_vec(),\n        )])\n        \
                 .expect(\"a valid header\");\n        \
                 let response = OutgoingResponse::new(headers);\n        \
                 let outgoing = response.body().expect(\"the body is taken once\");\n        \
                 ResponseOutparam::set(out, Ok(response));\n        \
                 let stream = outgoing.write().expect(\"the stream is taken once\");\n        \
                 // One blocking write carries at most 4096 bytes.\n        \
                 for chunk in body.as_bytes().chunks(4096) {{\n            \
                 stream.blocking_write_and_flush(chunk).expect(\"the client is there\");\n        }}\n        \
                 drop(stream);\n        \
                 OutgoingBody::finish(outgoing, None).expect(\"the body ends\");\n    }}\n}}\n"
            ),
        ),
        Template::CliP3 => (
            "src/main.rs",
            format!(
                "//! `{name}`: a WASI 0.3 command (the `wasip3` crate): `run` is an async function.\n\
                 //! `weld up` builds it for wasm32-wasip2 and runs it; arguments after `--` and\n\
                 //! `[run] args` in weld.toml reach `std::env::args`.\n\n\
                 wasip3::cli::command::export!(App);\n\n\
                 struct App;\n\n\
                 impl wasip3::exports::cli::run::Guest for App {{\n    \
                 async fn run() -> Result<(), ()> {{\n        \
                 let who = std::env::args().nth(1).unwrap_or_else(|| \"world\".into());\n        \
                 println!(\"Hello, {{who}}, from {name}!\");\n        \
                 Ok(())\n    }}\n}}\n\n\
                 // The exported `run` is the entry point; this `main` is never called.\n\
                 fn main() {{}}\n"
            ),
        ),
        Template::HttpP3 => (
            "src/lib.rs",
            format!(
                "//! `{name}`: a WASI 0.3 HTTP app (the `wasip3` crate's service world): `handle` is an\n\
                 //! async function returning the response, whose body is a stream written after it\n\
                 //! returns. `weld up` serves it: every request runs in a fresh instance.\n\n\
                 use wasip3::http::types::{{ErrorCode, Fields, Request, Response}};\n\
                 use wasip3::{{wit_bindgen, wit_future, wit_stream}};\n\n\
                 wasip3::http::service::export!(App);\n\n\
                 struct App;\n\n\
                 impl wasip3::exports::http::handler::Guest for App {{\n    \
                 async fn handle(request: Request) -> Result<Response, ErrorCode> {{\n        \
                 let path = request.get_path_with_query().unwrap_or_default();\n        \
                 let body = format!(\"Hello from {name}! You asked for {{path}}\\n\");\n        \
                 let headers = Fields::new();\n        \
                 let _ = headers.set(\"content-type\", &[b\"text/plain; charset=utf-8\".to_vec()]);\n        \
                 let (mut body_tx, body_rx) = wit_stream::new();\n        \
                 // No trailers: dropping the writer sends the default, `Ok(None)`.\n        \
                 let (_, trailers) = wit_future::new(|| Ok(None));\n        \
                 let (response, _sent) = Response::new(headers, Some(body_rx), trailers);\n        \
                 wit_bindgen::spawn_local(async move {{\n            \
                 body_tx.write_all(body.into_bytes()).await;\n        }});\n        \
                 Ok(response)\n    }}\n}}\n"
            ),
        ),
    };
    vec![
        (dir.join("Cargo.toml"), cargo),
        (dir.join(source.0), source.1),
    ]
}

/// Go in componentize-go's layout. The command is plain Go (no world, no bindings); the HTTP
/// app's package is the one wit-bindgen-go names for `wasi:http/incoming-handler`.
fn go_files(dir: &Path, name: &str, template: Template) -> Vec<(PathBuf, String)> {
    match template {
        Template::CliP3 | Template::HttpP3 => unreachable!("refused by new_component"),
        Template::Cli => vec![
            (
                dir.join("go.mod"),
                format!("module {name}\n\ngo {}\n", crate::toolchain::GO_MINIMUM),
            ),
            (
                dir.join("main.go"),
                format!(
                    "// `{name}`: a command component. `weld up` builds it with Go for wasip1 and runs it;\n\
                     // arguments after `--` and `[run] args` in weld.toml reach os.Args.\n\
                     package main\n\n\
                     import (\n\t\"fmt\"\n\t\"os\"\n)\n\n\
                     func main() {{\n\twho := \"world\"\n\tif len(os.Args) > 1 {{\n\t\twho = os.Args[1]\n\t}}\n\t\
                     fmt.Printf(\"Hello, %s, from {name}!\\n\", who)\n}}\n"
                ),
            ),
        ],
        Template::Http => vec![(
            dir.join("export_wasi_http_incoming_handler/handler.go"),
            format!(
                "// Package export_wasi_http_incoming_handler is `{name}`, an HTTP app (its world is in\n\
                 // {name}/wit/{name}.wit). weld generates the wasi:http bindings it imports at build\n\
                 // time; every request runs in a fresh instance.\n\
                 package export_wasi_http_incoming_handler\n\n\
                 import (\n\t. \"wit_component/wasi_http_types\"\n\n\t. \"go.bytecodealliance.org/pkg/wit/types\"\n)\n\n\
                 // One blocking write carries at most 4096 bytes.\n\
                 const chunk = 4096\n\n\
                 func Handle(request *IncomingRequest, responseOut *ResponseOutparam) {{\n\t\
                 path := \"/\"\n\tif p := request.PathWithQuery(); p.IsSome() {{\n\t\tpath = p.Some()\n\t}}\n\t\
                 text := []byte(\"Hello from {name}! You asked for \" + path + \"\\n\")\n\t\
                 headers := MakeFields()\n\theaders.Append(\"content-type\", []byte(\"text/plain; charset=utf-8\"))\n\t\
                 response := MakeOutgoingResponse(headers)\n\tbody := response.Body().Ok()\n\t\
                 ResponseOutparamSet(responseOut, Ok[*OutgoingResponse, ErrorCode](response))\n\t\
                 stream := body.Write().Ok()\n\tfor start := 0; start < len(text); start += chunk {{\n\t\t\
                 stream.BlockingWriteAndFlush(text[start:min(start+chunk, len(text))])\n\t}}\n\t\
                 stream.Drop()\n\tOutgoingBodyFinish(body, None[*Fields]())\n}}\n"
            ),
        )],
    }
}

fn python_app(name: &str, template: Template) -> String {
    match template {
        Template::CliP3 => format!(
            "\"\"\"`{name}`: a WASI 0.3 command (world wasi:cli/command@0.3.0, whose WIT weld supplies):\n\
             `run` is an async function.\"\"\"\n\n\
             import sys\n\n\
             from wit_world import exports\n\n\n\
             class Run(exports.Run):\n    \
             async def run(self) -> None:\n        \
             who = sys.argv[1] if len(sys.argv) > 1 else \"world\"\n        \
             print(f\"Hello, {{who}}, from {name}!\")\n"
        ),
        Template::HttpP3 => format!(
            "\"\"\"`{name}`: a WASI 0.3 HTTP app (world wasi:http/service@0.3.0, whose WIT weld supplies):\n\
             `handle` is an async function returning the response, whose body is a stream written\n\
             after it returns. Every request runs in a fresh instance.\"\"\"\n\n\
             from typing import Optional\n\n\
             import componentize_py_async_support\n\
             import wit_world\n\
             from componentize_py_async_support.futures import FutureReader\n\
             from componentize_py_async_support.streams import ByteStreamWriter\n\
             from componentize_py_types import Ok, Result\n\
             from wit_world import exports\n\
             from wit_world.imports.wasi_http_types import ErrorCode, Fields, Request, Response\n\n\n\
             class Handler(exports.Handler):\n    \
             async def handle(self, request: Request) -> Response:\n        \
             path = request.get_path_with_query() or \"/\"\n        \
             tx, rx = wit_world.byte_stream()\n        \
             componentize_py_async_support.spawn(write(tx, f\"Hello from {name}! You asked for {{path}}\\n\"))\n        \
             headers = Fields.from_list([(\"content-type\", b\"text/plain; charset=utf-8\")])\n        \
             return Response.new(headers, rx, no_trailers())[0]\n\n\n\
             async def write(tx: ByteStreamWriter, text: str) -> None:\n    \
             with tx:\n        \
             await tx.write_all(text.encode())\n\n\n\
             def no_trailers() -> FutureReader[Result[Optional[Fields], ErrorCode]]:\n    \
             make = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future\n    \
             return make(lambda: Ok(None))[1]\n"
        ),
        Template::Cli => format!(
            "\"\"\"`{name}`: a command component (its world is in wit/{name}.wit).\"\"\"\n\n\
             import sys\n\n\
             from wit_world import exports\n\n\n\
             class Run(exports.Run):\n    \
             def run(self) -> None:\n        \
             who = sys.argv[1] if len(sys.argv) > 1 else \"world\"\n        \
             print(f\"Hello, {{who}}, from {name}!\")\n"
        ),
        Template::Http => format!(
            "\"\"\"`{name}`: an HTTP app on componentize-py's bindings of the wasi:http proxy world (its\n\
             world is in wit/{name}.wit). Every request runs in a fresh instance.\"\"\"\n\n\
             from componentize_py_types import Ok\n\
             from wit_world import exports\n\
             from wit_world.imports.types import (\n    Fields,\n    IncomingRequest,\n    OutgoingBody,\n    OutgoingResponse,\n    ResponseOutparam,\n)\n\n\
             # One blocking write carries at most 4096 bytes.\n\
             CHUNK = 4096\n\n\n\
             class IncomingHandler(exports.IncomingHandler):\n    \
             def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:\n        \
             path = request.path_with_query() or \"/\"\n        \
             text = f\"Hello from {name}! You asked for {{path}}\\n\".encode()\n        \
             response = OutgoingResponse(Fields.from_list([(\"content-type\", b\"text/plain; charset=utf-8\")]))\n        \
             body = response.body()\n        \
             ResponseOutparam.set(response_out, Ok(response))\n        \
             with body.write() as stream:\n            \
             for start in range(0, len(text), CHUNK):\n                \
             stream.blocking_write_and_flush(text[start : start + CHUNK])\n        \
             OutgoingBody.finish(body, None)\n"
        ),
    }
}

fn js_app(name: &str, template: Template) -> String {
    match template {
        Template::CliP3 | Template::HttpP3 => unreachable!("refused by new_component"),
        Template::Cli => format!(
            "// `{name}`: a command component (its world is in wit/{name}.wit): `run` is its\n\
             // wasi:cli/run export.\n\n\
             export const run = {{\n  run() {{\n    console.log(\"Hello, world, from {name}!\");\n  }},\n}};\n"
        ),
        Template::Http => format!(
            "// `{name}`: an HTTP app on componentize-js's fetch event (its world is in wit/{name}.wit).\n\
             // Every request runs in a fresh instance.\n\n\
             addEventListener(\"fetch\", (event) => {{\n  const url = new URL(event.request.url);\n  \
             event.respondWith(\n    new Response(`Hello from {name}! You asked for ${{url.pathname}}${{url.search}}\\n`, {{\n      \
             headers: {{ \"content-type\": \"text/plain; charset=utf-8\" }},\n    }}),\n  );\n}});\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_to_an_existing_manifest_keeping_its_comments() {
        let dir = tempfile::tempdir().unwrap();
        let original = "# my app\n[project]\nname = \"demo\"   # the name\n\n[compose]\nroot = \"x\"\nplugs = []\n";
        std::fs::write(dir.path().join("weld.toml"), original).unwrap();
        let created = new_component(dir.path(), "greeter", Lang::Python, Template::Cli).unwrap();
        assert!(!created.new_project && !created.root);
        let text = std::fs::read_to_string(dir.path().join("weld.toml")).unwrap();
        assert!(
            text.starts_with("# my app\n[project]\nname = \"demo\"   # the name\n"),
            "{text}"
        );
        assert!(text.contains("[components.greeter]\nlang = \"python\"\npath = \"greeter\"\nmodule = \"app\"\nworld = \"greeter\"\n"), "{text}");
        let wit = std::fs::read_to_string(dir.path().join("wit/greeter.wit")).unwrap();
        assert!(wit.starts_with("package local:"), "{wit}");

        // A second component joins the same WIT package; the same name again is refused.
        new_component(dir.path(), "other", Lang::Js, Template::Http).unwrap();
        let wit = std::fs::read_to_string(dir.path().join("wit/other.wit")).unwrap();
        assert!(!wit.lines().any(|l| l.starts_with("package ")), "{wit}");
        assert!(matches!(
            new_component(dir.path(), "other", Lang::Rust, Template::Cli),
            Err(ScaffoldError::Duplicate(_))
        ));
        assert!(matches!(
            new_component(dir.path(), "Bad_Name", Lang::Rust, Template::Cli),
            Err(ScaffoldError::Name(_))
        ));
    }
}
