//! `--since` to the export's start time, and UTC stamps for versioned folder names, without a
//! date-time crate.
//!
//! `--since` is `<n>d` (days), `<n>w` (weeks) or `<n>h` (hours) before now, or an RFC 3339 time
//! (`2024-05-01T00:00:00Z`) or date (`2024-05-01`, midnight UTC).

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::bail;

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The start time (Unix seconds) `since` means at `now`.
pub fn start_unix(since: &str, now: i64) -> anyhow::Result<i64> {
    let s = since.trim();
    let relative = |unit: i64| -> Option<i64> {
        let n: i64 = s[..s.len() - 1].trim().parse().ok()?;
        (n >= 0).then(|| now - n * unit)
    };
    let parsed = match s.chars().last() {
        Some('d') => relative(86_400),
        Some('w') => relative(7 * 86_400),
        Some('h') => relative(3_600),
        _ => crate::classifier::data::parse_time(s)
            .filter(|_| s.len() >= 10)
            .map(|t| t as i64),
    };
    match parsed {
        Some(t) if t >= 0 => Ok(t),
        _ => bail!(
            "--since `{since}` is not understood: use e.g. 180d, 26w, 48h, 2024-05-01 or 2024-05-01T00:00:00Z"
        ),
    }
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn parts(t: i64) -> (i64, i64, i64, i64, i64, i64) {
    let (y, mo, d) = civil(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    (y, mo, d, s / 3600, s % 3600 / 60, s % 60)
}

/// `2024-05-01T00:00:00Z`.
pub fn rfc3339(t: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `20240501T000000Z`, for versioned folder names.
pub fn compact_stamp(t: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_times() {
        let now = 1_714_521_600; // 2024-05-01T00:00:00Z
        assert_eq!(rfc3339(now), "2024-05-01T00:00:00Z");
        assert_eq!(compact_stamp(now + 3661), "20240501T010101Z");
        assert_eq!(
            rfc3339(start_unix("180d", now).unwrap()),
            "2023-11-03T00:00:00Z"
        );
        assert_eq!(start_unix("2w", now).unwrap(), now - 14 * 86_400);
        assert_eq!(start_unix("48h", now).unwrap(), now - 48 * 3600);
        assert_eq!(start_unix("2024-05-01", 0).unwrap(), now);
        assert_eq!(start_unix("2024-05-01T00:00:00Z", 0).unwrap(), now);
        for bad in ["", "d", "-3d", "soon", "12"] {
            assert!(start_unix(bad, now).is_err(), "{bad}");
        }
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
