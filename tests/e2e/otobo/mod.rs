//! The OTOBO/Znuny adapter end to end: the real `libotai_otobo_znuny.so` through the real loader,
//! the real BANKING77 model, and the OTOBO simulator (`otai-otobo-sim`) on 127.0.0.1.
//!
//! - [`desk`]: the simulated system, the pipeline over it, and [`desk::Check`], the invariant
//!   checker: each ticket written once (one internal note whose plan is applied whole: queue,
//!   priority, every tag), or tagged failed with its note, or routed by hand (the routed tag only,
//!   its queue untouched), or untouched; never a second classification note, never a half-done
//!   write taken for an agent's routing.
//! - [`pass`]: the 200 demo tickets in one pass (API calls per ticket by operation), for the
//!   otobo and znuny flavours.
//! - [`drill`]: 5xx, drops, broken bodies, an update stopped between its setters, agent edits
//!   after otai's read, otai killed between its note and its fields.
//! - [`cli`]: every command through the plugin, and the shipped configs passing `otai check`.
//! - [`history`]: `otai train --system otobo`.
//! - [`serve`]: `otai serve` routing new tickets seconds after the simulator's invoker delivers
//!   them (the secret in a header, then as the BasicAuth password); a delivery with another
//!   secret refused (401) and routing nothing.

mod cli;
mod desk;
mod drill;
mod history;
mod pass;
mod serve;
