//! Freshdesk's timestamps: ISO 8601 UTC to the second (`2026-12-01T10:00:00Z`), kept as unix
//! seconds (the account clock's unit).

use time::{format_description::well_known::Rfc3339, macros::format_description, OffsetDateTime};

/// Seconds in a day, for the 30-day list window and search's day granularity.
pub const DAY: i64 = 86_400;

/// `2026-12-01T10:00:00Z` for unix seconds `secs`.
pub fn format_secs(secs: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    dt.format(&fmt).unwrap_or_default()
}

/// Unix seconds from an RFC 3339 time (fractions and offsets allowed), a time without zone
/// (`2026-01-01T10:00:00` or with a space, read as UTC) or a date (`2026-01-01`, midnight UTC).
pub fn parse_secs(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(dt.unix_timestamp());
    }
    if s.len() >= 19
        && s.as_bytes()
            .get(10)
            .is_some_and(|b| *b == b'T' || *b == b' ')
    {
        let with_zone = format!("{}T{}Z", &s[..10], &s[11..]);
        if let Ok(dt) = OffsetDateTime::parse(&with_zone, &Rfc3339) {
            return Some(dt.unix_timestamp());
        }
    }
    if s.len() == 10 {
        return parse_day(s).map(|d| d * DAY);
    }
    None
}

/// Days since 1970-01-01 for a `YYYY-MM-DD` date (search's date values).
pub fn parse_day(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() != 10 {
        return None;
    }
    let dt = OffsetDateTime::parse(&format!("{s}T00:00:00Z"), &Rfc3339).ok()?;
    Some(dt.unix_timestamp().div_euclid(DAY))
}

/// The day (days since 1970-01-01, UTC) of unix second `secs`.
pub fn day_of(secs: i64) -> i64 {
    secs.div_euclid(DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_and_dates_are_midnight() {
        let s = parse_secs("2026-12-01T10:00:00Z").unwrap();
        assert_eq!(format_secs(s), "2026-12-01T10:00:00Z");
        assert_eq!(parse_secs("2026-12-01T10:00:00.789Z"), Some(s));
        assert_eq!(parse_secs("2026-12-01T11:00:00+01:00"), Some(s));
        assert_eq!(parse_secs("2026-12-01 10:00:00"), Some(s));
        assert_eq!(parse_secs("2026-12-01"), Some(s - 10 * 3600));
        assert_eq!(day_of(s), parse_day("2026-12-01").unwrap());
        assert_eq!(parse_secs("soon"), None);
    }
}
