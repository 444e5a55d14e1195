//! Registries: pushing a composed app as a Wasm OCI artifact, and pulling one back, every
//! digest verified. The transport is oci-client (rustls on ring); the artifact's manifest and
//! config are weld's own (artifact.rs), so digests are reproducible.

pub mod artifact;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use miette::Diagnostic;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};

pub use artifact::{Artifact, ComponentInfo, Manifest, Metadata, WasmConfig};

/// Why a push or pull failed.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum OciError {
    /// The reference does not parse.
    #[error("`{reference}` is not an image reference: {reason}")]
    #[diagnostic(
        code(weld::oci::reference),
        help(
            "write REGISTRY/REPOSITORY:TAG, e.g. localhost:5000/shop:0.1.0 or ghcr.io/you/shop:latest"
        )
    )]
    Reference {
        /// As given.
        reference: String,
        /// The parser's words.
        reason: String,
    },

    /// The file to push is not a component.
    #[error("not a component: {0}")]
    #[diagnostic(
        code(weld::oci::not_component),
        help(
            "push a component (`weld compose` writes the app as one); a core module cannot run under the component model"
        )
    )]
    NotComponent(String),

    /// What the registry holds under the reference is not a Wasm component artifact.
    #[error("{kind}")]
    #[diagnostic(
        code(weld::oci::not_wasm),
        help("weld pulls Wasm OCI artifacts (config application/vnd.wasm.config.v0+json, one application/wasm layer); this has config {config} and layers [{}]", layers.join(", ")),
    )]
    NotWasm {
        /// What it is instead.
        kind: String,
        /// Its config media type.
        config: String,
        /// Its layers' media types.
        layers: Vec<String>,
    },

    /// A blob or manifest whose bytes do not match its digest.
    #[error("{0}")]
    #[diagnostic(
        code(weld::oci::corrupt),
        help("the registry returned content that does not match its digest; nothing was written")
    )]
    Corrupt(String),

    /// Nothing under that reference.
    #[error("{reference}: no such tag or digest in the registry")]
    #[diagnostic(
        code(weld::oci::not_found),
        help("check the tag (`weld push` prints what it pushed), or push the app first")
    )]
    NotFound {
        /// As given.
        reference: String,
    },

    /// The registry refused our credentials, or wants some.
    #[error("{registry}: {message}")]
    #[diagnostic(
        code(weld::oci::auth),
        help(
            "log in with `docker login {registry}` (weld reads Docker's credentials and helpers), or pass --username and --password-stdin"
        )
    )]
    Auth {
        /// The registry host.
        registry: String,
        /// What it said.
        message: String,
    },

    /// The registry could not be reached or answered with an error.
    #[error("{registry}: {message}")]
    #[diagnostic(
        code(weld::oci::registry),
        help(
            "check the registry's address and that it is up; a registry without TLS needs --insecure HOST:PORT (loopback ones are plain HTTP already)"
        )
    )]
    Registry {
        /// The registry host.
        registry: String,
        /// What went wrong.
        message: String,
    },

    /// The registry's TLS certificate was refused: weld never falls back to plain HTTP.
    #[error("{registry}: its TLS certificate is not trusted: {reason}")]
    #[diagnostic(code(weld::oci::certificate), help("{help}"))]
    Certificate {
        /// The registry host.
        registry: String,
        /// Which check failed, in words.
        reason: String,
        /// What to do about that check.
        help: String,
    },

    /// A `--ca-file` that cannot be read or holds no certificate.
    #[error("{}: {message}", crate::fsutil::printable(path))]
    #[diagnostic(
        code(weld::oci::ca_file),
        help(
            "give --ca-file a PEM file of the CA certificates that sign the registry's certificate"
        )
    )]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// The async runtime a registry conversation runs on cannot start.
    #[error("cannot start the async runtime: {0}")]
    #[diagnostic(code(weld::oci::runtime))]
    Runtime(String),

    /// Docker's credential store failed (other than having no entry).
    #[error("cannot read credentials for {registry}: {message}")]
    #[diagnostic(code(weld::oci::credentials))]
    Credentials {
        /// The registry host.
        registry: String,
        /// What went wrong.
        message: String,
    },
}

