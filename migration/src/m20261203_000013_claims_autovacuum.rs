//! PostgreSQL: vacuum `claims` after 2% of its rows changed instead of the default 20%. The queue's counts (per
//! stage, the total, a page's ids) are read from indexes alone only where the table's visibility map says the rows
//! are settled, and every claim transition updates its row and unsets that for the row's page. At the default
//! scale factor a table of 100,000 claims went 20,000 transitions between vacuums, and the board's counts read the
//! table (3–4 times slower) for most of that time. SQLite has no vacuum of that kind: nothing to do there.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE claims SET (autovacuum_vacuum_scale_factor = 0.02, \
                 autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE claims RESET (autovacuum_vacuum_scale_factor, \
                 autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor)",
            )
            .await
            .map(|_| ())
    }
}
