//! Compiled code cached by content: compiling a 30 MB polyglot app takes tens of seconds,
//! loading its compiled form takes milliseconds.
//!
//! An entry is `<dir>/<engine>/<sha256 of the component>.cwasm`, where `<engine>` identifies
//! wasmtime's version and every setting that affects code generation, so an upgrade never loads
//! stale code. Entries are written to a temporary file and renamed into place: two runs racing
//! to fill the same entry each write a complete file, and a reader sees one or the other.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The compiled-code cache.
pub struct CodeCache {
    dir: PathBuf,
    engine: Engine,
}

/// The cache directory: `$WELD_CACHE_DIR`, else `$XDG_CACHE_HOME/weld`, else `~/.cache/weld`;
/// `None` when none of these is an absolute path. Compiled code is loaded as machine code, so a
/// relative directory (which a cloned repository could fill) is never used.
pub fn default_dir() -> Option<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    var("WELD_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("weld")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/weld")))
}

/// Where the toolchains weld runs keep their own caches, under weld's cache directory.
pub fn toolchains_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("toolchains")
}

/// Where `tool` keeps its own cache.
pub fn toolchain_cache_dir(cache_dir: &Path, tool: &str) -> PathBuf {
    toolchains_dir(cache_dir).join(tool)
}

/// Where compiled code lives under the cache directory.
pub fn compiled_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("compiled")
}

impl CodeCache {
    /// A cache under `dir` (created on first store) for code `engine` compiles.
    pub fn new(dir: PathBuf, engine: &Engine) -> CodeCache {
        // A stable hash: DefaultHasher may change between Rust releases, which would orphan
        // every entry.
        let mut hasher = Sha256::new();
        use std::hash::Hash;
        engine
            .precompile_compatibility_hash()
            .hash(&mut HashInto(&mut hasher));
        hasher.update(env!("CARGO_PKG_VERSION"));
        let dir = compiled_dir(&dir).join(&format!("{:x}", hasher.finalize())[..16]);
        CodeCache {
            dir,
            engine: engine.clone(),
        }
    }

    /// The cache key of a component: the SHA-256 of its bytes, in hex.
    pub fn key(bytes: &[u8]) -> String {
        format!("{:x}", Sha256::digest(bytes))
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.cwasm"))
    }

    /// Where the key of the file at `path` is remembered.
    fn index_entry(&self, path: &Path) -> PathBuf {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let name = format!(
            "{:x}",
            Sha256::digest(absolute.as_os_str().as_encoded_bytes())
        );
        self.dir.join("index").join(name)
    }

    /// The key of the file at `path` as remembered for exactly this file (device, inode, size
    /// and modification time as in `meta`): an unchanged 30 MB app is neither read nor hashed.
    pub fn remembered_key(&self, path: &Path, meta: &std::fs::Metadata) -> Option<String> {
        let text = std::fs::read_to_string(self.index_entry(path)).ok()?;
        let (identity, key) = text.trim().rsplit_once(' ')?;
        (identity == file_identity(meta) && key.len() == 64).then(|| key.to_string())
    }

    /// Remembers that the file at `path`, as `meta` describes it, has the key `key`.
    pub fn remember(&self, path: &Path, meta: &std::fs::Metadata, key: &str) {
        let _ = crate::fsutil::write_atomic(
            &self.index_entry(path),
            format!("{} {key}\n", file_identity(meta)).as_bytes(),
        );
    }

