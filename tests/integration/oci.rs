//! `weld push` and `weld pull` against a real registry: CNCF distribution (Debian's
//! `docker-registry`, installed by `install.sh --dev`) on a free loopback port, with its own
//! storage directory, started for each test and killed after it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::{expect_code, shared_cache, weld};

type Case = fn() -> Result<(), Failed>;

pub fn trials() -> Vec<Trial> {
    let cases: Vec<(&str, Case)> = vec![
        ("oci::push_pull_round_trip_and_reproducible", round_trip),
        ("oci::refuses_what_is_not_a_wasm_artifact", not_wasm),
        ("oci::registry_that_requires_a_login", login),
        ("oci::tls_registry_with_a_private_ca", tls),
        (
            "deploy::manifests_validate_against_published_schemas",
            deploy,
        ),
    ];
    cases
        .into_iter()
        .map(|(name, f)| crate::trial(name, f))
        .collect()
}

/// A registry on 127.0.0.1, killed when dropped.
pub(super) struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub(super) host: String,
}

impl Registry {
    pub(super) fn start() -> Result<Registry, Failed> {
        Registry::with_auth("")
    }

    /// With `auth` (a YAML `auth:` section, or nothing) in its config.
    fn with_auth(auth: &str) -> Result<Registry, Failed> {
        Registry::with_config(auth, None)
    }

    /// Serving TLS with this certificate chain and key (PEM files).
    fn with_tls(certificate: &Path, key: &Path) -> Result<Registry, Failed> {
        Registry::with_config("", Some((certificate, key)))
    }

    fn with_config(auth: &str, tls: Option<(&Path, &Path)>) -> Result<Registry, Failed> {
        let dir = crate::scratch("registry")?;
        // A free port: bound, read, released, then given to the registry.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.join("config.yml");
        let tls_config = match tls {
            Some((certificate, key)) => format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                certificate.display(),
                key.display()
            ),
            None => String::new(),
        };
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n{tls_config}log:\n  level: warn\n{auth}",
                dir.join("data").display()
            ),
        )?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start docker-registry (run ./install.sh --dev): {e}"))?;
        let registry = Registry { child, host };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if tls.is_some() {
                // The test's HTTP client speaks no TLS: listening is enough.
                if std::net::TcpStream::connect(&registry.host).is_ok() {
                    return Ok(registry);
                }
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            // 401 is an answer too: a registry that wants a login is up.
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            if let Ok(r) = agent.get(&format!("http://{}/v2/", registry.host)).call()
                && matches!(r.status().as_u16(), 200 | 401)
            {
                return Ok(registry);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("the registry did not answer /v2/ within 20 s".into())
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.host)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> Result<Output, Failed> {
    Ok(weld()
        .env("WELD_CACHE_DIR", shared_cache())
        // Reproducible: the same app pushes to the same digest.
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args(args)
        .output()?)
}

fn json(out: &Output) -> Result<Value, Failed> {
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into()
    })
}

