//! PostgreSQL: a trigram index over the claim number, plate and VIN, the three columns the queue's search matches
//! any part of (`LIKE '%…%'`). Without it every search read the whole claims table (30 ms at 100,000 claims, and
//! the count of matches as much again); with it a search reads the matching rows only. The index needs the
//! `pg_trgm` extension (in PostgreSQL's contrib, trusted since PostgreSQL 13, so a database owner may create it);
//! where it is not installed the search keeps working by reading the table. SQLite: nothing to do.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::execute_on;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_claims_search_trgm";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        let available = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT 1 AS available FROM pg_available_extensions WHERE name = 'pg_trgm'",
            ))
            .await?
            .is_some();
        if !available {
            return Ok(());
        }
        let index = format!(
            "CREATE INDEX IF NOT EXISTS {INDEX} ON claims \
             USING gin (claim_no gin_trgm_ops, plate gin_trgm_ops, vin gin_trgm_ops)"
        );
        execute_on(manager, DbBackend::Postgres, &["CREATE EXTENSION IF NOT EXISTS pg_trgm", &index]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on(manager, DbBackend::Postgres, &[&format!("DROP INDEX IF EXISTS {INDEX}")]).await
    }
}
