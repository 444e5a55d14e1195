//! A line diff of expected and actual output, for test failures.

use std::time::{Duration, Instant};

use similar::{Algorithm, ChangeTag, TextDiff};

/// How long the diff may search for the smallest edit script; past it, similar settles for a
/// larger one, so two long unrelated outputs cost time and memory linear in their length.
const DEADLINE: Duration = Duration::from_millis(500);

/// `expected` and `got` line by line: `  ` common, `- ` expected only, `+ ` got only. A line
/// that differs only in its end (a missing final newline) is marked too.
pub fn line_diff(expected: &str, got: &str) -> String {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .deadline(Instant::now() + DEADLINE)
        .diff_lines(expected, got);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        out.push_str(match change.tag() {
            ChangeTag::Equal => "  ",
            ChangeTag::Delete => "- ",
            ChangeTag::Insert => "+ ",
        });
        let text = change.value();
        match text.strip_suffix('\n') {
            Some(t) => out.push_str(t),
            None => {
                out.push_str(text);
                out.push_str(" (no newline at end)");
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn marks_changed_lines() {
        assert_eq!(line_diff("a\nb\nc\n", "a\nB\nc\n"), "  a\n- b\n+ B\n  c\n");
        assert_eq!(line_diff("x\n", "x"), "- x\n+ x (no newline at end)\n");
        assert_eq!(line_diff("", "new\n"), "+ new\n");
    }

    /// Two unrelated 100,000-line outputs: a table of every pair of lines would be 10^10 cells.
    #[test]
    fn large_unrelated_outputs_finish() {
        let a: String = (0..100_000).map(|i| format!("expected {i}\n")).collect();
        let b: String = (0..100_000).map(|i| format!("got {i}\n")).collect();
        let diff = line_diff(&a, &b);
        assert_eq!(diff.lines().count(), 200_000);
        assert_eq!(
            diff.lines().filter(|l| l.starts_with("- ")).count(),
            100_000
        );
    }
}