/// The polyglot HTTP app pushed, pushed again (same digest, nothing sent), pulled back
/// byte-identical, with the manifest and config in the CNCF Wasm artifact layout; a missing tag
/// is named.
fn round_trip() -> Result<(), Failed> {
    let registry = Registry::start()?;
    let reference = format!("{}/shop:0.1.0", registry.host);
    let push = || -> Result<Value, Failed> {
        let out = run(&[
            "push",
            &reference,
            "-C",
            "fixtures/shop",
            "--format",
            "json",
        ])?;
        expect_code(&out, 0);
        json(&out)
    };
    let first = push()?;
    let digest = first["digest"].as_str().unwrap_or_default().to_string();
    assert!(digest.starts_with("sha256:"), "{first}");
    assert_eq!(
        first["uploaded"].as_array().map(Vec::len),
        Some(2),
        "{first}"
    );

    // Again: the same digest, and the registry's blobs are not sent twice.
    let again = push()?;
    assert_eq!(again["digest"], digest.as_str());
    assert_eq!(again["uploaded"], serde_json::json!([]));
    assert_eq!(again["bytes"], 0);
    assert_eq!(again["skipped"].as_array().map(Vec::len), Some(2));

    // The manifest, as the registry serves it, in the artifact layout.
    let manifest = ureq::get(&registry.url("/v2/shop/manifests/0.1.0"))
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .call()?
        .into_body()
        .read_to_string()?;
    let manifest: Value = serde_json::from_str(&manifest)?;
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(layers[0]["mediaType"], "application/wasm");
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        "shop.wasm"
    );
    let annotations = &manifest["annotations"];
    assert_eq!(
        annotations["org.opencontainers.image.created"],
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(annotations["org.opencontainers.image.version"], "0.1.0");
    assert_eq!(
        annotations["org.opencontainers.image.licenses"],
        "Apache-2.0"
    );
    assert!(
        annotations["org.opencontainers.image.description"]
            .as_str()
            .is_some_and(|d| d.starts_with("A shop API")),
        "{manifest}"
    );
    // The checkout's commit.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()?;
    if head.status.success() {
        assert_eq!(
            annotations["org.opencontainers.image.revision"],
            String::from_utf8_lossy(&head.stdout).trim()
        );
    }
    let config_digest = manifest["config"]["digest"].as_str().unwrap_or_default();
    let config = ureq::get(&registry.url(&format!("/v2/shop/blobs/{config_digest}")))
        .call()?
        .into_body()
        .read_to_string()?;
    let config: Value = serde_json::from_str(&config)?;
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(
        config["layerDigests"],
        serde_json::json!([layers[0]["digest"]])
    );
    let component = &config["component"];
    assert!(
        component["exports"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x
                .as_str()
                .is_some_and(|x| x.starts_with("wasi:http/incoming-handler@")))),
        "{config}"
    );
    assert!(
        component["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("wasi:http/proxy@"))
    );
    // Composed: the app imports no weld:shop interface, only WASI.
    assert!(
        component["imports"]
            .as_array()
            .is_some_and(|i| !i.is_empty()
                && i.iter()
                    .all(|x| x.as_str().is_some_and(|x| x.starts_with("wasi:")))),
        "{config}"
    );

    // Pulled back, by tag and by digest: byte for byte what was composed.
    let dir = crate::scratch("pulled")?;
    let out = dir.join("shop.wasm");
    let pulled = run(&["pull", &reference, "-o", &out.to_string_lossy()])?;
    expect_code(&pulled, 0);
    assert_eq!(String::from_utf8_lossy(&pulled.stdout).trim(), digest);
    let composed = std::fs::read("fixtures/shop/target/weld/app.wasm")?;
    assert!(std::fs::read(&out)? == composed, "the pulled app differs");
    let pinned = format!("{}/shop@{digest}", registry.host);
    let by_digest = dir.join("by-digest.wasm");
    expect_code(
        &run(&["pull", &pinned, "-o", &by_digest.to_string_lossy()])?,
        0,
    );
    assert!(std::fs::read(&by_digest)? == composed);

    // Without -o, the layer's title names the file, in the current directory.
    let here = weld()
        .current_dir(&dir)
        .args(["pull", &reference])
        .output()?;
    expect_code(&here, 0);
    assert!(dir.join("shop.wasm").is_file());

    // `weld serve oci://…` pulls it into weld's cache and answers; with the registry gone it
    // starts again from the cache.
    let items = "apple   0.50\nbread   3.20\ncheese  12.75\ncoffee  8.99\npear    0.65\n";
    let server = super::serve::Server::spawn(&[format!("oci://{reference}")])?;
    assert_eq!(server.get("/items")?, (200, items.to_string()));
    drop(server);

    // A tag nobody pushed.
    let missing = run(&["pull", &format!("{}/shop:9.9.9", registry.host)])?;
    expect_code(&missing, 2);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("weld::oci::not_found"), "{stderr}");
    assert!(stderr.contains("shop:9.9.9"), "{stderr}");

    // A command app: `weld run oci://…` runs it with the arguments given.
    let calc = format!("{}/calc:1", registry.host);
    expect_code(&run(&["push", &calc, "-C", "fixtures/calc"])?, 0);
    let ran = run(&["run", &format!("oci://{calc}"), "--", "3", "4"])?;
    expect_code(&ran, 0);
    let stdout = String::from_utf8_lossy(&ran.stdout);
    assert!(stdout.contains("sum: 7\n"), "{stdout}");

    drop(registry);
    let offline = super::serve::Server::spawn(&[format!("oci://{reference}")])?;
    assert_eq!(offline.get("/items")?, (200, items.to_string()));
    let ran = run(&["run", &format!("oci://{calc}"), "--", "1", "2"])?;
    expect_code(&ran, 0);
    assert!(String::from_utf8_lossy(&ran.stdout).contains("sum: 3\n"));
    Ok(())
}

