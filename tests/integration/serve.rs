//! `weld serve` for real: the HTTP probe guest (fixtures/guests/http-rs) served on loopback and
//! asked over real connections (ureq for HTTP/1.1, hyper for h2c), with real upstream servers
//! for outgoing requests and real signals for shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};

use crate::{expect_code, shared_cache, weld};

type Case = fn() -> Result<(), Failed>;

pub fn trials() -> Vec<Trial> {
    let cases: Vec<(&str, Case)> = vec![
        ("serve::fresh_instance_per_request", fresh_instance),
        ("serve::guest_faults_get_5xx_and_serving_goes_on", faults),
        ("serve::outgoing_http_only_to_granted_origins", outgoing),
        (
            "serve::graceful_shutdown_finishes_requests_in_flight",
            shutdown,
        ),
        ("serve::h2c_and_keep_alive", protocols),
        ("serve::a_client_that_leaves_frees_its_slot", abandoned),
        ("serve::malformed_requests_get_400", malformed),
        ("serve::body_limit_and_grants", body_and_grants),
        ("serve::json_request_log", json_log),
        (
            "serve::refuses_a_non_http_app_and_a_busy_port_before_compiling",
            not_http,
        ),
        ("serve::shop_example_answers_every_route", shop),
        (
            "serve::python_js_and_go_handlers_from_wit_without_deps",
            handlers,
        ),
        (
            "build::js_handler_of_another_wasi_release_says_which",
            js_release,
        ),
        ("test::http_tests_pass_and_fail", http_tests),
        ("up::watch_reloads_an_http_app_under_load", reload),
        ("up::watch_reloads_a_wasi_0_3_service_under_load", reload_p3),
        ("serve::wasi_0_3_service_and_command", wasi_p3),
    ];
    cases
        .into_iter()
        .map(|(name, f)| crate::trial(name, f))
        .collect()
}

