//! Plugins built against plugin API 1.0 to 1.3, adapted so that the rest of the host sees a
//! current (1.4) plugin.
//!
//! abi_stable lets an older host load a newer plugin of the same major version, but not the other
//! way round: it refuses a plugin whose `TicketSystemService` vtable has fewer methods than the
//! host's ("too many fields (expected 12, found 8)" for a 1.0 plugin in a 1.2 host). So the host
//! keeps a frozen copy of every older interface (`otai-plugin-api-v1-0` to `-v1-3`, in
//! `plugin-api-frozen/`), checks a plugin against the types of the version it declares, and wraps
//! what it returns:
//!
//! - [`info_v1_0`] / [`new_ticket_system_v1_0`] (and the `v1_1` to `v1_3` pairs) call the old root module
//!   (with an old [`HostContextRef`](v1_0::HostContextRef) from `host_context`) and convert the
//!   answers;
//! - the old service is wrapped in a host-side type implementing the *current*
//!   [`TicketSystemService`](current::TicketSystemService): each method the old version has is
//!   delegated with its arguments and answers converted; the methods added since keep the trait's
//!   default bodies (1.0: no batch writes, so the host writes one ticket at a time; no counters;
//!   no history export. Both: `ticket_state` maps statuses named like otai's categories).
//!
//! The result is an ordinary current [`TicketSystemBox`](current::TicketSystemBox), which
//! [`ForeignTicketSystem`](super::ForeignTicketSystem) wraps as usual.
//!
//! The data types are the same in every 1.x (frozen within a major) but are distinct Rust types.
//! [`Convert`] copies them field by field; `same_fields!` writes both directions from one field
//! list, so a field missing from a list, or a type that differs between two crates, fails to
//! compile instead of being dropped silently.

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString, RVec},
};
use async_ffi::FutureExt;
use otai_plugin_api as current;
use otai_plugin_api_v1_0 as v1_0;
use otai_plugin_api_v1_1 as v1_1;
use otai_plugin_api_v1_2 as v1_2;
use otai_plugin_api_v1_3 as v1_3;

use super::host_context::{
    host_context_v1_0, host_context_v1_1, host_context_v1_2, host_context_v1_3,
};

/// Awaits an old version's future and converts its answer.
fn adapt<T, U>(future: async_ffi::FfiFuture<T>) -> current::ServiceFuture<U>
where
    T: Convert<current::PluginResult<U>> + Send + 'static,
    U: 'static,
{
    async move { future.await.convert() }.into_ffi()
}

/// The root-module calls and the service wrapper of one old version. `$extra` are the methods
/// of `TicketSystemService` that version has beyond 1.0's.
macro_rules! legacy_version {
    ($v:ident, $info:ident, $new:ident, $host:ident, $service:ident, { $($extra:tt)* }) => {
        /// The plugin's self-description, from an old root module.
        pub(crate) fn $info(module: $v::PluginModuleRef) -> current::PluginInfo {
            (module.info())().convert()
        }

        /// Constructs a ticket-system service from an old root module, as a current service.
        pub(crate) fn $new(
            module: $v::PluginModuleRef,
            service: RStr<'_>,
            params_json: RStr<'_>,
        ) -> RResult<current::TicketSystemBox, current::PluginError> {
            match (module.new_ticket_system())(service, params_json, $host()) {
                RResult::ROk(inner) => RResult::ROk(current::TicketSystemService_TO::from_value(
                    $service(inner),
                    TD_Opaque,
                )),
                RResult::RErr(err) => RResult::RErr(err.convert()),
            }
        }

        /// An old service behind the current trait. Dropping one of its futures drops the
        /// plugin's future, which cancels the plugin's work as the interface requires.
        struct $service($v::TicketSystemBox);

        impl current::TicketSystemService for $service {
            fn find_tickets(
                &self,
                query: current::SearchQuery,
            ) -> current::ServiceFuture<RVec<current::Ticket>> {
                adapt(self.0.find_tickets(query.convert()))
            }

            fn find_first_ticket(
                &self,
                query: current::SearchQuery,
            ) -> current::ServiceFuture<ROption<current::Ticket>> {
                adapt(self.0.find_first_ticket(query.convert()))
            }

            fn get_ticket(&self, id: RString) -> current::ServiceFuture<ROption<current::Ticket>> {
                adapt(self.0.get_ticket(id))
            }

            fn update_ticket(
                &self,
                id: RString,
                update: current::TicketUpdate,
            ) -> current::ServiceFuture<current::Ticket> {
                adapt(self.0.update_ticket(id, update.convert()))
            }

            fn add_note(&self, id: RString, note: current::Note) -> current::ServiceFuture<()> {
                adapt(self.0.add_note(id, note.convert()))
            }

            fn check_connection(&self) -> current::ServiceFuture<RString> {
                adapt(self.0.check_connection())
            }

            $($extra)*
        }
    };
}