/// A container image's manifest (pushed by hand, as a container tool would) is refused and
/// named; so is a file that is not a component, before anything is sent.
fn not_wasm() -> Result<(), Failed> {
    let registry = Registry::start()?;
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = b"not really a tarball";
    let upload = |bytes: &[u8]| -> Result<String, Failed> {
        let digest = format!("sha256:{}", sha256_hex(bytes));
        let start = ureq::post(&registry.url("/v2/image/blobs/uploads/")).send_empty()?;
        let location = start
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .ok_or("no upload location")?
            .to_string();
        let location = if location.starts_with("http") {
            location
        } else {
            registry.url(&location)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        ureq::put(&format!("{location}{sep}digest={digest}"))
            .header("content-type", "application/octet-stream")
            .send(bytes)?;
        Ok(digest)
    };
    let config_digest = upload(config)?;
    let layer_digest = upload(layer)?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}],
    });
    ureq::put(&registry.url("/v2/image/manifests/latest"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .send(serde_json::to_vec(&manifest)?)?;

    let dir = crate::scratch("out")?;
    let out = run(&[
        "pull",
        &format!("{}/image:latest", registry.host),
        "-o",
        &dir.join("x.wasm").to_string_lossy(),
    ])?;
    expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("weld::oci::not_wasm"), "{stderr}");
    assert!(stderr.contains("a container image"), "{stderr}");
    assert!(!dir.join("x.wasm").exists(), "nothing is written");

    // A file that is not a component is refused before the registry hears of it.
    let not_component = run(&["push", &format!("{}/bad:1", registry.host), "Cargo.toml"])?;
    expect_code(&not_component, 1);
    let stderr = String::from_utf8_lossy(&not_component.stderr);
    assert!(
        stderr.contains("Cargo.toml: not a WebAssembly binary"),
        "{stderr}"
    );
    let tags = ureq::get(&registry.url("/v2/bad/tags/list"))
        .config()
        .http_status_as_error(false)
        .build()
        .call()?;
    assert_eq!(
        tags.status().as_u16(),
        404,
        "the repository was never created"
    );
    Ok(())
}

