//! The CNCF TAG Runtime Wasm OCI artifact: an OCI image manifest whose config is
//! `application/vnd.wasm.config.v0+json` and whose one layer is the component
//! (`application/wasm`). weld writes the manifest and config bytes itself, so the same app with
//! the same metadata always has the same digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::OciError;

/// The OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The Wasm artifact's config media type.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The Wasm artifact's layer media type.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The layer type the Bytecode Alliance's older tools push; runwasi accepts it, so does pull.
pub const BCA_LAYER_MEDIA_TYPE: &str =
    "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm";
/// The annotation that names a layer's file.
pub const TITLE: &str = "org.opencontainers.image.title";

/// `sha256:HEX` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

/// The config blob (`application/vnd.wasm.config.v0+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// RFC 3339; from `SOURCE_DATE_EPOCH` when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Always `wasm`.
    pub architecture: String,
    /// `wasip2` for a component.
    pub os: String,
    /// The layers' digests, in manifest order.
    pub layer_digests: Vec<String>,
    /// What the component imports and exports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentInfo>,
}

/// The `component` field of the config: the world the component has, as interface names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentInfo {
    /// Exported interfaces (`wasi:http/incoming-handler@0.2.6`) and functions.
    pub exports: Vec<String>,
    /// Imported interfaces and functions.
    pub imports: Vec<String>,
    /// The standard world it targets, when it is one weld recognises (`wasi:http/proxy@0.2.6`,
    /// `wasi:cli/command@0.2.6`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl ComponentInfo {
    /// Decodes a component's world. Fails on bytes that are not a component.
    pub fn of(bytes: &[u8]) -> Result<ComponentInfo, OciError> {
        if !bytes.starts_with(b"\0asm") {
            return Err(OciError::NotComponent(
                "not a WebAssembly binary (it does not start with \\0asm)".into(),
            ));
        }
        // wit-component also decodes a core module (as an empty world): tell them apart first.
        if wasmparser::Parser::is_core_wasm(bytes) {
            return Err(OciError::NotComponent(
                "a core WebAssembly module, not a component".into(),
            ));
        }
        let decoded = crate::contained(|| wit_component::decode(bytes))
            .map_err(|panic| OciError::NotComponent(format!("decoding failed: {panic}")))?
            .map_err(|e| OciError::NotComponent(format!("{e:#}")))?;
        let (resolve, world) = match decoded {
            wit_component::DecodedWasm::Component(resolve, world) => (resolve, world),
            wit_component::DecodedWasm::WitPackage(..) => {
                return Err(OciError::NotComponent(
                    "this is a WIT package, not a component".into(),
                ));
            }
        };
        let w = &resolve.worlds[world];
        let names = |items: &indexmap::IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>| {
            items
                .iter()
                // A world also lists the types its functions use; only interfaces and
                // functions are things a host provides or calls.
                .filter(|(_, item)| !matches!(item, wit_parser::WorldItem::Type { .. }))
                .map(|(key, _)| resolve.name_world_key(key))
                .collect::<Vec<_>>()
        };
        let exports = names(&w.exports);
        let imports = names(&w.imports);
        let target = exports.iter().find_map(|e| {
            let (base, version) = e.split_once('@').unwrap_or((e, ""));
            let world = match base {
                "wasi:http/incoming-handler" => "wasi:http/proxy",
                "wasi:http/handler" if version.starts_with("0.3.") => "wasi:http/service",
                "wasi:cli/run" => "wasi:cli/command",
                _ => return None,
            };
            Some(if version.is_empty() {
                world.to_string()
            } else {
                format!("{world}@{version}")
            })
        });
        Ok(ComponentInfo {
            exports,
            imports,
            target,
        })
    }

    /// What an encoded WIT package offers: its worlds (`ns:pkg/world@version`) and interfaces,
    /// as exports, the way wkg's publisher lists them. Fails on anything else.
    pub fn of_package(bytes: &[u8]) -> Result<ComponentInfo, OciError> {
        let not =
            |why: String| OciError::NotComponent(format!("not an encoded WIT package: {why}"));
        if !bytes.starts_with(b"\0asm") || wasmparser::Parser::is_core_wasm(bytes) {
            return Err(not("it is not a component-model binary".into()));
        }
        let decoded = crate::contained(|| wit_component::decode(bytes))
            .map_err(|panic| not(format!("decoding failed: {panic}")))?
            .map_err(|e| not(format!("{e:#}")))?;
        let wit_component::DecodedWasm::WitPackage(resolve, pkg) = decoded else {
            return Err(not("it is a component".into()));
        };
        let package = &resolve.packages[pkg];
        let version = package
            .name
            .version
            .as_ref()
            .map(|v| format!("@{v}"))
            .unwrap_or_default();
        let mut exports: Vec<String> = package
            .worlds
            .keys()
            .map(|w| {
                format!(
                    "{}:{}/{w}{version}",
                    package.name.namespace, package.name.name
                )
            })
            .chain(
                package
                    .interfaces
                    .values()
                    .filter_map(|id| resolve.id_of(*id)),
            )
            .collect();
        exports.sort();
        Ok(ComponentInfo {
            exports,
            imports: Vec::new(),
            target: None,
        })
    }

    /// Whether the component is a WASI 0.2 HTTP app (the proxy world), as the deploy targets'
    /// shims serve. A 0.3 service is not counted: they are not known to serve one.
    pub fn is_http(&self) -> bool {
        self.exports
            .iter()
            .any(|e| e.starts_with("wasi:http/incoming-handler@"))
    }

    /// Whether the component is a command.
    pub fn is_command(&self) -> bool {
        self.exports.iter().any(|e| e.starts_with("wasi:cli/run@"))
    }
}