impl OciError {
    /// 1 when the artifact or component is wrong, 2 for usage and environment.
    pub fn exit_code(&self) -> u8 {
        match self {
            OciError::NotComponent(_) | OciError::NotWasm { .. } | OciError::Corrupt(_) => {
                crate::exit::EXIT_FAILURE
            }
            _ => crate::exit::EXIT_USAGE,
        }
    }
}

/// Runs one registry conversation (a push, a pull, a fetch) to its end on a runtime of its own.
pub fn block_on<F: std::future::Future>(conversation: F) -> Result<F::Output, OciError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| OciError::Runtime(e.to_string()))?;
    Ok(runtime.block_on(conversation))
}

/// A parsed reference, as the user wrote it (an `oci://` in front, as `weld run` takes it, is
/// allowed).
pub fn parse_reference(text: &str) -> Result<Reference, OciError> {
    let bare = text.strip_prefix("oci://").unwrap_or(text);
    bare.parse::<Reference>().map_err(|e| OciError::Reference {
        reference: text.to_string(),
        reason: e.to_string(),
    })
}

/// `org.opencontainers.image.created`: `SOURCE_DATE_EPOCH` when set (reproducible builds'
/// convention), else now; RFC 3339 in UTC, to the second.
pub fn created() -> Result<String, String> {
    let time = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => {
            let seconds: i64 = epoch.trim().parse().map_err(|_| {
                format!(
                    "SOURCE_DATE_EPOCH is `{epoch}`: it must be seconds since 1970, e.g. 1767225600"
                )
            })?;
            chrono::DateTime::from_timestamp(seconds, 0)
                .ok_or_else(|| format!("SOURCE_DATE_EPOCH {seconds} is out of range"))?
        }
        Err(_) => chrono::Utc::now(),
    };
    Ok(time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// What the project says about itself for the artifact's annotations: its name and `[project]`'s
/// version, description, license and source, and from git (when the project is in a
/// repository) the commit, and the `origin` remote when `source` is not given.
pub fn project_metadata(plan: &crate::project::Plan) -> Metadata {
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&plan.root)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    // Only a web address: an ssh remote (`git@host:path`) means nothing to a registry's reader,
    // and one with credentials in it must not be published.
    let source = git(&["remote", "get-url", "origin"])
        .filter(|u| u.starts_with("https://") && !u["https://".len()..].contains('@'));
    let about = &plan.about;
    Metadata {
        name: plan.name.clone(),
        version: about.version.clone(),
        description: about.description.clone(),
        licenses: about.license.clone(),
        // What weld.toml says wins over what git guesses.
        source: about.source.clone().or(source),
        revision: git(&["rev-parse", "HEAD"]),
        created: None,
    }
}

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// Registries (`HOST:PORT`) spoken to in plain HTTP besides loopback ones.
    pub insecure: Vec<String>,
    /// PEM files of certificate authorities trusted besides the system's (whose store
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` replace): for a registry with a private CA. With one,
    /// a loopback registry speaks TLS too.
    pub ca_files: Vec<PathBuf>,
    /// Credentials given on the command line, for every registry.
    pub credentials: Option<(String, String)>,
    /// A bearer token, for registries that take one (wkg's `WKG_REGISTRY_…_AUTH_BEARER`).
    pub token: Option<String>,
    /// Certificate authorities given as data (wkg's `extra_root_certificates`).
    pub certificates: Vec<oci_client::client::Certificate>,
}

impl Transport {
    /// An oci-client for `reference`'s registry: plain HTTP for `insecure` ones and for
    /// loopback ones when no CA is given; TLS (rustls, ring, the system's roots and the CA
    /// files) for the rest.
    fn client(&self, reference: &Reference) -> Result<Client, OciError> {
        // reqwest is built without a default crypto provider; ring is the one weld ships.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let registry = reference.resolve_registry().to_string();
        let mut plain = self.insecure.clone();
        if is_loopback(&registry) && self.ca_files.is_empty() && self.certificates.is_empty() {
            plain.push(registry.clone());
        }
        let mut extra_root_certificates = self.certificates.clone();
        for path in &self.ca_files {
            extra_root_certificates.extend(ca_certificates(path)?);
        }
        Client::try_from(ClientConfig {
            protocol: ClientProtocol::HttpsExcept(plain),
            extra_root_certificates,
            ..ClientConfig::default()
        })
        .map_err(|e| classify(&registry, &reference.whole(), e))
    }

    /// The credentials for `reference`'s registry: the command line's, Docker's, or none.
    fn auth(&self, reference: &Reference) -> Result<RegistryAuth, OciError> {
        if let Some(token) = &self.token {
            return Ok(RegistryAuth::Bearer(token.clone()));
        }
        if let Some((user, password)) = &self.credentials {
            return Ok(RegistryAuth::Basic(user.clone(), password.clone()));
        }
        let registry = reference.resolve_registry();
        // Docker keys Docker Hub by its old index URL.
        let server = if registry == "index.docker.io" || registry == "registry-1.docker.io" {
            "https://index.docker.io/v1/"
        } else {
            registry
        };
        match docker_credential::get_credential(server) {
            Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => {
                Ok(RegistryAuth::Basic(u, p))
            }
            Ok(docker_credential::DockerCredential::IdentityToken(t)) => {
                Ok(RegistryAuth::Bearer(t))
            }
            Err(
                docker_credential::CredentialRetrievalError::ConfigNotFound
                | docker_credential::CredentialRetrievalError::ConfigReadError
                | docker_credential::CredentialRetrievalError::NoCredentialConfigured,
            ) => Ok(RegistryAuth::Anonymous),
            Err(e) => Err(OciError::Credentials {
                registry: registry.to_string(),
                message: e.to_string(),
            }),
        }
    }
}

/// The certificates of a PEM file, each checked to parse, so that a wrong file is named now
/// rather than taken for an untrusted registry later.
fn ca_certificates(path: &Path) -> Result<Vec<oci_client::client::Certificate>, OciError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let fail = |message: String| OciError::CaFile {
        path: path.to_path_buf(),
        message,
    };
    let pem = crate::fsutil::read_file(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let mut certificates = Vec::new();
    for (i, der) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let der = der.map_err(|e| fail(format!("certificate {} is not valid PEM: {e}", i + 1)))?;
        certificates.push(oci_client::client::Certificate {
            encoding: oci_client::client::CertificateEncoding::Der,
            data: der.to_vec(),
        });
    }
    if certificates.is_empty() {
        return Err(fail(
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(certificates)
}

/// The TLS certificate check that refused the registry, if that is why a request failed:
/// found as rustls' own error in the chain, not in its wording.
fn certificate_error(
    error: &(dyn std::error::Error + 'static),
) -> Option<rustls::CertificateError> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(rustls::Error::InvalidCertificate(c)) = e.downcast_ref() {
            return Some(c.clone());
        }
        // io::Error's `source` skips the error it wraps (itself often an io::Error): step
        // into it instead.
        next = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// What a refused certificate means and what to do, in words.
fn certificate_words(error: &rustls::CertificateError) -> (String, String) {
    use rustls::CertificateError as C;
    match error {
        C::UnknownIssuer => (
            "it is signed by an unknown certificate authority".into(),
            "if the registry uses a private CA, pass its certificate with --ca-file CA.pem (or set SSL_CERT_FILE)".into(),
        ),
        C::NotValidForName | C::NotValidForNameContext { .. } => (
            "it is not valid for this host name".into(),
            "use the host name the certificate was issued for, or ask for a certificate that names this one".into(),
        ),
        C::Expired | C::ExpiredContext { .. } => (
            "it has expired".into(),
            "the registry must renew its certificate; check this machine's clock too".into(),
        ),
        C::NotValidYet | C::NotValidYetContext { .. } => (
            "it is not valid yet".into(),
            "check this machine's clock".into(),
        ),
        C::Revoked => (
            "it has been revoked".into(),
            "the registry must replace its certificate".into(),
        ),
        other => (
            format!("{other:?}"),
            "check the registry's certificate, or pass the CA that signs it with --ca-file".into(),
        ),
    }
}

/// `localhost[:PORT]` or an address in 127.0.0.0/8 or ::1.
pub(crate) fn is_loopback(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What a push did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pushed {
    /// The reference pushed to.
    pub reference: String,
    /// The manifest's digest.
    pub digest: String,
    /// `REGISTRY/REPOSITORY@DIGEST`: the immutable name of what was pushed.
    pub pinned: String,
    /// Blobs sent, by digest.
    pub uploaded: Vec<String>,
    /// Blobs the registry had already, not sent again.
    pub skipped: Vec<String>,
    /// Bytes sent.
    pub bytes: u64,
}

/// Progress of an upload or download, for a progress bar.
pub trait Progress: Send + Sync {
    /// A blob of `size` bytes starts (`what` is "app.wasm" or "config").
    fn start(&self, what: &str, size: u64);
    /// `bytes` more of it went through.
    fn advance(&self, bytes: u64);
    /// It is done.
    fn done(&self);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn done(&self) {}
}

/// Uploads are sent in pieces of this size, so progress moves and a registry's request size
/// limit is not hit.
const CHUNK: usize = 4 << 20;

/// Pushes `artifact` to `reference`; blobs the registry already has are not sent again.
pub async fn push(
    reference: &Reference,
    artifact: &Artifact,
    transport: &Transport,
    progress: std::sync::Arc<dyn Progress>,
) -> Result<Pushed, OciError> {
    let session = Session::open(reference, transport)?;
    let client = &session.client;
    let fail = |e| session.fail(e);
    client
        .auth(reference, &session.auth, RegistryOperation::Push)
        .await
        .map_err(fail)?;
    let mut pushed = Pushed {
        reference: reference.whole(),
        digest: artifact.digest(),
        pinned: pinned(reference, &artifact.digest()),
        uploaded: Vec::new(),
        skipped: Vec::new(),
        bytes: 0,
    };
    let title = artifact.parsed.layers[0]
        .annotations
        .get(artifact::TITLE)
        .cloned()
        .unwrap_or_else(|| "app.wasm".into());
    let blobs = [
        (
            &artifact.layer,
            &artifact.parsed.layers[0].digest,
            title.as_str(),
        ),
        (&artifact.config, &artifact.parsed.config.digest, "config"),
    ];
    for (bytes, digest, what) in blobs {
        if client.blob_exists(reference, digest).await.map_err(fail)? {
            pushed.skipped.push(digest.clone());
            continue;
        }
        progress.start(what, bytes.len() as u64);
        let data = bytes::Bytes::from(bytes.clone());
        let pieces: Vec<bytes::Bytes> = (0..data.len())
            .step_by(CHUNK)
            .map(|start| data.slice(start..(start + CHUNK).min(data.len())))
            .collect();
        let seen = progress.clone();
        let stream = futures_util::stream::iter(pieces.into_iter().map(move |piece| {
            seen.advance(piece.len() as u64);
            Ok(piece)
        }));
        client
            .push_blob_stream(reference, stream, digest, Some(data.len() as u64))
            .await
            .map_err(fail)?;
        progress.done();
        pushed.uploaded.push(digest.clone());
        pushed.bytes += bytes.len() as u64;
    }
    client
        .push_manifest_raw(
            reference,
            artifact.manifest.clone(),
            artifact::MANIFEST_MEDIA_TYPE
                .parse()
                .expect("a valid header value"),
        )
        .await
        .map_err(fail)?;
    Ok(pushed)
}

/// The tags of `reference`'s repository (every page of them).
pub async fn list_tags(
    reference: &Reference,
    transport: &Transport,
) -> Result<Vec<String>, OciError> {
    let session = Session::open(reference, transport)?;
    let mut tags: Vec<String> = Vec::new();
    loop {
        let page = session
            .client
            .list_tags(
                reference,
                &session.auth,
                Some(1000),
                tags.last().map(String::as_str),
            )
            .await
            .map_err(|e| session.fail(e))?;
        let full = page.tags.len() >= 1000;
        tags.extend(page.tags);
        if !full {
            return Ok(tags);
        }
    }
}

/// A component pulled from a registry, every digest checked.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The manifest's digest.
    pub digest: String,
    /// The component.
    pub component: Vec<u8>,
    /// The layer's file name, when the manifest gives one.
    pub title: Option<String>,
    /// The config, when it is the Wasm artifact's.
    pub config: Option<WasmConfig>,
}

/// Pulls the component `reference` names. Refuses what is not a Wasm artifact, naming what it
/// is (a Spin application, a container image).
pub async fn pull(
    reference: &Reference,
    transport: &Transport,
    progress: &dyn Progress,
) -> Result<Pulled, OciError> {
    let session = Session::open(reference, transport)?;
    let head = session.wasm_artifact().await?;
    let title = head.layer.annotations.get(artifact::TITLE).cloned();
    progress.start(title.as_deref().unwrap_or("app.wasm"), head.layer.size);
    let component = session.blob(&head.layer, progress).await?;
    progress.done();
    Ok(Pulled {
        digest: head.digest,
        component,
        title,
        config: serde_json::from_slice(&head.config).ok(),
    })
}

/// Components pulled for `weld run oci://…` and `weld serve oci://…`, kept by digest in weld's
/// cache: a reference fetched once runs again with no network. A tag is looked up in the
/// registry only the first time (as `docker run` does); pin a digest, or `weld cache clean`,
/// to take a new push of the same tag.
pub struct Store {
    dir: PathBuf,
}

