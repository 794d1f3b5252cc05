//! Typed configuration, read once from flags and environment and checked at
//! start: a bad value stops the start with one line naming the setting.

use std::net::SocketAddr;

use clap::Args;

/// Where the data lives; every command needs it.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// SQLite file (`sqlite://autochannel.db`, the default) or PostgreSQL (`postgres://user@host/db`).
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", default_value = "sqlite://autochannel.db", global = true, value_parser = parse_database_url)]
    pub database_url: String,
}

/// Settings of the web service.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address and port to listen on.
    #[arg(long, env = "AUTOCHANNEL_BIND", value_name = "AUTOCHANNEL_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Mark cookies `Secure` (serve behind HTTPS).
    #[arg(long, env = "AUTOCHANNEL_SECURE_COOKIES", value_name = "AUTOCHANNEL_SECURE_COOKIES", default_value = "false", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    #[arg(long, env = "AUTOCHANNEL_TRUST_FORWARDED", value_name = "AUTOCHANNEL_TRUST_FORWARDED", default_value = "false", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub trust_forwarded: bool,

    /// Hours a sign-in lasts without activity.
    #[arg(long, env = "AUTOCHANNEL_SESSION_HOURS", value_name = "AUTOCHANNEL_SESSION_HOURS", default_value = "12", value_parser = clap::value_parser!(u32).range(1..=720))]
    pub session_hours: u32,

    /// Failed sign-ins of one account within the lock window before it is locked for that window.
    #[arg(long, env = "AUTOCHANNEL_LOGIN_MAX_FAILURES", value_name = "AUTOCHANNEL_LOGIN_MAX_FAILURES", default_value = "5", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub login_max_failures: u32,

    /// Failed sign-ins from one address within the lock window before it is locked.
    #[arg(long, env = "AUTOCHANNEL_LOGIN_MAX_FAILURES_PER_IP", value_name = "AUTOCHANNEL_LOGIN_MAX_FAILURES_PER_IP", default_value = "50", value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub login_max_failures_per_ip: u32,

    /// Length of the sign-in lock window in minutes.
    #[arg(long, env = "AUTOCHANNEL_LOGIN_LOCK_MINUTES", value_name = "AUTOCHANNEL_LOGIN_LOCK_MINUTES", default_value = "15", value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub login_lock_minutes: u32,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "AUTOCHANNEL_MAX_BODY_BYTES", value_name = "AUTOCHANNEL_MAX_BODY_BYTES", default_value = "2097152", value_parser = clap::value_parser!(u64).range(1024..=1_073_741_824))]
    pub max_body_bytes: u64,

    /// Days from issue to the start of cover (cover starts at 00:00 of that day).
    #[arg(long, env = "AUTOCHANNEL_POLICY_START_OFFSET_DAYS", value_name = "AUTOCHANNEL_POLICY_START_OFFSET_DAYS", default_value = "1", value_parser = clap::value_parser!(u32).range(0..=30))]
    pub policy_start_offset_days: u32,

    /// Days ahead that a dealer's renewal list looks.
    #[arg(long, env = "AUTOCHANNEL_RENEWAL_WINDOW_DAYS", value_name = "AUTOCHANNEL_RENEWAL_WINDOW_DAYS", default_value = "60", value_parser = clap::value_parser!(u32).range(1..=366))]
    pub renewal_window_days: u32,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
            trust_forwarded: false,
            session_hours: 12,
            login_max_failures: 5,
            login_max_failures_per_ip: 50,
            login_lock_minutes: 15,
            max_body_bytes: 2 * 1024 * 1024,
            policy_start_offset_days: 1,
            renewal_window_days: 60,
        }
    }
}

fn parse_database_url(url: &str) -> Result<String, String> {
    let supported = ["sqlite:", "postgres://", "postgresql://"];
    if supported.iter().any(|prefix| url.starts_with(prefix)) {
        Ok(url.to_string())
    } else {
        Err("expected sqlite://FILE or postgres://USER@HOST:PORT/DB".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_must_name_a_supported_database() {
        assert!(parse_database_url("sqlite://x.db").is_ok());
        assert!(parse_database_url("postgres://postgres@127.0.0.1/db").is_ok());
        assert!(parse_database_url("mysql://root@localhost/db").is_err());
    }
}