legacy_version!(
    v1_0,
    info_v1_0,
    new_ticket_system_v1_0,
    host_context_v1_0,
    V1_0Service,
    {}
);

/// The methods 1.1 added (batch writes, counters, history export), delegated: every version
/// from 1.1 on has them.
macro_rules! since_1_1_methods {
    () => {
        fn update_tickets(
            &self,
            updates: RVec<current::BatchUpdate>,
        ) -> current::ServiceFuture<RVec<current::BatchOutcome>> {
            adapt(self.0.update_tickets(updates.convert()))
        }

        fn request_stats(&self) -> ROption<current::RequestStats> {
            self.0.request_stats().convert()
        }

        fn export_tickets(
            &self,
            request: current::ExportRequest,
        ) -> current::ServiceFuture<current::ExportPage> {
            adapt(self.0.export_tickets(request.convert()))
        }
    };
}

legacy_version!(
    v1_1,
    info_v1_1,
    new_ticket_system_v1_1,
    host_context_v1_1,
    V1_1Service,
    {
        since_1_1_methods!();
    }
);

legacy_version!(
    v1_2,
    info_v1_2,
    new_ticket_system_v1_2,
    host_context_v1_2,
    V1_2Service,
    {
        since_1_1_methods!();

        fn ticket_state(&self, status: RString, tags: RVec<RString>) -> current::TicketState {
            self.0.ticket_state(status, tags).convert()
        }
    }
);

legacy_version!(
    v1_3,
    info_v1_3,
    new_ticket_system_v1_3,
    host_context_v1_3,
    V1_3Service,
    {
        since_1_1_methods!();

        fn ticket_state(&self, status: RString, tags: RVec<RString>) -> current::TicketState {
            self.0.ticket_state(status, tags).convert()
        }

        fn find_tickets_page(
            &self,
            query: current::SearchQuery,
            cursor: ROption<RString>,
        ) -> current::ServiceFuture<current::TicketPage> {
            adapt(self.0.find_tickets_page(query.convert(), cursor))
        }
    }
);

/// A copy of a value as the same type of the other interface version.
pub(crate) trait Convert<T> {
    fn convert(self) -> T;
}

/// Types shared by both versions (abi_stable's and std's own) convert to themselves.
macro_rules! unchanged {
    ($($t:ty),* $(,)?) => {
        $(impl Convert<$t> for $t {
            fn convert(self) -> $t {
                self
            }
        })*
    };
}

unchanged!(RString, bool, u16, u64, ());

impl<T: Convert<U>, U> Convert<ROption<U>> for ROption<T> {
    fn convert(self) -> ROption<U> {
        self.map(Convert::convert)
    }
}

impl<T: Convert<U>, U> Convert<RVec<U>> for RVec<T> {
    fn convert(self) -> RVec<U> {
        self.into_iter().map(Convert::convert).collect()
    }
}

impl<T: Convert<U>, U, E: Convert<F>, F> Convert<RResult<U, F>> for RResult<T, E> {
    fn convert(self) -> RResult<U, F> {
        match self {
            RResult::ROk(value) => RResult::ROk(value.convert()),
            RResult::RErr(err) => RResult::RErr(err.convert()),
        }
    }
}

/// Both directions between `$v::$name` and `current::$name`, field by field. Each struct
/// literal must name every field of its type, so both lists are checked by the compiler.
macro_rules! same_fields {
    ($v:ident; $($name:ident { $($field:ident),* $(,)? })*) => {
        $(
            impl Convert<current::$name> for $v::$name {
                fn convert(self) -> current::$name {
                    current::$name { $($field: self.$field.convert()),* }
                }
            }

            impl Convert<$v::$name> for current::$name {
                fn convert(self) -> $v::$name {
                    $v::$name { $($field: self.$field.convert()),* }
                }
            }
        )*
    };
}