/// A component in the [`Store`].
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its file.
    pub path: PathBuf,
    /// The manifest's digest.
    pub digest: String,
    /// Whether it came from the store, without asking the registry.
    pub cached: bool,
}

#[derive(Serialize, Deserialize)]
struct StoredRef {
    manifest: String,
    layer: String,
}

impl Store {
    /// The store under weld's cache directory.
    pub fn new(cache_dir: &Path) -> Store {
        Store {
            dir: cache_dir.join("oci"),
        }
    }

    /// Where it keeps its files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn blob(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir.join("blobs").join(format!("{hex}.wasm"))
    }

    /// `refs/REGISTRY/REPOSITORY/TAG` (or `@sha256-HEX`): only characters a reference allows,
    /// with `:` (a port) spelled `+`, so no reference can name a path outside the store.
    fn reference(&self, reference: &Reference) -> PathBuf {
        let key = match reference.digest() {
            Some(d) => format!("@{}", d.replace(':', "-")),
            None => reference.tag().unwrap_or("latest").to_string(),
        };
        let mut path = self.dir.join("refs");
        let registry = reference.resolve_registry().replace(':', "+");
        for part in std::iter::once(registry.as_str())
            .chain(reference.repository().split('/'))
            .chain(std::iter::once(key.as_str()))
        {
            // The reference grammar already excludes these; a store is not the place to trust it.
            let safe: String = part
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.+@".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            path.push(if safe.is_empty() || safe.starts_with('.') {
                format!("_{safe}")
            } else {
                safe
            });
        }
        path
    }

    /// The component `reference` names: from the store when it has it, else pulled (every
    /// digest verified) and stored.
    pub async fn fetch(
        &self,
        reference: &Reference,
        transport: &Transport,
        progress: &dyn Progress,
    ) -> Result<Stored, OciError> {
        let index = self.reference(reference);
        if let Some(stored) = std::fs::read(&index)
            .ok()
            .and_then(|b| serde_json::from_slice::<StoredRef>(&b).ok())
        {
            let path = self.blob(&stored.layer);
            if path.is_file() {
                return Ok(Stored {
                    path,
                    digest: stored.manifest,
                    cached: true,
                });
            }
        }
        let pulled = pull(reference, transport, progress).await?;
        let layer = artifact::digest(&pulled.component);
        let path = self.blob(&layer);
        let io = |e: std::io::Error, p: &Path| OciError::Registry {
            registry: reference.resolve_registry().to_string(),
            message: format!("cannot store the pulled component in {}: {e}", p.display()),
        };
        for p in [&path, &index] {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(e, parent))?;
            }
        }
        crate::fsutil::write_atomic(&path, &pulled.component).map_err(|e| io(e, &path))?;
        let entry = StoredRef {
            manifest: pulled.digest.clone(),
            layer,
        };
        let entry = serde_json::to_vec(&entry).expect("serialises");
        crate::fsutil::write_atomic(&index, &entry).map_err(|e| io(e, &index))?;
        Ok(Stored {
            path,
            digest: pulled.digest,
            cached: false,
        })
    }
}

