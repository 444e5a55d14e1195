//! The status lines of the pipeline's stages and of loading an app, as the reporter shows them:
//! the reporter is the [`pipeline::Observer`] every command passes.

use std::time::Duration;

use super::progress::BuildProgress;
use super::{Reporter, Style};
use crate::check::Finding;
use crate::compose::Composed;
use crate::pipeline::{self, Stage, StageEnd};
use crate::project::Component;
use crate::run::{Compiler, Compiling};
use crate::units::{format_elapsed, format_size};

impl pipeline::Observer for Reporter {
    fn build(&self, components: &[&Component]) -> Box<dyn crate::build::Observer + '_> {
        Box::new(BuildProgress::new(self, components))
    }

    fn stage_end(&self, stage: Stage, elapsed: Duration, end: StageEnd) {
        let name = format!("{:>6}", stage.name());
        self.status(&match end {
            StageEnd::Done | StageEnd::UpToDate => format!(
                "{} done in {}{}",
                self.paint(&name, Style::Good),
                format_elapsed(elapsed),
                if end == StageEnd::UpToDate {
                    " (up to date)"
                } else {
                    ""
                }
            ),
            StageEnd::Failed => format!("{} failed", self.paint(&name, Style::Bad)),
        });
    }

    fn refused(&self, components: &[String], findings: &[Finding]) {
        // On stderr: stdout belongs to the app or the test results.
        let names: Vec<&str> = components.iter().map(String::as_str).collect();
        self.eprint(&super::findings::render(self, &names, findings));
    }

    fn unresolved(&self, composed: &Composed) {
        unresolved(self, composed);
    }

    fn detailed(&self) -> bool {
        self.verbosity() >= 1
    }
}

/// A warning for each import the app still has that nothing provides.
pub fn unresolved(r: &Reporter, composed: &Composed) {
    for u in &composed.unresolved {
        r.status(&format!(
            "warning: {u} still needs a provider: the app imports it (--strict refuses this)"
        ));
    }
}

/// The line that says `app` is being compiled (it is not in the cache), and with what; `cached`
/// adds what the cache means for the next start.
pub fn compiling(app: &str, compiling: &Compiling, cached: Option<&str>) -> String {
    let size = format_size(compiling.size);
    let line = match (&compiling.fallback, compiling.compiler) {
        (Some(why), _) => format!(
            "Winch cannot compile {app} ({why}); compiling it with Cranelift instead ({size}), \
             as later dev runs will"
        ),
        (None, Compiler::Winch) => format!("compiling {app} ({size}) with Winch (dev profile)"),
        (None, Compiler::Cranelift) => format!("compiling {app} ({size}) with Cranelift"),
    };
    match cached {
        Some(cached) => format!("{line}; {cached}"),
        None => line,
    }
}

impl crate::serve::Observer for Reporter {
    fn compiling(&self, app: &str, c: &Compiling) {
        self.status(&compiling(
            app,
            c,
            Some("the compiled code is cached, so later starts are instant"),
        ));
    }

    fn loaded(&self, app: &crate::run::App) {
        if let crate::run::Compiled::Fresh { compile } = app.compiled {
            self.verbose(&format!(
                "compiled with {} in {}",
                app.compiler,
                format_elapsed(compile)
            ));
        }
    }

    fn listening(&self, addr: std::net::SocketAddr, name: &str, path: &std::path::Path) {
        // Scripts and tests read the address from this line, even with -q or JSON.
        if self.json() {
            self.eprint(&format!(
                "{}\n",
                serde_json::json!({"listening": format!("http://{addr}"), "app": name})
            ));
        } else {
            self.eprint(&format!(
                "{} {} on http://{addr}\n",
                self.paint("serving", Style::Good),
                crate::fsutil::shown(path)
            ));
        }
    }

    fn request_log(&self) -> crate::serve::RequestLog {
        (self.verbosity() >= 0).then(|| request_log(self.clone()))
    }

