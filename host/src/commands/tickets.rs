//! `otai tickets find|get|update|note`: one call through a configured ticket system, so an
//! operator can try an adapter before turning automation on. Tickets are printed as JSON, one per
//! line.

use std::{io::Write, sync::Arc};

use anyhow::{anyhow, bail, Context as _};
use serde::Serialize;

use super::Context;
use crate::{
    cli::{FindArgs, GetArgs, NoteArgs, TicketsCommand, UpdateArgs},
    plugins::PluginRegistry,
    ticket::{CustomField, Note, Queue, SearchQuery, TicketSystem, TicketUpdate},
};

pub async fn run(
    ctx: &Context,
    command: TicketsCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        TicketsCommand::Find(args) => find(ctx, args, out).await,
        TicketsCommand::Get(args) => get(ctx, args, out).await,
        TicketsCommand::Update(args) => update(ctx, args, out).await,
        TicketsCommand::Note(args) => note(ctx, args, out).await,
    }
}

/// Loads the configuration and plugins and constructs the one ticket system asked for.
pub(super) fn open_system(ctx: &Context, name: &str) -> anyhow::Result<Arc<dyn TicketSystem>> {
    let config = ctx.load_config()?;
    open_configured_system(&ctx.plugins_dir(&config), &config, name)
}

/// Loads the plugins in `plugins_dir` (warning about those that fail) and constructs ticket system
/// `name` of `config`. Blocks (dlopen and a plugin call).
pub(crate) fn open_configured_system(
    plugins_dir: &std::path::Path,
    config: &crate::config::Config,
    name: &str,
) -> anyhow::Result<Arc<dyn TicketSystem>> {
    let registry = PluginRegistry::load(plugins_dir);
    registry.warn_about_failures();
    Ok(registry.ticket_system(config, name)?)
}

fn print_json(out: &mut dyn Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value).context("cannot write the output")?;
    writeln!(out).context("cannot write the output")?;
    Ok(())
}

async fn find(ctx: &Context, args: FindArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let system = open_system(ctx, &args.system)?;
    let query = SearchQuery {
        statuses: args.statuses,
        queue: args.queue,
        tags_all: args.tags,
        tags_none: args.without_tags,
        updated_since: args.updated_since,
        limit: args.limit,
        system_query: args.query,
    };
    // Page by page: an account's whole backlog never has to fit in memory, and the first
    // tickets print while the rest are still being read.
    let mut print_page = |tickets: Vec<crate::ticket::Ticket>| -> anyhow::Result<()> {
        for ticket in &tickets {
            print_json(out, ticket)?;
        }
        out.flush()?;
        Ok(())
    };
    let count = crate::ticket::find_pages(system.as_ref(), query, &mut print_page).await?;
    tracing::info!(system = %args.system, count, "Found tickets.");
    Ok(())
}

async fn get(ctx: &Context, args: GetArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let system = open_system(ctx, &args.system)?;
    let ticket = system.get_ticket(&args.id).await?.ok_or_else(|| {
        anyhow!(
            "ticket {} does not exist in ticket system `{}`",
            args.id,
            args.system
        )
    })?;
    print_json(out, &ticket)?;
    out.flush()?;
    Ok(())
}

async fn update(ctx: &Context, args: UpdateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    // Arguments are checked before anything is loaded, so a typo costs nothing.
    let update = update_from_args(&args)?;
    let system = open_system(ctx, &args.system)?;
    let ticket = system.update_ticket(&args.id, update).await?;
    print_json(out, &ticket)?;
    out.flush()?;
    Ok(())
}

async fn note(ctx: &Context, args: NoteArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let system = open_system(ctx, &args.system)?;
    let note = Note {
        body: args.text,
        html: args.html,
        public: args.public,
    };
    system.add_note(&args.id, note).await?;
    print_json(
        out,
        &serde_json::json!({"ticket": args.id, "note_added": true}),
    )?;
    out.flush()?;
    Ok(())
}

fn update_from_args(args: &UpdateArgs) -> anyhow::Result<TicketUpdate> {
    let queue = match (&args.queue, &args.queue_id) {
        (Some(name), _) => Some(Queue {
            id: None,
            name: Some(name.clone()),
        }),
        (None, Some(id)) => Some(Queue {
            id: Some(id.clone()),
            name: None,
        }),
        (None, None) => None,
    };
    let custom_fields = args
        .fields
        .iter()
        .map(|f| parse_field(f))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let system_fields = match &args.system_fields {
        Some(text) => {
            let value: serde_json::Value =
                serde_json::from_str(text).context("--system-fields is not valid JSON")?;
            if !value.is_object() {
                bail!("--system-fields must be a JSON object, e.g. '{{\"type\": \"incident\"}}'");
            }
            Some(value)
        }
        None => None,
    };
    let update = TicketUpdate {
        queue,
        priority: args.priority.map(|p| p.as_str().to_string()),
        status: args.status.clone(),
        add_tags: args.add_tags.clone(),
        remove_tags: args.remove_tags.clone(),
        custom_fields,
        note: args.note.clone().map(|body| Note {
            body,
            html: false,
            public: args.public_note,
        }),
        if_unchanged_since: args.if_unchanged_since.clone(),
        system_fields,
    };
    if update.is_empty() {
        bail!(
            "nothing to update: give at least one of --queue, --queue-id, --priority, --status, --add-tag, \
             --remove-tag, --field, --system-fields, --note"
        );
    }
    Ok(update)
}

/// `ID=JSON`; the value must be JSON so that `"true"` and `true` stay different.
fn parse_field(spec: &str) -> anyhow::Result<CustomField> {
    let (id, json) = spec
        .split_once('=')
        .filter(|(id, _)| !id.trim().is_empty())
        .ok_or_else(|| {
            anyhow!("--field `{spec}` must be ID=JSON, e.g. --field 360001='\"billing\"'")
        })?;
    let value = serde_json::from_str(json).with_context(|| {
        format!("--field {id}: the value is not JSON (quote a string: --field {id}='\"text\"')")
    })?;
    Ok(CustomField {
        id: id.trim().to_string(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_id_equals_json() {
        assert_eq!(
            parse_field("7=true").unwrap().value,
            serde_json::json!(true)
        );
        assert_eq!(
            parse_field("7=\"a=b\"").unwrap().value,
            serde_json::json!("a=b")
        );
        assert!(parse_field("7=bare")
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
        assert!(parse_field("=1").is_err());
        assert!(parse_field("novalue").is_err());
    }
}
