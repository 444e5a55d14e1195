//! `weld new`: a starter component, and the project around it when there is none.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::Context;
use weld::error::Result;
use weld::project::Lang;
use weld::report::Style;
use weld::scaffold::{self, Kind, Place, Template};

/// Start a component: from a template (a command or an HTTP app), or implementing a world
///
/// With --template, writes the component's sources and the WIT world it implements, and adds it
/// to weld.toml (edited in place: comments and order are kept). In a directory without weld.toml
/// it makes the project too, with the component as the app's root, so `weld up` runs (or
/// serves) it at once. With --world, writes a skeleton of a world in the project's WIT: every
/// export, typed as the language's bindings type it, each stub failing with a message that
/// points at the WIT until it is written; a world that exports nothing is a command (Rust, Go).
/// The component joins [compose] where the app needs it: the first command or HTTP app as its
/// root, a library as a plug once the app imports what it exports. Nothing is overwritten.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld new hello --lang rust                     a command in Rust; then: weld up
  weld new api --lang python --template http     an HTTP app in Python; then: weld up, curl localhost:8080
  weld new web --lang js --template http -C myapp
  weld new svc --lang rust --template http-p3   a WASI 0.3 HTTP app (async handler, streamed body)
  weld new pricing --lang python --world pricing-provider   a skeleton of a world in wit/

Exit status:
  0  created
  1  the project's WIT does not parse (--world)
  2  usage error: a bad name, a name or file that exists, an unreadable weld.toml, an unknown
     world, a missing toolchain")]
pub struct NewArgs {
    /// The component's name (lowercase letters, digits and `-`); also its directory
    #[arg(value_name = "NAME")]
    name: String,

    /// Its language
    #[arg(long, value_enum)]
    lang: LangArg,

    /// What it is: a command (wasi:cli/run) or an HTTP app (wasi:http/proxy), on WASI 0.2, or
    /// on WASI 0.3 (cli-p3, http-p3)
    #[arg(long, value_enum, default_value = "cli", conflicts_with = "world")]
    template: TemplateArg,

    /// Implement this world of the project's WIT instead of a template: a stub per export
    #[arg(long, value_name = "WORLD")]
    world: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    Rust,
    Python,
    Js,
    Go,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TemplateArg {
    /// A command (wasi:cli/run@0.2)
    Cli,
    /// An HTTP app (wasi:http/proxy@0.2)
    Http,
    /// A WASI 0.3 command: async `run` (Rust, Python)
    #[value(name = "cli-p3")]
    CliP3,
    /// A WASI 0.3 HTTP app: async `handle`, streamed bodies (Rust, Python)
    #[value(name = "http-p3")]
    HttpP3,
}

impl NewArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("new")?;
        // -C names the project (its weld.toml or directory); without it, the current directory.
        let dir: PathBuf = match &cx.manifest_path {
            Some(p) if p.file_name().is_some_and(|n| n == "weld.toml") => {
                p.parent().map(PathBuf::from).unwrap_or_default()
            }
            Some(p) => p.clone(),
            None => cx.cwd.clone(),
        };
        let dir = cx.cwd.join(dir);
        let template = match self.template {
            TemplateArg::Cli => Template::Cli,
            TemplateArg::Http => Template::Http,
            TemplateArg::CliP3 => Template::CliP3,
            TemplateArg::HttpP3 => Template::HttpP3,
        };
        let lang = match self.lang {
            LangArg::Rust => Lang::Rust,
            LangArg::Python => Lang::Python,
            LangArg::Js => Lang::Js,
            LangArg::Go => Lang::Go,
        };
        // Refused before anything is made.
        if self.world.is_none() {
            template.fits(lang)?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| weld::error::Error::Usage {
            message: format!("cannot create {}: {e}", cx.show(&dir)),
        })?;
        // A world in WIT that imports registry packages: they go into deps/ first.
        if self.world.is_some() {
            cx.provide_packages(&dir.join("weld.toml"))?;
        }
        let created = match &self.world {
            Some(world) => scaffold::new_from_world(
                &dir,
                &self.name,
                lang,
                world,
                &weld::toolchain::Toolchains::default(),
            )?,
            None => scaffold::new_component(&dir, &self.name, lang, template)?,
        };
        let r = &cx.reporter;
        if r.json() {
            r.print_json(&created)?;
            return Ok(0);
        }
        for file in &created.files {
            r.status(&format!(
                "{} {}",
                r.paint("created", Style::Bold),
                cx.show(file)
            ));
        }
        r.status(&format!(
            "{} {}",
            r.paint(
                if created.new_project {
                    "created"
                } else {
                    "updated"
                },
                Style::Bold
            ),
            cx.show(&created.manifest)
        ));
        let up = if dir == cx.cwd {
            "weld up".to_string()
        } else {
            format!("weld up {}", cx.show(&dir))
        };
        let serves = created.kind == Kind::Http;
        let name = &self.name;
        let next = match (&created.place, created.kind) {
            (Place::Root { .. }, _) if serves => {
                format!("next: `{up}` builds and serves it on http://127.0.0.1:8080")
            }
            (Place::Root { .. }, _) => format!("next: `{up}` builds and runs it"),
            (Place::Plug { root }, _) => format!(
                "next: `{up}`: it is in [compose] plugs, as `{root}`'s app imports what it exports"
            ),
            (Place::Provided { by }, _) => format!(
                "next: `weld build {name}`; the app gets what it exports from `{by}`: to use this one instead, replace `{by}` with `{name}` in [compose] plugs"
            ),
            (Place::Apart, Kind::Library) => format!(
                "next: `weld build {name}`; it joins [compose] plugs once a component of the app imports what it exports (`weld new --world` adds it then)"
            ),
            // A second command or HTTP app: [compose] has its root already.
            (Place::Apart, _) => {
                let verb = if serves { "serve" } else { "run" };
                format!(
                    "next: `weld build {name}`, then `weld {verb} target/weld/{name}.wasm` ([compose] has its root already)"
                )
            }
        };
        r.print(&format!("{next}\n"))?;
        Ok(0)
    }
}