/// A running `weld serve`, stopped (SIGKILL) when dropped if a test did not stop it.
pub(crate) struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    /// The thread copying stderr into `log`: done once weld has exited and its stderr closed.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serves the probe guest with `flags`, on a free loopback port.
    fn start(flags: &[&str]) -> Result<Server, Failed> {
        let app = super::run::guests()?.join("http.wasm");
        let mut args = vec![app.to_string_lossy().into_owned()];
        args.extend(flags.iter().map(|f| f.to_string()));
        Server::spawn(&args)
    }

    /// `weld serve ARGS --addr 127.0.0.1:0`, once it listens.
    pub(crate) fn spawn(args: &[String]) -> Result<Server, Failed> {
        let mut command = vec!["serve".to_string()];
        command.extend(args.iter().cloned());
        command.extend(["--addr".to_string(), "127.0.0.1:0".to_string()]);
        Server::command(&command)
    }

    /// `weld ARGS`, once it says where it listens.
    pub(crate) fn command(args: &[String]) -> Result<Server, Failed> {
        let mut child = weld()
            .env("WELD_CACHE_DIR", shared_cache())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().expect("piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line
                    .split("on http://")
                    .nth(1)
                    .or_else(|| line.split("\"listening\":\"http://").nth(1))
                {
                    let addr: String = addr.chars().take_while(|c| *c != '"').collect();
                    let _ = tx.send(addr);
                }
                lines.lock().unwrap().push(line);
            }
        });
        // The first start builds and compiles (the shop example: a minute); later ones load.
        let addr = match rx.recv_timeout(Duration::from_secs(600)) {
            Ok(addr) => addr.parse()?,
            Err(_) => {
                let _ = child.kill();
                return Err(format!(
                    "weld serve did not start listening:\n{}",
                    log.lock().unwrap().join("\n")
                )
                .into());
            }
        };
        Ok(Server {
            child,
            addr,
            log,
            reader: Some(reader),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GET `path`: status and body.
    pub(crate) fn get(&self, path: &str) -> Result<(u16, String), Failed> {
        get(&agent(), &self.url(path))
    }

    /// What the server logged so far.
    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The log once it holds every one of `wanted`: a request's line is written after its
    /// response, and read from weld's stderr by another thread, so it can trail the response.
    /// The bound only keeps a missing line from hanging the test.
    fn log_with(&self, wanted: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if wanted.iter().all(|w| log.contains(w)) || start.elapsed() > Duration::from_secs(120)
            {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGINT, then the exit code (within `within`).
    fn interrupt(&mut self, within: Duration) -> Result<Option<i32>, Failed> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        let start = Instant::now();
        while start.elapsed() < within {
            if let Some(status) = self.child.try_wait()? {
                // Every line weld wrote before exiting is in the log once the reader is done.
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return Ok(status.code());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("weld serve did not exit within {within:?} of SIGINT").into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn get(agent: &ureq::Agent, url: &str) -> Result<(u16, String), Failed> {
    let response = agent.get(url).call()?;
    let status = response.status().as_u16();
    let body = response.into_body().read_to_string()?;
    Ok((status, body))
}

/// Each request sees a counter that no earlier request touched, even from one connection, and
/// even when requests run at once.
fn fresh_instance() -> Result<(), Failed> {
    let server = Server::start(&[])?;
    let client = agent();
    for _ in 0..5 {
        assert_eq!(get(&client, &server.url("/count"))?, (200, "1\n".into()));
    }
    let url = server.url("/count");
    let answers: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || get(&agent(), &url).map_err(|e| format!("{e:?}")))
        })
        .collect();
    for answer in answers {
        assert_eq!(answer.join().unwrap()?, (200, "1\n".into()));
    }
    Ok(())
}

/// A trap, an endless loop and unbounded allocation each get their status and a log line that
/// names the app and the cause; the server answers the next request as before.
fn faults() -> Result<(), Failed> {
    let server = Server::start(&["--timeout", "1s", "--max-memory", "32MiB"])?;
    let (status, body) = server.get("/trap")?;
    assert_eq!(status, 500);
    // The client learns that the app failed, not its internals.
    assert_eq!(body, "the app failed\n");
    assert_eq!(server.get("/")?.0, 200);
    let start = Instant::now();
    assert_eq!(server.get("/loop")?.0, 504);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "the deadline held"
    );
    assert_eq!(server.get("/alloc")?.0, 503);
    assert_eq!(server.get("/count")?, (200, "1\n".into()));
    let log = server.log_with(&["GET /trap 500", "GET /loop 504", "GET /alloc 503"]);
    assert!(log.contains("GET /trap 500"), "{log}");
    assert!(
        log.contains("trapped: wasm trap: wasm `unreachable`"),
        "{log}"
    );
    assert!(log.contains("incoming-handler"), "the backtrace: {log}");
    assert!(
        log.contains("GET /loop 504") && log.contains("did not finish within its deadline of 1s"),
        "{log}"
    );
    assert!(
        log.contains("GET /alloc 503") && log.contains("reached its memory limit of 32 MiB"),
        "{log}"
    );
    Ok(())
}

/// A minimal HTTP/1.1 server on loopback that answers every request with `body` and counts the
/// connections it accepted.
fn upstream(body: &'static str) -> Result<(SocketAddr, Arc<AtomicUsize>), Failed> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok((addr, accepted))
}

/// The granted origin is reached; another one on the same host is refused inside the guest
/// (`HttpRequestDenied`) without a connection being made.
fn outgoing() -> Result<(), Failed> {
    let (granted, granted_hits) = upstream("from the granted upstream")?;
    let (other, other_hits) = upstream("must never be seen")?;
    let server = Server::start(&["--allow-http", &format!("http://{granted}")])?;
    let (status, body) = server.get(&format!("/fetch?url=http://{granted}/data"))?;
    assert_eq!((status, body.as_str()), (200, "from the granted upstream"));
    assert_eq!(granted_hits.load(Ordering::SeqCst), 1);
    let (status, body) = server.get(&format!("/fetch?url=http://{other}/data"))?;
    assert_eq!(status, 502);
    assert!(body.contains("HttpRequestDenied"), "{body}");
    // Same host and port as the grant but https: a different origin.
    let (status, body) = server.get(&format!("/fetch?url=https://{granted}/data"))?;
    assert_eq!(status, 502);
    assert!(body.contains("HttpRequestDenied"), "{body}");
    assert_eq!(
        other_hits.load(Ordering::SeqCst),
        0,
        "no connection to a denied origin"
    );
    assert_eq!(granted_hits.load(Ordering::SeqCst), 1);

    // Nothing granted: nothing reachable.
    drop(server);
    let server = Server::start(&[])?;
    let (status, body) = server.get(&format!("/fetch?url=http://{granted}/data"))?;
    assert_eq!(status, 502);
    assert!(body.contains("HttpRequestDenied"), "{body}");
    assert_eq!(granted_hits.load(Ordering::SeqCst), 1);
    Ok(())
}

/// SIGINT while a request is in flight: it completes, new connections are refused, and weld
/// exits 0 saying how many requests it answered.
fn shutdown() -> Result<(), Failed> {
    let mut server = Server::start(&["--grace", "20s"])?;
    let url = server.url("/sleep?ms=3000");
    let in_flight = std::thread::spawn(move || get(&agent(), &url).map_err(|e| format!("{e:?}")));
    // Wait until the request is being handled (the guest is then asleep inside it), with room
    // for a busy machine.
    std::thread::sleep(Duration::from_millis(1000));
    let addr = server.addr;
    let code = server.interrupt(Duration::from_secs(30))?;
    assert_eq!(in_flight.join().unwrap()?, (200, "slept 3000 ms\n".into()));
    assert_eq!(code, Some(0), "{}", server.log());
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err(),
        "the listener is closed"
    );
    let log = server.log();
    assert!(log.contains("GET /sleep 200"), "{log}");
    assert!(log.contains("stopped after 1 request"), "{log}");
    Ok(())
}

/// A client that gives up on its request stops the guest answering it: with one request at a
/// time and a five-minute deadline, the next request is answered at once (the client gives up
/// after one minute, long before the deadline), and the log says the client left. Whether the
/// guest is computing (`/loop`), waiting in the host (`/sleep`), or writing an endless body
/// that it does not stop when writes fail (`/drip`).
fn abandoned() -> Result<(), Failed> {
    let server = Server::start(&["--max-concurrency", "1", "--timeout", "300s"])?;
    for path in ["/loop", "/sleep?ms=300000", "/drip"] {
        let mut stream = std::net::TcpStream::connect(server.addr)?;
        write!(stream, "GET {path} HTTP/1.1\r\nhost: test\r\n\r\n")?;
        if path == "/drip" {
            // Gone in the middle of the body.
            stream.set_read_timeout(Some(Duration::from_secs(60)))?;
            let mut reader = BufReader::new(stream.try_clone()?);
            let mut line = String::new();
            while line.trim() != "drip" {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Err("the body ended".into());
                }
            }
        } else {
            // The request has taken the only slot by now on all but a very busy machine; it
            // must be freed either way.
            std::thread::sleep(Duration::from_millis(500));
        }
        drop(stream);
        assert_eq!(
            server.get("/count")?,
            (200, "1\n".into()),
            "after {path}: {}",
            server.log()
        );
    }
    let log = server.log_with(&["GET /loop 499", "GET /sleep 499", "GET /drip 200"]);
    for left in ["GET /loop 499", "GET /sleep 499"] {
        assert!(log.contains(left), "{log}");
    }
    assert!(
        log.lines()
            .any(|l| l.starts_with("GET /drip 200") && l.contains("the client closed")),
        "{log}"
    );
    assert_eq!(
        log.matches("the client closed the connection").count(),
        3,
        "{log}"
    );
    Ok(())
}

