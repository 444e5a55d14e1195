//! Where a command's app comes from when it is not the project's: a file, or an
//! `oci://REGISTRY/REPOSITORY:TAG` reference pulled into weld's cache (`weld run` and
//! `weld serve` take either). Not a command: the commands that take an app share it.

use std::path::PathBuf;

use super::Context;
use weld::error::{Error, Result};
use weld::oci;
use weld::report::Style;
use weld::report::progress::TransferBar;

/// For `weld run` and `weld serve`: an `oci://REF` app fetched into weld's cache (from the
/// registry the first time only), as a local file and the name messages use; `None` for a
/// path.
pub fn oci_app(
    cx: &Context,
    app: &std::path::Path,
    insecure: &[String],
    ca_files: &[PathBuf],
) -> Result<Option<(PathBuf, String)>> {
    let Some(text) = oci::oci_url(app) else {
        return Ok(None);
    };
    let reference = oci::parse_reference(text)?;
    let cache = weld::run::default_cache_dir().ok_or_else(|| Error::Usage {
        message: "no cache directory for pulled apps: set WELD_CACHE_DIR, XDG_CACHE_HOME or HOME to an absolute path".into(),
    })?;
    let transport = oci::Transport {
        insecure: insecure.to_vec(),
        ca_files: ca_files.iter().map(|f| cx.cwd.join(f)).collect(),
        ..oci::Transport::default()
    };
    let store = oci::Store::new(&cache);
    let bar = TransferBar::new(&cx.reporter);
    let stored = oci::block_on(store.fetch(&reference, &transport, &bar))??;
    bar.finish();
    if !stored.cached {
        cx.reporter.status(&format!(
            "{} {} ({})",
            cx.reporter.paint("pulled", Style::Bold),
            reference.whole(),
            stored.digest
        ));
    }
    Ok(Some((stored.path, reference.whole())))
}
