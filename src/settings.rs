//! Grants and limits for a guest: what weld.toml's `[run]` and `[serve]` and the flags say, and
//! what the runner and server apply. A leaf: the manifest ([`crate::project`]) fills these in,
//! [`crate::run`] and [`crate::serve`] read them, and neither imports the other for them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// A guest's wall-clock budget when neither the manifest nor a flag sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// A guest's linear-memory budget when neither the manifest nor a flag sets one.
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;

/// What the machine code is made for: a fast compile, or fast code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// The edit loop (`weld run`, `up` and `test`): Winch, wasmtime's baseline compiler,
    /// which compiles the example app in about a third of Cranelift's time.
    Dev,
    /// Serving, benchmarks and `--release`: Cranelift, the optimising compiler.
    #[default]
    Release,
}

/// Arguments, capabilities and limits for one guest run. Nothing is granted by default.
#[derive(Debug, Clone, Serialize)]
pub struct RunSettings {
    /// Arguments after the program name.
    pub args: Vec<String>,
    /// Environment variables set for the guest.
    pub env: Vec<(String, String)>,
    /// Host environment variables passed through by name.
    pub env_inherit: Vec<String>,
    /// Preopened directories.
    pub dirs: Vec<DirGrant>,
    /// `host:port` pairs the guest may connect to or bind.
    pub allow_net: Vec<String>,
    /// Origins the guest may send HTTP requests to through `wasi:http/outgoing-handler`.
    pub allow_http: Vec<HttpOrigin>,
    /// Wall-clock deadline.
    #[serde(serialize_with = "serialize_duration")]
    pub timeout: Duration,
    /// Linear-memory limit in bytes.
    pub max_memory: u64,
}

/// Where a server listens, and how it serves.
#[derive(Debug, Clone, Serialize)]
pub struct ServeConfig {
    /// The address to listen on.
    pub addr: std::net::SocketAddr,
    /// Grants, limits and bounds.
    pub settings: ServeSettings,
}

/// How a server serves requests.
#[derive(Debug, Clone, Serialize)]
pub struct ServeSettings {
    /// Grants for every request's instance, its deadline (`timeout`) and memory limit.
    pub run: RunSettings,
    /// Requests handled at once.
    pub max_concurrency: usize,
    /// Connections held open at once.
    pub max_connections: usize,
    /// The largest request body, in bytes.
    pub max_body: u64,
    /// How long in-flight requests may take to finish on shutdown.
    #[serde(serialize_with = "serialize_duration")]
    pub grace: Duration,
    /// Requests one instance answers before it is dropped: 1 (the default) is a fresh instance
    /// per request; more trades isolation between requests for speed (docs/serve.md).
    pub instance_reuse: usize,
    /// Requests one reused instance of a WASI 0.3 app answers at once (0.2 handlers answer one
    /// at a time).
    pub instance_concurrency: usize,
}

/// What `weld serve`'s flags set over `[serve]`: each bound given replaces the manifest's.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOverrides {
    /// `--max-concurrency`.
    pub max_concurrency: Option<std::num::NonZeroUsize>,
    /// `--max-connections`.
    pub max_connections: Option<std::num::NonZeroUsize>,
    /// `--max-body`.
    pub max_body: Option<u64>,
    /// `--grace`.
    pub grace: Option<Duration>,
    /// `--instance-reuse`.
    pub instance_reuse: Option<std::num::NonZeroUsize>,
    /// `--instance-concurrency`.
    pub instance_concurrency: Option<std::num::NonZeroUsize>,
}

impl ServeSettings {
    /// These settings with `run`'s grants and limits, and the bounds `o` gives over their own.
    pub fn overridden(self, run: RunSettings, o: &ServeOverrides) -> ServeSettings {
        ServeSettings {
            run,
            max_concurrency: o.max_concurrency.map_or(self.max_concurrency, |n| n.get()),
            max_connections: o.max_connections.map_or(self.max_connections, |n| n.get()),
            max_body: o.max_body.unwrap_or(self.max_body),
            grace: o.grace.unwrap_or(self.grace),
            instance_reuse: o.instance_reuse.map_or(self.instance_reuse, |n| n.get()),
            instance_concurrency: o
                .instance_concurrency
                .map_or(self.instance_concurrency, |n| n.get()),
        }
    }
}

/// The default address `weld serve` listens on: loopback only.
pub const DEFAULT_SERVE_ADDR: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// Requests a server handles at once; more wait for a slot.
pub const DEFAULT_MAX_CONCURRENCY: usize = 128;
/// Connections a server holds open at once; more wait in the listen backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// The largest request body a guest may read.
pub const DEFAULT_MAX_BODY: u64 = 16 << 20;
/// How long in-flight requests may take to finish after a shutdown signal.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// Requests per instance: one, a fresh instance for every request.
pub const DEFAULT_INSTANCE_REUSE: usize = 1;
/// Requests a reused WASI 0.3 instance answers at once, as wasmtime serve's default.
pub const DEFAULT_INSTANCE_CONCURRENCY: usize = 16;

/// An origin outbound HTTP may reach, `https://host[:port]`: scheme, host and port must all
/// match a request's for it to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOrigin {
    /// `https` rather than `http`.
    pub https: bool,
    /// The host, lowercased (IPv6 without brackets).
    pub host: String,
    /// The port, the scheme's default when not written.
    pub port: u16,
}

impl HttpOrigin {
    /// Whether a request to `uri` may be sent under this grant.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return false,
        };
        let Some(host) = uri.host() else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        https == self.https && port == self.port && host.eq_ignore_ascii_case(&self.host)
    }
}

impl std::str::FromStr for HttpOrigin {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        const EXPECTED: &str =
            "expected an origin such as https://api.example.com or http://127.0.0.1:8080";
        let uri: http::Uri = s.parse().map_err(|_| EXPECTED.to_string())?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            Some(other) => return Err(format!("the scheme `{other}` is not http or https")),
            None => return Err(EXPECTED.to_string()),
        };
        let authority = uri.authority().ok_or_else(|| EXPECTED.to_string())?;
        if authority.as_str().contains('@') {
            return Err("an origin has no user name or password".into());
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err("an origin has no path: requests to any path on it are allowed".into());
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(EXPECTED.to_string());
        }
        Ok(HttpOrigin {
            https,
            host: host.to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
        })
    }
}

impl std::fmt::Display for HttpOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl Serialize for HttpOrigin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A host directory made visible to the guest.
#[derive(Debug, Clone, Serialize)]
pub struct DirGrant {
    /// Absolute host path.
    pub host: PathBuf,
    /// The path the guest sees.
    pub guest: String,
    /// Whether writes are refused.
    pub read_only: bool,
}

fn serialize_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::units::format_duration(*d))
}

/// `host:port` (IPv6 in brackets) as host and port; `None` when it is not one.
pub(crate) fn parse_host_port(addr: &str) -> Option<(&str, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then_some(())?;
    Some((host, port.parse().ok()?))
}
