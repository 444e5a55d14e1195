//! A text-transform service that runs its users' plugins through `weld::host`.
//!
//! ```text
//! cargo run --release --example plugin-host -- fixtures/plugins "hello, world"
//! ```
//!
//! The first argument is a directory of plugins: every `.wasm` in it, or, when it holds a
//! weld.toml, every component of that project built from source. The host's world is
//! `plugin` in the directory's `wit/` (or `--wit DIR`): a plugin exports `transform` and may
//! write to the host's log. A plugin that does not fit is refused with weld's explanation; the
//! others transform the input, each under a 2-second deadline and a 64 MiB memory limit, with
//! no files, environment or network.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use weld::host::{Host, HostError, Plugin, Val};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let wit = match args.iter().position(|a| a == "--wit") {
        Some(i) if i + 1 < args.len() => {
            let dir = PathBuf::from(args.remove(i + 1));
            args.remove(i);
            Some(dir)
        }
        _ => None,
    };
    let [dir, input] = args.as_slice() else {
        eprintln!("usage: plugin-host [--wit DIR] PLUGIN-DIR INPUT");
        return ExitCode::from(2);
    };
    let dir = Path::new(dir);
    let wit = wit.unwrap_or_else(|| dir.join("wit"));
    let host = match Host::new(&wit, "plugin") {
        Ok(host) => host
            .timeout(Duration::from_secs(2))
            .max_memory(64 << 20)
            .func("example:text/log@0.1.0", "log", |args| {
                if let [Val::String(line)] = args {
                    eprintln!("  log: {line}");
                }
                Ok(vec![])
            }),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    for (name, loaded) in plugins(&host, dir) {
        match loaded {
            Ok(plugin) => run(&plugin, input),
            Err(HostError::Misfit { explanation, .. }) => {
                println!("{name}: refused, it does not fit the host's world:");
                for line in explanation.lines() {
                    println!("    {line}");
                }
            }
            Err(e) => println!("{name}: refused: {e}"),
        }
    }
    ExitCode::SUCCESS
}

/// Every plugin in `dir`: built from source when it is a weld project, else its `.wasm` files.
fn plugins(host: &Host, dir: &Path) -> Vec<(String, Result<Plugin, HostError>)> {
    if dir.join("weld.toml").is_file() {
        let cwd = std::env::current_dir().unwrap_or_default();
        let names = match weld::project::Plan::discover(Some(&dir.join("weld.toml")), &cwd) {
            Ok(plan) => plan.components.into_iter().map(|c| c.name).collect(),
            Err(e) => {
                eprintln!("{e}");
                Vec::new()
            }
        };
        return names
            .into_iter()
            .map(|name| {
                let loaded = host.build_component(dir, &name);
                (name, loaded)
            })
            .collect();
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, host.load(&path))
        })
        .collect()
}

fn run(plugin: &Plugin, input: &str) {
    let start = Instant::now();
    match plugin.call_values("transform", &[Val::String(input.to_string())]) {
        Ok(out) => match out.as_slice() {
            [Val::String(text)] => println!(
                "{}: {text:?} ({:.1} ms)",
                plugin.name(),
                start.elapsed().as_secs_f64() * 1e3
            ),
            other => println!("{}: unexpected result {other:?}", plugin.name()),
        },
        Err(e) => println!("{}: failed, and the host goes on: {e}", plugin.name()),
    }
}