/// A content descriptor in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the blob is.
    pub media_type: String,
    /// `sha256:HEX`.
    pub digest: String,
    /// Its length in bytes.
    pub size: u64,
    /// For a layer: its file name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image manifest (only the fields weld writes and reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's own media type; an index or a Docker manifest says so here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// `org.opencontainers.image.*`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// What a pushed artifact says about itself, beyond the component.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metadata {
    /// The layer's file name without `.wasm`: the project's name.
    pub name: String,
    /// `org.opencontainers.image.version`.
    pub version: Option<String>,
    /// `org.opencontainers.image.description`.
    pub description: Option<String>,
    /// `org.opencontainers.image.licenses` (an SPDX expression).
    pub licenses: Option<String>,
    /// `org.opencontainers.image.source`: where the source lives.
    pub source: Option<String>,
    /// `org.opencontainers.image.revision`: the source's commit.
    pub revision: Option<String>,
    /// `org.opencontainers.image.created`, RFC 3339.
    pub created: Option<String>,
}

/// A Wasm OCI artifact ready to push: the three blobs and their digests.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The manifest's bytes, as pushed.
    pub manifest: Vec<u8>,
    /// The config's bytes.
    pub config: Vec<u8>,
    /// The component.
    pub layer: Vec<u8>,
    /// The parsed manifest.
    pub parsed: Manifest,
    /// The parsed config.
    pub wasm: WasmConfig,
}

impl Artifact {
    /// Packs `component` with `meta`. Fails when `component` is not a component.
    pub fn new(component: Vec<u8>, meta: &Metadata) -> Result<Artifact, OciError> {
        let info = ComponentInfo::of(&component)?;
        Ok(Artifact::pack(component, info, meta))
    }

    /// Packs an encoded WIT package as wkg publishes one: the config lists its worlds and
    /// interfaces as exports. Fails when `package` is not an encoded WIT package.
    pub fn package(package: Vec<u8>, meta: &Metadata) -> Result<Artifact, OciError> {
        let info = ComponentInfo::of_package(&package)?;
        Ok(Artifact::pack(package, info, meta))
    }

    fn pack(component: Vec<u8>, info: ComponentInfo, meta: &Metadata) -> Artifact {
        let layer_digest = digest(&component);
        let wasm = WasmConfig {
            created: meta.created.clone(),
            architecture: "wasm".into(),
            os: "wasip2".into(),
            layer_digests: vec![layer_digest.clone()],
            component: Some(info),
        };
        let config = serde_json::to_vec(&wasm).expect("the config serialises");
        let mut annotations = BTreeMap::new();
        let fields = [
            ("version", &meta.version),
            ("description", &meta.description),
            ("licenses", &meta.licenses),
            ("source", &meta.source),
            ("revision", &meta.revision),
            ("created", &meta.created),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                annotations.insert(format!("org.opencontainers.image.{key}"), value.clone());
            }
        }
        let parsed = Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.into()),
            config: Descriptor {
                media_type: CONFIG_MEDIA_TYPE.into(),
                digest: digest(&config),
                size: config.len() as u64,
                annotations: BTreeMap::new(),
            },
            layers: vec![Descriptor {
                media_type: LAYER_MEDIA_TYPE.into(),
                digest: layer_digest,
                size: component.len() as u64,
                annotations: BTreeMap::from([(TITLE.to_string(), format!("{}.wasm", meta.name))]),
            }],
            annotations,
        };
        let manifest = serde_json::to_vec(&parsed).expect("the manifest serialises");
        Artifact {
            manifest,
            config,
            layer: component,
            parsed,
            wasm,
        }
    }

    /// The manifest's digest: what the registry names the pushed artifact by.
    pub fn digest(&self) -> String {
        digest(&self.manifest)
    }
}

