//! The languages weld builds components from: what weld.toml says, what the toolchain finder
//! looks for and what the build runs. A leaf every stage uses.

use serde::Deserialize;

/// The languages weld builds from, as spelled in `lang = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// A cargo package built for wasm32-wasip2 with wit-bindgen.
    Rust,
    /// A Python module built with componentize-py.
    Python,
    /// A JavaScript module built with componentize-js.
    Js,
    /// A Go module built with stock Go for wasip1.
    Go,
    /// A prebuilt component from any language.
    Wasm,
}

impl Lang {
    /// The spelling used in weld.toml and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
            Lang::Go => "go",
            Lang::Wasm => "wasm",
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
