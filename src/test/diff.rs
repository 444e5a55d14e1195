//! A line diff of expected and actual output, for test failures.

/// `expected` and `got` line by line: `  ` common, `- ` expected only, `+ ` got only. A line
/// that differs only in its end (a missing final newline) is marked too.
pub fn line_diff(expected: &str, got: &str) -> String {
    let a: Vec<&str> = expected.split_inclusive('\n').collect();
    let b: Vec<&str> = got.split_inclusive('\n').collect();
    // Longest common subsequence by dynamic programming: test outputs are small.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, mark: &str, text: &str| {
        out.push_str(mark);
        match text.strip_suffix('\n') {
            Some(t) => out.push_str(t),
            None => {
                out.push_str(text);
                out.push_str(" (no newline at end)");
            }
        }
        out.push('\n');
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            line(&mut out, "  ", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            line(&mut out, "+ ", b[j]);
            j += 1;
        } else {
            line(&mut out, "- ", a[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn marks_changed_lines() {
        assert_eq!(line_diff("a\nb\nc\n", "a\nB\nc\n"), "  a\n+ B\n- b\n  c\n");
        assert_eq!(line_diff("x\n", "x"), "+ x (no newline at end)\n- x\n");
        assert_eq!(line_diff("", "new\n"), "+ new\n");
    }
}