    fn stopped(&self, summary: &crate::serve::ServeSummary) {
        self.status(&format!(
            "stopped after {} request{}{}",
            summary.requests,
            if summary.requests == 1 { "" } else { "s" },
            if summary.cut_off > 0 {
                format!(
                    "; {} connection{} still open after the grace period were closed",
                    summary.cut_off,
                    if summary.cut_off == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        ));
    }
}

impl crate::run::Observer for Reporter {
    fn compiling(&self, app: &str, c: &Compiling, cached: bool) {
        self.status(&compiling(
            app,
            c,
            cached.then_some("the compiled code is cached, so later runs start at once"),
        ));
    }

    fn parts(&self, path: &std::path::Path, parts: usize, linked: bool) {
        self.verbose(&if linked {
            format!(
                "running {} as its {parts} parts, linked in the host (dev profile): an edit to one compiles only that one",
                crate::fsutil::shown(path)
            )
        } else {
            "its parts cannot be linked in the host: running the composed file".to_string()
        });
    }

    fn loaded(&self, app: &crate::run::App, path: &std::path::Path, cached: bool) {
        let shown = crate::fsutil::shown(path);
        match app.compiled {
            crate::run::Compiled::Cached { load } => self.verbose(&format!(
                "loaded {}'s code for {shown} from the cache in {}",
                app.compiler,
                format_elapsed(load)
            )),
            crate::run::Compiled::Fresh { compile } => self.verbose(&format!(
                "compiled {shown} with {} in {}{}",
                app.compiler,
                format_elapsed(compile),
                if cached {
                    " (cached for the next run)"
                } else {
                    " (cache bypassed)"
                }
            )),
        }
    }

    fn finished(&self, outcome: &crate::run::Outcome) {
        self.verbose(&format!(
            "instantiated in {}, finished in {}",
            format_elapsed(outcome.instantiate),
            format_elapsed(outcome.elapsed)
        ));
    }
}

impl crate::watch::Observer for Reporter {
    fn changed(&self, path: &std::path::Path) {
        self.status(&format!(
            "weld: {} changed; rebuilding while the running version serves",
            crate::fsutil::shown(path)
        ));
    }

    fn reloaded(&self) {
        self.status(&format!(
            "{} new requests go to the new version",
            self.paint("reloaded", Style::Good)
        ));
    }

    fn kept(&self, error: &crate::error::Error) {
        self.error(error);
        self.status("weld: the previous version keeps serving; waiting for changes");
    }
}

/// What a finished run shows: a value `--invoke` returned (on stdout), why the guest was
/// stopped (a trap, a limit); and the exit code it makes.
pub fn ran(r: &Reporter, ran: &crate::run::Ran) -> crate::error::Result<u8> {
    let status = &ran.outcome.status;
    match status {
        crate::run::Status::Returned(Some(value)) | crate::run::Status::ReturnedErr(value) => {
            r.print(&format!("{value}\n"))?;
        }
        _ => {}
    }
    if let Some(stopped) = crate::run::RunError::stopped(&ran.name, status) {
        r.error(&stopped);
    }
    Ok(status.exit_code())
}

/// One line per request on stderr: `GET /path 200 1.2ms`, and why the app failed when it did;
/// a JSON object per line with `--format json`.
fn request_log(r: Reporter) -> std::sync::Arc<dyn Fn(&crate::serve::RequestRecord) + Send + Sync> {
    std::sync::Arc::new(move |record: &crate::serve::RequestRecord| {
        if r.json() {
            let mut line = serde_json::json!({
                "method": record.method.as_str(),
                "path": record.path,
                "status": record.status,
                "ms": record.elapsed.as_secs_f64() * 1000.0,
            });
            if let Some(failure) = &record.failure {
                line["error"] = serde_json::json!({
                    "code": miette::Diagnostic::code(failure).map(|c| c.to_string()),
                    "message": failure.to_string(),
                });
            }
            r.eprint(&format!("{line}\n"));
            return;
        }
        let status = record.status.to_string();
        let status = match record.status {
            500.. => r.paint(&status, Style::Bad),
            400.. => r.paint(&status, Style::Warn),
            _ => status,
        };
        let mut line = format!(
            "{} {} {status} {}",
            record.method,
            record.path,
            format_elapsed(record.elapsed)
        );
        if let Some(failure) = &record.failure {
            line.push_str(&format!(": {failure}"));
        }
        line.push('\n');
        r.eprint(&line);
    })
}
