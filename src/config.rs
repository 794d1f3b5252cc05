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
    /// Most PostgreSQL connections the service holds (SQLite keeps its own small pool); default four
    /// per core, at least 8. More connections than the cores can serve only add PostgreSQL backends
    /// competing for them: on 2 cores, 8 issued 1,064 policies/s with p99 49 ms where 32 managed
    /// 807/s with p99 101 ms (benches/issue_load.sh).
    #[arg(long, env = "AUTOCHANNEL_DB_POOL", value_name = "AUTOCHANNEL_DB_POOL", global = true, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub pool: Option<u32>,
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

    /// Days a quote may be issued, the day quoted included (DOMAIN.md default 3).
    #[arg(long, env = "AUTOCHANNEL_QUOTE_VALID_DAYS", value_name = "AUTOCHANNEL_QUOTE_VALID_DAYS", default_value = "3", value_parser = clap::value_parser!(u32).range(1..=30))]
    pub quote_valid_days: u32,

    /// Days ahead that a dealer's renewal list looks.
    #[arg(long, env = "AUTOCHANNEL_RENEWAL_WINDOW_DAYS", value_name = "AUTOCHANNEL_RENEWAL_WINDOW_DAYS", default_value = "60", value_parser = clap::value_parser!(u32).range(1..=366))]
    pub renewal_window_days: u32,

    /// Hours a reported claim may wait to be registered (DOMAIN.md default 24).
    #[arg(long, env = "AUTOCHANNEL_CLAIM_REGISTER_HOURS", value_name = "AUTOCHANNEL_CLAIM_REGISTER_HOURS", default_value = "24", value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub claim_register_hours: u32,

    /// Hours a registered claim may wait for its survey (default 48).
    #[arg(long, env = "AUTOCHANNEL_CLAIM_SURVEY_HOURS", value_name = "AUTOCHANNEL_CLAIM_SURVEY_HOURS", default_value = "48", value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub claim_survey_hours: u32,

    /// Hours a surveyed claim may wait to be settled (default 120, five days).
    #[arg(long, env = "AUTOCHANNEL_CLAIM_SETTLE_HOURS", value_name = "AUTOCHANNEL_CLAIM_SETTLE_HOURS", default_value = "120", value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub claim_settle_hours: u32,

    /// Claims on the same vehicle with accidents this many days apart or fewer are flagged as possible duplicates.
    #[arg(long, env = "AUTOCHANNEL_CLAIM_DUPLICATE_DAYS", value_name = "AUTOCHANNEL_CLAIM_DUPLICATE_DAYS", default_value = "3", value_parser = clap::value_parser!(u32).range(0..=365))]
    pub claim_duplicate_days: u32,

    /// Directory where claim documents are stored, by content hash.
    #[arg(
        long,
        env = "AUTOCHANNEL_DOCUMENT_DIR",
        value_name = "AUTOCHANNEL_DOCUMENT_DIR",
        default_value = "documents"
    )]
    pub document_dir: std::path::PathBuf,

    /// Largest claim document accepted, in bytes.
    #[arg(long, env = "AUTOCHANNEL_DOCUMENT_MAX_BYTES", value_name = "AUTOCHANNEL_DOCUMENT_MAX_BYTES", default_value = "10485760", value_parser = clap::value_parser!(u64).range(1024..=1_073_741_824))]
    pub document_max_bytes: u64,

    /// Claim status look-ups one address may make on the public page per 15 minutes.
    #[arg(long, env = "AUTOCHANNEL_LOOKUP_MAX_PER_IP", value_name = "AUTOCHANNEL_LOOKUP_MAX_PER_IP", default_value = "20", value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub lookup_max_per_ip: u32,

    /// Days a complaint may stay unresolved before it is overdue (its due date when logged).
    #[arg(long, env = "AUTOCHANNEL_COMPLAINT_DUE_DAYS", value_name = "AUTOCHANNEL_COMPLAINT_DUE_DAYS", default_value = "7", value_parser = clap::value_parser!(u32).range(1..=365))]
    pub complaint_due_days: u32,
}

impl ServeConfig {
    /// The claims service targets in force.
    pub fn service_targets(&self) -> crate::domain::claims::ServiceTargets {
        crate::domain::claims::ServiceTargets {
            register_hours: i64::from(self.claim_register_hours),
            survey_hours: i64::from(self.claim_survey_hours),
            settle_hours: i64::from(self.claim_settle_hours),
        }
    }
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
            quote_valid_days: crate::domain::underwriting::issuing::DEFAULT_QUOTE_VALID_DAYS,
            renewal_window_days: 60,
            claim_register_hours: 24,
            claim_survey_hours: 48,
            claim_settle_hours: 120,
            claim_duplicate_days: 3,
            document_dir: "documents".into(),
            document_max_bytes: 10 * 1024 * 1024,
            lookup_max_per_ip: 20,
            complaint_due_days: 7,
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
