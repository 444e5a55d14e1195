//! Human-written quantities: durations like `500ms`, `2s`, `1m` and sizes like `64MiB`, `1GiB`.
//!
//! One parser for the manifest and the command line alike, so both accept the same spellings.

use std::time::Duration;

/// Why a duration or size did not parse; the text is the whole explanation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(String);

/// Parses a duration: a whole number followed by `ms`, `s`, `m` or `h` (e.g. `500ms`, `30s`).
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let (number, unit) = split_number(text.trim());
    if scaled(number, 1).is_none() {
        return Err(UnitError(format!(
            "`{text}` is not a duration: write a number and a unit, like `500ms`, `1.5s`, `2m` or `1h`"
        )));
    }
    let nanos_per: u128 = match unit {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "" => {
            return Err(UnitError(format!(
                "`{text}` has no unit: write `{number}s` for seconds or `{number}ms` for milliseconds"
            )));
        }
        other => {
            return Err(UnitError(format!(
                "`{other}` is not a duration unit: use `ms`, `s`, `m` or `h`"
            )));
        }
    };
    match scaled(number, nanos_per).map(u64::try_from) {
        Some(Ok(0)) => Err(UnitError(format!(
            "`{text}` is zero: a limit must be positive"
        ))),
        Some(Ok(nanos)) => Ok(Duration::from_nanos(nanos)),
        _ => Err(UnitError(format!("`{text}` is too large"))),
    }
}

/// Parses a size in bytes: a number followed by `B`, `KiB`, `MiB`, `GiB` (or the decimal
/// `KB`, `MB`, `GB`), e.g. `64MiB` or `1.5GiB`; a fraction of a byte is dropped.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let (number, unit) = split_number(text.trim());
    if scaled(number, 1).is_none() {
        return Err(UnitError(format!(
            "`{text}` is not a size: write a number and a unit, like `64MiB` or `1.5GiB`"
        )));
    }
    let factor: u128 = match unit {
        "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "" => {
            return Err(UnitError(format!(
                "`{text}` has no unit: write `{number}MiB`, `{number}GiB` or `{number}B`"
            )));
        }
        other => {
            return Err(UnitError(format!(
                "`{other}` is not a size unit: use `B`, `KiB`, `MiB`, `GiB`, `KB`, `MB` or `GB`"
            )));
        }
    };
    match scaled(number, factor).map(u64::try_from) {
        Some(Ok(0)) => Err(UnitError(format!(
            "`{text}` is zero: a limit must be positive"
        ))),
        Some(Ok(bytes)) => Ok(bytes),
        _ => Err(UnitError(format!("`{text}` is too large"))),
    }
}

/// The decimal `number` (`12`, `1.5`, `0.25`) times `factor`, in whole units, computed exactly;
/// `None` if it is not a number or the result overflows.
fn scaled(number: &str, factor: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 18 {
        return None;
    }
    let whole: u128 = whole.parse().ok()?;
    let mut result = whole.checked_mul(factor)?;
    if !fraction.is_empty() {
        let scale = 10u128.pow(fraction.len() as u32);
        result = result.checked_add(fraction.parse::<u128>().ok()?.checked_mul(factor)? / scale)?;
    }
    Some(result)
}

/// Formats a byte count the way people read it: `512 B`, `84.2 KiB`, `17.9 MiB`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Formats a duration for status lines: `850ms`, `2.4s`, `1m05s`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1_000 {
        format!("{millis}ms")
    } else if millis < 60_000 && millis.is_multiple_of(1_000) {
        format!("{}s", millis / 1_000)
    } else if millis < 60_000 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        let secs = duration.as_secs();
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

/// A measured duration for humans, precise where it is short: `850µs`, `12.3ms`, `4.2s`.
pub fn format_elapsed(duration: Duration) -> String {
    let micros = duration.as_micros();
    if micros < 1_000 {
        format!("{micros}µs")
    } else if micros < 1_000_000 {
        format!("{:.1}ms", duration.as_secs_f64() * 1_000.0)
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

fn split_number(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    (&text[..end], text[end..].trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1 h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("10").unwrap_err().0.contains("`10s`"));
        assert!(parse_duration("2x").unwrap_err().0.contains("`x`"));
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1_500)));
        assert_eq!(parse_duration("0.25s"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2.5ms"), Ok(Duration::from_micros(2_500)));
        assert!(parse_duration("1..5s").is_err());
        assert!(parse_duration(".5s").is_err());
        assert!(parse_duration("0.0s").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("10 KB"), Ok(10_000));
        assert!(parse_size("64").unwrap_err().0.contains("`64MiB`"));
        assert!(parse_size("64mb").is_err());
        assert!(parse_size("18446744073709551615GiB").is_err());
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("0.5KiB"), Ok(512));
    }

    #[test]
    fn formatting() {
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(86_220), "84.2 KiB");
        assert_eq!(format_size(18 << 20), "18 MiB");
        assert_eq!(format_size(1 << 30), "1 GiB");
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::from_millis(2_400)), "2.4s");
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_secs(65)), "1m05s");
    }
}
