//! Zammad's timestamps: ISO-8601 UTC with milliseconds (`2025-01-14T07:45:08.790Z`, Rails' JSON
//! form), kept as unix milliseconds. [`Now`] is one reading of the account's clock.

use time::{format_description::well_known::Rfc3339, macros::format_description, OffsetDateTime};

/// One reading of the account's clock, in unix milliseconds, and whether the clock stands still
/// (a stopped clock repeats the same stamp; a running one never gives a ticket the same stamp
/// twice, as real writes milliseconds apart would not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Unix milliseconds.
    pub ms: i64,
    /// The clock is stopped at this reading.
    pub stopped: bool,
}

impl Now {
    /// A running clock reading `ms`.
    pub fn at(ms: i64) -> Self {
        Now { ms, stopped: false }
    }

    /// The reading for a stopped clock at unix second `secs`, or the system clock.
    pub fn from_clock(stopped_at: Option<i64>) -> Self {
        match stopped_at {
            Some(s) => Now {
                ms: s.saturating_mul(1000),
                stopped: true,
            },
            None => Now::at(system_ms()),
        }
    }

    /// The stamp for a record last stamped at `prev`: now, but later than `prev` on a running
    /// clock.
    pub fn after(&self, prev: i64) -> i64 {
        if self.stopped || self.ms > prev {
            self.ms
        } else {
            prev + 1
        }
    }
}

/// The system clock in unix milliseconds.
pub fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `2025-01-14T07:45:08.790Z` for unix milliseconds `ms`.
pub fn format_ms(ms: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    dt.format(&fmt).unwrap_or_default()
}

/// Unix milliseconds from an RFC 3339 time (`2026-01-01T00:00:00Z`, fractions and offsets
/// allowed), a time without zone (read as UTC) or a date (`2026-01-01`, midnight UTC).
pub fn parse_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let to_ms = |dt: OffsetDateTime| (dt.unix_timestamp_nanos() / 1_000_000) as i64;
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(to_ms(dt));
    }
    if s.len() >= 19
        && s.as_bytes()
            .get(10)
            .is_some_and(|b| *b == b'T' || *b == b' ')
    {
        let with_zone = format!("{}T{}Z", &s[..10], &s[11..]);
        if let Ok(dt) = OffsetDateTime::parse(&with_zone, &Rfc3339) {
            return Some(to_ms(dt));
        }
    }
    if s.len() == 10 {
        let midnight = format!("{s}T00:00:00Z");
        if let Ok(dt) = OffsetDateTime::parse(&midnight, &Rfc3339) {
            return Some(to_ms(dt));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_round_trip_in_rails_form() {
        let ms = parse_ms("2025-01-14T07:45:08.790Z").unwrap();
        assert_eq!(format_ms(ms), "2025-01-14T07:45:08.790Z");
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_ms("2026-01-01"), parse_ms("2026-01-01T00:00:00Z"));
        assert_eq!(
            parse_ms("2026-01-01T01:00:00"),
            parse_ms("2026-01-01T01:00:00Z")
        );
        assert_eq!(
            parse_ms("2026-01-01T01:00:00+01:00"),
            parse_ms("2026-01-01T00:00:00Z")
        );
        assert_eq!(parse_ms("yesterday"), None);
    }

    #[test]
    fn a_running_clock_always_moves_a_stamp_and_a_stopped_one_never() {
        assert_eq!(Now::at(5).after(5), 6);
        assert_eq!(Now::at(9).after(5), 9);
        let stopped = Now::from_clock(Some(10));
        assert_eq!(stopped.ms, 10_000);
        assert_eq!(stopped.after(10_000), 10_000);
    }
}