/// `oci://REF` as a reference, or `None` for a path.
pub fn oci_url(app: &Path) -> Option<&str> {
    app.to_str()?.strip_prefix("oci://")
}

/// What a pushed app is, for `weld deploy`: its pinned name and its world.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// `REGISTRY/REPOSITORY@sha256:…`.
    pub pinned: String,
    /// The manifest's digest.
    pub digest: String,
    /// Its imports and exports: from the artifact's config, or decoded from the component when
    /// the config does not list them (another tool pushed it).
    pub component: ComponentInfo,
}

/// Reads what `reference` names without downloading the component when its config says what
/// it needs to know.
pub async fn inspect(reference: &Reference, transport: &Transport) -> Result<Inspected, OciError> {
    let session = Session::open(reference, transport)?;
    let head = session.wasm_artifact().await?;
    let listed = serde_json::from_slice::<WasmConfig>(&head.config)
        .ok()
        .and_then(|c| c.component);
    let component = match listed {
        Some(c) => c,
        None => ComponentInfo::of(&session.blob(&head.layer, &Quiet).await?)?,
    };
    Ok(Inspected {
        pinned: pinned(reference, &head.digest),
        digest: head.digest,
        component,
    })
}

/// `REGISTRY/REPOSITORY@DIGEST`: the immutable name of what `reference` names.
fn pinned(reference: &Reference, digest: &str) -> String {
    format!(
        "{}/{}@{digest}",
        reference.registry(),
        reference.repository()
    )
}

