//! Connecting to SQLite or PostgreSQL with the settings each needs, and migrating.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

pub use migration::Migrator;

/// Opens the database: SQLite files are created if missing, in WAL mode with
/// foreign keys on and a full sync on commit, so an acknowledged write survives a crash.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with_pool(url, default_pool()).await
}

/// Four PostgreSQL connections per core, at least 8 (see `DatabaseConfig::pool`).
pub fn default_pool() -> u32 {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    u32::try_from(cores * 4).unwrap_or(u32::MAX).max(8)
}

/// Prepared statements each PostgreSQL connection keeps.
const STATEMENT_CACHE: usize = 1024;

/// As `connect`, with at most `pool` PostgreSQL connections.
pub async fn connect_with_pool(url: &str, pool: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        // The default pings every connection taken from the pool: a round trip more for each query run outside a
        // transaction. Only a connection idle long enough to have been dropped (a restarted server, a proxy) is
        // checked; a hot one goes straight to work.
        .test_before_acquire_if_idle_for(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        options.max_connections(8).map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
        });
    } else {
        // sqlx keeps 100 prepared statements per connection by default; the service runs more distinct statements
        // than that (the claims flow alone about 80), and an evicted one is parsed and planned again on its next use.
        options
            .max_connections(pool)
            .min_connections(1)
            .map_sqlx_postgres_opts(|opts| opts.statement_cache_capacity(STATEMENT_CACHE));
    }
    Database::connect(options).await
}

/// Brings the schema to the latest migration and stores the default rating
/// tables and filed commission ranges when there are none yet.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    crate::store::rating::ensure_defaults(db)
        .await
        .map_err(|e| DbErr::Custom(format!("storing the default rating tables: {e}")))?;
    crate::store::commission::ensure_defaults(db)
        .await
        .map_err(|e| DbErr::Custom(format!("storing the default filed commission rates: {e}")))
}