/// A registry with htpasswd logins: anonymous pushes and pulls are refused with a diagnostic
/// that says how to log in; --username with --password-stdin, or Docker's config.json, work.
fn login() -> Result<(), Failed> {
    let dir = crate::scratch("auth")?;
    let hash = bcrypt::hash("s3cret-pw", 4)?;
    let htpasswd = dir.join("htpasswd");
    std::fs::write(&htpasswd, format!("weld:{hash}\n"))?;
    let registry = Registry::with_auth(&format!(
        "auth:\n  htpasswd:\n    realm: weld-test\n    path: {}\n",
        htpasswd.display()
    ))?;
    let reference = format!("{}/calc:auth", registry.host);
    let app = "fixtures/calc/target/weld/cli.wasm";
    expect_code(&run(&["build", "-C", "fixtures/calc", "cli"])?, 0);

    let anonymous = run(&["push", &reference, app])?;
    expect_code(&anonymous, 2);
    let stderr = String::from_utf8_lossy(&anonymous.stderr);
    assert!(stderr.contains("weld::oci::auth"), "{stderr}");
    assert!(stderr.contains("docker login"), "{stderr}");

    let wrong = login_push(&reference, app, "wrong")?;
    expect_code(&wrong, 2);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("weld::oci::auth"));

    let right = login_push(&reference, app, "s3cret-pw")?;
    expect_code(&right, 0);
    let digest = String::from_utf8_lossy(&right.stdout).trim().to_string();

    // Docker's config, as `docker login` leaves it (found through DOCKER_CONFIG, as Docker
    // finds it; the trial's $HOME stays untouched).
    let docker = dir.join("docker");
    std::fs::create_dir_all(&docker)?;
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode("weld:s3cret-pw");
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{token}"}}}}}}"#,
            registry.host
        ),
    )?;
    let out = dir.join("pulled.wasm");
    let pulled = weld()
        .env("DOCKER_CONFIG", &docker)
        .args(["pull", &reference, "-o", &out.to_string_lossy()])
        .output()?;
    expect_code(&pulled, 0);
    assert!(String::from_utf8_lossy(&pulled.stdout).ends_with(&format!(
        "{}\n",
        digest.rsplit('@').next().unwrap_or_default()
    )));
    assert!(std::fs::read(&out)? == std::fs::read(app)?);
    Ok(())
}

/// A certificate authority made for the test, and certificates it signs.
struct Authority {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pem: String,
}

impl Authority {
    fn new(name: &str) -> Result<Authority, Failed> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate()?;
        let pem = params.self_signed(&key)?.pem();
        Ok(Authority {
            issuer: rcgen::Issuer::new(params, key),
            pem,
        })
    }

    /// A server certificate for `names`, valid from `from` to `until` (years), written to
    /// `dir` as `stem.pem` (the chain) and `stem.key`.
    fn sign(
        &self,
        dir: &Path,
        stem: &str,
        names: &[&str],
        (from, until): (i32, i32),
    ) -> Result<(std::path::PathBuf, std::path::PathBuf), Failed> {
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let key = rcgen::KeyPair::generate()?;
        let certificate = params.signed_by(&key, &self.issuer)?;
        let (chain, key_file) = (
            dir.join(format!("{stem}.pem")),
            dir.join(format!("{stem}.key")),
        );
        std::fs::write(&chain, certificate.pem())?;
        std::fs::write(&key_file, key.serialize_pem())?;
        Ok((chain, key_file))
    }
}