/// One conversation with the registry a reference names: the client, the credentials, and
/// oci-client's errors turned into ours.
struct Session<'a> {
    client: Client,
    auth: RegistryAuth,
    reference: &'a Reference,
}

/// What a Wasm artifact's manifest and config say: the manifest's digest, the config's bytes
/// and the layer to take.
struct Head {
    digest: String,
    config: Vec<u8>,
    layer: artifact::Descriptor,
}

impl<'a> Session<'a> {
    fn open(reference: &'a Reference, transport: &Transport) -> Result<Self, OciError> {
        Ok(Session {
            client: transport.client(reference)?,
            auth: transport.auth(reference)?,
            reference,
        })
    }

    fn fail(&self, e: OciDistributionError) -> OciError {
        classify(
            self.reference.resolve_registry(),
            &self.reference.whole(),
            e,
        )
    }

    /// The manifest, the config and the Wasm layer they name, or why this is no Wasm
    /// artifact: what both `pull` and `inspect` read first.
    async fn wasm_artifact(&self) -> Result<Head, OciError> {
        let (manifest, digest) = self.manifest().await?;
        let config = self.blob(&manifest.config, &Quiet).await?;
        let layer = artifact::wasm_layer(&manifest, Some(&config))?;
        Ok(Head {
            digest,
            config,
            layer,
        })
    }

