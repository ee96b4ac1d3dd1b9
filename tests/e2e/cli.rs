//! The `otai` binary: placeholder until the commands exist.
