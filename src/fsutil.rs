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
    file: tempfile::NamedTempFile,
    target: PathBuf,
    meta: std::fs::Metadata,
}

impl Staged {
    /// Writes `bytes` to a temporary file beside `target` and syncs it. A target that exists
    /// and is not a regular file (a directory, a FIFO, a device, a socket) is refused: weld
    /// never replaces one.
    pub fn write(target: &Path, bytes: &[u8]) -> std::io::Result<Staged> {
        refuse_special(target)?;
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // A new file's usual mode, less the umask (0644 under umask 0022), as cargo and
        // wasm-tools write theirs: not tempfile's private 0600, which only the owner can read.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let mut file = builder.tempfile_in(dir)?;
        file.write_all(bytes)?;
        file.as_file().sync_all()?;
        let meta = file.as_file().metadata()?;
        Ok(Staged {
            file,
            target: target.to_path_buf(),
            meta,
        })
    }

    /// Puts the file in place (atomically) and returns its metadata.
    pub fn commit(self) -> std::io::Result<std::fs::Metadata> {
        // Checked again: something may have appeared there since the write.
        refuse_special(&self.target)?;
        self.file.persist(&self.target).map_err(|e| e.error)?;
        Ok(self.meta)
    }
}

/// An error if `target` exists and is neither a regular file nor a symbolic link (which a
/// rename replaces, leaving what it pointed to alone).
fn refuse_special(target: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(target) {
        Ok(meta) if !meta.is_file() && !meta.is_symlink() => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is not a regular file: weld writes files and does not replace anything else",
                shown(target)
            ),
        )),
        _ => Ok(()),
    }
}

/// Reads the file at `path` whole, if it is a regular file (or a link to one). Anything else is
/// refused before it is opened: reading a FIFO waits for a writer forever, and a device such as
/// /dev/zero never ends.
pub fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_a_file(&meta));
    }
    std::fs::read(path)
}

/// [`read_file`] as UTF-8 text.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_file(path)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn not_a_file(meta: &std::fs::Metadata) -> std::io::Error {
    let what = if meta.is_dir() {
        "a directory"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            let t = meta.file_type();
            if t.is_fifo() {
                "a FIFO"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        }
        #[cfg(not(unix))]
        "not a regular file"
    };
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("this is {what}, not a file weld can read"),
    )
}

/// `path` as messages show it: relative to the current directory when it is under it, so that
/// output does not depend on where a checkout lives.
pub fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    match path.strip_prefix(&cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => printable(rel),
        _ => printable(path),
    }
}

/// `path` with control characters escaped (`\n`, `\u{1b}`): a file name may hold a newline
/// or a terminal escape, which a message must not print raw.
pub fn printable(path: &Path) -> String {
    let text = path.display().to_string();
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.wasm");
        write_atomic(&file, b"first").unwrap();
        write_atomic(&file, b"second").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"second");
        assert_eq!(names(dir.path()), ["out.wasm"]);
    }

    /// A write that is abandoned (what compose does when validation fails) leaves the old file
    /// as it was, and no temporary file.
    #[test]
    fn failure_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.wasm");
        write_atomic(&file, b"good").unwrap();
        let staged = Staged::write(&file, b"bad").unwrap();
        assert_eq!(
            names(dir.path()).len(),
            2,
            "the new bytes are staged beside"
        );
        drop(staged);
        assert_eq!(std::fs::read(&file).unwrap(), b"good");
        assert_eq!(names(dir.path()), ["out.wasm"]);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable(Path::new("a\nb.wasm")), "a\\nb.wasm");
        assert_eq!(printable(Path::new("\u{1b}[31mred")), "\\u{1b}[31mred");
        assert_eq!(printable(Path::new("plain.wasm")), "plain.wasm");
    }

    /// A special file where the output goes is refused, and stays what it is.
    #[cfg(unix)]
    #[test]
    fn special_files_are_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("app.wasm");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let err = write_atomic(&socket, b"bytes").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let meta = std::fs::symlink_metadata(&socket).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(names(dir.path()), ["app.wasm"]);
        std::fs::create_dir(dir.path().join("out")).unwrap();
        assert!(write_atomic(&dir.path().join("out"), b"bytes").is_err());
    }
}