    /// The manifest the reference names, its bytes checked against the digest asked for (or
    /// the one the registry reports), parsed.
    async fn manifest(&self) -> Result<(Manifest, String), OciError> {
        let reference = self.reference;
        let accepted = [
            artifact::MANIFEST_MEDIA_TYPE,
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ];
        let (bytes, header_digest) = self
            .client
            .pull_manifest_raw(reference, &self.auth, &accepted)
            .await
            .map_err(|e| self.fail(e))?;
        let digest = artifact::digest(&bytes);
        // The digest asked for, else the one the registry claims, must be the bytes'.
        let expected = reference
            .digest()
            .map(str::to_string)
            .or((!header_digest.is_empty()).then_some(header_digest));
        if let Some(expected) = expected
            && expected != digest
        {
            return Err(OciError::Corrupt(format!(
                "the manifest of {} is {digest}, not {expected} as named",
                reference.whole()
            )));
        }
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| OciError::NotWasm {
            kind: format!("not an image manifest ({e}): an index or another kind of manifest"),
            config: "none".into(),
            layers: Vec::new(),
        })?;
        Ok((manifest, digest))
    }

    /// A blob, checked against its descriptor's size and digest.
    async fn blob(
        &self,
        descriptor: &artifact::Descriptor,
        progress: &dyn Progress,
    ) -> Result<Vec<u8>, OciError> {
        let layer = oci_client::manifest::OciDescriptor {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.clone(),
            size: descriptor.size as i64,
            ..Default::default()
        };
        let mut stream = self
            .client
            .pull_blob_stream(self.reference, &layer)
            .await
            .map_err(|e| self.fail(e))?;
        // A registry that sends more than the descriptor says is cut off there, so a hostile
        // one cannot make weld hold an unbounded body.
        let mut out =
            Vec::with_capacity(usize::try_from(descriptor.size).unwrap_or(0).min(1 << 30));
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(|e| OciError::Registry {
                registry: self.reference.resolve_registry().to_string(),
                message: format!("reading blob {}: {e}", descriptor.digest),
            })?;
            if (out.len() + chunk.len()) as u64 > descriptor.size {
                return Err(OciError::Corrupt(format!(
                    "blob {} is longer than the {} bytes its descriptor gives",
                    descriptor.digest, descriptor.size
                )));
            }
            out.extend_from_slice(&chunk);
            progress.advance(chunk.len() as u64);
        }
        let actual = artifact::digest(&out);
        if actual != descriptor.digest || out.len() as u64 != descriptor.size {
            return Err(OciError::Corrupt(format!(
                "blob {} came back as {actual} ({} bytes, {} expected)",
                descriptor.digest,
                out.len(),
                descriptor.size
            )));
        }
        Ok(out)
    }
}

