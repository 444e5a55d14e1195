//! `weld push`: the project's app (or a component) to an OCI registry as a Wasm artifact.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::Context;
use super::flags::RegistryFlags;
use weld::error::{Error, Result};
use weld::oci::{self, Artifact, Metadata};
use weld::report::Style;
use weld::report::progress::TransferBar;
use weld::units::format_size;

/// Push the app to an OCI registry as a Wasm artifact
///
/// Writes the CNCF Wasm OCI artifact: an OCI image manifest, a config
/// (application/vnd.wasm.config.v0+json) listing the component's imports and exports, and one
/// application/wasm layer. Without APP.wasm it pushes the project's composed app, building,
/// checking and composing it first. Blobs the registry has are not sent again. With
/// SOURCE_DATE_EPOCH set, the same app pushes to the same digest.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld push localhost:5000/shop:0.1.0                 the project's app, to a local registry
  weld push ghcr.io/you/shop:0.1.0 target/weld/app.wasm
  echo \"$TOKEN\" | weld push --username you --password-stdin ghcr.io/you/shop:0.1.0

Credentials come from Docker's config (~/.docker/config.json and its credential helpers), or
--username with --password-stdin. Registries speak TLS, checked against the system's CA
certificates (SSL_CERT_FILE and SSL_CERT_DIR replace them) and any --ca-file; a certificate
that fails the check is refused, never bypassed. Those given with --insecure, and loopback ones
(localhost, 127.0.0.0/8) unless --ca-file is given, speak plain HTTP.

Exit status:
  0  pushed; the digest is printed
  1  the project did not build, check or compose, or the file is not a component
  2  usage or environment error: a bad reference, the registry unreachable or refusing")]
pub struct PushArgs {
    /// Where to push: REGISTRY/REPOSITORY:TAG
    #[arg(value_name = "REF")]
    reference: String,

    /// The component to push [default: the project's composed app, built first]
    #[arg(value_name = "APP.wasm")]
    app: Option<PathBuf>,

    #[command(flatten)]
    registry: RegistryFlags,

    /// Build at most N components at once [default: number of cores]
    #[arg(short, long, value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,

    #[command(flatten)]
    pub(super) source: super::flags::SourceCheck,
}

impl PushArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("push")?;
        let reference = oci::parse_reference(&self.reference)?;
        let transport = self.registry.transport(cx)?;
        let (path, mut meta) = match &self.app {
            Some(app) => {
                let path = cx.cwd.join(app);
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "app".into());
                let meta = Metadata {
                    name,
                    ..Metadata::default()
                };
                (path, meta)
            }
            None => {
                let plan = cx.plan()?;
                let path = weld::pipeline::prepare(&plan, self.jobs, &cx.reporter)?;
                (path, weld::oci::project_metadata(&plan))
            }
        };
        meta.created = Some(weld::oci::created().map_err(|message| Error::Usage { message })?);
        let bytes = std::fs::read(&path).map_err(|e| Error::Usage {
            message: format!("cannot read {}: {e}", cx.show(&path)),
        })?;
        let artifact = Artifact::new(bytes, &meta).map_err(|e| match e {
            oci::OciError::NotComponent(why) => {
                oci::OciError::NotComponent(format!("{}: {why}", cx.show(&path)))
            }
            other => other,
        })?;
        let bar = Arc::new(TransferBar::new(&cx.reporter));
        let pushed = oci::block_on(oci::push(&reference, &artifact, &transport, bar.clone()))??;
        bar.finish();
        if cx.reporter.json() {
            cx.reporter.print_json(&pushed)?;
            return Ok(0);
        }
        let r = &cx.reporter;
        r.status(&format!(
            "{} {} to {} ({} sent, {} blob{} already there)",
            r.paint("pushed", Style::Bold),
            cx.show(&path),
            pushed.reference,
            format_size(pushed.bytes),
            pushed.skipped.len(),
            if pushed.skipped.len() == 1 { "" } else { "s" }
        ));
        r.print(&format!("{}\n", pushed.pinned))?;
        Ok(0)
    }
}
