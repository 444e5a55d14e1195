//! Command-line grants and limits laid over weld.toml's `[run]`: `--dir`, `--env`, `--timeout`…

use std::path::Path;

use crate::project::{DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, DirGrant, RunSettings};
use crate::units;

/// Grants and limits as given on the command line, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--dir HOST[::GUEST]`, read-write.
    pub dirs: Vec<String>,
    /// `--dir-ro HOST[::GUEST]`.
    pub dirs_ro: Vec<String>,
    /// `--env KEY=VALUE`.
    pub env: Vec<String>,
    /// `--env-inherit KEY`.
    pub env_inherit: Vec<String>,
    /// `--allow-net HOST:PORT`.
    pub allow_net: Vec<String>,
    /// `--timeout`.
    pub timeout: Option<String>,
    /// `--max-memory`.
    pub max_memory: Option<String>,
    /// Guest arguments; replace `[run] args` when given.
    pub args: Option<Vec<String>>,
}

/// Settings for a component run outside a project: nothing granted, default limits.
pub fn defaults() -> RunSettings {
    RunSettings {
        args: Vec::new(),
        env: Vec::new(),
        env_inherit: Vec::new(),
        dirs: Vec::new(),
        allow_net: Vec::new(),
        timeout: DEFAULT_TIMEOUT,
        max_memory: DEFAULT_MAX_MEMORY,
    }
}

impl Overrides {
    /// `base` with these grants added and these limits replacing its own; relative host paths
    /// are taken from `cwd`. The error says which flag is wrong and how to write it.
    pub fn apply(&self, mut base: RunSettings, cwd: &Path) -> Result<RunSettings, String> {
        for (spec, read_only) in self
            .dirs
            .iter()
            .map(|d| (d, false))
            .chain(self.dirs_ro.iter().map(|d| (d, true)))
        {
            base.dirs.push(dir_grant(spec, read_only, cwd)?);
        }
        for kv in &self.env {
            let (key, value) = kv.split_once('=').ok_or_else(|| {
                format!("--env `{kv}`: expected KEY=VALUE (use --env-inherit KEY to pass the host's value)")
            })?;
            if key.is_empty() {
                return Err(format!("--env `{kv}`: the variable name is empty"));
            }
            base.env.retain(|(k, _)| k != key);
            base.env.push((key.to_string(), value.to_string()));
        }
        for key in &self.env_inherit {
            if key.is_empty() || key.contains('=') {
                return Err(format!(
                    "--env-inherit `{key}`: expected a variable name (use --env KEY=VALUE to set one)"
                ));
            }
            base.env_inherit.push(key.clone());
        }
        for addr in &self.allow_net {
            if crate::project::parse_host_port(addr).is_none() {
                return Err(format!(
                    "--allow-net `{addr}`: expected HOST:PORT, e.g. 127.0.0.1:8080"
                ));
            }
            base.allow_net.push(addr.clone());
        }
        if let Some(t) = &self.timeout {
            base.timeout = units::parse_duration(t).map_err(|e| format!("--timeout: {e}"))?;
        }
        if let Some(m) = &self.max_memory {
            base.max_memory = units::parse_size(m).map_err(|e| format!("--max-memory: {e}"))?;
        }
        if let Some(args) = &self.args {
            base.args = args.clone();
        }
        Ok(base)
    }
}

/// `HOST[::GUEST]`: the guest path defaults to the host path as written, as in wasmtime.
fn dir_grant(spec: &str, read_only: bool, cwd: &Path) -> Result<DirGrant, String> {
    let flag = if read_only { "--dir-ro" } else { "--dir" };
    let (host, guest) = match spec.split_once("::") {
        Some((host, guest)) => (host, guest),
        None => (spec, spec),
    };
    if host.is_empty() || guest.is_empty() {
        return Err(format!("{flag} `{spec}`: expected HOST[::GUEST]"));
    }
    let path = cwd.join(host);
    if !path.is_dir() {
        return Err(format!(
            "{flag} `{spec}`: {} is not a directory",
            crate::fsutil::shown(&path)
        ));
    }
    Ok(DirGrant {
        host: crate::fsutil::clean(&path),
        guest: guest.to_string(),
        read_only,
    })
}