/// A registry serving TLS with a certificate from a private CA: with that CA given
/// (`--ca-file`, or as the system's store through SSL_CERT_FILE) a component is pushed and
/// pulled back whole; a certificate from another CA, for another host, or expired is refused
/// with a message that says which, and nothing is sent in plain HTTP instead. A bad CA file is
/// named.
fn tls() -> Result<(), Failed> {
    let dir = crate::scratch("tls")?;
    let ca = Authority::new("weld test CA")?;
    let other = Authority::new("another CA")?;
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca.pem)?;
    let other_file = dir.join("other.pem");
    std::fs::write(&other_file, &other.pem)?;
    let ca_arg = ca_file.display().to_string();
    let other_arg = other_file.display().to_string();
    let app = "tests/cli/check/components/arith.wasm";
    let out = dir.join("pulled.wasm");
    let out_arg = out.display().to_string();

    let (chain, key) = ca.sign(&dir, "good", &["127.0.0.1"], (2000, 4000))?;
    let registry = Registry::with_tls(&chain, &key)?;
    let reference = format!("{}/arith:tls", registry.host);
    let pushed = run(&["push", "--ca-file", &ca_arg, &reference, app])?;
    expect_code(&pushed, 0);
    let pulled = run(&["pull", "--ca-file", &ca_arg, &reference, "-o", &out_arg])?;
    expect_code(&pulled, 0);
    assert!(std::fs::read(&out)? == std::fs::read(app)?);
    // SSL_CERT_FILE replaces the system's store (here with the private CA); --ca-file adds.
    let via_env = weld()
        .env("SSL_CERT_FILE", &ca_file)
        .args(["pull", "--ca-file", &other_arg, &reference, "-o", &out_arg])
        .output()?;
    expect_code(&via_env, 0);

    let refused = |reference: &str, ca: &str, says: &str| -> Result<(), Failed> {
        let out = run(&["pull", "--ca-file", ca, reference, "-o", &out_arg])?;
        expect_code(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("weld::oci::certificate"), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        Ok(())
    };
    refused(&reference, &other_arg, "unknown certificate")?;
    drop(registry);
    let (chain, key) = ca.sign(&dir, "elsewhere", &["registry.example"], (2000, 4000))?;
    let registry = Registry::with_tls(&chain, &key)?;
    let reference = format!("{}/arith:tls", registry.host);
    refused(&reference, &ca_arg, "not valid for this host")?;
    drop(registry);
    let (chain, key) = ca.sign(&dir, "expired", &["127.0.0.1"], (2000, 2001))?;
    let registry = Registry::with_tls(&chain, &key)?;
    let reference = format!("{}/arith:tls", registry.host);
    refused(&reference, &ca_arg, "expired")?;

    // A CA file that is not one is named, before any connection.
    let out = run(&["pull", "--ca-file", app, &reference, "-o", &out_arg])?;
    expect_code(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("weld::oci::ca_file"), "{stderr}");
    assert!(stderr.contains("arith.wasm"), "{stderr}");
    Ok(())
}

fn login_push(reference: &str, app: &str, password: &str) -> Result<Output, Failed> {
    let mut child = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args([
            "push",
            reference,
            app,
            "--username",
            "weld",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    use std::io::Write as _;
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(format!("{password}\n").as_bytes())?;
    Ok(child.wait_with_output()?)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// The published schemas (SOURCE says where each comes from), outside the repository.
fn schemas() -> Option<std::path::PathBuf> {
    let dir = crate::root().join("../shared/k8s-schemas");
    dir.join("SOURCE").is_file().then_some(dir)
}

/// A schema as `kubectl apply --validate=strict` applies it: no field the schema does not
/// list, unless it says unknown fields are kept.
fn strict(mut schema: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                let keeps = map
                    .get("x-kubernetes-preserve-unknown-fields")
                    .is_some_and(|b| b == true);
                if map.contains_key("properties")
                    && !map.contains_key("additionalProperties")
                    && !keeps
                {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut schema);
    schema
}

/// Validates `object` against `schema`, listing every error: with Ajv (from `install.sh
/// --dev`), run by Node, so that the test build needs no JSON Schema crate of its own.
fn validate(schema: &Value, object: &Value, what: &str) -> Result<(), Failed> {
    let dir = crate::scratch("schema")?;
    let (schema_file, object_file) = (dir.join("schema.json"), dir.join("object.json"));
    std::fs::write(&schema_file, schema.to_string())?;
    std::fs::write(&object_file, object.to_string())?;
    let ajv = crate::dev_node_module("ajv");
    let out = Command::new("node")
        .arg(crate::root().join("tests/support/schema.mjs"))
        .args([&ajv, &schema_file, &object_file])
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what}: the schema check failed (did install.sh --dev install ajv?): {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let errors: Vec<String> = serde_json::from_slice(&out.stdout)?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what} does not validate:\n  {}\n{object:#}",
            errors.join("\n  ")
        )
        .into())
    }
}

