//! Conversions between the plugin interface's `R*` types and the host's ticket types: the SDK's
//! (`otai_plugin_sdk::convert`, written once for both sides), plus the host's error, which also
//! names the configured ticket system.

use otai_plugin_api as ffi;
pub(crate) use otai_plugin_sdk::convert::{
    batch_to_ffi, export_page_from_ffi, export_request_to_ffi, note_to_ffi, request_stats_from_ffi,
    search_query_to_ffi, state_from_ffi, ticket_from_ffi, ticket_page_from_ffi, update_to_ffi,
    webhook_event_from_ffi, webhook_request_to_ffi,
};

use crate::ticket::TicketSystemError;

/// A plugin's error as the host reports it, under the ticket system's configured name.
pub(crate) fn error_from_ffi(system: &str, e: ffi::PluginError) -> TicketSystemError {
    let e = otai_plugin_sdk::convert::error_from_ffi(e);
    TicketSystemError {
        system: system.to_string(),
        kind: e.kind,
        message: e.message,
        http_status: e.http_status,
        request_id: e.request_id,
        retry_after: e.retry_after,
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_api::abi_stable::std_types::ROption;
    use serde_json::Value;

    use super::*;
    use crate::ticket::{BatchUpdate, CustomField, ErrorKind, ExportRequest, TicketUpdate};

    fn ffi_ticket(id: &str) -> ffi::Ticket {
        ffi::Ticket {
            id: id.into(),
            status: "open".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_ticket_converts() {
        let mut t = ffi_ticket("42");
        t.custom_fields.push(ffi::CustomFieldValue {
            id: "7".into(),
            value_json: "[\"a\",1]".into(),
        });
        t.raw_json = "{\"id\":42}".into();
        let ticket = ticket_from_ffi(t).unwrap();
        assert_eq!(ticket.id, "42");
        assert_eq!(ticket.custom_fields[0].value, serde_json::json!(["a", 1]));
        assert_eq!(ticket.raw["id"], 42);
    }

    #[test]
    fn empty_id_and_bad_json_are_rejected() {
        assert!(ticket_from_ffi(ffi_ticket(" "))
            .unwrap_err()
            .contains("empty id"));
        let mut t = ffi_ticket("42");
        t.custom_fields.push(ffi::CustomFieldValue {
            id: "7".into(),
            value_json: "not json".into(),
        });
        assert!(ticket_from_ffi(t)
            .unwrap_err()
            .contains("custom field 7 of ticket 42"));
    }

    #[test]
    fn update_values_travel_as_json_text() {
        let update = TicketUpdate {
            custom_fields: vec![CustomField {
                id: "7".into(),
                value: Value::String("x".into()),
            }],
            system_fields: Some(serde_json::json!({"type": "incident"})),
            ..Default::default()
        };
        let ffi = update_to_ffi(&update);
        assert_eq!(ffi.custom_fields[0].value_json.as_str(), "\"x\"");
        assert_eq!(
            ffi.system_fields_json.unwrap().as_str(),
            "{\"type\":\"incident\"}"
        );
        let back = otai_plugin_sdk::convert::update_from_ffi(update_to_ffi(&update), "7").unwrap();
        assert_eq!(back, update);
    }

    #[test]
    fn batch_items_keep_ids_tags_and_stamps() {
        let items = batch_to_ffi(&[BatchUpdate {
            id: "7".into(),
            update: TicketUpdate {
                if_unchanged_since: Some("2024-05-02T10:00:00Z".into()),
                ..Default::default()
            },
            current_tags: Some(vec!["a".into()]),
        }]);
        assert_eq!(items[0].id.as_str(), "7");
        assert_eq!(items[0].current_tags.as_ref().unwrap()[0].as_str(), "a");
        assert!(items[0].update.if_unchanged_since.is_some());
    }

    #[test]
    fn export_pages_convert_both_ways() {
        let req = export_request_to_ffi(&ExportRequest {
            start_time: None,
            cursor: Some("c1".into()),
        });
        assert_eq!(req.cursor.unwrap().as_str(), "c1");
        assert!(req.start_time.is_none());
        let page = export_page_from_ffi(ffi::ExportPage {
            tickets: vec![ffi_ticket("1"), ffi_ticket("2")].into(),
            cursor: ROption::RSome("c2".into()),
            end_of_stream: true,
        })
        .unwrap();
        assert_eq!(page.tickets.len(), 2);
        assert_eq!(page.cursor.as_deref(), Some("c2"));
        assert!(page.end_of_stream);
        let bad = ffi::ExportPage {
            tickets: vec![ffi_ticket("")].into(),
            ..Default::default()
        };
        assert!(export_page_from_ffi(bad).unwrap_err().contains("empty id"));
    }

    #[test]
    fn unknown_error_kinds_keep_their_code() {
        let err = error_from_ffi(
            "z",
            ffi::PluginError::new(ffi::ErrorKind(99), "odd").with_retry_after_ms(1500),
        );
        assert_eq!(err.kind, ErrorKind::Unknown(99));
        assert_eq!(
            err.retry_after,
            Some(std::time::Duration::from_millis(1500))
        );
    }
}
