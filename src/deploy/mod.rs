//! Kubernetes manifests for an app pushed to a registry: a SpinApp for SpinKube, a RuntimeClass,
//! Deployment and Service for runwasi's wasmtime shim, or a wasmCloud WorkloadDeployment. What
//! the app is (an HTTP app or a command, what it imports) comes from the pushed artifact's
//! config, so the manifests fit the app that is in the registry.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use miette::Diagnostic;
use serde_json::{Value, json};

use crate::oci::ComponentInfo;

/// Where the app goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// SpinKube: the spin-operator's SpinApp, run by containerd-shim-spin.
    Spinkube,
    /// runwasi's containerd-shim-wasmtime, through a RuntimeClass.
    Runwasi,
    /// wasmCloud's runtime-operator: a WorkloadDeployment.
    Wasmcloud,
}

impl Target {
    /// Every target, as spelled on the command line.
    pub const ALL: [Target; 3] = [Target::Spinkube, Target::Runwasi, Target::Wasmcloud];

    /// The spelling on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Spinkube => "spinkube",
            Target::Runwasi => "runwasi",
            Target::Wasmcloud => "wasmcloud",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown target `{s}`: spinkube, runwasi or wasmcloud"))
    }
}

/// A combination that cannot work.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum DeployError {
    /// The app is not what the target runs.
    #[error("{target} cannot run {app}: {why}")]
    #[diagnostic(code(weld::deploy::unsupported))]
    Unsupported {
        /// The target.
        target: Target,
        /// The app's reference.
        app: String,
        /// Why not, and what would.
        why: String,
        /// What to do instead.
        #[help]
        help: Option<String>,
    },

    /// A name that cannot be a Kubernetes object's.
    #[error("`{name}` cannot name a Kubernetes object: {why}")]
    #[diagnostic(
        code(weld::deploy::name),
        help(
            "give one with --name: lower-case letters, digits and `-`, starting with a letter, at most 63 characters"
        )
    )]
    Name {
        /// The name.
        name: String,
        /// What rule it breaks.
        why: String,
    },
}

impl DeployError {
    /// 1: the app does not fit the target; 2: a bad name is a usage error.
    pub fn exit_code(&self) -> u8 {
        match self {
            DeployError::Unsupported { .. } => crate::exit::EXIT_FAILURE,
            DeployError::Name { .. } => crate::exit::EXIT_USAGE,
        }
    }
}

/// The app to deploy.
#[derive(Debug, Clone)]
pub struct App {
    /// The Kubernetes name of its objects.
    pub name: String,
    /// The image, pinned by digest (`REGISTRY/REPOSITORY@sha256:…`).
    pub image: String,
    /// What it imports and exports.
    pub component: ComponentInfo,
}

/// Choices the manifests leave to the user.
#[derive(Debug, Clone)]
pub struct Options {
    /// Pods (or SpinApp replicas).
    pub replicas: u32,
    /// `metadata.namespace`, when given.
    pub namespace: Option<String>,
    /// wasmCloud: the Host header its HTTP router sends to the app.
    pub host: String,
}

/// One Kubernetes object.
#[derive(Debug, Clone)]
pub struct Object {
    /// Its kind (`SpinApp`).
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The object.
    pub value: Value,
}

impl Object {
    /// The file `-o DIR` writes it to: `KIND-NAME.yaml`, lower-case.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name)
    }

    /// The object as YAML, its keys in the order Kubernetes documents use (`apiVersion`,
    /// `kind`, `metadata`, then the rest; `name` first in any mapping).
    pub fn yaml(&self) -> String {
        serde_yaml_ng::to_string(&conventional(&self.value)).expect("JSON values serialise as YAML")
    }
}

/// `value` as YAML with the keys Kubernetes readers look for first in front.
fn conventional(value: &Value) -> serde_yaml_ng::Value {
    const FIRST: [&str; 4] = ["apiVersion", "kind", "metadata", "name"];
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| (FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()), *k));
            serde_yaml_ng::Value::Mapping(
                keys.into_iter()
                    .map(|k| {
                        (
                            serde_yaml_ng::Value::String(k.clone()),
                            conventional(&map[k]),
                        )
                    })
                    .collect(),
            )
        }
        Value::Array(items) => {
            serde_yaml_ng::Value::Sequence(items.iter().map(conventional).collect())
        }
        other => serde_yaml_ng::to_value(other).expect("a scalar converts"),
    }
}

