//! An export cursor for help desks whose history can only be read by change time: the last
//! ticket's time and the ids already returned at exactly that time, so a page boundary between two
//! tickets changed at the same instant loses neither and repeats neither. Written `TIME|ID,ID`.

use crate::error::{Error, ErrorKind};

/// Where an export resumes: tickets changed at or after `at`, less `ids` (changed exactly at `at`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeCursor {
    /// The help desk's own time format.
    pub at: String,
    /// Tickets already returned whose change time is `at`.
    pub ids: Vec<u64>,
}

impl TimeCursor {
    /// A cursor at `at` with nothing returned yet.
    pub fn at(at: impl Into<String>) -> TimeCursor {
        TimeCursor {
            at: at.into(),
            ids: Vec::new(),
        }
    }

    /// Reads `TIME|ID,ID`; `valid_time` checks the time part (the adapter's format), `form`
    /// names it in the error.
    pub fn parse(
        s: &str,
        valid_time: impl Fn(&str) -> bool,
        form: &str,
    ) -> Result<TimeCursor, Error> {
        let bad = || {
            Error::new(
                ErrorKind::Validation,
                format!("not an export cursor of this adapter: \"{s}\" (expected `{form}|ID,ID`)"),
            )
        };
        let (at, ids) = s.split_once('|').ok_or_else(bad)?;
        if !valid_time(at) {
            return Err(bad());
        }
        let ids = ids
            .split(',')
            .filter(|i| !i.is_empty())
            .map(|i| i.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        Ok(TimeCursor {
            at: at.to_string(),
            ids,
        })
    }

    /// `TIME|ID,ID`.
    pub fn render(&self) -> String {
        let ids: Vec<String> = self.ids.iter().map(u64::to_string).collect();
        format!("{}|{}", self.at, ids.join(","))
    }

    /// Whether the ticket `id` changed at `at` was returned already.
    pub fn returned(&self, at: &str, id: u64) -> bool {
        at == self.at && self.ids.contains(&id)
    }

    /// Moves past ticket `id` changed at `at` (tickets come oldest change first).
    pub fn advance(&mut self, at: &str, id: u64) {
        if at == self.at {
            self.ids.push(id);
        } else {
            *self = TimeCursor {
                at: at.to_string(),
                ids: vec![id],
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_advance_and_name_a_bad_one() {
        let mut c = TimeCursor::at("2026-11-30 10:00:00");
        c.advance("2026-11-30 10:00:00", 4);
        c.advance("2026-11-30 10:00:00", 9);
        assert_eq!(c.render(), "2026-11-30 10:00:00|4,9");
        assert!(c.returned("2026-11-30 10:00:00", 9));
        assert_eq!(
            TimeCursor::parse(&c.render(), |t| t.len() == 19, "TIME").unwrap(),
            c
        );
        c.advance("2026-11-30 10:00:01", 2);
        assert_eq!(c.ids, [2]);
        let e = TimeCursor::parse("yesterday", |_| true, "YYYY-MM-DD").unwrap_err();
        assert!(
            e.message.contains("\"yesterday\"") && e.message.contains("YYYY-MM-DD|ID,ID"),
            "{}",
            e.message
        );
        assert!(TimeCursor::parse("x|1", |t| t.len() == 19, "TIME").is_err());
    }
}
