//! The Freshdesk adapter end to end: the real `libotai_freshdesk.so` through the real loader, the
//! real BANKING77 model, and the Freshdesk simulator (`otai-freshdesk-sim`) on 127.0.0.1.
//!
//! - [`desk`]: the simulated account, the pipeline over it, and [`desk::Check`], the invariant
//!   checker: each ticket written once (one private note whose plan is applied whole: group,
//!   priority, every tag, the agents' tags kept), or tagged failed with its note, or untouched;
//!   never a second classification note, never a note without its write once the passes settle.
//! - [`find`]: a backlog past the search's 300 results, and tickets newer than its index.
//! - [`pass`]: the 200 demo tickets in one pass (API calls per ticket by route, bulk jobs or not).
//! - [`drill`]: 5xx, drops, broken bodies; a bulk job stopped midway; agent edits after otai's
//!   read; otai killed between its note and its fields; the rate budget held in every 60 s window
//!   while another integration spends the account's credits.
//! - [`cli`]: every command through the plugin, and the shipped configs passing `otai check`.
//! - [`history`]: `otai train --system freshdesk`.
//! - [`serve`]: `otai serve` routing a new ticket seconds after the simulator's Trigger webhook
//!   action; a delivery with another secret refused (401) and routing nothing.

mod cli;
mod desk;
mod drill;
mod find;
mod history;
mod pass;
mod serve;
