//! Which registry holds a package, and how to reach it: read from wkg's own configuration file
//! (`$XDG_CONFIG_HOME/wasm-pkg/config.toml`, or `$WKG_CONFIG_FILE`) with wkg's own types, so a
//! machine set up for wkg needs nothing more.

use std::path::PathBuf;

use serde::Deserialize;
use wasm_pkg_common::config::{Config, RegistryMapping};
use wasm_pkg_common::metadata::RegistryMetadata;
use wasm_pkg_common::package::PackageRef;
use wasm_pkg_common::registry::Registry;

use super::PackageError;
use crate::oci::Transport;

/// The configuration, loaded once per run.
pub struct Registries {
    config: Config,
    /// Where it is looked for (whether or not a file is there), for messages.
    path: Option<PathBuf>,
}

/// Where a package lives: the registry's name (as the configuration and the lock spell it) and
/// the OCI repository it maps to.
#[derive(Debug, Clone)]
pub struct Place {
    /// The registry as configured (`wasi.dev`, `127.0.0.1:9`).
    pub registry: String,
    /// The OCI registry that stores it (the metadata's `oci.registry`, else the same).
    pub oci_registry: String,
    /// `PREFIX` + `namespace/name`.
    pub repository: String,
    /// How to speak to the OCI registry.
    pub transport: Transport,
}

impl Place {
    /// `REGISTRY/REPOSITORY:VERSION`.
    pub fn reference(&self, version: &semver::Version) -> String {
        format!("{}/{}:{version}", self.oci_registry, self.repository)
    }
}

/// `[registry."NAME".oci]` in wkg's configuration.
#[derive(Debug, Default, Deserialize)]
struct OciSettings {
    #[serde(default)]
    auth: Option<Auth>,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    accept_invalid_certificates: bool,
    #[serde(default)]
    extra_root_certificates: Vec<ExtraCertificate>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Auth {
    Basic {
        username: String,
        password: String,
    },
    /// base64 of `username:password`.
    Encoded(String),
}

#[derive(Debug, Deserialize)]
struct ExtraCertificate {
    encoding: String,
    data: String,
}

/// The metadata's `oci` block.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OciMetadata {
    registry: Option<String>,
    namespace_prefix: Option<String>,
}

impl Registries {
    /// wkg's built-in defaults with the configuration file over them.
    pub fn load() -> Result<Registries, PackageError> {
        let path = std::env::var_os("WKG_CONFIG_FILE")
            .map(PathBuf::from)
            .or_else(Config::global_config_path);
        let mut config = Config::default();
        if let Some(path) = &path {
            match crate::fsutil::read_text(path) {
                Ok(text) => {
                    let file = Config::from_toml(&text).map_err(|e| PackageError::Config {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                    config.merge(file);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(PackageError::Config {
                        path: path.clone(),
                        message: format!("cannot read it: {e}"),
                    });
                }
            }
        }
        Ok(Registries { config, path })
    }

    /// Where `package` lives: `registry` when weld.toml names one, else as wkg resolves it
    /// (package override, namespace mapping, default registry, built-in fallbacks).
    pub async fn place(
        &self,
        package: &str,
        registry: Option<&str>,
    ) -> Result<Place, PackageError> {
        let parsed: PackageRef = package.parse().map_err(|e| PackageError::Name {
            package: package.to_string(),
            message: format!("{e}"),
        })?;
        // The mapping wkg's configuration has for the package; its inline metadata also
        // applies when weld.toml or weld.lock names the same registry.
        let mapping = self
            .config
            .package_registry_override(&parsed)
            .or_else(|| self.config.namespace_registry(parsed.namespace()));
        let name: Registry = match registry {
            Some(r) => r.parse().map_err(|e| PackageError::Config {
                path: PathBuf::from("weld.toml"),
                message: format!("registry `{r}` for {package}: {e}"),
            })?,
            None => self
                .config
                .resolve_registry(&parsed)
                .cloned()
                .ok_or_else(|| PackageError::NoRegistry {
                    package: package.to_string(),
                    config: self.shown_path(),
                })?,
        };
        let inline = match mapping {
            Some(RegistryMapping::Custom(custom)) if custom.registry == name => {
                Some(custom.metadata.clone())
            }
            _ => None,
        };
        let metadata = match inline {
            Some(m) => m,
            None => fetch_metadata(&name).await,
        };
        let oci: OciMetadata = metadata
            .protocol_config("oci")
            .ok()
            .flatten()
            .unwrap_or_default();
        let oci_registry = oci.registry.unwrap_or_else(|| name.to_string());
        let repository = format!(
            "{}{}/{}",
            oci.namespace_prefix.unwrap_or_default(),
            parsed.namespace(),
            parsed.name()
        );
        let transport = self.transport(&name, &oci_registry)?;
        Ok(Place {
            registry: name.to_string(),
            oci_registry,
            repository,
            transport,
        })
    }

    /// The OCI settings of registry `name`, as a transport to `oci_registry`.
    fn transport(&self, name: &Registry, oci_registry: &str) -> Result<Transport, PackageError> {
        let bad = |message: String| PackageError::Config {
            path: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from("config.toml")),
            message: format!("[registry.\"{name}\".oci]: {message}"),
        };
        let settings: OciSettings = match self.config.registry_config(name) {
            Some(c) => c
                .backend_config("oci")
                .map_err(|e| bad(e.to_string()))?
                .unwrap_or_default(),
            None => OciSettings::default(),
        };
        if settings.accept_invalid_certificates {
            return Err(bad("accept_invalid_certificates is set: weld never skips a certificate check; give the registry's CA in extra_root_certificates instead".into()));
        }
        let mut transport = Transport::default();
        match settings.protocol.as_deref() {
            Some("http") => transport.insecure.push(oci_registry.to_string()),
            None | Some("https") => {}
            Some(other) => {
                return Err(bad(format!(
                    "protocol = \"{other}\": it is \"http\" or \"https\""
                )));
            }
        }
        for c in &settings.extra_root_certificates {
            let encoding = match c.encoding.as_str() {
                "pem" => oci_client::client::CertificateEncoding::Pem,
                "der" => oci_client::client::CertificateEncoding::Der,
                other => {
                    return Err(bad(format!(
                        "certificate encoding `{other}`: it is pem or der"
                    )));
                }
            };
            transport
                .certificates
                .push(oci_client::client::Certificate {
                    encoding,
                    data: c.data.as_bytes().to_vec(),
                });
        }
        transport.credentials = match settings.auth {
            Some(Auth::Basic { username, password }) => Some((username, password)),
            Some(Auth::Encoded(text)) => {
                use base64::Engine as _;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| bad("auth is not base64 of USERNAME:PASSWORD".into()))?;
                let (u, p) = decoded
                    .split_once(':')
                    .ok_or_else(|| bad("auth is not base64 of USERNAME:PASSWORD".into()))?;
                Some((u.to_string(), p.to_string()))
            }
            None => None,
        };
        // wkg's variable, named after the OCI registry: WKG_REGISTRY_<REGISTRY>_AUTH_BEARER.
        let var: String = oci_registry
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        if let Ok(token) = std::env::var(format!("WKG_REGISTRY_{var}_AUTH_BEARER"))
            && !token.is_empty()
        {
            transport.token = Some(token);
        }
        Ok(transport)
    }

