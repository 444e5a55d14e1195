//! What counts as a component's sources: every file under its path, except the directories
//! every toolchain fills by itself. One list, shared by the build's fingerprint and by
//! `weld up --watch`, so that what rebuilds and what restarts agree.

use std::path::{Path, PathBuf};

/// Directory names that are never sources, at any depth: dependencies, caches and version
/// control.
pub const NOT_SOURCES: [&str; 5] = ["node_modules", "__pycache__", ".git", ".venv", ".weld"];

/// Whether a directory called `name` is one of [`NOT_SOURCES`].
pub fn is_not_source(name: &std::ffi::OsStr) -> bool {
    NOT_SOURCES.iter().any(|s| name == *s)
}

/// Why the files under a directory could not be listed.
#[derive(Debug)]
pub enum WalkError {
    /// A symbolic link leads back to a directory that contains it.
    Loop {
        /// The link.
        link: PathBuf,
        /// The directory it leads back to.
        ancestor: PathBuf,
    },
    /// A file or directory that cannot be read (a dangling link among them).
    Io {
        /// Which.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkError::Loop { link, ancestor } => write!(
                f,
                "{} is a symbolic link to {}, which contains it: the link loops",
                crate::fsutil::shown(link),
                crate::fsutil::shown(ancestor)
            ),
            WalkError::Io { path, error } => {
                write!(f, "cannot read {}: {error}", crate::fsutil::shown(path))
            }
        }
    }
}

/// Every file under `root`, sorted, following symbolic links (a source tree may link in shared
/// code) but never round a loop; skipping [`NOT_SOURCES`], a package's own `target` directory at
/// the top, and the directories in `exclude`.
pub fn files(root: &Path, exclude: &[&Path]) -> Result<Vec<PathBuf>, WalkError> {
    let walk = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let top_target = entry.depth() == 1 && entry.file_name() == "target";
            !(entry.file_type().is_dir()
                && (is_not_source(entry.file_name())
                    || top_target
                    || exclude.contains(&entry.path())))
        });
    let mut files = Vec::new();
    for entry in walk {
        let entry = entry.map_err(|e| match e.loop_ancestor() {
            Some(ancestor) => WalkError::Loop {
                link: e.path().unwrap_or(root).to_path_buf(),
                ancestor: ancestor.to_path_buf(),
            },
            None => WalkError::Io {
                path: e.path().unwrap_or(root).to_path_buf(),
                error: e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("unreadable")),
            },
        })?;
        if !entry.file_type().is_dir() {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two links to `.` would be 2^32 paths for a walker that follows links 32 deep.
    #[cfg(unix)]
    #[test]
    fn link_loops_are_named_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "x = 1").unwrap();
        std::os::unix::fs::symlink(".", dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink(".", dir.path().join("b")).unwrap();
        match files(dir.path(), &[]) {
            Err(WalkError::Loop { link, ancestor }) => {
                assert_eq!(link, dir.path().join("a"));
                assert_eq!(ancestor, dir.path());
            }
            other => panic!("expected a loop, got {other:?}"),
        }
    }

    #[test]
    fn skips_what_is_not_source() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["src", "node_modules/x", "target", "src/target", "out"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        for f in [
            "src/a.py",
            "node_modules/x/b.js",
            "target/c",
            "src/target/d",
            "out/e",
        ] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let out = dir.path().join("out");
        let found = files(dir.path(), &[out.as_path()]).unwrap();
        let rel: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            rel,
            [PathBuf::from("src/a.py"), PathBuf::from("src/target/d")]
        );
    }
}
