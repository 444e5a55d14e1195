//! Validation of `[run]` and `[[test]]`: capabilities, limits and test expectations.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::manifest::{RawDir, RawRun, RawServe, RawTest};
use super::validate::Validator;
use super::{
    DirGrant, HttpExpect, HttpOrigin, HttpRequest, InvokeExpect, RunSettings, ServeConfig,
    ServeSettings, StdoutExpect, TestAction, TestCase, TestTarget,
};
use crate::settings::parse_host_port;
use crate::units;

impl Validator {
    pub(super) fn run(&mut self, raw: RawRun, default_timeout: Duration) -> RunSettings {
        let mut env = Vec::new();
        for (key, value) in raw.env {
            self.env_name(&key);
            env.push((key.into_inner(), value.into_inner()));
        }
        for key in &raw.env_inherit {
            self.env_name(key);
        }
        let dirs = raw
            .dirs
            .into_iter()
            .filter_map(|d| self.dir_grant(d))
            .collect();
        for addr in &raw.allow_net {
            if parse_host_port(addr.get_ref()).is_none() {
                self.report(
                    "weld::manifest::invalid-value",
                    Some(addr.span()),
                    format!("`{}` is not a HOST:PORT address", addr.get_ref()),
                    "expected HOST:PORT",
                    Some("e.g. \"127.0.0.1:8080\" or \"example.com:443\"".into()),
                );
            }
        }
        let mut allow_http = Vec::new();
        for origin in &raw.allow_http {
            match origin.get_ref().parse::<HttpOrigin>() {
                Ok(o) => allow_http.push(o),
                Err(e) => self.report(
                    "weld::manifest::invalid-value",
                    Some(origin.span()),
                    format!("`{}` is not an HTTP origin: {e}", origin.get_ref()),
                    "expected an origin",
                    Some("e.g. \"https://api.example.com\" or \"http://127.0.0.1:8080\"".into()),
                ),
            }
        }
        let timeout = match &raw.timeout {
            Some(t) => units::parse_duration(t.get_ref())
                .map_err(|e| self.unit_error(t, "timeout", e))
                .unwrap_or(default_timeout),
            None => default_timeout,
        };
        let max_memory = match &raw.max_memory {
            Some(m) => units::parse_size(m.get_ref())
                .map_err(|e| self.unit_error(m, "max-memory", e))
                .unwrap_or(super::DEFAULT_MAX_MEMORY),
            None => super::DEFAULT_MAX_MEMORY,
        };
        RunSettings {
            args: raw.args.into_iter().map(Spanned::into_inner).collect(),
            env,
            env_inherit: raw
                .env_inherit
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            dirs,
            allow_net: raw.allow_net.into_iter().map(Spanned::into_inner).collect(),
            allow_http,
            timeout,
            max_memory,
        }
    }

    /// `[serve]`: its own keys, then the grants and limits it shares with `[run]`.
    pub(super) fn serve(&mut self, mut raw: RawServe) -> ServeConfig {
        let run = self.run(raw.run_keys(), super::DEFAULT_TIMEOUT);
        let addr = match &raw.addr {
            Some(a) => a.get_ref().parse().unwrap_or_else(|_| {
                self.report(
                    "weld::manifest::invalid-value",
                    Some(a.span()),
                    format!("`{}` is not an IP:PORT address to listen on", a.get_ref()),
                    "expected IP:PORT",
                    Some(
                        "e.g. \"127.0.0.1:8080\", or \"0.0.0.0:8080\" to accept other machines"
                            .into(),
                    ),
                );
                super::DEFAULT_SERVE_ADDR
            }),
            None => super::DEFAULT_SERVE_ADDR,
        };
        let mut count = |value: &Option<Spanned<i64>>, key: &str, default: usize| match value {
            Some(n) => match usize::try_from(*n.get_ref()) {
                Ok(n) if n > 0 => n,
                _ => {
                    self.report(
                        "weld::manifest::invalid-value",
                        Some(n.span()),
                        format!("`{key}` must be a positive number"),
                        "not a positive number",
                        None,
                    );
                    default
                }
            },
            None => default,
        };
        let max_concurrency = count(
            &raw.max_concurrency,
            "max-concurrency",
            super::DEFAULT_MAX_CONCURRENCY,
        );
        let max_connections = count(
            &raw.max_connections,
            "max-connections",
            super::DEFAULT_MAX_CONNECTIONS,
        );
        let instance_reuse = count(
            &raw.instance_reuse,
            "instance-reuse",
            super::DEFAULT_INSTANCE_REUSE,
        );
        let instance_concurrency = count(
            &raw.instance_concurrency,
            "instance-concurrency",
            super::DEFAULT_INSTANCE_CONCURRENCY,
        );
        let max_body = match &raw.max_body {
            Some(m) => units::parse_size(m.get_ref())
                .map_err(|e| self.unit_error(m, "max-body", e))
                .unwrap_or(super::DEFAULT_MAX_BODY),
            None => super::DEFAULT_MAX_BODY,
        };
        let grace = match &raw.grace {
            Some(g) => units::parse_duration(g.get_ref())
                .map_err(|e| self.unit_error(g, "grace", e))
                .unwrap_or(super::DEFAULT_GRACE),
            None => super::DEFAULT_GRACE,
        };
        ServeConfig {
            addr,
            settings: ServeSettings {
                run,
                max_concurrency,
                max_connections,
                max_body,
                grace,
                instance_reuse,
                instance_concurrency,
            },
        }
    }

