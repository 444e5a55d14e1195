//! `weld cache`: where compiled code is kept, how much of it, and removing it.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::Context;
use weld::error::{Error, Result};
use weld::run::default_cache_dir;
use weld::units::format_size;

/// Show or clean the compiled-code cache
///
/// `weld run` and `weld test` keep the machine code wasmtime compiles, keyed by the component's
/// content and the engine's settings, so a second run of the same app skips compilation; and
/// each compiled function, so a changed app recompiles only what changed. Toolchains weld runs
/// keep their own caches there too (componentize-js's compiled code). The cache lives in
/// $WELD_CACHE_DIR, else $XDG_CACHE_HOME/weld, else ~/.cache/weld.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld cache                                     where the cache is and its size
  weld cache clean                               remove all compiled code

Exit status:
  0  done
  2  the cache cannot be read or removed")]
pub struct CacheArgs {
    #[command(subcommand)]
    action: Option<CacheAction>,
}

#[derive(Debug, Subcommand)]
enum CacheAction {
    /// Remove all compiled code and toolchain caches (the next run of each app compiles again)
    Clean,
}

#[derive(Serialize)]
struct Summary {
    dir: String,
    entries: usize,
    functions: usize,
    /// Of `bytes`, what toolchains keep (componentize-js's compiled code).
    toolchain_bytes: u64,
    /// Components pulled for `weld run oci://…` and `weld serve oci://…`.
    pulled: usize,
    bytes: u64,
    removed: bool,
}

impl CacheArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("cache")?;
        let dir = default_cache_dir().ok_or_else(|| Error::Usage {
            message:
                "no cache directory: set WELD_CACHE_DIR, XDG_CACHE_HOME or HOME to an absolute path"
                    .into(),
        })?;
        let parts = [
            weld::run::compiled_dir(&dir),
            weld::run::FunctionCache::new(&dir).dir().to_path_buf(),
            weld::run::toolchains_dir(&dir),
            weld::oci::Store::new(&dir).dir().to_path_buf(),
        ];
        let (entries, compiled_bytes) = usage(&parts[0], "cwasm");
        let (functions, function_bytes) = usage(&parts[1], "pack");
        let (_, toolchain_bytes) = usage(&parts[2], "");
        let (pulled, pulled_bytes) = usage(&parts[3], "wasm");
        let bytes = compiled_bytes + function_bytes + toolchain_bytes + pulled_bytes;
        let removed = matches!(self.action, Some(CacheAction::Clean));
        for part in parts.iter().filter(|p| removed && p.exists()) {
            std::fs::remove_dir_all(part).map_err(|e| Error::Usage {
                message: format!("cannot remove {}: {e}", part.display()),
            })?;
        }
        let r = &cx.reporter;
        if r.json() {
            r.print_json(&Summary {
                dir: dir.display().to_string(),
                entries,
                functions,
                toolchain_bytes,
                pulled,
                bytes,
                removed,
            })?;
        } else if removed {
            r.print(&format!(
                "removed {} from {}\n",
                describe(entries, functions, toolchain_bytes, pulled, bytes),
                dir.display()
            ))?;
        } else {
            r.print(&format!(
                "{}: {}\n",
                dir.display(),
                describe(entries, functions, toolchain_bytes, pulled, bytes)
            ))?;
        }
        Ok(0)
    }
}

fn describe(
    entries: usize,
    functions: usize,
    toolchain_bytes: u64,
    pulled: usize,
    bytes: u64,
) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{entries} compiled component{}, {functions} pack{} of compiled functions, {pulled} pulled component{} and {} of toolchain caches ({} in all)",
        plural(entries),
        plural(functions),
        plural(pulled),
        format_size(toolchain_bytes),
        format_size(bytes)
    )
}

/// How many files named `*.{extension}` lie under `dir`, and the bytes of all its files (zero if
/// it does not exist). The compiled-code directory also holds an index of file keys, which are
/// not compiled components.
fn usage(dir: &std::path::Path, extension: &str) -> (usize, u64) {
    let mut entries = 0;
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(path),
                Ok(m) => {
                    if path.extension().is_some_and(|e| e == extension) {
                        entries += 1;
                    }
                    bytes += m.len();
                }
                Err(_) => {}
            }
        }
    }
    (entries, bytes)
}