/// HTTP/1.1 keep-alive serves many requests on one connection; h2c (prior knowledge) works on
/// the same port, with streams in parallel.
fn protocols() -> Result<(), Failed> {
    let server = Server::start(&[])?;
    // One raw connection, several requests: keep-alive.
    let mut stream = std::net::TcpStream::connect(server.addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    for _ in 0..3 {
        write!(stream, "GET /count HTTP/1.1\r\nhost: test\r\n\r\n")?;
        let mut status = String::new();
        reader.read_line(&mut status)?;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let mut length = None;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = Some(v.trim().parse::<usize>()?);
            }
        }
        let body = match length {
            Some(n) => {
                let mut body = vec![0; n];
                reader.read_exact(&mut body)?;
                body
            }
            // The guest streams its body: chunked.
            None => {
                let mut body = Vec::new();
                loop {
                    let mut size = String::new();
                    reader.read_line(&mut size)?;
                    let n = usize::from_str_radix(size.trim(), 16)?;
                    let mut chunk = vec![0; n + 2];
                    reader.read_exact(&mut chunk)?;
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                body
            }
        };
        assert_eq!(body, b"1\n");
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let addr = server.addr;
    let bodies: Vec<String> = runtime.block_on(async move {
        use http_body_util::{BodyExt, Empty};
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let (sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(tcp),
        )
        .await?;
        tokio::spawn(conn);
        let requests = (0..4).map(|_| {
            let mut sender = sender.clone();
            async move {
                let request = http::Request::get(format!("http://{addr}/count"))
                    .body(Empty::<bytes::Bytes>::new())?;
                let response = sender.send_request(request).await?;
                assert_eq!(response.version(), http::Version::HTTP_2);
                assert_eq!(response.status(), 200);
                let body = response.into_body().collect().await?.to_bytes();
                Ok::<_, Failed>(String::from_utf8_lossy(&body).into_owned())
            }
        });
        let mut bodies = Vec::new();
        for result in futures_join(requests).await {
            bodies.push(result?);
        }
        Ok::<_, Failed>(bodies)
    })?;
    assert_eq!(bodies, vec!["1\n"; 4]);
    Ok(())
}

/// Runs the futures concurrently on the current task and collects their outputs in order.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("the request task"));
    }
    out
}

