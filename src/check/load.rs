//! Reading a component file into its world, with a one-line reason for every kind of bad input.

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use wit_parser::{Resolve, WorldId};

/// A component, decoded: the world it imports and exports, in its own [`Resolve`].
pub struct Loaded {
    /// The name messages use: the component's name in weld.toml, or the file name.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// Its types.
    pub resolve: Resolve,
    /// Its world.
    pub world: WorldId,
    /// The file's bytes, so that later stages need not read it again.
    pub bytes: Vec<u8>,
}

/// Why a file is not a usable component.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LoadError {
    /// No such file (exit 2).
    #[error("{}: no such file", crate::fsutil::printable(path))]
    #[diagnostic(
        code(weld::input::missing),
        help("check the path; `weld build` puts components in target/weld/")
    )]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// Unreadable (exit 2).
    #[error("{}: cannot read: {source}", crate::fsutil::printable(path))]
    #[diagnostic(code(weld::input::unreadable))]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a component (exit 1): the reason says what it is instead.
    #[error("{}: {reason}", crate::fsutil::printable(path))]
    #[diagnostic(code(weld::input::not_a_component))]
    NotAComponent {
        /// The path.
        path: PathBuf,
        /// What it is, in one line.
        reason: String,
        /// What to do.
        #[help]
        help: Option<String>,
    },
    /// A valid component whose types WIT cannot express (exit 1): usable where nothing needs
    /// its world.
    #[error("{}: {reason}", crate::fsutil::printable(path))]
    #[diagnostic(code(weld::input::inexpressible))]
    Inexpressible {
        /// The path.
        path: PathBuf,
        /// Why it has no world, in one line.
        reason: String,
        /// What to do.
        #[help]
        help: Option<String>,
    },
}

impl LoadError {
    /// Whether the file is a valid component whose types WIT cannot express: usable where
    /// nothing needs its world (a WAC script's dependency, a run), not by the plug check.
    pub fn is_inexpressible(&self) -> bool {
        matches!(self, LoadError::Inexpressible { .. })
    }

    /// 2 for a file that is missing or unreadable, 1 for one that is not a component.
    pub fn exit_code(&self) -> u8 {
        match self {
            LoadError::NotAComponent { .. } | LoadError::Inexpressible { .. } => {
                crate::exit::EXIT_FAILURE
            }
            _ => crate::exit::EXIT_USAGE,
        }
    }
}

/// Reads, validates and decodes the component at `path`, calling it `name`.
pub fn load(path: &Path, name: &str) -> Result<Loaded, LoadError> {
    load_with(path, name, true)
}

