//! OTOBO's timestamps: `YYYY-MM-DD HH:MM:SS`, second precision, in the system's time zone (UTC
//! here, OTOBO's default `OTOBOTimeZone`), kept as unix seconds.

use time::{format_description::well_known::Rfc3339, macros::format_description, OffsetDateTime};

/// `2025-06-02 08:05:07` for unix second `secs`.
pub fn format_time(secs: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    dt.format(&fmt).unwrap_or_default()
}

/// `20250602`: the date part of a ticket number.
pub fn date_digits(secs: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = format_description!("[year][month][day]");
    dt.format(&fmt).unwrap_or_default()
}

/// Unix seconds from OTOBO's form (`2025-06-02 08:05:07`), a date (`2025-06-02`, midnight) or,
/// for seeds, RFC 3339 (`2025-06-02T08:05:07Z`, fractions and offsets allowed).
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(dt.unix_timestamp());
    }
    let as_rfc = match s.len() {
        19 if matches!(s.as_bytes()[10], b' ' | b'T') => format!("{}T{}Z", &s[..10], &s[11..]),
        10 => format!("{s}T00:00:00Z"),
        _ => return None,
    };
    OffsetDateTime::parse(&as_rfc, &Rfc3339)
        .ok()
        .map(|dt| dt.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_in_otobo_form() {
        let t = parse_time("2025-06-02 08:05:07").unwrap();
        assert_eq!(format_time(t), "2025-06-02 08:05:07");
        assert_eq!(parse_time("2025-06-02T08:05:07Z"), Some(t));
        assert_eq!(parse_time("2025-06-02T10:05:07.250+02:00"), Some(t));
        assert_eq!(parse_time("2025-06-02"), parse_time("2025-06-02 00:00:00"));
        assert_eq!(date_digits(t), "20250602");
        assert_eq!(parse_time("soon"), None);
        assert_eq!(parse_time("2025-13-02 08:05:07"), None);
    }
}