    fn unit_error(&mut self, value: &Spanned<String>, key: &str, e: units::UnitError) {
        self.report(
            "weld::manifest::invalid-value",
            Some(value.span()),
            format!("`{key}`: {e}"),
            "invalid",
            None,
        );
    }

    fn env_name(&mut self, key: &Spanned<String>) {
        let k = key.get_ref();
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            self.report(
                "weld::manifest::invalid-value",
                Some(key.span()),
                format!("`{k}` is not an environment variable name"),
                "invalid name",
                Some("a name is non-empty and has no `=`".into()),
            );
        }
    }

    fn dir_grant(&mut self, raw: Spanned<RawDir>) -> Option<DirGrant> {
        let raw = raw.into_inner();
        let host = self.dir(&raw.host, "granted directory")?;
        Some(DirGrant {
            host,
            guest: raw
                .guest
                .map(Spanned::into_inner)
                .unwrap_or_else(|| raw.host.get_ref().clone()),
            read_only: raw.read_only,
        })
    }

    pub(super) fn test(
        &mut self,
        mut raw: RawTest,
        span: Range<usize>,
        names: &[String],
        has_compose: bool,
    ) -> Option<TestCase> {
        let name = raw.name.get_ref().clone();
        let mut ok = true;
        if name.trim().is_empty() {
            self.report(
                "weld::manifest::invalid-value",
                Some(raw.name.span()),
                "a test needs a non-empty name",
                "empty",
                None,
            );
            ok = false;
        }
        let target = match &raw.target {
            Some(t) if names.contains(t.get_ref()) => TestTarget::Component(t.get_ref().clone()),
            Some(t) if t.get_ref() == "app" => TestTarget::App,
            Some(t) => {
                ok &= self.component_ref(t, names, &format!("test `{name}`: target"));
                TestTarget::App
            }
            None => TestTarget::App,
        };
        if target == TestTarget::App && !has_compose {
            self.report(
                "weld::manifest::missing-key",
                Some(span.clone()),
                format!("test `{name}` targets the composed app, but there is no [compose]"),
                "targets the app",
                Some("add a [compose] section, or set `target` to a component".into()),
            );
            ok = false;
        }
        let action = match (&raw.invoke, &raw.request) {
            (Some(invoke), _) => {
                if let Some(request) = &raw.request {
                    self.report(
                        "weld::manifest::conflicting-keys",
                        Some(request.span()),
                        format!("test `{name}` has both `invoke` and `request`"),
                        "remove one",
                        Some("a test either calls an export or sends an HTTP request".into()),
                    );
                    ok = false;
                }
                self.invoke_action(&name, invoke, &raw, &mut ok)
            }
            (None, Some(request)) => self.http_action(&name, request, &raw, &mut ok),
            (None, None) => self.run_action(&name, &raw, &mut ok),
        };
        if !matches!(action, TestAction::Http { .. }) {
            self.http_keys_unused(&name, &raw, &mut ok);
        }
        let run = self.run(raw.run_keys(), super::DEFAULT_TEST_TIMEOUT);
        ok.then_some(TestCase {
            name,
            target,
            action,
            run,
        })
    }

    /// An `invoke` test: the call must parse now, and no run-test key may be set.
    fn invoke_action(
        &mut self,
        name: &str,
        invoke: &Spanned<String>,
        raw: &RawTest,
        ok: &mut bool,
    ) -> TestAction {
        *ok &= self.refuse_keys(
            &run_only_keys(raw),
            |key| format!("test `{name}`: `{key}` applies to run tests, but this one has `invoke`"),
            "not used with `invoke`",
            "split it into two tests: one that invokes, one that runs",
        );
        let expect = match (&raw.expect, &raw.expect_error) {
            (Some(_), Some(e)) => {
                self.report(
                    "weld::manifest::conflicting-keys",
                    Some(e.span()),
                    format!("test `{name}` has both `expect` and `expect-error`"),
                    "remove one",
                    None,
                );
                *ok = false;
                InvokeExpect::Success
            }
            (Some(v), None) => InvokeExpect::Value(v.get_ref().clone()),
            (None, Some(e)) => InvokeExpect::Error(e.get_ref().clone()),
            (None, None) => InvokeExpect::Success,
        };
        // The call must parse now, as `weld test` will parse it: a plan is valid or not.
        if let Err(e) = crate::call::Call::parse(invoke.get_ref()) {
            self.report(
                "weld::manifest::invalid-call",
                Some(invoke.span()),
                format!("test `{name}`: `invoke` does not parse: {e}"),
                "not a call",
                Some("write the call in WAVE, like invoke = 'words.shout(\"hi\")'".into()),
            );
            *ok = false;
        }
        TestAction::Invoke {
            call: invoke.get_ref().clone(),
            expect,
        }
    }

    /// An HTTP test: `request = "METHOD /path"`, and no invoke or run expectation.
    fn http_action(
        &mut self,
        name: &str,
        request: &Spanned<String>,
        raw: &RawTest,
        ok: &mut bool,
    ) -> TestAction {
        // (Reported in the manifest's order: issues are sorted by position.)
        let mut others = run_only_keys(raw).to_vec();
        others.extend(invoke_only_keys(raw));
        *ok &= self.refuse_keys(
            &others,
            |key| format!("test `{name}`: `{key}` does not apply to an HTTP test (`request`)"),
            "not used with `request`",
            "check the response with expect-status, expect-body, expect-body-contains or expect-header",
        );
        let text = request.get_ref().trim();
        let (method, path) = text.split_once(' ').unwrap_or(("", text));
        let path = path.trim();
        let method_ok = !method.is_empty()
            && method.bytes().all(|b| b.is_ascii_uppercase())
            && http::Method::from_bytes(method.as_bytes()).is_ok();
        let path_ok = path.starts_with('/') && path.parse::<http::uri::PathAndQuery>().is_ok();
        if !method_ok || !path_ok {
            self.report(
                "weld::manifest::invalid-value",
                Some(request.span()),
                format!("test `{name}`: `request` is not `METHOD /path`"),
                "expected e.g. \"GET /\" or \"POST /items?limit=2\"",
                None,
            );
            *ok = false;
        }
        let mut headers = Vec::new();
        for (key, value) in &raw.headers {
            if self.header(name, key, value) {
                headers.push((key.get_ref().clone(), value.get_ref().clone()));
            } else {
                *ok = false;
            }
        }
        let mut expect_headers = Vec::new();
        for (key, value) in &raw.expect_header {
            if self.header(name, key, value) {
                expect_headers.push((key.get_ref().to_ascii_lowercase(), value.get_ref().clone()));
            } else {
                *ok = false;
            }
        }
        let status = match &raw.expect_status {
            Some(s) => match u16::try_from(*s.get_ref()) {
                Ok(code) if (100..=599).contains(&code) => code,
                _ => {
                    self.report(
                        "weld::manifest::invalid-value",
                        Some(s.span()),
                        format!("test `{name}`: `expect-status` is not an HTTP status"),
                        "expected 100 to 599",
                        None,
                    );
                    *ok = false;
                    200
                }
            },
            None => 200,
        };
        if let (Some(_), Some(c)) = (&raw.expect_body, &raw.expect_body_contains) {
            self.report(
                "weld::manifest::conflicting-keys",
                Some(c.span()),
                format!("test `{name}` has both `expect-body` and `expect-body-contains`"),
                "remove one",
                None,
            );
            *ok = false;
        }
        TestAction::Http {
            request: HttpRequest {
                method: method.to_string(),
                path: path.to_string(),
                headers,
                body: raw
                    .body
                    .as_ref()
                    .map(|b| b.get_ref().clone())
                    .unwrap_or_default(),
            },
            expect: HttpExpect {
                status,
                body: raw.expect_body.as_ref().map(|b| b.get_ref().clone()),
                body_contains: raw
                    .expect_body_contains
                    .as_ref()
                    .map(|b| b.get_ref().clone()),
                headers: expect_headers,
            },
        }
    }

    /// A header name and value that HTTP can carry.
    fn header(&mut self, test: &str, key: &Spanned<String>, value: &Spanned<String>) -> bool {
        if http::HeaderName::from_bytes(key.get_ref().as_bytes()).is_err() {
            self.report(
                "weld::manifest::invalid-value",
                Some(key.span()),
                format!("test `{test}`: `{}` is not a header name", key.get_ref()),
                "not a header name",
                None,
            );
            return false;
        }
        if http::HeaderValue::from_str(value.get_ref()).is_err() {
            self.report(
                "weld::manifest::invalid-value",
                Some(value.span()),
                format!(
                    "test `{test}`: header `{}` has a value HTTP cannot carry",
                    key.get_ref()
                ),
                "not a header value",
                None,
            );
            return false;
        }
        true
    }

    /// The HTTP keys of a test that sends no request.
    fn http_keys_unused(&mut self, name: &str, raw: &RawTest, ok: &mut bool) {
        *ok &= self.refuse_keys(
            &http_only_keys(raw),
            |key| {
                format!(
                    "test `{name}`: `{key}` applies to HTTP tests, but this one has no `request`"
                )
            },
            "needs `request`",
            "add request = \"GET /path\"",
        );
    }

    /// Reports each key of `keys` that is set (its span is `Some`) as one this kind of test
    /// does not use: `message(key)`, under `label`, with `help`. False if any was set.
    fn refuse_keys(
        &mut self,
        keys: &[(&str, Option<Range<usize>>)],
        message: impl Fn(&str) -> String,
        label: &str,
        help: &str,
    ) -> bool {
        let mut none = true;
        for (key, span) in keys {
            if let Some(span) = span {
                self.report(
                    "weld::manifest::conflicting-keys",
                    Some(span.clone()),
                    message(key),
                    label,
                    Some(help.to_string()),
                );
                none = false;
            }
        }
        none
    }

    /// A run test: `expect` and `expect-error` need `invoke`; one stdout expectation at most.
    fn run_action(&mut self, name: &str, raw: &RawTest, ok: &mut bool) -> TestAction {
        *ok &= self.refuse_keys(
            &invoke_only_keys(raw),
            |key| format!("test `{name}`: `{key}` compares an invocation's result, but this test has no `invoke`"),
            "needs `invoke`",
            "add invoke = 'iface.func(args)', or use `expect-stdout` for a run test",
        );
        let stdout = match (&raw.expect_stdout, &raw.expect_stdout_contains) {
            (Some(_), Some(c)) => {
                self.report(
                    "weld::manifest::conflicting-keys",
                    Some(c.span()),
                    format!("test `{name}` has both `expect-stdout` and `expect-stdout-contains`"),
                    "remove one",
                    None,
                );
                *ok = false;
                None
            }
            (Some(s), None) => Some(StdoutExpect::Exact(s.get_ref().clone())),
            (None, Some(c)) => Some(StdoutExpect::Contains(c.get_ref().clone())),
            (None, None) => None,
        };
        TestAction::Run {
            stdin: raw.stdin.as_ref().map(|s| s.get_ref().clone()),
            stdout,
            exit: raw.expect_exit.as_ref().map(|e| *e.get_ref()).unwrap_or(0),
        }
    }
}

