//! Behind `/readyz`: each ticket system's last connection check (`check_connection`, one
//! authenticated read), made at start and every [`CHECK_EVERY`] after.

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use serde::Serialize;

use super::Dispatch;

/// How often the ticket systems are checked while serving.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);

/// One ticket system's last check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    pub reachable: bool,
    /// Who otai is connected as, or why the check failed (never a secret).
    pub detail: String,
}

/// The last checks, by ticket system; empty until the first round is done.
#[derive(Debug, Default, Clone)]
pub struct Readiness(Arc<RwLock<BTreeMap<String, Check>>>);

impl Readiness {
    pub fn snapshot(&self) -> BTreeMap<String, Check> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Ready once every ticket system answered its last check.
    pub fn is_ready(&self, systems: usize) -> bool {
        let checks = self.snapshot();
        checks.len() == systems && checks.values().all(|c| c.reachable)
    }

    /// Checks every ticket system of `dispatch` once.
    pub async fn check_all(&self, dispatch: &Dispatch) {
        for (name, served) in dispatch.systems() {
            let check = match served.system.check_connection().await {
                Ok(who) => Check {
                    reachable: true,
                    detail: who,
                },
                Err(e) => {
                    tracing::warn!(ticket_system = %name, error = %e, "A ticket system failed its connection check; /readyz says not ready.");
                    Check {
                        reachable: false,
                        detail: e.to_string(),
                    }
                }
            };
            self.0
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.clone(), check);
        }
    }

    /// Checks now and every [`CHECK_EVERY`], until dropped (abort the task).
    pub async fn keep_checking(self, dispatch: Arc<Dispatch>) {
        loop {
            self.check_all(&dispatch).await;
            tokio::time::sleep(CHECK_EVERY).await;
        }
    }
}
