//! JUnit XML, the report format CI systems read, written by quick-junit (cargo-nextest's writer:
//! it escapes text and drops what XML cannot carry, such as control characters and ANSI colour).

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Outcome, TestResult};

/// A JUnit XML document with one `<testsuite>` named `suite` holding `results`.
pub fn junit_xml(
    suite: &str,
    results: &[TestResult],
) -> Result<String, quick_junit::SerializeError> {
    let mut cases = TestSuite::new(suite);
    for r in results {
        let status = match &r.outcome {
            Outcome::Passed => TestCaseStatus::success(),
            Outcome::Failed {
                expected,
                got,
                diff,
                ..
            } => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let mut body = format!("expected: {expected}\ngot: {got}\n");
                if let Some(diff) = diff {
                    body.push_str(diff);
                }
                status
                    .set_message(format!("expected {expected}, got {got}"))
                    .set_description(body);
                status
            }
            Outcome::Error { message } => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(message.as_str());
                status
            }
        };
        let mut case = TestCase::new(r.name.as_str(), status);
        case.set_classname(format!("{suite}.{}", r.target))
            .set_time(r.elapsed);
        if let Outcome::Failed {
            stderr: Some(stderr),
            ..
        } = &r.outcome
        {
            case.set_system_err(stderr.as_str());
        }
        cases.add_test_case(case);
    }
    let total = results.iter().map(|r| r.elapsed).sum();
    cases.set_time(total);
    let mut report = Report::new(suite);
    report.set_time(total);
    report.add_test_suite(cases);
    report.to_string()
}
