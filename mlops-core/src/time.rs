//! Wall-clock instants as milliseconds since the Unix epoch, shown as RFC 3339.
//!
//! Registry records carry their own timestamps; a small civil-calendar
//! conversion (Howard Hinnant's algorithms) avoids a date-time dependency.

use crate::error::{Error, Result};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub fn now_ms() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-11-24T11:05:37.123Z`.
pub fn format_rfc3339(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC only) or a plain integer of milliseconds.
pub fn parse_rfc3339(text: &str) -> Result<i64> {
    let bad = || {
        Error::invalid_input(
            "timestamp",
            format!("`{text}`"),
            "not a UTC RFC 3339 time",
            "YYYY-MM-DDTHH:MM:SS[.fff]Z or milliseconds since the epoch",
        )
    };
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let t = text.strip_suffix('Z').ok_or_else(bad)?;
    let (date, time) = t.split_once('T').ok_or_else(bad)?;
    let mut dp = date.splitn(3, '-');
    let num = |s: Option<&str>| s.and_then(|v| v.parse::<i64>().ok()).ok_or_else(bad);
    let (y, mo, d) = (num(dp.next())?, num(dp.next())?, num(dp.next())?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut tp = hms.splitn(3, ':');
    let (h, mi, s) = (num(tp.next())?, num(tp.next())?, num(tp.next())?);
    if !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || s > 60
        || frac.is_empty()
        || frac.len() > 9
    {
        return Err(bad());
    }
    let frac_ms = format!("{frac:0<3}")[..3].parse::<i64>().map_err(|_| bad())?;
    Ok(days_from_civil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + frac_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        // date -u -d @1767225600 → Thu Jan  1 00:00:00 UTC 2026
        assert_eq!(format_rfc3339(1_767_225_600_000), "2026-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339(951_782_400_000 + 1), "2000-02-29T00:00:00.001Z");
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00Z").unwrap(), 1_767_225_600_000);
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00.001Z").unwrap(), 951_782_400_001);
        assert_eq!(parse_rfc3339("42").unwrap(), 42);
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-01-01 00:00:00",
            "2026-01-01T00:00:00+01:00",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
        for ms in [-86_400_001i64, 1, 1_700_000_000_123, 4_102_444_800_000] {
            assert_eq!(parse_rfc3339(&format_rfc3339(ms)).unwrap(), ms);
        }
    }
}