/// The objects in one YAML stream (`---` between them), for `kubectl apply -f -`.
pub fn yaml_stream(objects: &[Object]) -> String {
    objects
        .iter()
        .map(Object::yaml)
        .collect::<Vec<_>>()
        .join("---\n")
}

/// A project or repository name as a Kubernetes name (RFC 1123 label): lower case, `_` and
/// `.` become `-`. Fails on what cannot be made one.
pub fn kube_name(name: &str) -> Result<String, DeployError> {
    let fixed: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == '_' || c == '.' { '-' } else { c })
        .collect();
    let why = if fixed.is_empty() {
        Some("it is empty")
    } else if fixed.len() > 63 {
        Some("it is longer than 63 characters")
    } else if !fixed
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Some("it has characters other than letters, digits, `-`, `_` and `.`")
    } else if !fixed.starts_with(|c: char| c.is_ascii_lowercase()) || fixed.ends_with('-') {
        Some("it must start with a letter and end with a letter or digit")
    } else {
        None
    };
    match why {
        Some(why) => Err(DeployError::Name {
            name: name.to_string(),
            why: why.into(),
        }),
        None => Ok(fixed),
    }
}

/// The port an HTTP app listens on inside its pod: runwasi's wasmtime shim serves wasi:http on
/// 0.0.0.0:8080, and SpinKube's Service targets the same.
pub const HTTP_PORT: u16 = 8080;
/// runwasi's RuntimeClass name and containerd handler, as its quickstart registers them
/// (`runtimes.wasm` with `runtime_type = "io.containerd.wasmtime.v1"`).
pub const RUNWASI_HANDLER: &str = "wasm";
/// SpinKube's executor for containerd-shim-spin.
pub const SPIN_EXECUTOR: &str = "containerd-shim-spin";

/// The manifests that deploy `app` on `target`, or why it cannot run there.
pub fn manifests(target: Target, app: &App, options: &Options) -> Result<Vec<Object>, DeployError> {
    let c = &app.component;
    let m = Manifests {
        target,
        app,
        options,
        labels: json!({
            "app.kubernetes.io/name": app.name,
            "app.kubernetes.io/managed-by": "weld",
        }),
    };
    // A composed app imports only what a host provides; anything else has no provider there.
    let foreign: Vec<&String> = c
        .imports
        .iter()
        .filter(|i| !i.starts_with("wasi:"))
        .collect();
    if !foreign.is_empty() {
        return Err(m.unsupported(
            format!(
                "it imports {}, which no host provides",
                foreign
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(
                "compose the app so that a component of its own provides every non-WASI import (`weld check` lists who provides what)",
            ),
        ));
    }
    match target {
        Target::Spinkube => m.spinkube(),
        Target::Runwasi => m.runwasi(),
        Target::Wasmcloud => m.wasmcloud(),
    }
}

/// What every target's manifests share.
struct Manifests<'a> {
    target: Target,
    app: &'a App,
    options: &'a Options,
    labels: serde_json::Value,
}

