//! The command line: flags parsed by clap, one file per subcommand. Each subcommand resolves
//! its flags and the manifest into library values and calls the library; nothing here knows
//! how to build, check, compose or run.

mod apps;
mod build;
mod cache;
mod check;
mod compose;
mod deploy;
mod doctor;
mod flags;
mod graph;
mod new;
mod plan;
mod pull;
mod push;
mod run;
mod serve;
mod test;
mod up;
mod wit;

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use weld::error::{Error, Result};
use weld::packages::Mode;
use weld::project::Plan;
use weld::report::{ColorChoice, Format, Reporter};

const AFTER_HELP: &str = "\
Examples:
  weld up fixtures/calc          build, check, compose and run the example app
  weld build -C fixtures/calc    build every component of a project
  weld doctor                    show the toolchains weld found
  weld plan --format json        the resolved project, for scripts

Exit status:
  0  success
  1  the thing checked is wrong: incompatible components, a failing test, a build error in user code
  2  usage or environment error: bad flag, missing file, invalid weld.toml, missing toolchain
  124 a limit stopped the app: its deadline (--timeout) or its memory (--max-memory)
  A guest's own exit code is passed through by `weld run`. Any other code (101: a panic) is a bug.";

/// weld builds, checks, composes and runs WebAssembly components written in Rust, Python,
/// JavaScript and Go.
///
/// A project is a weld.toml naming its components, their WIT worlds and how they compose into one
/// application component, which weld runs under an embedded wasmtime with explicit capabilities.
#[derive(Debug, Parser)]
#[command(
    name = "weld",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_long_help = AFTER_HELP
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalOptions,

    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
struct GlobalOptions {
    /// Say more (repeat for more detail)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    /// Say nothing but results and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// When to colour output
    #[arg(
        long,
        value_name = "WHEN",
        default_value = "auto",
        global = true,
        value_enum
    )]
    color: ColorChoice,

    /// Output format: human or json (dot and mermaid for `weld graph`)
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "human",
        global = true,
        value_enum
    )]
    format: Format,

    /// The project's weld.toml, or the directory holding it [default: search upwards from the
    /// current directory]
    #[arg(short = 'C', long, value_name = "PATH", global = true)]
    manifest_path: Option<PathBuf>,

    /// Fail rather than change weld.lock (registry WIT packages), as CI should
    #[arg(long, global = true)]
    locked: bool,

    /// Never ask a registry: registry WIT packages come from weld.lock and the cache
    #[arg(long, global = true)]
    offline: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    Build(build::BuildArgs),
    Check(check::CheckArgs),
    Wit(wit::WitArgs),
    Compose(compose::ComposeArgs),
    Graph(graph::GraphArgs),
    Run(run::RunArgs),
    Serve(serve::ServeArgs),
    Push(push::PushArgs),
    Pull(pull::PullArgs),
    Deploy(deploy::DeployArgs),
    Test(test::TestArgs),
    Up(up::UpArgs),
    New(new::NewArgs),
    Doctor(doctor::DoctorArgs),
    Cache(cache::CacheArgs),
    Plan(plan::PlanArgs),
}

/// What every subcommand gets besides its own flags.
pub struct Context {
    reporter: Reporter,
    manifest_path: Option<PathBuf>,
    cwd: PathBuf,
    no_source_check: bool,
    /// How far providing registry WIT packages may go (`--locked`, `--offline`).
    packages: Mode,
}

impl Context {
    /// The project named by `-C` or found above the current directory.
    fn plan(&self) -> Result<Plan> {
        self.discover(self.manifest_path.as_deref())
    }

    /// The project at `manifest_path` (or found above the current directory), with the global
    /// options that change it applied.
    fn discover(&self, manifest_path: Option<&Path>) -> Result<Plan> {
        // Registry packages go into deps/ before the plan is made: making it parses the WIT.
        if let Ok(manifest) = weld::project::locate(manifest_path, &self.cwd) {
            self.provide_packages(&manifest)?;
        }
        let plan = Plan::discover(manifest_path, &self.cwd)?;
        Ok(if self.no_source_check {
            plan.without_source_check()
        } else {
            plan
        })
    }

