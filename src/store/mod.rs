//! The only code that queries the database. Maps entity rows to domain types;
//! every write runs in a transaction that also appends its audit record.

pub mod audit;
pub mod channel;
pub mod claims;
pub mod commission;
pub mod complaints;
pub mod dealers;
pub mod demo;
pub mod feedback;
pub mod files;
pub mod frames;
pub mod idempotency;
pub mod monitoring;
pub mod plans;
pub mod policies;
pub mod quotes;
pub mod rating;
pub mod sessions;
pub mod surveys;
pub mod totals;
pub mod users;
pub mod visits;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};

/// The current time at the precision both databases keep (microseconds).
pub fn now() -> DateTime<Utc> {
    crate::domain::audit::audit_time(Utc::now())
}

/// Begins a transaction that will write. On SQLite it takes the write lock at
/// once (`BEGIN IMMEDIATE`), so two writers queue instead of failing on upgrade.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// A transaction whose reads all see one consistent state of the database, for reports that read several
/// tables while the service keeps writing: PostgreSQL by its isolation level (its default, read committed,
/// takes a new snapshot per statement), SQLite by its read transaction.
pub(crate) async fn read_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, sea_orm::DbErr> {
    let isolation =
        (db.get_database_backend() == DbBackend::Postgres).then_some(sea_orm::IsolationLevel::RepeatableRead);
    db.begin_with_config(isolation, None).await
}

/// One page of a list, with the total count for the pager.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// Paging asked for by a client, clamped to sane bounds.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    pub const MAX_PER_PAGE: u64 = 200;

    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Self {
        Self { page: page.unwrap_or(1).max(1), per_page: per_page.unwrap_or(50).clamp(1, Self::MAX_PER_PAGE) }
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}
