//! JUnit XML, the report format CI systems read.

use super::{Outcome, TestResult};

/// A JUnit XML document with one `<testsuite>` named `suite` holding `results`.
pub fn junit_xml(suite: &str, results: &[TestResult]) -> String {
    let (_, failed, errors) = super::tally(results);
    let total: f64 = results.iter().map(|r| r.elapsed.as_secs_f64()).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites tests=\"{}\" failures=\"{failed}\" errors=\"{errors}\" time=\"{total:.3}\">\n",
        results.len()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"{errors}\" time=\"{total:.3}\">\n",
        escape(suite),
        results.len()
    ));
    for r in results {
        xml.push_str(&format!(
            "    <testcase name=\"{}\" classname=\"{}.{}\" time=\"{:.3}\"",
            escape(&r.name),
            escape(suite),
            escape(&r.target),
            r.elapsed.as_secs_f64()
        ));
        match &r.outcome {
            Outcome::Passed => xml.push_str("/>\n"),
            Outcome::Failed {
                expected,
                got,
                diff,
                stderr,
            } => {
                xml.push_str(">\n");
                let mut body = format!("expected: {expected}\ngot: {got}\n");
                if let Some(diff) = diff {
                    body.push_str(diff);
                }
                xml.push_str(&format!(
                    "      <failure message=\"expected {}, got {}\">{}</failure>\n",
                    escape(expected),
                    escape(got),
                    escape(&body)
                ));
                if let Some(stderr) = stderr {
                    xml.push_str(&format!(
                        "      <system-err>{}</system-err>\n",
                        escape(stderr)
                    ));
                }
                xml.push_str("    </testcase>\n");
            }
            Outcome::Error { message } => {
                xml.push_str(&format!(
                    ">\n      <error message=\"{}\"/>\n    </testcase>\n",
                    escape(message)
                ));
            }
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// XML text and attribute escaping; characters XML 1.0 forbids become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