/// A body over `--max-body` is refused with 413 before the app runs; one within it reaches the
/// guest. The guest sees only the variables granted.
fn body_and_grants() -> Result<(), Failed> {
    let server = Server::start(&["--max-body", "1KiB", "--env", "GREETING=hi there"])?;
    let agent = agent();
    let small = agent.post(server.url("/echo")).send("twelve bytes")?;
    assert_eq!(small.status().as_u16(), 200);
    assert_eq!(
        small.into_body().read_to_string()?,
        "12 bytes: twelve bytes"
    );
    let big = agent.post(server.url("/echo")).send(&[b'x'; 4096][..])?;
    assert_eq!(big.status().as_u16(), 413);
    assert_eq!(
        server.get("/env?name=GREETING")?,
        (200, "hi there\n".into())
    );
    // The host's own variables stay on the host.
    assert_eq!(server.get("/env?name=PATH")?.0, 404);
    Ok(())
}

/// `--format json`: the address and every request as one JSON object per line.
fn json_log() -> Result<(), Failed> {
    let server = Server::start(&["--format", "json", "--timeout", "1s"])?;
    assert_eq!(server.get("/count")?.0, 200);
    assert_eq!(server.get("/trap")?.0, 500);
    server.log_with(&["/trap"]);
    // The guest's own stderr (its panic message) passes through between weld's lines.
    let lines: Vec<serde_json::Value> = server
        .log()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert!(
        lines[0]["listening"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    let count = lines
        .iter()
        .find(|l| l["path"] == "/count")
        .expect("logged");
    assert_eq!(count["method"], "GET");
    assert_eq!(count["status"], 200);
    assert!(count["ms"].as_f64().unwrap() >= 0.0);
    assert!(count.get("error").is_none());
    let trap = lines.iter().find(|l| l["path"] == "/trap").expect("logged");
    assert_eq!(trap["status"], 500);
    assert_eq!(trap["error"]["code"], "weld::run::trap");
    Ok(())
}

/// A command is not served, and an HTTP app is not run: each says which command fits.
fn not_http() -> Result<(), Failed> {
    let guests = super::run::guests()?;
    // Both refused before anything is compiled (the trial's own cache stays empty).
    let out = weld()
        .arg("serve")
        .arg(guests.join("hostile.wasm"))
        .args(["--addr", "127.0.0.1:0"])
        .output()?;
    expect_code(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not export wasi:http/incoming-handler"),
        "{err}"
    );
    assert!(!err.contains("compiling"), "{err}");
    let busy = TcpListener::bind("127.0.0.1:0")?;
    let out = weld()
        .arg("serve")
        .arg(guests.join("http.wasm"))
        .args(["--addr", &busy.local_addr()?.to_string()])
        .output()?;
    expect_code(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen on"), "{err}");
    assert!(!err.contains("compiling"), "{err}");
    assert_eq!(
        crate::files_under(&crate::trial_cache()),
        Vec::<String>::new()
    );
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .arg("run")
        .arg(guests.join("http.wasm"))
        .output()?;
    expect_code(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is an HTTP app"), "{err}");
    assert!(err.contains("weld serve"), "{err}");
    Ok(())
}

/// The polyglot example (fixtures/shop) built, composed and served from its project: every
/// route crosses from the Rust front end into Python, JavaScript or both.
fn shop() -> Result<(), Failed> {
    let server = Server::spawn(&["-C".into(), "fixtures/shop".into()])?;
    let (status, body) = server.get("/items")?;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        "apple   0.50\nbread   3.20\ncheese  12.75\ncoffee  8.99\npear    0.65\n"
    );
    assert_eq!(
        server.get("/quote?order=apple:3,pear:2&coupon=SAVE10")?,
        (
            200,
            "apple x3 @ 0.50 = 1.50\npear x2 @ 0.65 = 1.30\nsubtotal 2.80\ndiscount 0.28\ntotal 2.52\n"
                .into()
        )
    );
    // Python's errors reach the client as a 400 with the reason.
    assert_eq!(
        server.get("/quote?order=apple:3,kiwi:1")?,
        (
            400,
            "no item 'kiwi' (the shop sells apple, bread, cheese, coffee, pear)\n".into()
        )
    );
    assert_eq!(
        server.get("/quote?order=cheese:1000&coupon=half")?.1,
        "cheese x1000 @ 12.75 = 12,750.00\nsubtotal 12,750.00\ndiscount 6,375.00\ntotal 6,375.00\n"
    );
    let slug = agent()
        .post(server.url("/slug"))
        .send("Hello, Wasm World! 2026")?;
    assert_eq!(slug.status().as_u16(), 200);
    assert_eq!(
        slug.into_body().read_to_string()?,
        "hello-wasm-world-2026\n"
    );
    assert_eq!(server.get("/nope")?.0, 404);
    assert_eq!(
        agent()
            .delete(server.url("/items"))
            .call()?
            .status()
            .as_u16(),
        405
    );
    let log = server.log();
    assert!(
        log.contains(" build done") && log.contains("compose done"),
        "{log}"
    );
    Ok(())
}

/// fixtures/handlers: a Python handler on componentize-py's proxy-world bindings, a
/// JavaScript one on componentize-js's fetch event, from a wit/ that names
/// `wasi:http/proxy@0.2.0` (and the engine's 0.2.10) and has no deps/, and a Go one in
/// componentize-go's layout, from a wit/ of its own.
fn handlers() -> Result<(), Failed> {
    // The JavaScript world names the release the pinned componentize-js's engine exports.
    let wit = std::fs::read_to_string("fixtures/handlers/wit/handlers.wit")?;
    let engine = weld::toolchain::COMPONENTIZE_JS_WASI_HTTP;
    assert!(wit.contains(&format!("wasi:http/proxy@{engine};")), "{wit}");

    // With no app given, weld serve builds both, composes the Python root and serves it.
    let server = Server::spawn(&["-C".into(), "fixtures/handlers".into()])?;
    let stats = agent()
        .post(server.url("/stats"))
        .header("content-type", "text/plain")
        .send("to be or not to be\nthat is the question\n")?;
    assert_eq!(stats.status().as_u16(), 200);
    let json: serde_json::Value = serde_json::from_str(&stats.into_body().read_to_string()?)?;
    assert_eq!(json["lines"], 2);
    assert_eq!(json["words"], 10);
    assert_eq!(
        json["top"][0],
        serde_json::json!({"word": "to", "count": 2})
    );
    assert_eq!(
        server.get("/hello?name=Ada")?,
        (200, "Hello, Ada!\n".into())
    );
    assert_eq!(server.get("/nope")?.0, 404);
    assert_eq!(
        agent()
            .post(server.url("/hello"))
            .send("")?
            .status()
            .as_u16(),
        405
    );
    drop(server);

    // The JavaScript handler, built by that same run.
    let server = Server::spawn(&["fixtures/handlers/target/weld/headers.wasm".into()])?;
    let inspect = agent()
        .get(server.url("/inspect?item=pear&n=2"))
        .header("x-trace", "abc")
        .call()?;
    assert_eq!(inspect.status().as_u16(), 200);
    let json: serde_json::Value = serde_json::from_str(&inspect.into_body().read_to_string()?)?;
    assert_eq!(json["method"], "GET");
    assert_eq!(json["path"], "/inspect");
    assert_eq!(json["query"], serde_json::json!({"item": "pear", "n": "2"}));
    assert_eq!(json["headers"]["x-trace"], "abc");
    let reversed = agent().post(server.url("/reverse")).send("weld ✓")?;
    assert_eq!(reversed.into_body().read_to_string()?, "✓ dlew\n");
    assert_eq!(server.get("/missing")?.0, 404);
    drop(server);

    // The Go handler, built by that same run.
    let server = Server::spawn(&["fixtures/handlers/target/weld/greet.wasm".into()])?;
    assert_eq!(
        server.get("/hello?name=Ada")?,
        (200, "Hello, Ada, from Go!\n".into())
    );
    assert_eq!(
        server.get("/hello")?,
        (200, "Hello, world, from Go!\n".into())
    );
    assert_eq!(server.get("/elsewhere")?.0, 404);
    drop(server);

    // Its [[test]]s pass: three against the composed app, two against the Go handler.
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args(["test", "-C", "fixtures/handlers"])
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    expect_code(&out, 0);
    assert!(stdout.contains("5 passed, 0 failed"), "{stdout}");
    Ok(())
}

/// A fetch-event handler whose world exports another wasi:http release than the one
/// componentize-js's engine was built with fails the build, and the help names the release.
fn js_release() -> Result<(), Failed> {
    let dir = crate::scratch("js-release")?;
    std::fs::create_dir_all(dir.join("wit"))?;
    std::fs::write(
        dir.join("wit/world.wit"),
        "package demo:js;\nworld handler {\n  include wasi:http/proxy@0.2.0;\n}\n",
    )?;
    std::fs::write(
        dir.join("handler.js"),
        "addEventListener(\"fetch\", (e) => e.respondWith(new Response(\"hi\")));\n",
    )?;
    std::fs::write(
        dir.join("weld.toml"),
        "[project]\nname = \"js\"\nwit = \"wit\"\n\n[components.handler]\nlang = \"js\"\npath = \"handler.js\"\nworld = \"handler\"\n",
    )?;
    let out = weld().arg("-C").arg(&dir).arg("build").output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let engine = weld::toolchain::COMPONENTIZE_JS_WASI_HTTP;
    assert!(
        stderr.contains(&format!("include wasi:http/proxy@{engine};")),
        "{stderr}"
    );
    Ok(())
}

/// `[[test]]`s with `request`: each in a fresh instance (two `/count`s both see 1), checks of
/// status, body and headers, a trap reported with its cause; JSON and JUnit agree.
fn http_tests() -> Result<(), Failed> {
    let app = super::run::guests()?.join("http.wasm");
    let dir = crate::scratch("http-tests")?;
    std::fs::write(
        dir.join("weld.toml"),
        format!(
            r#"[project]
name = "http-tests"

[components.probe]
lang = "wasm"
path = "{app}"

[[test]]
name = "count once"
target = "probe"
request = "GET /count"
expect-body = "1\n"

[[test]]
name = "count again"
target = "probe"
request = "GET /count"
expect-body = "1\n"
expect-header = {{ content-type = "text/plain" }}

[[test]]
name = "echo"
target = "probe"
request = "POST /echo"
headers = {{ x-test = "yes" }}
body = "abc"
expect-body-contains = "3 bytes"

[[test]]
name = "trap expected"
target = "probe"
request = "GET /trap"
expect-status = 500

[[test]]
name = "wrong status"
target = "probe"
request = "GET /trap"

[[test]]
name = "wrong body"
target = "probe"
request = "GET /"
expect-body = "goodbye\n"

[[test]]
name = "missing header"
target = "probe"
request = "GET /"
expect-header = {{ x-missing = "1" }}
"#,
            app = app.display()
        ),
    )?;
    let junit = dir.join("junit.xml");
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args(["--format", "json", "test", "-C"])
        .arg(&dir)
        .arg("--junit")
        .arg(&junit)
        .output()?;
    expect_code(&out, 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let results = report["tests"].as_array().expect("tests");
    let verdict = |name: &str| {
        results
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {report}"))
            .clone()
    };
    for name in ["count once", "count again", "echo", "trap expected"] {
        assert_eq!(
            verdict(name)["status"],
            "passed",
            "{name}: {}",
            verdict(name)
        );
    }
    let wrong_status = verdict("wrong status");
    assert_eq!(wrong_status["status"], "failed");
    assert_eq!(wrong_status["expected"], "status 200");
    let got = wrong_status["got"].as_str().unwrap();
    assert!(got.starts_with("status 500: `probe` trapped"), "{got}");
    assert!(
        wrong_status["stderr"]
            .as_str()
            .unwrap()
            .contains("asked to trap"),
        "the guest's panic message: {wrong_status}"
    );
    let wrong_body = verdict("wrong body");
    assert_eq!(wrong_body["status"], "failed");
    assert!(
        wrong_body["diff"].as_str().unwrap().contains("goodbye"),
        "{wrong_body}"
    );
    let missing = verdict("missing header");
    assert_eq!(missing["expected"], "x-missing: 1");
    assert_eq!(missing["got"], "no header x-missing");
    let xml = std::fs::read_to_string(&junit)?;
    assert!(
        xml.contains(r#"tests="7""#) && xml.contains(r#"failures="3""#),
        "{xml}"
    );
    Ok(())
}

fn reload() -> Result<(), Failed> {
    reload_of("fixtures/hello-http")
}

/// [`reload_of`] for a WASI 0.3 service (`wasip3`, served in the store's event loop).
fn reload_p3() -> Result<(), Failed> {
    reload_of("fixtures/hello-http-p3")
}

/// `weld up --watch` on an HTTP app (`fixture`, the greeting of fixtures/hello-http) under
/// continuous load (keep-alive clients and a client that connects for every request): an edit
/// is rebuilt and swapped in with no failed request, and an edit that does not compile leaves
/// the running version serving.
fn reload_of(fixture: &str) -> Result<(), Failed> {
    let dir = crate::scratch("reload")?;
    let src = crate::root().join(fixture);
    std::fs::create_dir_all(dir.join("hello-rs/src"))?;
    for file in [
        "hello-rs/Cargo.toml",
        "hello-rs/Cargo.lock",
        "hello-rs/src/lib.rs",
    ] {
        std::fs::copy(src.join(file), dir.join(file))?;
    }
    let manifest = std::fs::read_to_string(src.join("weld.toml"))?;
    std::fs::write(
        dir.join("weld.toml"),
        format!("{manifest}\n[serve]\naddr = \"127.0.0.1:0\"\n"),
    )?;
    let mut server = Server::command(&[
        "up".into(),
        dir.to_string_lossy().into_owned(),
        "--watch".into(),
    ])?;

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let url = server.url("/");
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (stop, seen, failures, url) =
                (stop.clone(), seen.clone(), failures.clone(), url.clone());
            std::thread::spawn(move || {
                // Clients 0–2 keep their connection alive; client 3 connects for every request.
                let mut client = agent();
                while !stop.load(Ordering::SeqCst) {
                    if i == 3 {
                        client = agent();
                    }
                    match get(&client, &url) {
                        Ok((200, body)) => {
                            let mut seen = seen.lock().unwrap();
                            if seen.last() != Some(&body) {
                                seen.push(body);
                            }
                        }
                        Ok((status, body)) => {
                            failures.lock().unwrap().push(format!("{status} {body}"))
                        }
                        Err(e) => failures.lock().unwrap().push(format!("{e:?}")),
                    }
                }
            })
        })
        .collect();
    let wait_for = |server: &Server, text: &str| -> Result<(), Failed> {
        let start = Instant::now();
        while !server.log().contains(text) {
            if start.elapsed() > Duration::from_secs(300) {
                return Err(format!("no `{text}` in:\n{}", server.log()).into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    };

    std::thread::sleep(Duration::from_millis(500));
    let lib = dir.join("hello-rs/src/lib.rs");
    let source = std::fs::read_to_string(&lib)?;
    std::fs::write(
        &lib,
        source.replace("Hello from weld!", "Hello again from weld!"),
    )?;
    wait_for(&server, "new requests go to the new version")?;
    std::thread::sleep(Duration::from_millis(500));
    // A change that does not compile: the running version stays.
    std::fs::write(&lib, "this is not Rust")?;
    wait_for(&server, "the previous version keeps serving")?;
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "failed requests: {failures:?}\n{}",
        server.log()
    );
    let seen = seen.lock().unwrap();
    // Both versions answered, and nothing else did.
    assert!(seen.contains(&"Hello from weld!\n".to_string()), "{seen:?}");
    assert!(
        seen.contains(&"Hello again from weld!\n".to_string()),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .all(|b| b == "Hello from weld!\n" || b == "Hello again from weld!\n")
    );
    assert_eq!(server.get("/")?, (200, "Hello again from weld!\n".into()));
    assert_eq!(
        server.interrupt(Duration::from_secs(30))?,
        Some(0),
        "{}",
        server.log()
    );
    Ok(())
}

/// Requests that are not HTTP, lack a host or carry a bad length get 400 on their own
/// connection; a slow client holding a connection open harms no one else.
fn malformed() -> Result<(), Failed> {
    let server = Server::start(&[])?;
    // A client that sends half a request and waits.
    let mut slow = std::net::TcpStream::connect(server.addr)?;
    slow.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")?;
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n",
    ] {
        let mut stream = std::net::TcpStream::connect(server.addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(raw)?;
        let mut status = String::new();
        BufReader::new(stream).read_line(&mut status)?;
        assert!(
            status.starts_with("HTTP/1.1 400") || status.starts_with("HTTP/1.0 400"),
            "{:?}: {status}",
            String::from_utf8_lossy(raw)
        );
    }
    assert_eq!(server.get("/count")?, (200, "1\n".into()));
    drop(slow);
    Ok(())
}

/// 128 GETs of `path` from 16 threads at once, every answer.
fn many_at_once(server: &Server, path: &str) -> Vec<Result<(u16, String), Failed>> {
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..16)
            .map(|_| s.spawn(|| (0..8).map(|_| server.get(path)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("no panic"))
            .collect()
    })
}

/// POSTs 300 kB to `/echo` and checks that every byte came back, in order.
fn echoes_whole(server: &Server) -> Result<(), Failed> {
    let sent: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut echoed = Vec::new();
    agent()
        .post(server.url("/echo"))
        .send(&sent[..])?
        .into_body()
        .into_reader()
        .read_to_end(&mut echoed)?;
    assert_eq!(echoed.len(), sent.len());
    assert!(echoed == sent, "the echoed body differs");
    Ok(())
}

/// WASI 0.3 components (fixtures/p3): the app, a Rust service (`wasip3`) composed with the
/// WASI 0.2 JavaScript library it imports, answers GET and 404, calls the library, streams a
/// 300 kB POST body back whole, answers many requests at once, is stopped at its deadline and
/// its memory limit, reaches only granted origins, and finishes a request in flight on SIGINT; the [[test]]s of the Rust and Python commands and services
/// (the Python ones with no WIT but a WASI world's name) pass.
fn wasi_p3() -> Result<(), Failed> {
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args(["build", "-q", "-C", "fixtures/p3"])
        .output()?;
    expect_code(&out, 0);
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args(["test", "-C", "fixtures/p3"])
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    expect_code(&out, 0);
    // Commands and services in Rust and Python, HTTP tests included.
    assert!(stdout.contains("9 passed, 0 failed"), "{stdout}");

    // The app: the Rust 0.3 service composed with a 0.2 JavaScript library it imports.
    let (granted, hits) = upstream("from the granted upstream")?;
    let project = ["-C".to_string(), "fixtures/p3".to_string()];
    let server = Server::spawn(&[
        project[0].clone(),
        project[1].clone(),
        "--timeout".into(),
        "3s".into(),
        "--allow-http".into(),
        format!("http://{granted}"),
    ])?;
    assert_eq!(
        server.get("/")?,
        (200, "Hello from a WASI 0.3 service\n".into())
    );
    assert_eq!(server.get("/nope")?, (404, "not found\n".into()));
    assert_eq!(server.get("/shout?weld")?, (200, "WELD!".into()));

    // 300 kB through the guest's streams and back, every byte in order.
    echoes_whole(&server)?;
    // Many at once, each its own instance.
    for answer in many_at_once(&server, "/") {
        assert_eq!(answer?.0, 200);
    }

    let (status, body) = server.get(&format!("/fetch?{granted}"))?;
    assert_eq!((status, body.as_str()), (200, "from the granted upstream"));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(server.get("/loop")?.0, 504);
    let log = server.log_with(&["GET /loop 504"]);
    assert!(log.contains("did not finish within its deadline"), "{log}");
    // The memory limit (the run's default, 1 GiB) stops a guest that asks for more; a smaller
    // request is fine, and serving goes on.
    assert_eq!(
        server.get("/alloc?8")?,
        (200, "touched 2048 pages\n".into())
    );
    assert_eq!(server.get("/alloc?1500")?.0, 503);
    assert_eq!(server.get("/")?.0, 200);
    // SIGINT while a request waits in the host: it finishes, then weld exits 0.
    let mut server = server;
    let url = server.url("/sleep?2000");
    let in_flight = std::thread::spawn(move || get(&agent(), &url).map_err(|e| format!("{e:?}")));
    std::thread::sleep(Duration::from_millis(1000));
    let code = server.interrupt(Duration::from_secs(30))?;
    assert_eq!(in_flight.join().unwrap()?, (200, "slept 2000 ms\n".into()));
    assert_eq!(code, Some(0), "{}", server.log());
    drop(server);

    // Nothing granted: the same fetch is refused inside the guest, before any connection.
    let server = Server::spawn(&project)?;
    let (status, body) = server.get(&format!("/fetch?{granted}"))?;
    assert_eq!(status, 502);
    assert!(body.contains("HttpRequestDenied"), "{body}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // A fresh instance per request: each has answered one.
    for _ in 0..3 {
        assert_eq!(server.get("/count")?, (200, "1\n".into()));
    }
    drop(server);

    // Reused instances: one answers up to 64 requests, 16 at once, so it counts on.
    let server = Server::spawn(&[
        project[0].clone(),
        project[1].clone(),
        "--instance-reuse".into(),
        "64".into(),
        "--timeout".into(),
        "2s".into(),
    ])?;
    let counts: Vec<u64> = (0..5)
        .map(|_| {
            let (status, body) = server.get("/count")?;
            assert_eq!(status, 200);
            Ok(body.trim().parse().expect("a count"))
        })
        .collect::<Result<_, Failed>>()?;
    assert!(
        counts.iter().any(|n| *n > 1),
        "no instance was reused: {counts:?}"
    );
    for answer in many_at_once(&server, "/shout?hi") {
        assert_eq!(answer?, (200, "HI!".into()));
    }
    echoes_whole(&server)?;
    // The deadline still holds per request, and the server goes on.
    assert_eq!(server.get("/loop")?.0, 504);
    let log = server.log_with(&["GET /loop 504"]);
    assert!(log.contains("did not finish within its deadline"), "{log}");
    assert_eq!(
        server.get("/")?,
        (200, "Hello from a WASI 0.3 service\n".into())
    );
    Ok(())
}
