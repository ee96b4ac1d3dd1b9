//! The Zammad adapter end to end: the real `libotai_zammad.so` through the real loader, the real
//! BANKING77 model, and the Zammad simulator (`otai-zammad-sim`) on 127.0.0.1.
//!
//! - [`desk`]: the simulated help desk, the pipeline over it, and [`desk::Check`], the invariant
//!   checker every scenario ends with: each ticket written once (one internal note, every tag it
//!   names present, the group set), or tagged failed with its note, or routed by hand (the routed
//!   tag only), or untouched and reported; never a second note, never a lost tag (seeded, agent's
//!   or otai's).
//! - [`pass`]: a 200-ticket pass over the demo help desk (API calls per ticket), with and without
//!   Elasticsearch and in both search answer shapes.
//! - [`drill`]: the fault drill (5xx, drops, broken bodies, agent edits after otai's read, a tag
//!   call lost after the `PUT`, otai killed between the `PUT` and the tags).
//! - [`cli`]: `otai check --connect`, `tickets find/get/update/note`, `run --dry-run`, `--shadow`.
//! - [`history`]: `otai train --system zammad` from closed tickets, resumed after a dropped page.
//! - [`serve`]: `otai serve` routing a new ticket seconds after the simulator's signed trigger
//!   webhook; a delivery signed with another token refused (401) and routing nothing; a
//!   redelivery answered as a duplicate.

mod cli;
mod desk;
mod drill;
mod history;
mod pass;
mod serve;