/// [`load`], validating the component's code only with `validate` (a caller that knows this
/// very file validated before may skip it: it is most of the time a load takes).
pub fn load_with(path: &Path, name: &str, validate: bool) -> Result<Loaded, LoadError> {
    let bytes = crate::fsutil::read_file(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            LoadError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            LoadError::Unreadable {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    from_bytes(path, name, bytes, validate)
}

/// [`load_with`] for bytes already read, `path` naming them in messages.
pub fn from_bytes(
    path: &Path,
    name: &str,
    bytes: Vec<u8>,
    validate: bool,
) -> Result<Loaded, LoadError> {
    let (resolve, world) = decode(&bytes).map_err(|u| match u.valid {
        true => LoadError::Inexpressible {
            path: path.to_path_buf(),
            reason: u.reason,
            help: u.help,
        },
        false => LoadError::NotAComponent {
            path: path.to_path_buf(),
            reason: u.reason,
            help: u.help,
        },
    })?;
    // Decoding reads types only: code that does not validate would pass it.
    if validate && let Err(e) = super::validate::validate(&bytes) {
        let place = match super::validate::module_at(&bytes, super::sections::index(e.offset())) {
            Some(module) => format!("its {module}"),
            None => "it".to_string(),
        };
        return Err(LoadError::NotAComponent {
            path: path.to_path_buf(),
            reason: format!(
                "the component's types decode, but {place} does not validate: {} (at offset {:#x})",
                e.message(),
                e.offset()
            ),
            help: Some(
                "rebuild it: the file was damaged, or its toolchain wrote invalid code".into(),
            ),
        });
    }
    Ok(Loaded {
        name: name.to_string(),
        path: path.to_path_buf(),
        resolve,
        world,
        bytes,
    })
}

/// Why bytes did not decode into a world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecoded {
    /// What the bytes are instead, in one line.
    pub reason: String,
    /// What to do.
    pub help: Option<String>,
    /// Whether they are nonetheless a valid component, whose types WIT cannot express (an
    /// imported resource exported again, an exported type): it runs, and a WAC script, which
    /// checks types itself, can compose it.
    pub valid: bool,
}

fn undecoded(reason: String, help: Option<String>) -> Undecoded {
    Undecoded {
        reason,
        help,
        valid: false,
    }
}

/// The world of a component given as bytes, or why there is none.
pub fn decode(bytes: &[u8]) -> Result<(Resolve, WorldId), Undecoded> {
    if bytes.is_empty() {
        return Err(undecoded(
            "the file is empty, not a component".into(),
            Some("rebuild it (`weld build`)".into()),
        ));
    }
    if !bytes.starts_with(b"\0asm") {
        let what = if std::str::from_utf8(&bytes[..bytes.len().min(512)]).is_ok() {
            "a text file"
        } else {
            "not WebAssembly (no `\\0asm` header)"
        };
        return Err(undecoded(format!("this is {what}, not a component"), None));
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(undecoded(
            "this is a core WebAssembly module, not a component".into(),
            Some("wrap it with `wasm-tools component new MODULE.wasm -o COMPONENT.wasm` (with `--adapt` for a WASI preview 1 module), or build it for a component target such as wasm32-wasip2".into()),
        ));
    }
    // Every section must fit in what holds it before a decoder sizes a buffer by what the
    // section declares: 14 bytes can declare a 4 GiB custom section. Walking the sections
    // reads headers and slices, never copies.
    if let Some(e) = wasmparser::Parser::new(0)
        .parse_all(bytes)
        .find_map(Result::err)
    {
        let reason = if truncated(bytes) {
            format!("the component is truncated: a section is longer than the file ({e})")
        } else {
            format!("the component is invalid: {e}")
        };
        return Err(undecoded(
            reason,
            Some("rebuild it; a partial download or copy also looks like this".into()),
        ));
    }
    // Decoding reads the component's types, not its code: fast even for a 20 MB component.
    // Full validation runs only to say precisely why one does not decode (build and compose
    // validate what they produce).
    let decoded = crate::contained(|| wit_component::decode(bytes));
    if !matches!(decoded, Ok(Ok(_))) {
        let mut validator =
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
        if let Err(e) = validator.validate_all(bytes) {
            let reason = if truncated(bytes) {
                format!("the component is truncated ({e})")
            } else {
                format!("the component is invalid: {e}")
            };
            return Err(undecoded(
                reason,
                Some("rebuild it; a partial download or copy also looks like this".into()),
            ));
        }
    }
    // Valid, yet not expressible as a WIT world (or wit-component gave up on it).
    let inexpressible = |detail: String| {
        Undecoded {
        reason: format!("a valid component whose types WIT cannot express ({detail})"),
        help: Some("weld cannot check its imports against other components; compose it with a WAC script (`weld compose app.wac`), whose resolution checks the types itself".into()),
        valid: true,
    }
    };
    match decoded {
        Ok(Ok(wit_component::DecodedWasm::Component(resolve, world))) => Ok((resolve, world)),
        Ok(Ok(wit_component::DecodedWasm::WitPackage(..))) => Err(undecoded(
            "this is a WIT package encoded as wasm, not a component".into(),
            Some("a component implements a world; `weld check --wit DIR` checks WIT itself".into()),
        )),
        Ok(Err(e)) => Err(inexpressible(format!("{e:#}"))),
        Err(panic) => Err(inexpressible(format!("wit-component failed: {panic}"))),
    }
}

/// Whether the component ends before its sections do: a section (or a nested module or
/// component) that declares more bytes than the file holds, or bytes left over that do not make
/// a whole section.
fn truncated(bytes: &[u8]) -> bool {
    let mut parser = wasmparser::Parser::new(0);
    let mut pos = 0;
    loop {
        // Without `eof`, the parser asks for more data where the file stops short.
        match parser.parse(&bytes[pos..], false) {
            Ok(wasmparser::Chunk::NeedMoreData(_)) => return pos < bytes.len(),
            Ok(wasmparser::Chunk::Parsed { consumed, payload }) => {
                pos += consumed;
                match payload {
                    wasmparser::Payload::ModuleSection {
                        unchecked_range, ..
                    }
                    | wasmparser::Payload::ComponentSection {
                        unchecked_range, ..
                    } => {
                        let end = super::sections::index(unchecked_range.end);
                        if end > bytes.len() {
                            return true;
                        }
                        pos = end;
                    }
                    wasmparser::Payload::End(_) => return false,
                    _ => {}
                }
            }
            Err(_) => return false,
        }
    }
}