    /// The compiled form of the component with key `key`, if cached and loadable.
    pub fn get(&self, key: &str) -> Option<Component> {
        let path = self.entry(key);
        if !path.is_file() {
            return None;
        }
        // SAFETY: the cache directory is the user's own, like wasmtime's cache. Entries are
        // written only by `put` below, from wasmtime's own serialization, and only ever replaced
        // by rename, never modified in place, so the mapped file stays intact. wasmtime checks
        // the header and the engine settings and refuses a mismatch.
        match unsafe { Component::deserialize_file(&self.engine, &path) } {
            Ok(component) => Some(component),
            Err(_) => {
                // Unloadable (written by another wasmtime, or damaged): compile afresh.
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores the compiled form of `bytes`. Failing to cache is not an error: the next run
    /// compiles again.
    pub fn put(&self, key: &str, component: &Component) -> bool {
        let Ok(serialized) = component.serialize() else {
            return false;
        };
        crate::fsutil::write_atomic(&self.entry(key), &serialized).is_ok()
    }
}

/// Feeds what a [`std::hash::Hash`] value writes into a SHA-256.
struct HashInto<'a>(&'a mut Sha256);

impl std::hash::Hasher for HashInto<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Never asked for: `Hash` implementations only write.
    fn finish(&self) -> u64 {
        0
    }
}

/// What identifies one version of a file without reading it. Files weld writes are replaced by
/// rename, so a new version has a new inode even within one clock tick.
fn file_identity(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "{}:{}:{}:{}.{}",
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec()
    )
}

/// Cranelift's incremental-compilation cache on disk, keyed by a hash of each function's
/// (position-independent) IR. A component that shares functions with one compiled before (the
/// same Python component alone and inside the app, or an app after one of its components
/// changed) compiles only what is new.
///
/// Functions are kept in pack files, one per compile, not a file per function: an app has tens
/// of thousands of functions, and a file each cost more to write than compiling saved. The packs
/// are read once, at the first lookup; what a compile adds is written by [`FunctionCache::flush`]
/// as a new pack (temp file and rename, like every cache entry).
#[derive(Debug)]
pub struct FunctionCache {
    dir: PathBuf,
    known: std::sync::OnceLock<std::collections::HashMap<Vec<u8>, Vec<u8>>>,
    added: std::sync::Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl FunctionCache {
    /// A function cache under the cache directory `cache_dir`.
    pub fn new(cache_dir: &Path) -> FunctionCache {
        FunctionCache {
            dir: cache_dir.join("functions"),
            known: std::sync::OnceLock::new(),
            added: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Where the functions are kept.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every function in every pack. A pack that does not parse (cut short) is skipped.
    fn load(&self) -> std::collections::HashMap<Vec<u8>, Vec<u8>> {
        let mut known = std::collections::HashMap::new();
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "pack")
                && let Ok(bytes) = std::fs::read(&path)
            {
                let _ = read_pack(&bytes, &mut known);
            }
        }
        known
    }

    /// Writes what compiles added since the last flush as a new pack.
    pub fn flush(&self) {
        let added = std::mem::take(&mut *self.added.lock().expect("not poisoned"));
        if added.is_empty() {
            return;
        }
        let mut pack = Vec::new();
        for (key, value) in &added {
            for part in [key, value] {
                pack.extend((part.len() as u64).to_le_bytes());
                pack.extend(part);
            }
        }
        let name = format!("{:x}", Sha256::digest(&pack));
        let _ = crate::fsutil::write_atomic(&self.dir.join(format!("{name}.pack")), &pack);
    }
}

/// Adds the (key, value) records of a pack to `known`; `None` where it is cut short.
fn read_pack(
    mut bytes: &[u8],
    known: &mut std::collections::HashMap<Vec<u8>, Vec<u8>>,
) -> Option<()> {
    let take = |bytes: &mut &[u8]| -> Option<Vec<u8>> {
        let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
        let part = bytes.get(8..8 + len)?.to_vec();
        *bytes = &bytes[8 + len..];
        Some(part)
    };
    while !bytes.is_empty() {
        let key = take(&mut bytes)?;
        let value = take(&mut bytes)?;
        known.insert(key, value);
    }
    Some(())
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        self.known
            .get_or_init(|| self.load())
            .get(key)
            .map(|v| std::borrow::Cow::Borrowed(v.as_slice()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        self.added
            .lock()
            .expect("not poisoned")
            .push((key.to_vec(), value));
        true
    }
}