/// The conversions every old version needs: the types of 1.0, the open sets of codes (an
/// unknown code passes through unchanged) and the log levels.
macro_rules! common_conversions {
    ($v:ident) => {
same_fields! { $v;
    QueueRef { id, name }
    CustomFieldValue { id, value_json }
    Person { id, name, email }
    Ticket {
        id, subject, body, status, priority, queue, tags, custom_fields, requester, created_at,
        updated_at, raw_json,
    }
    Note { body, html, public }
    TicketUpdate {
        queue, priority, status, add_tags, remove_tags, custom_fields, note, if_unchanged_since,
        system_fields_json,
    }
    SearchQuery { statuses, queue, tags_all, tags_none, updated_since, limit, system_query }
    PluginError { kind, message, http_status, request_id, retry_after_ms }
    ServiceInfo { name, kind, description }
    PluginInfo { name, version, services }
}

impl Convert<current::ErrorKind> for $v::ErrorKind {
    fn convert(self) -> current::ErrorKind {
        current::ErrorKind(self.0)
    }
}

impl Convert<$v::ErrorKind> for current::ErrorKind {
    fn convert(self) -> $v::ErrorKind {
        $v::ErrorKind(self.0)
    }
}

impl Convert<current::ServiceKind> for $v::ServiceKind {
    fn convert(self) -> current::ServiceKind {
        current::ServiceKind(self.0)
    }
}

impl Convert<$v::ServiceKind> for current::ServiceKind {
    fn convert(self) -> $v::ServiceKind {
        $v::ServiceKind(self.0)
    }
}

impl Convert<current::LogLevel> for $v::LogLevel {
    fn convert(self) -> current::LogLevel {
        match self {
            $v::LogLevel::Error => current::LogLevel::Error,
            $v::LogLevel::Warn => current::LogLevel::Warn,
            $v::LogLevel::Info => current::LogLevel::Info,
            $v::LogLevel::Debug => current::LogLevel::Debug,
            $v::LogLevel::Trace => current::LogLevel::Trace,
        }
    }
}

impl Convert<$v::LogLevel> for current::LogLevel {
    fn convert(self) -> $v::LogLevel {
        match self {
            current::LogLevel::Error => $v::LogLevel::Error,
            current::LogLevel::Warn => $v::LogLevel::Warn,
            current::LogLevel::Info => $v::LogLevel::Info,
            current::LogLevel::Debug => $v::LogLevel::Debug,
            current::LogLevel::Trace => $v::LogLevel::Trace,
        }
    }
}
    };
}

common_conversions!(v1_0);
common_conversions!(v1_1);

common_conversions!(v1_2);
common_conversions!(v1_3);

/// The types added in 1.1, for each version that has them.
macro_rules! since_1_1_conversions {
    ($v:ident) => {
        same_fields! { $v;
            BatchUpdate { id, update, current_tags }
            BatchOutcome { id, result }
            ExportRequest { start_time, cursor }
            ExportPage { tickets, cursor, end_of_stream }
            RequestStats { requests, retries, rate_limited }
        }
    };
}

since_1_1_conversions!(v1_1);
since_1_1_conversions!(v1_2);
since_1_1_conversions!(v1_3);

/// The types added in 1.2, for each version that has them.
macro_rules! since_1_2_conversions {
    ($v:ident) => {
        same_fields! { $v;
            TicketState { category, merged, deleted }
        }

        impl Convert<current::StatusCategory> for $v::StatusCategory {
            fn convert(self) -> current::StatusCategory {
                current::StatusCategory(self.0)
            }
        }

        impl Convert<$v::StatusCategory> for current::StatusCategory {
            fn convert(self) -> $v::StatusCategory {
                $v::StatusCategory(self.0)
            }
        }
    };
}

since_1_2_conversions!(v1_2);
since_1_2_conversions!(v1_3);

