//! PIN login. Why PINs and not passwords: the counter has wet hands and a queue; a 4–8 digit
//! PIN on a big keypad is what gets used. Sessions live in memory (a restart logs everyone
//! out, which on a box that restarts rarely is a feature) and ride in an HttpOnly cookie.
//!
//! Users come from `edge.toml` (`pin_hash`, an argon2 hash from `baytrace-edge ui hash-pin`;
//! a plain `pin` still works, with a deprecation warning at start) and from the staff added
//! on the 资料 screen (ledger records, hashes in `stall_pins`). A PIN identifies its user, so
//! login tries it against each one.

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
    /// Deprecated: the PIN in plain text. Use `pin_hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// argon2 PHC string (`baytrace-edge ui hash-pin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_hash: Option<String>,
}

impl UiUser {
    /// Does `pin` log this user in?
    pub fn matches(&self, pin: &str) -> bool {
        match (&self.pin_hash, &self.pin) {
            (Some(h), _) => super::pins::verify_pin(pin, h),
            (None, Some(p)) => same(p, pin),
            (None, None) => false,
        }
    }
}

impl std::fmt::Debug for UiUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiUser")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("pin", &self.pin.as_ref().map(|_| "<redacted>"))
            .field("pin_hash", &self.pin_hash.as_ref().map(|_| "<redacted>"))
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
    /// A new session token for the user whose PIN this is. Slow (argon2 per hashed user):
    /// call it off the async threads.
    pub fn login(&self, users: &[UiUser], pin: &str) -> Option<(String, Session)> {
        let pin = pin.trim();
        if !super::pins::valid_pin(pin) {
            return None;
        }
        let u = users.iter().find(|u| u.matches(pin))?;
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
/// A hash must be an argon2 PHC string; a user needs one of `pin` and `pin_hash`. Plain
/// PINs are reported in the returned warnings (deprecated). Distinct hashed PINs are checked
/// when they are set on the box (`ui hash-pin` cannot know the others).
pub fn check_users(users: &[UiUser]) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    for (i, u) in users.iter().enumerate() {
        match (&u.pin, &u.pin_hash) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "ui.users[{i}] ({}): give either pin or pin_hash, not both",
                    u.name
                ));
            }
            (None, None) => {
                return Err(format!(
                    "ui.users[{i}] ({}): pin_hash is missing (baytrace-edge ui hash-pin)",
                    u.name
                ));
            }
            (None, Some(h)) if !super::pins::valid_hash(h) => {
                return Err(format!(
                    "ui.users[{i}] ({}): pin_hash is not an argon2 hash (make one with \
                     baytrace-edge ui hash-pin)",
                    u.name
                ));
            }
            (None, Some(_)) => {}
            (Some(p), None) => {
                if !super::pins::valid_pin(p) {
                    return Err(format!(
                        "ui.users[{i}] ({}): the PIN must be 4–8 digits",
                        u.name
                    ));
                }
                if users[..i]
                    .iter()
                    .any(|o| o.pin.as_deref() == Some(p.as_str()))
                {
                    return Err(format!(
                        "ui.users[{i}] ({}): another user has this PIN",
                        u.name
                    ));
                }
                warnings.push(format!(
                    "ui.users[{i}] ({}): a plain-text pin is deprecated; replace it with \
                     pin_hash = \"…\" from `baytrace-edge ui hash-pin`",
                    u.name
                ));
            }
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<UiUser> {
        vec![
            UiUser {
                name: "陈老板".into(),
                role: Role::Owner,
                pin: None,
                pin_hash: Some(super::super::pins::hash_pin("2468").unwrap()),
            },
            UiUser {
                name: "阿明".into(),
                role: Role::Staff,
                pin: Some("1357".into()),
                pin_hash: None,
            },
        ]
    }

    #[test]
    fn login_finds_the_role_and_wrong_pins_fail() {
        let s = Sessions::default();
        let (tok, sess) = s.login(&users(), "1357").unwrap();
        assert_eq!(sess.role, Role::Staff);
        let (_, owner) = s.login(&users(), "2468").unwrap();
        assert_eq!(owner.role, Role::Owner);
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
        u[0].pin_hash = None;
        u[0].pin = Some("1357".into());
        assert!(check_users(&u).unwrap_err().contains("another user"));
        u[1].pin = Some("12a4".into());
        assert!(check_users(&u).unwrap_err().contains("4–8 digits"));
        u[1].pin_hash = Some("x".into());
        assert!(check_users(&u).unwrap_err().contains("not both"));
        u[1].pin = None;
        assert!(check_users(&u).unwrap_err().contains("not an argon2 hash"));
        // The plain PIN still works, with a deprecation warning naming the user.
        let w = check_users(&users()).unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("阿明") && w[0].contains("hash-pin"), "{w:?}");
    }
}
