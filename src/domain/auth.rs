//! Who may do what: roles, the dealer scope a user works in, and passwords.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// The roles of DOMAIN.md. Stored as their snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    ChannelManager,
    Underwriter,
    ClaimsAdjuster,
    SalesAssistant,
    DealerStaff,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Administrator,
        Role::ChannelManager,
        Role::Underwriter,
        Role::ClaimsAdjuster,
        Role::SalesAssistant,
        Role::DealerStaff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::ChannelManager => "channel_manager",
            Role::Underwriter => "underwriter",
            Role::ClaimsAdjuster => "claims_adjuster",
            Role::SalesAssistant => "sales_assistant",
            Role::DealerStaff => "dealer_staff",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Sales assistants and dealer staff work for particular stores and must be tied to at least one.
    pub fn is_tied_to_dealers(self) -> bool {
        matches!(self, Role::SalesAssistant | Role::DealerStaff)
    }

    /// Head-office roles see every dealer's records.
    pub fn sees_all_dealers(self) -> bool {
        matches!(self, Role::Administrator | Role::Underwriter | Role::ClaimsAdjuster)
    }
}

/// The dealers whose records a signed-in user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Head office: every dealer.
    All,
    /// Channel managers: the dealers they own; store staff: the dealers they are tied to.
    Dealers(Vec<i64>),
}

impl Scope {
    pub fn allows(&self, dealer_id: i64) -> bool {
        match self {
            Scope::All => true,
            Scope::Dealers(ids) => ids.contains(&dealer_id),
        }
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why a new password is refused, or `None` when it is acceptable.
pub fn password_problem(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(format!("a password needs at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(format!("a password has at most {MAX_PASSWORD_CHARS} characters"));
    }
    None
}

/// Why a username is refused, or `None`: 2–64 of lowercase letters, digits, `.`, `_`, `-`.
pub fn username_problem(username: &str) -> Option<String> {
    let valid_chars =
        username.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !(2..=64).contains(&username.len()) || !valid_chars {
        return Some("a username is 2 to 64 lowercase letters, digits, '.', '_' or '-'".into());
    }
    None
}

/// Argon2id hash in PHC string form.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// True when `password` matches the stored hash; a malformed hash never matches.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A hash that no password matches, for accounts that may not sign in.
pub const NO_LOGIN_HASH: &str = "!";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn password_hash_verifies_only_the_same_password() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", NO_LOGIN_HASH));
    }

    #[test]
    fn short_passwords_and_odd_usernames_are_refused() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("long enough pw").is_none());
        assert!(username_problem("Admin").is_some());
        assert!(username_problem("a").is_some());
        assert!(username_problem("li.wei_2").is_none());
    }

    #[test]
    fn scope_limits_store_staff_to_their_dealers() {
        assert!(Scope::All.allows(7));
        assert!(Scope::Dealers(vec![1, 2]).allows(2));
        assert!(!Scope::Dealers(vec![1, 2]).allows(3));
        assert!(!Scope::Dealers(vec![]).allows(1));
    }
}
