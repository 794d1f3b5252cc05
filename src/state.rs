//! The state every request handler shares: the database, the configuration read at start, and the analytics cache.
//! Its own module, so that the handlers (`http`) and the server that routes to them (`app`) do not import each other.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::ServeConfig;
use crate::store::sessions::LoginPolicy;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<ServeConfig>,
    /// Analytics snapshots per period, computed on first use and kept a few minutes.
    pub analytics: Arc<crate::analysis::SnapshotCache>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: ServeConfig) -> Self {
        Self { db, config: Arc::new(config), analytics: Arc::default() }
    }

    pub fn login_policy(&self) -> LoginPolicy {
        LoginPolicy {
            max_failures_per_account: self.config.login_max_failures,
            max_failures_per_ip: self.config.login_max_failures_per_ip,
            lock_window: chrono::Duration::minutes(i64::from(self.config.login_lock_minutes)),
            session_ttl: chrono::Duration::hours(i64::from(self.config.session_hours)),
        }
    }
}