/// A Kubernetes built-in kind's schema (JSON with its $ref closure).
fn kube_schema(dir: &std::path::Path, file: &str) -> Result<Value, Failed> {
    Ok(strict(serde_json::from_str(&std::fs::read_to_string(
        dir.join(file),
    )?)?))
}

/// A CRD's schema for its only version, with ObjectMeta's schema standing in for its
/// `metadata: {type: object}`.
fn crd_schema(dir: &std::path::Path, file: &str) -> Result<Value, Failed> {
    let crd: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(dir.join(file))?)?;
    let mut schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(
        dir.join("meta-v1-ObjectMeta.json"),
    )?)?;
    // Its `$ref`s point into its own `definitions`: those move to the root with it.
    schema["definitions"] = meta["definitions"].clone();
    schema["properties"]["metadata"] = serde_json::json!({ "$ref": meta["$ref"] });
    Ok(strict(schema))
}

fn deploy_run(args: &[&str]) -> Result<Output, Failed> {
    run(&[&["deploy"], args].concat())
}

/// `weld deploy` for the HTTP example and the command example, on every target: the objects
/// validate against the published CRDs and Kubernetes schemas, strictly; the fields those
/// schemas leave open (enums, wasmCloud's CEL rules) are checked here; a command on SpinKube
/// is refused with the reason.
fn deploy() -> Result<(), Failed> {
    let Some(dir) = schemas() else {
        eprintln!(
            "skipped: ../shared/k8s-schemas is absent, so there is nothing to validate against"
        );
        return Ok(());
    };
    let registry = Registry::start()?;
    let shop = format!("{}/shop:0.1.0", registry.host);
    let calc = format!("{}/calc:0.1.0", registry.host);
    expect_code(&run(&["push", &shop, "-C", "fixtures/shop"])?, 0);
    expect_code(&run(&["push", &calc, "-C", "fixtures/calc"])?, 0);

    // SpinKube: a SpinApp, pinned by digest, from a YAML stream on stdout.
    let out = deploy_run(&["--target", "spinkube", &shop, "--replicas", "2"])?;
    expect_code(&out, 0);
    let docs: Vec<Value> = serde_yaml_ng::Deserializer::from_slice(&out.stdout)
        .map(|d| serde::Deserialize::deserialize(d).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    assert_eq!(docs.len(), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let spinapp = &docs[0];
    let spinapp_schema = crd_schema(&dir, "core.spinkube.dev_spinapps.yaml")?;
    validate(&spinapp_schema, spinapp, "SpinApp")?;
    // The check has teeth: an unknown field, a wrong type, a bad name in metadata all fail.
    for (pointer, value) in [
        ("/spec/bogus", serde_json::json!(1)),
        ("/spec/replicas", serde_json::json!("two")),
        ("/metadata/labels", serde_json::json!("not a map")),
    ] {
        let mut bad = spinapp.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap_or_default();
        bad.pointer_mut(parent).ok_or(pointer)?[key] = value;
        assert!(
            validate(&spinapp_schema, &bad, "bad SpinApp").is_err(),
            "{pointer} passed"
        );
    }
    assert_eq!(spinapp["kind"], "SpinApp");
    assert_eq!(spinapp["spec"]["executor"], "containerd-shim-spin");
    assert_eq!(spinapp["spec"]["replicas"], 2);
    let image = spinapp["spec"]["image"].as_str().unwrap_or_default();
    assert!(
        image.starts_with(&format!("{}/shop@sha256:", registry.host)),
        "{image}"
    );

    // A command app is not a SpinApp, and the reason says where it can go.
    let refused = deploy_run(&["--target", "spinkube", &calc])?;
    expect_code(&refused, 1);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("weld::deploy::unsupported") && stderr.contains("runwasi"),
        "{stderr}"
    );

    // runwasi: files in a directory, a Service only for the HTTP app.
    let out_dir = crate::scratch("k8s")?;
    for (reference, sub, kinds) in [
        (
            &shop,
            "shop",
            vec![
                "runtimeclass-wasm.yaml",
                "deployment-shop.yaml",
                "service-shop.yaml",
            ],
        ),
        (
            &calc,
            "calc",
            vec!["runtimeclass-wasm.yaml", "deployment-calc.yaml"],
        ),
    ] {
        let target = out_dir.join(sub);
        let out = deploy_run(&[
            "--target",
            "runwasi",
            reference,
            "-o",
            &target.to_string_lossy(),
        ])?;
        expect_code(&out, 0);
        let mut files: Vec<String> = std::fs::read_dir(&target)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()?;
        files.sort();
        let mut expected: Vec<String> = kinds.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(files, expected);
        for file in &files {
            let object: Value =
                serde_yaml_ng::from_str(&std::fs::read_to_string(target.join(file))?)?;
            let schema = match object["kind"].as_str() {
                Some("RuntimeClass") => "node.k8s.io-v1-RuntimeClass.json",
                Some("Deployment") => "apps-v1-Deployment.json",
                Some("Service") => "v1-Service.json",
                other => return Err(format!("unexpected kind {other:?} in {file}").into()),
            };
            validate(&kube_schema(&dir, schema)?, &object, file)?;
            // The 1.35 schemas carry no enums: check the enumerated fields written.
            if object["kind"] == "Deployment" {
                let pod = &object["spec"]["template"]["spec"];
                assert_eq!(pod["runtimeClassName"], "wasm");
                let container = &pod["containers"][0];
                assert!(
                    container["command"]
                        .as_array()
                        .is_some_and(|c| !c.is_empty())
                );
                for port in container["ports"].as_array().into_iter().flatten() {
                    assert_eq!(port["protocol"], "TCP");
                }
                assert_eq!(
                    object["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
                    pod.get("metadata")
                        .unwrap_or(&object["spec"]["template"]["metadata"])["labels"]["app.kubernetes.io/name"]
                );
            }
            if object["kind"] == "Service" {
                assert_eq!(object["spec"]["ports"][0]["protocol"], "TCP");
                assert_eq!(object["spec"]["ports"][0]["targetPort"], 8080);
            }
        }
    }

    // wasmCloud: the host interfaces its plugins provide, as JSON for a script.
    let out = deploy_run(&[
        "--target",
        "wasmcloud",
        &shop,
        "--host",
        "shop.example.com",
        "--format",
        "json",
    ])?;
    expect_code(&out, 0);
    let report = json(&out)?;
    let object = &report[0]["object"];
    validate(
        &crd_schema(&dir, "runtime.wasmcloud.dev_workloaddeployments.yaml")?,
        object,
        "WorkloadDeployment",
    )?;
    let interfaces = object["spec"]["template"]["spec"]["hostInterfaces"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // The CRD's CEL rules, which a JSON-schema validator does not evaluate: no two entries
    // with the same namespace/package/name/version, at most one unnamed per package.
    let mut seen = std::collections::BTreeSet::new();
    let mut unnamed = std::collections::BTreeSet::new();
    for i in &interfaces {
        let key = (i["namespace"].to_string(), i["package"].to_string());
        assert!(
            seen.insert((key.clone(), i["name"].to_string(), i["version"].to_string())),
            "{i}"
        );
        if i.get("name").is_none() {
            assert!(
                unnamed.insert(key),
                "two unnamed entries for one package: {interfaces:?}"
            );
        }
    }
    let http = interfaces
        .iter()
        .find(|i| i["package"] == "http")
        .ok_or("no wasi:http host interface")?;
    assert_eq!(http["interfaces"], serde_json::json!(["incoming-handler"]));
    assert_eq!(http["config"]["host"], "shop.example.com");
    assert!(
        interfaces
            .iter()
            .all(|i| i["package"] != "io" && i["package"] != "cli")
    );
    Ok(())
}
