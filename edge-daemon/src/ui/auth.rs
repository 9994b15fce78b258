//! PIN login. Why PINs and not passwords: the counter has wet hands and a queue; a 4–8 digit
//! PIN on a big keypad is what gets used. Sessions live in memory (a restart logs everyone
//! out, which on a box that restarts rarely is a feature) and ride in an HttpOnly cookie.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including voids and reports.
    Owner,
    /// Sales, purchases, repayments; no voids, no reports.
    Staff,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiUser {
    pub name: String,
    pub role: Role,
    pub pin: String,
}

impl std::fmt::Debug for UiUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiUser")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("pin", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub user: String,
    pub role: Role,
}

pub const COOKIE: &str = "bt_session";

#[derive(Debug, Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

/// Compare without an early exit, so the time taken says nothing about how much matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

impl Sessions {
    /// A new session token for the user whose PIN this is.
    pub fn login(&self, users: &[UiUser], pin: &str) -> Option<(String, Session)> {
        let u = users.iter().find(|u| same(&u.pin, pin.trim()))?;
        let token = hex::encode(rand::random::<[u8; 24]>());
        let s = Session {
            user: u.name.clone(),
            role: u.role,
        };
        self.lock().insert(token.clone(), s.clone());
        Some((token, s))
    }

    pub fn logout(&self, token: &str) {
        self.lock().remove(token);
    }

    pub fn get(&self, token: &str) -> Option<Session> {
        self.lock().get(token).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.by_token.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The session token from a `Cookie` header.
pub fn token_from_cookies(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// PINs must be 4–8 digits and distinct: two users with one PIN could not be told apart.
pub fn check_users(users: &[UiUser]) -> Result<(), String> {
    for (i, u) in users.iter().enumerate() {
        if u.pin.len() < 4 || u.pin.len() > 8 || !u.pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "ui.users[{i}] ({}): the PIN must be 4–8 digits",
                u.name
            ));
        }
        if users[..i].iter().any(|o| o.pin == u.pin) {
            return Err(format!(
                "ui.users[{i}] ({}): another user has this PIN",
                u.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<UiUser> {
        vec![
            UiUser {
                name: "陈老板".into(),
                role: Role::Owner,
                pin: "2468".into(),
            },
            UiUser {
                name: "阿明".into(),
                role: Role::Staff,
                pin: "1357".into(),
            },
        ]
    }

    #[test]
    fn login_finds_the_role_and_wrong_pins_fail() {
        let s = Sessions::default();
        let (tok, sess) = s.login(&users(), "1357").unwrap();
        assert_eq!(sess.role, Role::Staff);
        assert_eq!(s.get(&tok).unwrap().user, "阿明");
        assert!(s.login(&users(), "0000").is_none());
        assert!(s.login(&users(), "").is_none());
        s.logout(&tok);
        assert!(s.get(&tok).is_none());
        assert_eq!(token_from_cookies("a=1; bt_session=abc; b=2"), Some("abc"));
    }

    #[test]
    fn bad_pins_are_refused_at_start() {
        let mut u = users();
        u[1].pin = "2468".into();
        assert!(check_users(&u).unwrap_err().contains("another user"));
        u[1].pin = "12a4".into();
        assert!(check_users(&u).unwrap_err().contains("4–8 digits"));
        assert!(check_users(&users()).is_ok());
    }
}
