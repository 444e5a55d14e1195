//! Filesystem helpers shared by every stage that writes output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A path beside `target` for a temporary file that will be renamed onto it: same directory, so
/// the rename is atomic; unique per process and call, so concurrent writers never collide.
pub fn temp_beside(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Writes `bytes` to `target` atomically: readers see the old file or the new one, never a
/// part, and a failure leaves the old file in place. Returns the metadata of the file written
/// (taken before the rename, so it describes this write even if another replaces it after).
pub fn write_atomic(target: &Path, bytes: &[u8]) -> std::io::Result<std::fs::Metadata> {
    let staged = Staged::write(target, bytes)?;
    staged.commit()
}

/// A file written in full and synced beside its target, not yet in place: [`Staged::commit`]
/// renames it onto the target, dropping it uncommitted removes it. Lets a writer overlap the
/// write with checking what it writes, and still never leave a bad or partial target.
#[derive(Debug)]
pub struct Staged {
    temp: PathBuf,
    target: PathBuf,
    meta: std::fs::Metadata,
    committed: bool,
}

impl Staged {
    /// Writes `bytes` to a temporary file beside `target` and syncs it.
    pub fn write(target: &Path, bytes: &[u8]) -> std::io::Result<Staged> {
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temp = temp_beside(target);
        let written = (|| {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            file.metadata()
        })();
        match written {
            Ok(meta) => Ok(Staged {
                temp,
                target: target.to_path_buf(),
                meta,
                committed: false,
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    /// Puts the file in place (atomically) and returns its metadata.
    pub fn commit(mut self) -> std::io::Result<std::fs::Metadata> {
        std::fs::rename(&self.temp, &self.target)?;
        self.committed = true;
        Ok(self.meta.clone())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// `path` as messages show it: relative to the current directory when it is under it, so that
/// output does not depend on where a checkout lives.
pub fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    match path.strip_prefix(&cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// `path` with `.` and `..` resolved textually, so that diagnostics and outputs read cleanly.
pub fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("weld-fsutil-{}", std::process::id()));
        let file = dir.join("out.wasm");
        write_atomic(&file, b"first").unwrap();
        write_atomic(&file, b"second").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"second");
        let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(entries.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failure_keeps_the_old_file() {
        let dir = std::env::temp_dir().join(format!("weld-fsutil-fail-{}", std::process::id()));
        let file = dir.join("out.wasm");
        write_atomic(&file, b"good").unwrap();
        // A directory where the file should be renamed to makes the rename fail.
        let blocked = dir.join("blocked");
        std::fs::create_dir_all(blocked.join("inner")).unwrap();
        assert!(write_atomic(&blocked, b"bad").is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"good");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