/// oci-client's error as one of ours.
fn classify(registry: &str, reference: &str, e: OciDistributionError) -> OciError {
    let message = match &e {
        OciDistributionError::RequestError(r) => {
            // reqwest's Display hides the cause ("error sending request"): give the chain.
            let mut text = r.to_string();
            let mut source = std::error::Error::source(r);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text
        }
        other => other.to_string(),
    };
    if let OciDistributionError::RequestError(r) = &e
        && let Some(refused) = certificate_error(r)
    {
        let (reason, help) = certificate_words(&refused);
        return OciError::Certificate {
            registry: registry.to_string(),
            reason,
            help,
        };
    }
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => OciError::NotFound {
            reference: reference.to_string(),
        },
        OciDistributionError::RegistryError { ref envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|e| e.code == oci_client::errors::OciErrorCode::ManifestUnknown) =>
        {
            OciError::NotFound {
                reference: reference.to_string(),
            }
        }
        OciDistributionError::ServerError { code: 404, .. } => OciError::NotFound {
            reference: reference.to_string(),
        },
        OciDistributionError::RequestError(ref r)
            if r.status()
                .is_some_and(|s| s.as_u16() == 401 || s.as_u16() == 403) =>
        {
            OciError::Auth {
                registry: registry.to_string(),
                message: "the registry wants a login (401 Unauthorized)".into(),
            }
        }
        OciDistributionError::RequestError(ref r)
            if r.status().is_some_and(|s| s.as_u16() == 404) =>
        {
            OciError::NotFound {
                reference: reference.to_string(),
            }
        }
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::ServerError {
            code: 401 | 403, ..
        } => OciError::Auth {
            registry: registry.to_string(),
            message,
        },
        _ => OciError::Registry {
            registry: registry.to_string(),
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries() {
        for r in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.8.0.1",
            "[::1]:5000",
        ] {
            assert!(is_loopback(r), "{r}");
        }
        for r in [
            "ghcr.io",
            "registry.local:5000",
            "10.0.0.1:5000",
            "localhost.evil.com",
        ] {
            assert!(!is_loopback(r), "{r}");
        }
    }
}
