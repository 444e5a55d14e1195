//! The raw weld.toml schema, exactly as written: every value keeps its span so that validation
//! can point at the line and column it objects to. [`super::Plan`] is what the stages use.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::lang::Lang;

/// A whole weld.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifest {
    pub project: Spanned<RawProject>,
    #[serde(default)]
    pub components: IndexMap<Spanned<String>, Spanned<RawComponent>>,
    pub compose: Option<Spanned<RawCompose>>,
    pub run: Option<RawRun>,
    pub serve: Option<RawServe>,
    #[serde(default, rename = "test")]
    pub tests: Vec<Spanned<RawTest>>,
    /// `[wit-dependencies]`: registry packages' version requirements and registries.
    #[serde(default, rename = "wit-dependencies")]
    pub wit_dependencies: IndexMap<Spanned<String>, Spanned<toml::Value>>,
}

/// One `[wit-dependencies]` entry, `"acme:billing" = "1.2"` or
/// `"acme:billing" = { version = "1.2", registry = "ghcr.io" }`, as typed values, or what is
/// wrong with it. Read by hand so that a wrong entry gets words rather than serde's "did not
/// match any variant".
pub(crate) fn wit_dependency(value: &toml::Value) -> Result<super::WitDependency, String> {
    let (version, registry) = match value {
        toml::Value::String(v) => (Some(v.as_str()), None),
        toml::Value::Table(t) => {
            if let Some(key) = t.keys().find(|k| *k != "version" && *k != "registry") {
                return Err(format!(
                    "unknown key `{key}`: an entry has `version` and `registry`"
                ));
            }
            let text = |key: &str| match t.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => Err(format!("`{key}` is a {}, not a string", other.type_str())),
            };
            (text("version")?, text("registry")?)
        }
        other => {
            return Err(format!(
                "a value of type {} is neither a version requirement (\"1.2\") nor a table ({{ version = \"1.2\", registry = \"ghcr.io\" }})",
                other.type_str()
            ));
        }
    };
    let requirement = version
        .map(|v| {
            semver::VersionReq::parse(v)
                .map_err(|e| format!("`{v}` is not a version requirement: {e}"))
        })
        .transpose()?;
    if let Some(r) = registry
        && r.parse::<http::uri::Authority>().is_err()
    {
        return Err(format!(
            "registry `{r}` is not a host name (with an optional port)"
        ));
    }
    Ok(super::WitDependency {
        requirement,
        registry: registry.map(str::to_string),
    })
}

