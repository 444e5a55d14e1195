//! Build progress: live spinners on a terminal, plain status lines elsewhere, silence for JSON.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Reporter, Style};
use crate::build::{Built, Observer, Outcome};
use crate::project::Component;
use crate::units::{format_duration, format_size};

/// An [`Observer`] that shows each component's stage and elapsed time.
pub struct BuildProgress {
    reporter: Reporter,
    live: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
    width: usize,
}

impl BuildProgress {
    /// Spinners when stderr is a terminal and output is for people; plain lines otherwise.
    pub fn new(reporter: &Reporter, components: &[&Component]) -> Self {
        let live =
            (reporter.verbosity() >= 0 && !reporter.json() && std::io::stderr().is_terminal())
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        BuildProgress {
            reporter: reporter.clone(),
            live,
            bars: Mutex::new(HashMap::new()),
            width: components.iter().map(|c| c.name.len()).max().unwrap_or(0),
        }
    }

    fn line(&self, text: String) {
        match &self.live {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => self.reporter.status(&text),
        }
    }
}

impl Observer for BuildProgress {
    fn started(&self, component: &Component) {
        let Some(multi) = &self.live else { return };
        let style = ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed:>5}")
            .expect("a valid template");
        let bar = multi.add(ProgressBar::new_spinner().with_style(style));
        bar.set_prefix(format!(
            "{:w$}  {:6}",
            component.name,
            component.lang.as_str(),
            w = self.width
        ));
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars
            .lock()
            .expect("no panics")
            .insert(component.name.clone(), bar);
    }

    fn stage(&self, component: &Component, stage: &str) {
        if let Some(bar) = self.bars.lock().expect("no panics").get(&component.name) {
            bar.set_message(stage.to_string());
            return;
        }
        if self.live.is_none() && stage != "checking cache" && stage != "validating" {
            self.line(format!(
                "{} {} ({})",
                self.reporter
                    .paint(&format!("{:>10}", "Building"), Style::Bold),
                component.name,
                stage
            ));
        }
    }

    fn verbose(&self, component: &Component, line: &str) {
        if self.reporter.verbosity() >= 1 && !self.reporter.json() {
            self.line(format!("{:>10} {}: {line}", "", component.name));
        }
    }

    fn finished(&self, component: &Component, outcome: &Outcome) {
        let text = match outcome {
            Ok(b) if b.cached => format!(
                "{} {} (up to date)",
                self.reporter.paint(&format!("{:>10}", "Fresh"), Style::Dim),
                component.name
            ),
            Ok(b) => format!(
                "{} {} in {} ({})",
                self.reporter
                    .paint(&format!("{:>10}", "Built"), Style::Good),
                component.name,
                format_duration(b.duration),
                format_size(b.size)
            ),
            Err(f) => format!(
                "{} {}: {}",
                self.reporter
                    .paint(&format!("{:>10}", "Failed"), Style::Bad),
                component.name,
                f.summary
            ),
        };
        match self.bars.lock().expect("no panics").remove(&component.name) {
            Some(bar) => bar.finish_and_clear(),
            None if self.reporter.json() => return,
            None => {}
        }
        self.line(text);
    }
}

/// The size report after a build: each component's size and what dominates it.
pub fn size_report(built: &[Built]) -> String {
    let width = built
        .iter()
        .map(|b| b.name.len())
        .max()
        .unwrap_or(0)
        .max("component".len());
    let mut out = format!(
        "{:width$}  lang    {:>10}  {:>7}  largest part\n",
        "component", "size", "time"
    );
    let mut total = 0;
    for b in built {
        total += b.size;
        let time = if b.cached {
            "cached".to_string()
        } else {
            format_duration(b.duration)
        };
        let part = match b.largest_module {
            Some(m) => format!("{} core module{}", format_size(m), what_dominates(b)),
            None => String::new(),
        };
        out.push_str(&format!(
            "{:width$}  {:6}  {:>10}  {:>7}  {part}\n",
            b.name,
            b.lang.as_str(),
            format_size(b.size),
            time
        ));
    }
    out.push_str(&format!(
        "{:width$}  {:6}  {:>10}\n",
        "total",
        "",
        format_size(total)
    ));
    out
}

/// What a language's largest core module is, when the language says so.
fn what_dominates(b: &Built) -> &'static str {
    match b.lang {
        crate::project::Lang::Python => " (the CPython interpreter and its libraries)",
        crate::project::Lang::Js => " (the StarlingMonkey JavaScript engine)",
        crate::project::Lang::Go => " (the Go runtime and the code it links)",
        _ => "",
    }
}

/// A byte progress bar for a registry transfer on a terminal; nothing elsewhere.
pub struct TransferBar {
    bar: Mutex<Option<ProgressBar>>,
    live: bool,
}

impl TransferBar {
    /// A bar when stderr is a terminal and output is for people.
    pub fn new(reporter: &Reporter) -> TransferBar {
        TransferBar {
            bar: Mutex::new(None),
            live: reporter.verbosity() >= 0 && !reporter.json() && std::io::stderr().is_terminal(),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("no panics").take() {
            bar.finish_and_clear();
        }
    }
}

impl crate::oci::Progress for TransferBar {
    fn start(&self, what: &str, size: u64) {
        if !self.live {
            return;
        }
        let style = ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        let bar = ProgressBar::new(size).with_style(style);
        bar.set_message(what.to_string());
        *self.bar.lock().expect("no panics") = Some(bar);
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = &*self.bar.lock().expect("no panics") {
            bar.inc(bytes);
        }
    }

    fn done(&self) {
        self.finish();
    }
}
