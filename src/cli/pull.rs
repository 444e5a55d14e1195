//! `weld pull`: a Wasm artifact from an OCI registry into a file, every digest verified.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use super::flags::RegistryFlags;
use weld::error::{Error, Result};
use weld::oci;
use weld::report::Style;
use weld::report::progress::TransferBar;
use weld::units::format_size;

/// Pull a Wasm component from an OCI registry
///
/// Accepts the CNCF Wasm OCI artifact (an application/wasm layer) and the Bytecode Alliance's
/// older component layer type; refuses anything else, saying what it is (a Spin application, a
/// container image). The manifest and every blob are checked against their digests before
/// anything is written.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld pull localhost:5000/shop:0.1.0               writes app.wasm (the layer's name)
  weld pull ghcr.io/you/shop@sha256:… -o shop.wasm

Exit status:
  0  pulled
  1  not a Wasm artifact, or content that does not match its digest
  2  usage or environment error: a bad reference, no such tag, the registry unreachable")]
pub struct PullArgs {
    /// What to pull: REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@DIGEST
    #[arg(value_name = "REF")]
    reference: String,

    /// Where to write the component [default: the layer's file name, in the current directory]
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    #[command(flatten)]
    registry: RegistryFlags,
}

#[derive(serde::Serialize)]
struct PullReport<'a> {
    reference: &'a str,
    digest: &'a str,
    output: String,
    size: u64,
}

impl PullArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("pull")?;
        let reference = oci::parse_reference(&self.reference)?;
        let transport = self.registry.transport(cx)?;
        let bar = TransferBar::new(&cx.reporter);
        let pulled = oci::block_on(oci::pull(&reference, &transport, &bar))??;
        bar.finish();
        let output = match &self.output {
            Some(o) => cx.cwd.join(o),
            None => {
                // The layer's title names a file; only its last part, so a hostile title
                // cannot point outside the current directory.
                let name = pulled
                    .title
                    .as_deref()
                    .and_then(|t| std::path::Path::new(t).file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .unwrap_or_else(|| "app.wasm".into());
                cx.cwd.join(name)
            }
        };
        weld::fsutil::write_atomic(&output, &pulled.component).map_err(|e| Error::Usage {
            message: format!("cannot write {}: {e}", cx.show(&output)),
        })?;
        if cx.reporter.json() {
            cx.reporter.print_json(&PullReport {
                reference: &reference.whole(),
                digest: &pulled.digest,
                output: cx.show(&output),
                size: pulled.component.len() as u64,
            })?;
            return Ok(0);
        }
        let r = &cx.reporter;
        r.status(&format!(
            "{} {} ({}) to {}",
            r.paint("pulled", Style::Bold),
            reference.whole(),
            format_size(pulled.component.len() as u64),
            cx.show(&output)
        ));
        r.print(&format!("{}\n", pulled.digest))?;
        Ok(0)
    }
}
