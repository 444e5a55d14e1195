//! `weld deploy`: Kubernetes manifests for an app pushed with `weld push`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::Context;
use super::flags::RegistryFlags;
use weld::deploy::{self, App, Options, Target};
use weld::error::{Error, Result};
use weld::oci;

/// Write Kubernetes manifests that run a pushed app on SpinKube, runwasi or wasmCloud
///
/// Reads what the app is (an HTTP app or a command, what it imports) from the artifact in the
/// registry, and writes the objects the target needs, with the image pinned by digest:
///   spinkube   a SpinApp (core.spinkube.dev/v1alpha1) run by containerd-shim-spin: HTTP apps
///   runwasi    a RuntimeClass, a Deployment and (for an HTTP app) a Service, for runwasi's
///              containerd-shim-wasmtime: HTTP apps and commands
///   wasmcloud  a WorkloadDeployment (runtime.wasmcloud.dev/v1alpha1) with the host interfaces
///              the app uses
/// A combination that cannot work (a command on SpinKube) is refused, saying why.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld deploy --target spinkube ghcr.io/you/shop:0.1.0 | kubectl apply -f -
  weld deploy --target runwasi ghcr.io/you/shop:0.1.0 -o k8s/
  weld deploy --target wasmcloud ghcr.io/you/shop:0.1.0 --replicas 3 --namespace shop

Exit status:
  0  manifests written
  1  the app cannot run on that target (the reason is shown)
  2  usage or environment error: a bad reference, the registry unreachable, not a Wasm artifact")]
pub struct DeployArgs {
    /// The pushed app: REGISTRY/REPOSITORY:TAG or @DIGEST
    #[arg(value_name = "REF")]
    reference: String,

    /// Where it runs
    #[arg(long, value_enum)]
    target: TargetArg,

    /// Write one file per object into DIR (KIND-NAME.yaml) instead of a YAML stream to stdout
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,

    /// The objects' name [default: the repository's last part]
    #[arg(long)]
    name: Option<String>,

    /// Pods to run
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    replicas: u32,

    /// metadata.namespace of every namespaced object [default: none: kubectl's current]
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,

    /// wasmcloud: the Host header the host's HTTP router sends to the app
    #[arg(long, value_name = "HOST", default_value = "localhost")]
    host: String,

    #[command(flatten)]
    registry: RegistryFlags,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TargetArg {
    Spinkube,
    Runwasi,
    Wasmcloud,
}

impl From<TargetArg> for Target {
    fn from(t: TargetArg) -> Target {
        match t {
            TargetArg::Spinkube => Target::Spinkube,
            TargetArg::Runwasi => Target::Runwasi,
            TargetArg::Wasmcloud => Target::Wasmcloud,
        }
    }
}

#[derive(serde::Serialize)]
struct Written {
    kind: &'static str,
    name: String,
    file: Option<String>,
    object: serde_json::Value,
}

impl DeployArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("deploy")?;
        let reference = oci::parse_reference(&self.reference)?;
        let name = match &self.name {
            Some(n) => n.clone(),
            None => reference
                .repository()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        let name = deploy::kube_name(&name)?;
        if let Some(ns) = &self.namespace {
            deploy::kube_name(ns)?;
        }
        let transport = self.registry.transport(cx)?;
        let inspected = oci::block_on(oci::inspect(&reference, &transport))??;
        let app = App {
            name,
            image: inspected.pinned,
            component: inspected.component,
        };
        let options = Options {
            replicas: self.replicas,
            namespace: self.namespace.clone(),
            host: self.host.clone(),
        };
        let objects = deploy::manifests(self.target.into(), &app, &options)?;
        let mut written = Vec::new();
        if let Some(dir) = &self.output {
            let dir = cx.cwd.join(dir);
            std::fs::create_dir_all(&dir).map_err(|e| Error::Usage {
                message: format!("cannot create {}: {e}", cx.show(&dir)),
            })?;
            for object in &objects {
                let file = dir.join(object.file_name());
                weld::fsutil::write_atomic(&file, object.yaml().as_bytes()).map_err(|e| {
                    Error::Usage {
                        message: format!("cannot write {}: {e}", cx.show(&file)),
                    }
                })?;
                cx.reporter.status(&format!("wrote {}", cx.show(&file)));
                written.push(Some(cx.show(&file)));
            }
        } else {
            written.resize(objects.len(), None);
        }
        if cx.reporter.json() {
            let report: Vec<Written> = objects
                .into_iter()
                .zip(written)
                .map(|(o, file)| Written {
                    kind: o.kind,
                    name: o.name,
                    file,
                    object: o.value,
                })
                .collect();
            cx.reporter.print_json(&report)?;
        } else if self.output.is_none() {
            cx.reporter.print(&deploy::yaml_stream(&objects))?;
        }
        Ok(0)
    }
}