// Since 1.3.
same_fields! { v1_3;
    TicketPage { tickets, cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1.0 service that answers nothing (only its vtable matters here).
    struct Old;

    fn never<T: 'static>() -> v1_0::ServiceFuture<T> {
        async { RResult::RErr(v1_0::PluginError::unsupported("test")) }.into_ffi()
    }

    impl v1_0::TicketSystemService for Old {
        fn find_tickets(&self, _: v1_0::SearchQuery) -> v1_0::ServiceFuture<RVec<v1_0::Ticket>> {
            never()
        }
        fn find_first_ticket(
            &self,
            _: v1_0::SearchQuery,
        ) -> v1_0::ServiceFuture<ROption<v1_0::Ticket>> {
            never()
        }
        fn get_ticket(&self, _: RString) -> v1_0::ServiceFuture<ROption<v1_0::Ticket>> {
            never()
        }
        fn update_ticket(
            &self,
            _: RString,
            _: v1_0::TicketUpdate,
        ) -> v1_0::ServiceFuture<v1_0::Ticket> {
            never()
        }
        fn add_note(&self, _: RString, _: v1_0::Note) -> v1_0::ServiceFuture<()> {
            never()
        }
    }

    #[tokio::test]
    async fn a_1_0_service_has_no_history_export() {
        use current::TicketSystemService as _;
        let adapted = V1_0Service(v1_0::TicketSystemService_TO::from_value(Old, TD_Opaque));
        let answer = adapted
            .export_tickets(current::ExportRequest {
                start_time: ROption::RSome("2024-05-01T00:00:00Z".into()),
                cursor: ROption::RNone,
            })
            .await;
        match answer {
            RResult::RErr(e) => assert_eq!(e.kind, current::ErrorKind::UNSUPPORTED),
            RResult::ROk(_) => panic!("a 1.0 plugin cannot export"),
        }
    }

    fn s(text: &str) -> RString {
        RString::from(text)
    }

    fn some(text: &str) -> ROption<RString> {
        ROption::RSome(s(text))
    }

    fn strings(items: &[&str]) -> RVec<RString> {
        items.iter().copied().map(s).collect()
    }

    /// Converts to 1.0 and back. `T` is a current type, `O` its 1.0 twin.
    fn round_trip<T, O>(value: T) -> (O, T)
    where
        T: Convert<O> + Clone,
        O: Convert<T> + Clone,
    {
        let old: O = value.convert();
        (old.clone(), old.convert())
    }

    fn queue(id: &str, name: &str) -> current::QueueRef {
        current::QueueRef {
            id: some(id),
            name: some(name),
        }
    }

    fn field(id: &str, value_json: &str) -> current::CustomFieldValue {
        current::CustomFieldValue {
            id: s(id),
            value_json: s(value_json),
        }
    }

    /// Every field set, each to a value no other field has.
    fn full_ticket() -> current::Ticket {
        current::Ticket {
            id: s("42"),
            subject: s("Printer on fire"),
            body: s("It is really on fire."),
            status: s("open"),
            priority: some("urgent"),
            queue: ROption::RSome(queue("g7", "Facilities")),
            tags: strings(&["fire", "printer"]),
            custom_fields: RVec::from(vec![field("f1", "\"opt1\""), field("f2", "[1,2]")]),
            requester: ROption::RSome(current::Person {
                id: s("u9"),
                name: some("Ada"),
                email: some("ada@example.com"),
            }),
            created_at: some("2023-09-18T23:25:36Z"),
            updated_at: some("2023-09-19T08:00:00Z"),
            raw_json: s(r#"{"id":42}"#),
        }
    }

    fn full_update() -> current::TicketUpdate {
        current::TicketUpdate {
            queue: ROption::RSome(queue("g1", "Billing")),
            priority: some("high"),
            status: some("pending"),
            add_tags: strings(&["otai"]),
            remove_tags: strings(&["new"]),
            custom_fields: RVec::from(vec![field("f3", "true")]),
            note: ROption::RSome(current::Note {
                body: s("<p>Routed</p>"),
                html: true,
                public: true,
            }),
            if_unchanged_since: some("2023-09-19T08:00:00Z"),
            system_fields_json: some(r#"{"type":"incident"}"#),
        }
    }

    #[test]
    fn a_ticket_survives_a_round_trip_field_by_field() {
        let ticket = full_ticket();

        let (old, back): (v1_0::Ticket, _) = round_trip(ticket.clone());

        assert_eq!(back, ticket);
        // The 1.0 copy holds the values, not defaults.
        assert_eq!(old.id.as_str(), "42");
        assert_eq!(old.raw_json.as_str(), r#"{"id":42}"#);
        let requester = old.requester.clone().unwrap();
        assert_eq!(requester.email, some("ada@example.com"));
        assert_eq!(old.custom_fields[1].value_json.as_str(), "[1,2]");
        assert_eq!(old.queue.clone().unwrap().name, some("Facilities"));
    }

    #[test]
    fn a_ticket_with_nothing_optional_survives_a_round_trip() {
        let ticket = current::Ticket::default();

        let (_, back): (v1_0::Ticket, _) = round_trip(ticket.clone());

        assert_eq!(back, ticket);
    }

    #[test]
    fn an_update_and_a_note_survive_a_round_trip() {
        let update = full_update();

        let (old, back): (v1_0::TicketUpdate, _) = round_trip(update.clone());

        assert_eq!(back, update);
        assert_eq!(old.system_fields_json, some(r#"{"type":"incident"}"#));
        let note = old.note.clone().unwrap();
        assert!(note.html && note.public);
        assert_eq!(old.remove_tags, strings(&["new"]));
        let note = update.note.clone().unwrap();
        let (_, back): (v1_0::Note, _) = round_trip(note.clone());
        assert_eq!(back, note);
    }

    #[test]
    fn a_search_query_survives_a_round_trip() {
        let query = current::SearchQuery {
            statuses: strings(&["new", "open"]),
            queue: some("Support"),
            tags_all: strings(&["a"]),
            tags_none: strings(&["otai_done"]),
            updated_since: some("2023-01-01T00:00:00Z"),
            limit: ROption::RSome(25),
            system_query: some("brand:acme"),
        };

        let (old, back): (v1_0::SearchQuery, _) = round_trip(query.clone());

        assert_eq!(back, query);
        assert_eq!(old.limit, ROption::RSome(25));
        assert_eq!(old.tags_none, strings(&["otai_done"]));
    }

    #[test]
    fn an_error_survives_a_round_trip_with_unknown_kinds_unchanged() {
        let error = current::PluginError::new(current::ErrorKind::RATE_LIMITED, "slow down")
            .with_http_status(429)
            .with_request_id("req-1")
            .with_retry_after_ms(1500);
        let unknown = current::PluginError::new(current::ErrorKind(200), "from the future");

        let (old, back): (v1_0::PluginError, _) = round_trip(error.clone());
        let (old_unknown, back_unknown): (v1_0::PluginError, _) = round_trip(unknown.clone());

        assert_eq!(back, error);
        assert_eq!(old.kind, v1_0::ErrorKind::RATE_LIMITED);
        assert_eq!(old.retry_after_ms, ROption::RSome(1500));
        assert_eq!(back_unknown, unknown);
        assert_eq!(old_unknown.kind, v1_0::ErrorKind(200));
    }

    #[test]
    fn plugin_info_survives_a_round_trip() {
        let info = current::PluginInfo {
            name: s("otai_x"),
            version: s("3.1.4"),
            services: RVec::from(vec![current::ServiceInfo {
                name: s("XService"),
                kind: current::ServiceKind::TICKET_SYSTEM,
                description: s("An X desk."),
            }]),
        };
        let odd_kind = current::ServiceKind(99);

        let (old, back): (v1_0::PluginInfo, _) = round_trip(info.clone());
        let (old_kind, back_kind): (v1_0::ServiceKind, _) = round_trip(odd_kind);

        assert_eq!(back, info);
        assert_eq!(old.services[0].kind, v1_0::ServiceKind::TICKET_SYSTEM);
        assert_eq!(old.services[0].description.as_str(), "An X desk.");
        assert_eq!((old_kind.0, back_kind), (99, odd_kind));
    }

    #[test]
    fn every_log_level_survives_a_round_trip() {
        use current::LogLevel::*;
        for level in [Error, Warn, Info, Debug, Trace] {
            let (old, back): (v1_0::LogLevel, _) = round_trip(level);

            assert_eq!(back, level);
            assert_eq!(old as u8, level as u8);
        }
    }

    #[test]
    fn results_convert_both_sides() {
        let ok: RResult<current::Ticket, current::PluginError> = RResult::ROk(full_ticket());
        let err: RResult<(), current::PluginError> =
            RResult::RErr(current::PluginError::unsupported("x"));

        let (_, ok_back): (RResult<v1_0::Ticket, v1_0::PluginError>, _) = round_trip(ok.clone());
        let (_, err_back): (RResult<(), v1_0::PluginError>, _) = round_trip(err.clone());

        assert_eq!(ok_back, ok);
        assert_eq!(err_back, err);
    }
}
