//! Authentication inside the data (`Operation/Common.pm` Auth): a `SessionID` from SessionCreate
//! when one is sent (then nothing else counts), else `UserLogin` + `Password` of an agent. No
//! customer users log in here (`CustomerUserLogin` always fails). Sessions expire after an idle
//! time on the account's clock (SysConfig `SessionMaxIdleTime`, 7200 s by default). Neither
//! passwords nor session ids are ever logged.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use serde_json::{Map, Value};

use crate::params::scalar_with_data;

/// The API agent's login when none is configured.
pub const DEFAULT_AGENT_LOGIN: &str = "otai-agent";
/// The API agent's password when none is configured.
pub const DEFAULT_AGENT_PASSWORD: &str = "secret";
/// OTOBO's default `SessionMaxIdleTime`.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(7200);

#[derive(Debug, Clone)]
struct Session {
    user_id: u64,
    last_used: i64,
}

/// Agents who may log in and the sessions they hold.
#[derive(Debug)]
pub struct Auth {
    /// (login, password, user id).
    agents: Vec<(String, String, u64)>,
    sessions: Mutex<HashMap<String, Session>>,
    idle: Duration,
}

impl Auth {
    /// Agents as (login, password, user id); sessions idle out after `idle`.
    pub fn new(agents: Vec<(String, String, u64)>, idle: Duration) -> Self {
        Auth {
            agents,
            sessions: Mutex::new(HashMap::new()),
            idle,
        }
    }

    /// The user id the data authenticates as, at unix second `now` (a session's idle time
    /// restarts).
    pub fn user(&self, data: &Map<String, Value>, now: i64) -> Option<u64> {
        if let Some(id) = scalar_with_data(data.get("SessionID")) {
            let mut sessions = self.sessions.lock().unwrap();
            let s = sessions.get_mut(&id)?;
            if now - s.last_used > self.idle.as_secs() as i64 {
                sessions.remove(&id);
                return None;
            }
            s.last_used = now;
            return Some(s.user_id);
        }
        let login = scalar_with_data(data.get("UserLogin"))?;
        let password = scalar_with_data(data.get("Password"))?;
        self.agents
            .iter()
            .find(|(l, p, _)| *l == login && *p == password)
            .map(|(_, _, id)| *id)
    }

    /// A new session for the agent the data's `UserLogin` + `Password` name (SessionCreate), or
    /// `None`.
    pub fn create_session(&self, data: &Map<String, Value>, now: i64) -> Option<String> {
        let login = scalar_with_data(data.get("UserLogin"))?;
        let password = scalar_with_data(data.get("Password"))?;
        let user_id = self
            .agents
            .iter()
            .find(|(l, p, _)| *l == login && *p == password)
            .map(|(_, _, id)| *id)?;
        // 32 random letters and digits, as AuthSession::DB's GenerateRandomString.
        let id: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(32)
            .collect();
        self.sessions.lock().unwrap().insert(
            id.clone(),
            Session {
                user_id,
                last_used: now,
            },
        );
        Some(id)
    }

    /// Forgets every session (they all answer AuthFail from now on).
    pub fn expire_sessions(&self) {
        self.sessions.lock().unwrap().clear();
    }

    /// How many sessions are held.
    pub fn session_count(&self) -> usize {
        self.sessions.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_session_idles_out_and_then_only_the_session_counts() {
        let a = Auth::new(
            vec![("agent".into(), "pw".into(), 2)],
            Duration::from_secs(60),
        );
        assert_eq!(
            a.user(&data(json!({"UserLogin": "agent", "Password": "pw"})), 0),
            Some(2)
        );
        assert_eq!(
            a.user(&data(json!({"UserLogin": "agent", "Password": "no"})), 0),
            None
        );
        let sid = a
            .create_session(&data(json!({"UserLogin": "agent", "Password": "pw"})), 100)
            .unwrap();
        assert_eq!(sid.len(), 32);
        assert_eq!(a.user(&data(json!({"SessionID": sid})), 150), Some(2));
        assert_eq!(
            a.user(&data(json!({"SessionID": sid})), 210),
            Some(2),
            "use restarts it"
        );
        let with_login = json!({"SessionID": sid, "UserLogin": "agent", "Password": "pw"});
        assert_eq!(a.user(&data(with_login), 271), None, "idle > 60 s: gone");
        assert_eq!(a.session_count(), 0);
        assert_eq!(
            a.user(
                &data(json!({"CustomerUserLogin": "c", "Password": "pw"})),
                0
            ),
            None
        );
    }
}
