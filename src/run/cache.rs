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
    /// A cache under `dir` (created on first store) for code `engine` compiles with `compiler`.
    /// Each compiler has its own directory, named after it: a dev run never evicts or loads the
    /// release profile's code.
    pub fn new(dir: PathBuf, compiler: super::Compiler, engine: &Engine) -> CodeCache {
        // A stable hash: DefaultHasher may change between Rust releases, which would orphan
        // every entry.
        let mut hasher = Sha256::new();
        use std::hash::Hash;
        engine
            .precompile_compatibility_hash()
            .hash(&mut HashInto(&mut hasher));
        hasher.update(env!("CARGO_PKG_VERSION"));
        hasher.update(compiler.name());
        let hash = format!("{:x}", hasher.finalize());
        let dir = compiled_dir(&dir).join(format!("{}-{}", compiler.name(), &hash[..16]));
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

    fn fallback_entry(&self, key: &str) -> PathBuf {
        self.dir.join("fallback").join(key)
    }

    /// Whether the component with key `key` is one this cache's compiler could not compile,
    /// so that it is compiled by (and cached for) Cranelift instead.
    pub fn falls_back(&self, key: &str) -> bool {
        self.fallback_entry(key).is_file()
    }

    /// Remembers that this cache's compiler cannot compile the component with key `key`.
    pub fn fall_back(&self, key: &str) {
        let _ = crate::fsutil::write_atomic(&self.fallback_entry(key), b"");
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
/// as a new pack (temp file and rename, like every cache entry). Packs do not pile up: when there
/// would be more than [`MAX_PACKS`], the flush merges them into one, keeping the newest functions
/// up to [`MAX_BYTES`], and removes the packs it merged.
#[derive(Debug)]
pub struct FunctionCache {
    dir: PathBuf,
    max_packs: usize,
    max_bytes: u64,
    known: std::sync::OnceLock<Known>,
    added: std::sync::Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
}

/// Packs beyond which a flush merges them all.
pub const MAX_PACKS: usize = 16;
/// The most a merged pack keeps (the newest functions first).
pub const MAX_BYTES: u64 = 1 << 30;

/// What the packs held when first read.
#[derive(Debug, Default)]
struct Known {
    /// key → (value, age: 0 for the newest pack).
    functions: std::collections::HashMap<Vec<u8>, (Vec<u8>, usize)>,
    /// The packs read, newest first; a merge removes exactly these.
    packs: Vec<PathBuf>,
}

impl FunctionCache {
    /// A function cache under the cache directory `cache_dir`.
    pub fn new(cache_dir: &Path) -> FunctionCache {
        FunctionCache::with_limits(cache_dir, MAX_PACKS, MAX_BYTES)
    }

    /// A function cache that merges beyond `max_packs` packs and keeps at most `max_bytes`.
    pub fn with_limits(cache_dir: &Path, max_packs: usize, max_bytes: u64) -> FunctionCache {
        FunctionCache {
            dir: cache_dir.join("functions"),
            max_packs: max_packs.max(1),
            max_bytes,
            known: std::sync::OnceLock::new(),
            added: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Where the functions are kept.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn known(&self) -> &Known {
        self.known.get_or_init(|| self.load())
    }

    /// Every function in every pack, a newer pack's value winning. A pack that does not parse
    /// (cut short) is skipped.
    fn load(&self) -> Known {
        let mut packs: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "pack"))
            .map(|path| {
                let modified = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (modified, path)
            })
            .collect();
        packs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let mut known = Known::default();
        for (age, (_, path)) in packs.into_iter().enumerate() {
            if let Ok(bytes) = std::fs::read(&path) {
                for_each_record(&bytes, |key, value| {
                    known.functions.entry(key).or_insert((value, age));
                });
            }
            known.packs.push(path);
        }
        known
    }

    /// Writes what compiles added since the last flush as a new pack, or, when that would make
    /// more than the pack limit, one merged pack in place of all of them.
    pub fn flush(&self) {
        let added = std::mem::take(&mut *self.added.lock().expect("not poisoned"));
        if added.is_empty() {
            return;
        }
        let known = self.known();
        if known.packs.len() < self.max_packs {
            write_pack(&self.dir, added.iter().map(|(k, v)| (k, v)));
            return;
        }
        // Newest first: what this compile added, then the packs by age, until the cap.
        let mut older: Vec<_> = known
            .functions
            .iter()
            .map(|(k, (v, age))| (k, v, *age))
            .collect();
        older.sort_by_key(|(_, _, age)| *age);
        let mut kept = 0u64;
        let mut seen = std::collections::HashSet::new();
        let records = added
            .iter()
            .map(|(k, v)| (k, v))
            .chain(older.into_iter().map(|(k, v, _)| (k, v)))
            .filter(|(k, _)| seen.insert(*k))
            .take_while(|(k, v)| {
                kept += (16 + k.len() + v.len()) as u64;
                kept <= self.max_bytes
            });
        if write_pack(&self.dir, records) {
            // Only the packs this process read: a pack another run wrote meanwhile stays.
            for pack in &known.packs {
                let _ = std::fs::remove_file(pack);
            }
        }
    }
}

/// Writes one pack of (key, value) records, named by its content; whether it was written.
fn write_pack<'a>(dir: &Path, records: impl Iterator<Item = (&'a Vec<u8>, &'a Vec<u8>)>) -> bool {
    let mut pack = Vec::new();
    for (key, value) in records {
        for part in [key, value] {
            pack.extend((part.len() as u64).to_le_bytes());
            pack.extend(part);
        }
    }
    if pack.is_empty() {
        return false;
    }
    let name = format!("{:x}", Sha256::digest(&pack));
    crate::fsutil::write_atomic(&dir.join(format!("{name}.pack")), &pack).is_ok()
}

/// Calls `f` with each (key, value) record of a pack, up to where it is cut short.
fn for_each_record(mut bytes: &[u8], mut f: impl FnMut(Vec<u8>, Vec<u8>)) {
    let take = |bytes: &mut &[u8]| -> Option<Vec<u8>> {
        let len = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
        let part = bytes.get(8..8usize.checked_add(len)?)?.to_vec();
        *bytes = &bytes[8 + len..];
        Some(part)
    };
    while !bytes.is_empty() {
        let (Some(key), Some(value)) = (take(&mut bytes), take(&mut bytes)) else {
            return;
        };
        f(key, value);
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        self.known()
            .functions
            .get(key)
            .map(|(v, _)| std::borrow::Cow::Borrowed(v.as_slice()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        self.added
            .lock()
            .expect("not poisoned")
            .push((key.to_vec(), value));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::CacheStore;

    fn record(i: u32) -> (Vec<u8>, Vec<u8>) {
        (format!("key {i}").into_bytes(), vec![i as u8; 100])
    }

    fn packs(dir: &Path) -> usize {
        std::fs::read_dir(dir.join("functions")).unwrap().count()
    }

    /// One compile per process, as `weld run` does: a fresh cache reads the packs, adds, flushes.
    fn compile(dir: &Path, max_packs: usize, max_bytes: u64, new: std::ops::Range<u32>) {
        let cache = FunctionCache::with_limits(dir, max_packs, max_bytes);
        let _ = cache.get(b"anything");
        for i in new {
            let (k, v) = record(i);
            cache.insert(&k, v);
        }
        cache.flush();
    }

    #[test]
    fn packs_are_merged_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..20 {
            compile(dir.path(), 4, MAX_BYTES, round * 10..round * 10 + 10);
            assert!(
                packs(dir.path()) <= 4,
                "round {round}: {} packs",
                packs(dir.path())
            );
        }
        let cache = FunctionCache::new(dir.path());
        for i in 0..200 {
            let (k, v) = record(i);
            assert_eq!(cache.get(&k).as_deref(), Some(&v[..]), "function {i}");
        }
    }

    #[test]
    fn a_merge_keeps_the_newest_functions_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        // Each record takes 16 + 6 + 100 bytes; the cap holds 20 of them.
        let cap = 20 * 122;
        for round in 0..3 {
            compile(dir.path(), 2, cap, round * 10..round * 10 + 10);
            // Distinct modification times order the packs.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(packs(dir.path()), 1);
        let cache = FunctionCache::new(dir.path());
        let kept: Vec<u32> = (0..30)
            .filter(|&i| cache.get(&record(i).0).is_some())
            .collect();
        assert_eq!(kept, (10..30).collect::<Vec<_>>());
    }

    #[test]
    fn a_cut_short_pack_gives_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        compile(dir.path(), MAX_PACKS, MAX_BYTES, 0..3);
        let pack = std::fs::read_dir(dir.path().join("functions"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let bytes = std::fs::read(&pack).unwrap();
        std::fs::write(&pack, &bytes[..bytes.len() - 50]).unwrap();
        let cache = FunctionCache::new(dir.path());
        let found = (0..3)
            .filter(|&i| cache.get(&record(i).0).is_some())
            .count();
        assert_eq!(found, 2);
    }
}