/// What a manifest pulled from a registry holds, judged against the Wasm artifact layout: the
/// layer to take, or why there is none.
pub fn wasm_layer(manifest: &Manifest, config: Option<&[u8]>) -> Result<Descriptor, OciError> {
    let layers: Vec<&Descriptor> = manifest
        .layers
        .iter()
        .filter(|l| l.media_type == LAYER_MEDIA_TYPE || l.media_type == BCA_LAYER_MEDIA_TYPE)
        .collect();
    let config_type = manifest.config.media_type.as_str();
    // Every refusal names the config and layer types it saw.
    let not_wasm = |kind: String| OciError::NotWasm {
        kind,
        config: config_type.to_string(),
        layers: manifest
            .layers
            .iter()
            .map(|l| l.media_type.clone())
            .collect(),
    };
    let kind =
        if config_type == CONFIG_MEDIA_TYPE || config_type.starts_with("application/vnd.wasm.") {
            None
        } else if config_type == "application/vnd.fermyon.spin.application.v1+config" {
            Some("a Spin application (Spin's own format, for `spin up`)")
        } else if config_type == "application/vnd.oci.image.config.v1+json"
            || config_type == "application/vnd.docker.container.image.v1+json"
        {
            Some("a container image")
        } else {
            Some("not a Wasm artifact")
        };
    if let Some(kind) = kind
        && layers.is_empty()
    {
        return Err(not_wasm(kind.to_string()));
    }
    match layers.as_slice() {
        [one] => {
            // A config that lists its layers must list this one.
            if let Some(config) = config.and_then(|c| serde_json::from_slice::<WasmConfig>(c).ok())
                && !config.layer_digests.is_empty()
                && !config.layer_digests.contains(&one.digest)
            {
                return Err(OciError::Corrupt(format!(
                    "the config's layerDigests do not name the layer {}",
                    one.digest
                )));
            }
            Ok((*one).clone())
        }
        [] => Err(not_wasm(
            "not a Wasm artifact: it has no application/wasm layer".into(),
        )),
        many => Err(not_wasm(format!(
            "an artifact with {} Wasm layers; weld runs one component",
            many.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Vec<u8> {
        // The smallest component: no imports, no exports.
        wat::parse_str("(component)").unwrap()
    }

    #[test]
    fn the_same_input_packs_to_the_same_digest() {
        let meta = Metadata {
            name: "app".into(),
            version: Some("1.2.0".into()),
            created: Some("2026-01-01T00:00:00Z".into()),
            ..Metadata::default()
        };
        let a = Artifact::new(hello(), &meta).unwrap();
        let b = Artifact::new(hello(), &meta).unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.parsed.layers.len(), 1);
        assert_eq!(a.parsed.layers[0].media_type, LAYER_MEDIA_TYPE);
        assert_eq!(a.parsed.layers[0].annotations[TITLE], "app.wasm");
        assert_eq!(a.parsed.config.media_type, CONFIG_MEDIA_TYPE);
        assert_eq!(a.wasm.layer_digests, [digest(&a.layer)]);
        assert_eq!(
            a.parsed.annotations["org.opencontainers.image.version"],
            "1.2.0"
        );
        let other = Metadata {
            created: Some("2026-01-02T00:00:00Z".into()),
            ..meta
        };
        assert_ne!(a.digest(), Artifact::new(hello(), &other).unwrap().digest());
    }

    #[test]
    fn a_core_module_is_not_packed() {
        let module = wat::parse_str("(module)").unwrap();
        let e = Artifact::new(module, &Metadata::default()).unwrap_err();
        assert!(matches!(e, OciError::NotComponent(_)), "{e}");
    }

    fn manifest(config: &str, layers: &[&str]) -> Manifest {
        let descriptor = |media_type: &str, bytes: &[u8]| Descriptor {
            media_type: media_type.into(),
            digest: digest(bytes),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        };
        Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.into()),
            config: descriptor(config, b"{}"),
            layers: layers
                .iter()
                .enumerate()
                .map(|(i, t)| descriptor(t, format!("layer {i}").as_bytes()))
                .collect(),
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn what_pull_takes_and_what_it_names() {
        // The CNCF layout, and the Bytecode Alliance's older layer type.
        for layer in [LAYER_MEDIA_TYPE, BCA_LAYER_MEDIA_TYPE] {
            let m = manifest(CONFIG_MEDIA_TYPE, &[layer]);
            assert_eq!(wasm_layer(&m, None).unwrap().media_type, layer);
        }
        let cases = [
            (
                "application/vnd.oci.image.config.v1+json",
                vec!["application/vnd.oci.image.layer.v1.tar+gzip"],
                "a container image",
            ),
            (
                "application/vnd.fermyon.spin.application.v1+config",
                vec!["application/vnd.wasm.content.layer.v1+wasm"],
                "a Spin application",
            ),
            (
                CONFIG_MEDIA_TYPE,
                vec![LAYER_MEDIA_TYPE, LAYER_MEDIA_TYPE],
                "2 Wasm layers",
            ),
            (CONFIG_MEDIA_TYPE, vec![], "no application/wasm layer"),
        ];
        for (config, layers, says) in cases {
            let e = wasm_layer(&manifest(config, &layers), None).unwrap_err();
            assert!(e.to_string().contains(says), "{config}: {e}");
        }
        // A config whose layerDigests do not name the layer is inconsistent.
        let m = manifest(CONFIG_MEDIA_TYPE, &[LAYER_MEDIA_TYPE]);
        let config = br#"{"architecture":"wasm","os":"wasip2","layerDigests":["sha256:00"]}"#;
        let e = wasm_layer(&m, Some(config)).unwrap_err();
        assert!(matches!(e, OciError::Corrupt(_)), "{e}");
    }
}
