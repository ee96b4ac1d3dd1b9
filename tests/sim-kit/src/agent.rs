//! The simulated agent of the `conflict` and `agent_edit_after_read` faults, as every simulator
//! applies them: [`Shown`] pairs an answer with the tickets it showed, [`Shown::finish`] lets
//! the agent edit them after a 2xx answer, [`edit_before_write`] before a write. The edit itself
//! (what moves, what is added) is the simulator's.

use serde_json::Value;

use crate::{faults::Fault, http::Reply};

/// An answer and the tickets it showed (search results, lists, one ticket).
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// The answer.
    pub reply: Reply,
    /// The tickets it showed, for `agent_edit_after_read`.
    pub shown: Vec<u64>,
}

impl Shown {
    /// 200 with `body`, showing `shown`.
    pub fn ok(body: Value, shown: Vec<u64>) -> Self {
        Shown {
            reply: Reply::ok(body),
            shown,
        }
    }

    /// `reply`, showing no ticket (an error, a write's answer).
    pub fn nothing(reply: Reply) -> Self {
        Shown {
            reply,
            shown: Vec::new(),
        }
    }

    /// The answer to send: when `fault` is [`Fault::AgentEditAfterRead`] and the answer is
    /// 2xx, `edit(ticket, tag)` runs for every ticket it showed first.
    pub fn finish(self, fault: Option<&Fault>, mut edit: impl FnMut(u64, &str)) -> Reply {
        let tag = fault.and_then(Fault::edit_after_read_tag);
        if let Some(tag) = tag.filter(|_| self.reply.is_success() && !self.shown.is_empty()) {
            for id in &self.shown {
                edit(*id, tag);
            }
            tracing::info!(
                tickets = self.shown.len(),
                tag,
                "Simulated agent edited every ticket the answer showed."
            );
        }
        self.reply
    }
}

/// Before a write: when `fault` is [`Fault::Conflict`], `edit(ticket, tag)` runs for each
/// ticket the request writes to (`edit` answers whether there was such a ticket).
pub fn edit_before_write(
    fault: Option<&Fault>,
    tickets: impl IntoIterator<Item = u64>,
    mut edit: impl FnMut(u64, &str) -> bool,
) {
    let Some(tag) = fault.and_then(Fault::conflict_tag) else {
        return;
    };
    for id in tickets {
        if edit(id, tag) {
            tracing::info!(
                ticket = id,
                tag,
                "Simulated agent edited the ticket just before the write."
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_agent_edits_what_a_2xx_answer_showed_and_what_a_write_targets() {
        let read = Fault::AgentEditAfterRead { tag: None };
        let mut edited = Vec::new();
        let r = Shown::ok(json!([1, 2]), vec![1, 2])
            .finish(Some(&read), |id, t| edited.push((id, t.to_string())));
        assert_eq!(r.status, 200);
        assert_eq!(
            edited,
            [(1, "sim_agent_edit".into()), (2, "sim_agent_edit".into())]
        );
        let failed = Shown {
            reply: Reply::status(404, json!({})),
            shown: vec![3],
        };
        failed.finish(Some(&read), |_, _| panic!("no edit after a failed read"));
        Shown::ok(json!(1), vec![1]).finish(None, |_, _| panic!("no fault, no edit"));

        let mut before = Vec::new();
        let conflict = Fault::Conflict {
            tag: Some("x".into()),
        };
        edit_before_write(Some(&conflict), [4, 5], |id, t| {
            before.push((id, t.to_string()));
            id == 4
        });
        assert_eq!(before, [(4, "x".into()), (5, "x".into())]);
        edit_before_write(Some(&read), [6], |_, _| panic!("not a conflict"));
    }
}
