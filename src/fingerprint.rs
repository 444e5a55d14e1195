//! A fingerprint of a component's inputs: the source files (walked, sorted, each path and
//! content hashed), the WIT directory, and the settings that matter (language, toolchain
//! version, options, weld's own version). The build cache rebuilds when it changes, and the
//! source check's cache re-checks; a leaf both use.

use std::path::Path;

use sha2::{Digest, Sha256};

/// What a component's build depends on.
pub(crate) struct Inputs<'a> {
    /// Files or directories whose contents matter.
    pub paths: Vec<&'a Path>,
    /// Directories that are outputs, never inputs (the project's target directory).
    pub exclude: Vec<&'a Path>,
    /// Everything else: language, toolchain version, options.
    pub settings: Vec<(&'static str, String)>,
}

/// Hashes the inputs into a hex digest; an error names the file that could not be read.
pub(crate) fn fingerprint(inputs: &Inputs) -> Result<String, String> {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    for (key, value) in &inputs.settings {
        hasher.update([0]);
        hasher.update(key);
        hasher.update([0]);
        hasher.update(value);
    }
    for root in &inputs.paths {
        let files = if root.is_dir() {
            crate::sources::files(root, &inputs.exclude).map_err(|e| e.to_string())?
        } else {
            vec![root.to_path_buf()]
        };
        hasher.update([1]);
        hasher.update(root.to_string_lossy().as_bytes());
        for file in files {
            let rel = file.strip_prefix(root).unwrap_or(&file);
            hasher.update([2]);
            hasher.update(rel.to_string_lossy().as_bytes());
            hasher.update([0]);
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            hasher.update(bytes);
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_follows_content_not_noise() {
        let dir = std::env::temp_dir().join(format!("weld-cache-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("target")).unwrap();
        std::fs::write(dir.join("src/a.py"), "x = 1").unwrap();
        let fp = |settings: Vec<(&'static str, String)>| {
            fingerprint(&Inputs {
                paths: vec![&dir],
                exclude: Vec::new(),
                settings,
            })
            .unwrap()
        };
        let first = fp(vec![("lang", "python".into())]);
        std::fs::write(dir.join("target/out.wasm"), "build output").unwrap();
        assert_eq!(
            first,
            fp(vec![("lang", "python".into())]),
            "target/ is not a source"
        );
        assert_ne!(first, fp(vec![("lang", "js".into())]), "settings count");
        std::fs::write(dir.join("src/a.py"), "x = 2").unwrap();
        assert_ne!(first, fp(vec![("lang", "python".into())]), "content counts");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
