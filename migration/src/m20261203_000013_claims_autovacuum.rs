//! PostgreSQL: vacuum `claims` after 2% of its rows changed instead of the default 20%. The queue's counts (per
//! stage, the total, a page's ids) are read from indexes alone only where the table's visibility map says the rows
//! are settled, and every claim transition updates its row and unsets that for the row's page. At the default
//! scale factor a table of 100,000 claims went 20,000 transitions between vacuums, and the board's counts read the
//! table (3–4 times slower) for most of that time. SQLite has no vacuum of that kind: nothing to do there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::helpers::execute_on;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statement = "ALTER TABLE claims SET (autovacuum_vacuum_scale_factor = 0.02, \
                         autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)";
        execute_on(manager, DbBackend::Postgres, &[statement]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statement = "ALTER TABLE claims RESET (autovacuum_vacuum_scale_factor, \
                         autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor)";
        execute_on(manager, DbBackend::Postgres, &[statement]).await
    }
}
