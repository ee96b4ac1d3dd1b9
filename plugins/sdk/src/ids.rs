//! Ticket ids of help desks that number their tickets: digits, checked before any request.

use crate::error::{Error, ErrorKind};

/// `id` as a number, or a validation error: `invalid {what} "{id}": expected digits{hint}`
/// (`hint` e.g. " (the TicketID, not the ticket number)"). A sign or spaces are refused.
pub fn numeric_id(id: &str, what: &str, hint: &str) -> Result<u64, Error> {
    id.parse::<u64>()
        .ok()
        .filter(|_| !id.starts_with('+'))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                format!("invalid {what} \"{id}\": expected digits{hint}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_digits_and_a_bad_one_is_named() {
        assert_eq!(numeric_id("42", "ticket id", "").unwrap(), 42);
        for bad in ["", "+4", "4a", "-1", "31001 ", " 7"] {
            let e = numeric_id(bad, "Acme ticket id", " (not its number)").unwrap_err();
            assert_eq!(e.kind, ErrorKind::Validation);
            assert_eq!(
                e.message,
                format!("invalid Acme ticket id \"{bad}\": expected digits (not its number)")
            );
        }
    }
}