    /// The registry WIT packages the project at `manifest` uses, put into its deps/ and pinned
    /// in weld.lock as `--locked` and `--offline` allow; nothing when weld.toml does not parse
    /// (making the plan says why).
    fn provide_packages(&self, manifest: &Path) -> Result<()> {
        if let Some(request) = self.packages_request(manifest) {
            let synced = weld::packages::sync(&request)?;
            self.report_synced(&synced);
        }
        Ok(())
    }

    /// What the project at `manifest` asks of registries, under this run's mode and cache.
    fn packages_request(&self, manifest: &Path) -> Option<weld::packages::Request> {
        let wanted = weld::project::registry_needs(manifest)?;
        Some(weld::packages::Request {
            root: wanted.root,
            wit_dirs: wanted.wit_dirs,
            declared: wanted.declared,
            cache_dir: weld::run::default_cache_dir(),
            mode: self.packages.clone(),
        })
    }

    /// The status lines of a sync: each package fetched over the network, and weld.lock
    /// written.
    fn report_synced(&self, synced: &weld::packages::Synced) {
        let r = &self.reporter;
        for p in synced.packages.iter().filter(|p| p.fetched) {
            r.status(&format!(
                "{} {}@{} from {} ({})",
                r.paint("fetched", weld::report::Style::Bold),
                p.package,
                p.version,
                p.registry,
                &p.digest[..p.digest.len().min("sha256:".len() + 12)]
            ));
        }
        if synced.lock_written {
            r.status(&format!(
                "{} weld.lock",
                r.paint("wrote", weld::report::Style::Bold)
            ));
        }
    }

    /// `path` as the user would write it: relative to the current directory when inside it.
    fn show(&self, path: &Path) -> String {
        path.strip_prefix(&self.cwd)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Refuses `--format dot|mermaid` for commands other than `weld graph`.
    fn human_or_json(&self, command: &str) -> Result<()> {
        match self.reporter.format() {
            Format::Human | Format::Json => Ok(()),
            other => Err(Error::Usage {
                message: format!(
                    "`--format {}` applies to `weld graph`; `weld {command}` prints human or json",
                    other.name()
                ),
            }),
        }
    }
}

impl Cli {
    /// The reporter the global options ask for (also used to print a failure).
    pub fn reporter(&self) -> Reporter {
        let g = &self.global;
        Reporter::new(g.format, g.color, g.verbose, g.quiet)
    }

    /// Runs the subcommand; `Ok` carries the exit code (a guest's, for `run`).
    pub fn exec(self, reporter: Reporter) -> Result<u8> {
        let cx = Context {
            reporter,
            manifest_path: self.global.manifest_path,
            no_source_check: match &self.command {
                Command::Build(a) => a.source.no_source_check,
                Command::Check(a) => a.source.no_source_check,
                Command::Push(a) => a.source.no_source_check,
                Command::Serve(a) => a.source.no_source_check,
                Command::Test(a) => a.source.no_source_check,
                Command::Up(a) => a.source.no_source_check,
                _ => false,
            },
            packages: if self.global.offline {
                Mode::Offline
            } else if self.global.locked {
                Mode::Locked
            } else {
                Mode::Normal
            },
            cwd: std::env::current_dir().map_err(|e| Error::Usage {
                message: format!("the current directory is unusable: {e}"),
            })?,
        };
        match self.command {
            Command::Build(args) => args.exec(&cx),
            Command::Check(args) => args.exec(&cx),
            Command::Wit(args) => args.exec(&cx),
            Command::Compose(args) => args.exec(&cx),
            Command::Graph(args) => args.exec(&cx),
            Command::Run(args) => args.exec(&cx),
            Command::Serve(args) => args.exec(&cx),
            Command::Push(args) => args.exec(&cx),
            Command::Pull(args) => args.exec(&cx),
            Command::Deploy(args) => args.exec(&cx),
            Command::Test(args) => args.exec(&cx),
            Command::Up(args) => args.exec(&cx),
            Command::New(args) => args.exec(&cx),
            Command::Doctor(args) => args.exec(&cx),
            Command::Cache(args) => args.exec(&cx),
            Command::Plan(args) => args.exec(&cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