/// Where a test sets the keys only a run test uses (`None` where it does not).
fn run_only_keys(raw: &RawTest) -> [(&'static str, Option<Range<usize>>); 5] {
    [
        ("stdin", raw.stdin.as_ref().map(|s| s.span())),
        (
            "expect-stdout",
            raw.expect_stdout.as_ref().map(|s| s.span()),
        ),
        (
            "expect-stdout-contains",
            raw.expect_stdout_contains.as_ref().map(|s| s.span()),
        ),
        ("expect-exit", raw.expect_exit.as_ref().map(|s| s.span())),
        ("args", raw.args.first().map(|s| s.span())),
    ]
}

/// Where a test sets the keys only an invoke test uses.
fn invoke_only_keys(raw: &RawTest) -> [(&'static str, Option<Range<usize>>); 2] {
    [
        ("expect", raw.expect.as_ref().map(|s| s.span())),
        ("expect-error", raw.expect_error.as_ref().map(|s| s.span())),
    ]
}

/// Where a test sets the keys only an HTTP test uses.
fn http_only_keys(raw: &RawTest) -> [(&'static str, Option<Range<usize>>); 6] {
    [
        ("headers", raw.headers.keys().next().map(|k| k.span())),
        ("body", raw.body.as_ref().map(|s| s.span())),
        (
            "expect-status",
            raw.expect_status.as_ref().map(|s| s.span()),
        ),
        ("expect-body", raw.expect_body.as_ref().map(|s| s.span())),
        (
            "expect-body-contains",
            raw.expect_body_contains.as_ref().map(|s| s.span()),
        ),
        (
            "expect-header",
            raw.expect_header.keys().next().map(|k| k.span()),
        ),
    ]
}
