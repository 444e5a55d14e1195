//! Command-line grants and limits laid over weld.toml's `[run]`: `--dir`, `--env`, `--timeout`…

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::settings::{DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, DirGrant, HttpOrigin, RunSettings};

/// Grants and limits as given on the command line, parsed by clap; whether a granted directory
/// exists is checked when they are applied.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--dir HOST[::GUEST]`, read-write.
    pub dirs: Vec<DirSpec>,
    /// `--dir-ro HOST[::GUEST]`.
    pub dirs_ro: Vec<DirSpec>,
    /// `--env KEY=VALUE`.
    pub env: Vec<EnvVar>,
    /// `--env-inherit KEY`.
    pub env_inherit: Vec<EnvName>,
    /// `--allow-net HOST:PORT`.
    pub allow_net: Vec<NetAddr>,
    /// `--allow-http ORIGIN`.
    pub allow_http: Vec<HttpOrigin>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--max-memory`, in bytes.
    pub max_memory: Option<u64>,
    /// Guest arguments; replace `[run] args` when given.
    pub args: Option<Vec<String>>,
}

/// `HOST[::GUEST]`: the guest path defaults to the host path as written, as in wasmtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirSpec {
    /// The host directory, relative to the current directory unless absolute.
    pub host: PathBuf,
    /// The path the guest sees.
    pub guest: String,
}

impl FromStr for DirSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
        if host.is_empty() || guest.is_empty() {
            return Err("expected HOST[::GUEST], e.g. data::/data".into());
        }
        Ok(DirSpec {
            host: PathBuf::from(host),
            guest: guest.to_string(),
        })
    }
}

/// `KEY=VALUE` for the guest's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable's name.
    pub key: String,
    /// Its value (may be empty).
    pub value: String,
}

impl FromStr for EnvVar {
    type Err = String;

    fn from_str(kv: &str) -> Result<Self, String> {
        match kv.split_once('=') {
            Some(("", _)) => Err("the variable name is empty".into()),
            Some((key, value)) => Ok(EnvVar {
                key: key.to_string(),
                value: value.to_string(),
            }),
            None => {
                Err("expected KEY=VALUE (use --env-inherit KEY to pass the host's value)".into())
            }
        }
    }
}

/// The name of a host variable passed through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvName(pub String);

impl FromStr for EnvName {
    type Err = String;

    fn from_str(key: &str) -> Result<Self, String> {
        if key.is_empty() || key.contains('=') {
            return Err("expected a variable name (use --env KEY=VALUE to set one)".into());
        }
        Ok(EnvName(key.to_string()))
    }
}

/// `HOST:PORT` a guest may open sockets to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetAddr(pub String);

impl FromStr for NetAddr {
    type Err = String;

    fn from_str(addr: &str) -> Result<Self, String> {
        match crate::settings::parse_host_port(addr) {
            Some(_) => Ok(NetAddr(addr.to_string())),
            None => Err("expected HOST:PORT, e.g. 127.0.0.1:8080".into()),
        }
    }
}

/// Settings for a component run outside a project: nothing granted, default limits.
pub fn defaults() -> RunSettings {
    RunSettings {
        args: Vec::new(),
        env: Vec::new(),
        env_inherit: Vec::new(),
        dirs: Vec::new(),
        allow_net: Vec::new(),
        allow_http: Vec::new(),
        timeout: DEFAULT_TIMEOUT,
        max_memory: DEFAULT_MAX_MEMORY,
    }
}

impl Overrides {
    /// `base` with these grants added and these limits replacing its own; relative host paths
    /// are taken from `cwd`. The error names a granted directory that does not exist.
    pub fn apply(&self, mut base: RunSettings, cwd: &Path) -> Result<RunSettings, String> {
        for (spec, read_only) in self
            .dirs
            .iter()
            .map(|d| (d, false))
            .chain(self.dirs_ro.iter().map(|d| (d, true)))
        {
            let path = cwd.join(&spec.host);
            if !path.is_dir() {
                let flag = if read_only { "--dir-ro" } else { "--dir" };
                return Err(format!(
                    "{flag} `{}`: {} is not a directory",
                    spec.host.display(),
                    crate::fsutil::shown(&path)
                ));
            }
            base.dirs.push(DirGrant {
                host: crate::fsutil::clean(&path),
                guest: spec.guest.clone(),
                read_only,
            });
        }
        for var in &self.env {
            base.env.retain(|(k, _)| *k != var.key);
            base.env.push((var.key.clone(), var.value.clone()));
        }
        base.env_inherit
            .extend(self.env_inherit.iter().map(|n| n.0.clone()));
        base.allow_net
            .extend(self.allow_net.iter().map(|a| a.0.clone()));
        for origin in &self.allow_http {
            if !base.allow_http.contains(origin) {
                base.allow_http.push(origin.clone());
            }
        }
        if let Some(t) = self.timeout {
            base.timeout = t;
        }
        if let Some(m) = self.max_memory {
            base.max_memory = m;
        }
        if let Some(args) = &self.args {
            base.args = args.clone();
        }
        Ok(base)
    }
}