impl Manifests<'_> {
    fn unsupported(&self, why: String, help: Option<&str>) -> DeployError {
        DeployError::Unsupported {
            target: self.target,
            app: self.app.image.clone(),
            why,
            help: help.map(str::to_string),
        }
    }

    fn metadata(&self) -> serde_json::Value {
        let mut m = json!({ "name": self.app.name, "labels": self.labels });
        if let Some(ns) = &self.options.namespace {
            m["namespace"] = json!(ns);
        }
        m
    }

    /// A SpinApp for SpinKube's operator.
    fn spinkube(&self) -> Result<Vec<Object>, DeployError> {
        let (app, c) = (self.app, &self.app.component);
        if !c.is_http() {
            return Err(self.unsupported(
                "containerd-shim-spin runs HTTP apps (an export of wasi:http/incoming-handler), and this app has none".into(),
                Some(if c.is_command() {
                    "a command app runs on runwasi: --target runwasi"
                } else {
                    "export wasi:http/incoming-handler (the wasi:http/proxy world)"
                }),
            ));
        }
        Ok(vec![Object {
            kind: "SpinApp",
            name: app.name.clone(),
            value: json!({
                "apiVersion": "core.spinkube.dev/v1alpha1",
                "kind": "SpinApp",
                "metadata": self.metadata(),
                "spec": {
                    "image": app.image,
                    "executor": SPIN_EXECUTOR,
                    "replicas": self.options.replicas,
                },
            }),
        }])
    }

    /// runwasi's RuntimeClass, a Deployment, and a Service for an HTTP app.
    fn runwasi(&self) -> Result<Vec<Object>, DeployError> {
        let (app, c) = (self.app, &self.app.component);
        let http = c.is_http();
        if !http && !c.is_command() {
            return Err(self.unsupported(
                "containerd-shim-wasmtime runs a wasi:cli command or serves a wasi:http app, and this app exports neither".into(),
                Some("export wasi:cli/run or wasi:http/incoming-handler"),
            ));
        }
        let selector = json!({ "app.kubernetes.io/name": app.name });
        let mut container = json!({
            "name": app.name,
            "image": app.image,
            // containerd refuses a container with no command, and an artifact has no
            // entrypoint; the shim runs the layer's component whatever it says, and passes
            // it to the guest as argv[0].
            "command": [format!("{}.wasm", app.name)],
        });
        if http {
            container["ports"] =
                json!([{ "name": "http", "containerPort": HTTP_PORT, "protocol": "TCP" }]);
        }
        let mut objects = vec![
            Object {
                kind: "RuntimeClass",
                name: RUNWASI_HANDLER.into(),
                value: json!({
                    "apiVersion": "node.k8s.io/v1",
                    "kind": "RuntimeClass",
                    "metadata": { "name": RUNWASI_HANDLER, "labels": { "app.kubernetes.io/managed-by": "weld" } },
                    "handler": RUNWASI_HANDLER,
                }),
            },
            Object {
                kind: "Deployment",
                name: app.name.clone(),
                value: json!({
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": self.metadata(),
                    "spec": {
                        "replicas": self.options.replicas,
                        "selector": { "matchLabels": selector },
                        "template": {
                            "metadata": { "labels": self.labels },
                            "spec": {
                                "runtimeClassName": RUNWASI_HANDLER,
                                "containers": [container],
                            },
                        },
                    },
                }),
            },
        ];
        if http {
            objects.push(Object {
                kind: "Service",
                name: app.name.clone(),
                value: json!({
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": self.metadata(),
                    "spec": {
                        "selector": selector,
                        "ports": [{ "name": "http", "port": 80, "targetPort": HTTP_PORT, "protocol": "TCP" }],
                    },
                }),
            });
        }
        Ok(objects)
    }

    /// A WorkloadDeployment for wasmCloud's operator.
    fn wasmcloud(&self) -> Result<Vec<Object>, DeployError> {
        let (app, c) = (self.app, &self.app.component);
        if !c.is_http() && !c.is_command() {
            return Err(self.unsupported(
                "wasmCloud runs a component that exports wasi:http/incoming-handler or wasi:cli/run, and this app exports neither".into(),
                None,
            ));
        }
        Ok(vec![Object {
            kind: "WorkloadDeployment",
            name: app.name.clone(),
            value: json!({
                "apiVersion": "runtime.wasmcloud.dev/v1alpha1",
                "kind": "WorkloadDeployment",
                "metadata": self.metadata(),
                "spec": {
                    "replicas": self.options.replicas,
                    "template": {
                        "spec": {
                            "components": [{ "name": app.name, "image": app.image }],
                            "hostInterfaces": host_interfaces(c, &self.options.host),
                        },
                    },
                },
            }),
        }])
    }
}

/// WASI packages every wasmCloud host links itself (wasmtime-wasi); hostInterfaces name the
/// others, which its plugins provide.
const WASMCLOUD_BUILT_IN: [&str; 6] = ["cli", "clocks", "filesystem", "io", "random", "sockets"];