    /// The configuration file, for messages.
    pub fn shown_path(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.config/wasm-pkg/config.toml".into())
    }
}

/// The registry's `/.well-known/wasm-pkg/registry.json`, or the defaults (the registry is its
/// own OCI registry, no prefix) when it has none or cannot say, as wkg does: a registry that is
/// down is then reported by the OCI request that follows, with its address.
async fn fetch_metadata(registry: &Registry) -> RegistryMetadata {
    let scheme = if crate::oci::is_loopback(registry.as_ref()) {
        "http"
    } else {
        "https"
    };
    let url = format!(
        "{scheme}://{registry}{}",
        wasm_pkg_common::metadata::REGISTRY_METADATA_PATH
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Ok(client) = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
    else {
        return RegistryMetadata::default();
    };
    let Ok(response) = client.get(&url).send().await else {
        return RegistryMetadata::default();
    };
    if !response.status().is_success() {
        return RegistryMetadata::default();
    }
    match response.bytes().await {
        // A document that does not parse is no metadata, as a missing one.
        Ok(body) if body.len() < 1 << 20 => serde_json::from_slice(&body).unwrap_or_default(),
        _ => RegistryMetadata::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registries(toml: &str) -> Registries {
        Registries {
            config: {
                let mut c = Config::default();
                c.merge(Config::from_toml(toml).unwrap());
                c
            },
            path: None,
        }
    }

    /// wkg's resolution, asking nothing beyond loopback (port 9, where nothing listens, for the
    /// well-known metadata of registries without inline metadata): inline metadata gives the OCI registry and prefix (also
    /// when weld.lock names that registry again), a package override beats the namespace, and the
    /// registry's settings become the transport.
    #[test]
    fn places_follow_wkg_configuration() {
        let r = registries(
            r#"
default_registry = "127.0.0.1:9"

[namespace_registries]
acme = { registry = "acme", metadata = { preferredProtocol = "oci", oci = { registry = "ghcr.io", namespacePrefix = "acme-corp/" } } }

[package_registry_overrides]
"acme:special" = { registry = "special", metadata = { oci = { registry = "localhost:5001" } } }

[registry."acme".oci]
auth = { username = "u", password = "p" }

[registry."127.0.0.1:9".oci]
protocol = "http"
"#,
        );
        let place =
            |p: &str, reg: Option<&str>| crate::oci::block_on(r.place(p, reg)).unwrap().unwrap();
        let billing = place("acme:billing", None);
        assert_eq!(billing.registry, "acme");
        assert_eq!(
            billing.reference(&semver::Version::new(1, 2, 0)),
            "ghcr.io/acme-corp/acme/billing:1.2.0"
        );
        assert_eq!(
            billing.transport.credentials,
            Some(("u".into(), "p".into()))
        );
        // The lock names the registry: the same inline metadata applies.
        assert_eq!(place("acme:billing", Some("acme")).oci_registry, "ghcr.io");
        assert_eq!(
            place("acme:special", None).reference(&semver::Version::new(0, 1, 0)),
            "localhost:5001/acme/special:0.1.0"
        );
        let other = place("other:thing", None);
        assert_eq!(other.registry, "127.0.0.1:9");
        assert_eq!(other.transport.insecure, vec!["127.0.0.1:9".to_string()]);

        let bad =
            registries("[registry.\"127.0.0.1:9\".oci]\naccept_invalid_certificates = true\n");
        let e = crate::oci::block_on(bad.place("a:b", Some("127.0.0.1:9")))
            .unwrap()
            .unwrap_err();
        assert!(
            e.to_string().contains("never skips a certificate check"),
            "{e}"
        );
        let none = registries("");
        let e = crate::oci::block_on(none.place("acme:billing", None))
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, PackageError::NoRegistry { .. }), "{e}");
    }
}