/// Whether `name` is `namespace:name`, each a WIT identifier (kebab-case).
pub(crate) fn package_name_error(name: &str) -> Option<String> {
    let label = |l: &str| {
        !l.is_empty()
            && l.split('-').all(|w| {
                !w.is_empty()
                    && w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && w.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    };
    match name.split_once(':') {
        Some((ns, pkg)) if label(ns) && label(pkg) => None,
        _ => Some(format!(
            "`{name}` is not a package name: write NAMESPACE:NAME in kebab-case, e.g. \"acme:billing\" (no version: that goes in the value)"
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProject {
    pub name: Spanned<String>,
    pub wit: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub license: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawComponent {
    pub lang: Spanned<Lang>,
    pub path: Spanned<String>,
    pub world: Option<Spanned<String>>,
    pub wit: Option<Spanned<String>>,
    pub module: Option<Spanned<String>>,
    pub source_check: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCompose {
    pub root: Option<Spanned<String>>,
    pub plugs: Option<Spanned<Vec<Spanned<String>>>>,
    pub script: Option<Spanned<String>>,
    #[serde(default)]
    pub deps: IndexMap<Spanned<String>, Spanned<String>>,
    pub output: Option<Spanned<String>>,
    #[serde(default)]
    pub strict: bool,
}

/// `[run]`: arguments, capabilities and limits. A `[[test]]` that runs the app has the same keys;
/// serde's `flatten` would lose both the spans and `deny_unknown_fields`, so they are listed twice.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawRun {
    #[serde(default)]
    pub args: Vec<Spanned<String>>,
    #[serde(default)]
    pub env: IndexMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub env_inherit: Vec<Spanned<String>>,
    #[serde(default)]
    pub dirs: Vec<Spanned<RawDir>>,
    #[serde(default)]
    pub allow_net: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow_http: Vec<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub max_memory: Option<Spanned<String>>,
    /// `[run]` only: which compiler `weld run`, `up` and `test` use.
    pub profile: Option<Spanned<String>>,
}

/// `[serve]`: the server's own settings, then the grants and per-request limits it shares with
/// `[run]` (listed again for the reason given at [`RawRun`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawServe {
    pub addr: Option<Spanned<String>>,
    pub max_concurrency: Option<Spanned<i64>>,
    pub max_connections: Option<Spanned<i64>>,
    pub max_body: Option<Spanned<String>>,
    pub grace: Option<Spanned<String>>,
    pub instance_reuse: Option<Spanned<i64>>,
    pub instance_concurrency: Option<Spanned<i64>>,
    #[serde(default)]
    pub env: IndexMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub env_inherit: Vec<Spanned<String>>,
    #[serde(default)]
    pub dirs: Vec<Spanned<RawDir>>,
    #[serde(default)]
    pub allow_net: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow_http: Vec<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub max_memory: Option<Spanned<String>>,
}

impl RawServe {
    /// Splits off the keys `[serve]` shares with `[run]`, to validate them with the same code.
    pub fn run_keys(&mut self) -> RawRun {
        RawRun {
            args: Vec::new(),
            env: std::mem::take(&mut self.env),
            env_inherit: std::mem::take(&mut self.env_inherit),
            dirs: std::mem::take(&mut self.dirs),
            allow_net: std::mem::take(&mut self.allow_net),
            allow_http: std::mem::take(&mut self.allow_http),
            timeout: self.timeout.take(),
            max_memory: self.max_memory.take(),
            profile: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawDir {
    pub host: Spanned<String>,
    pub guest: Option<Spanned<String>>,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawTest {
    pub name: Spanned<String>,
    pub target: Option<Spanned<String>>,
    pub invoke: Option<Spanned<String>>,
    pub expect: Option<Spanned<String>>,
    pub expect_error: Option<Spanned<String>>,
    pub stdin: Option<Spanned<String>>,
    pub expect_stdout: Option<Spanned<String>>,
    pub expect_stdout_contains: Option<Spanned<String>>,
    pub expect_exit: Option<Spanned<i32>>,
    pub request: Option<Spanned<String>>,
    #[serde(default)]
    pub headers: IndexMap<Spanned<String>, Spanned<String>>,
    pub body: Option<Spanned<String>>,
    pub expect_status: Option<Spanned<i64>>,
    pub expect_body: Option<Spanned<String>>,
    pub expect_body_contains: Option<Spanned<String>>,
    #[serde(default)]
    pub expect_header: IndexMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub args: Vec<Spanned<String>>,
    #[serde(default)]
    pub env: IndexMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub env_inherit: Vec<Spanned<String>>,
    #[serde(default)]
    pub dirs: Vec<Spanned<RawDir>>,
    #[serde(default)]
    pub allow_net: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow_http: Vec<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub max_memory: Option<Spanned<String>>,
}

impl RawTest {
    /// Splits off the keys a test shares with `[run]`, to validate them with the same code.
    pub fn run_keys(&mut self) -> RawRun {
        RawRun {
            args: std::mem::take(&mut self.args),
            env: std::mem::take(&mut self.env),
            env_inherit: std::mem::take(&mut self.env_inherit),
            dirs: std::mem::take(&mut self.dirs),
            allow_net: std::mem::take(&mut self.allow_net),
            allow_http: std::mem::take(&mut self.allow_http),
            timeout: self.timeout.take(),
            max_memory: self.max_memory.take(),
            profile: None,
        }
    }
}