/// The host interfaces a wasmCloud host must give the app: one entry per package its plugins
/// provide, with the interfaces used. wasi:http is the app's export (`incoming-handler`, routed
/// by the Host header `host`) and, when it sends requests, `outgoing-handler`; its `types` come
/// with either. A package used at two versions is listed once, at the newest: the operator
/// allows one unnamed entry per package, and a host serves every 0.2 release from its newest.
fn host_interfaces(c: &ComponentInfo, host: &str) -> Value {
    let mut packages: BTreeMap<(String, String), (Option<semver::Version>, Vec<String>)> =
        BTreeMap::new();
    let used = c.imports.iter().chain(
        c.exports
            .iter()
            .filter(|e| e.starts_with("wasi:http/incoming-handler@")),
    );
    for name in used {
        let Some((namespace, rest)) = name.split_once(':') else {
            continue;
        };
        let (path, version) = match rest.split_once('@') {
            Some((p, v)) => (p, semver::Version::parse(v).ok()),
            None => (rest, None),
        };
        let Some((package, interface)) = path.split_once('/') else {
            continue;
        };
        if namespace == "wasi"
            && (WASMCLOUD_BUILT_IN.contains(&package)
                || (package == "http" && interface == "types"))
        {
            continue;
        }
        let entry = packages
            .entry((namespace.to_string(), package.to_string()))
            .or_default();
        if version > entry.0 {
            entry.0 = version;
        }
        if !entry.1.iter().any(|i| i == interface) {
            entry.1.push(interface.to_string());
        }
    }
    Value::Array(
        packages
            .into_iter()
            .map(|((namespace, package), (version, mut interfaces))| {
                interfaces.sort();
                let mut v = json!({
                    "namespace": namespace,
                    "package": package,
                    "interfaces": interfaces,
                });
                if let Some(version) = version {
                    v["version"] = json!(version.to_string());
                }
                if namespace == "wasi"
                    && package == "http"
                    && interfaces.iter().any(|i| i == "incoming-handler")
                {
                    v["config"] = json!({ "host": host });
                }
                v
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(exports: &[&str], imports: &[&str]) -> App {
        App {
            name: "shop".into(),
            image: "example.com/shop@sha256:00".into(),
            component: ComponentInfo {
                exports: exports.iter().map(|s| s.to_string()).collect(),
                imports: imports.iter().map(|s| s.to_string()).collect(),
                target: None,
            },
        }
    }

    fn options() -> Options {
        Options {
            replicas: 2,
            namespace: None,
            host: "localhost".into(),
        }
    }

    #[test]
    fn a_command_is_not_a_spinapp() {
        let e = manifests(
            Target::Spinkube,
            &app(&["wasi:cli/run@0.2.6"], &[]),
            &options(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("HTTP apps"), "{e}");
        assert!(format!("{:?}", e).contains("runwasi"), "{e:?}");
    }

    #[test]
    fn a_foreign_import_is_refused_everywhere() {
        let a = app(&["wasi:cli/run@0.2.6"], &["weld:calc/arith@0.1.0"]);
        for target in Target::ALL {
            let e = manifests(target, &a, &options()).unwrap_err();
            assert!(e.to_string().contains("weld:calc/arith@0.1.0"), "{e}");
        }
    }

    #[test]
    fn host_interfaces_only_plugins_one_per_package_newest_version() {
        let a = app(
            &["wasi:http/incoming-handler@0.2.6"],
            &[
                "wasi:io/streams@0.2.0",
                "wasi:http/types@0.2.6",
                "wasi:http/outgoing-handler@0.2.0",
                "wasi:keyvalue/store@0.2.0-draft",
                "wasi:logging/logging@0.1.0-draft",
            ],
        );
        let hi = host_interfaces(&a.component, "shop.example.com");
        assert_eq!(
            hi,
            json!([
                {"namespace": "wasi", "package": "http", "interfaces": ["incoming-handler", "outgoing-handler"], "version": "0.2.6", "config": {"host": "shop.example.com"}},
                {"namespace": "wasi", "package": "keyvalue", "interfaces": ["store"], "version": "0.2.0-draft"},
                {"namespace": "wasi", "package": "logging", "interfaces": ["logging"], "version": "0.1.0-draft"},
            ])
        );
    }

    #[test]
    fn names() {
        assert_eq!(kube_name("Hello_World.app").unwrap(), "hello-world-app");
        assert!(kube_name("9lives").is_err());
        assert!(kube_name("a/b").is_err());
        assert!(kube_name(&"x".repeat(64)).is_err());
    }
}
