//! Monitoring counts a car by its VIN, not by the sale it was bought in: a car whose compulsory and commercial
//! policies came from different sales is one car in exposure and in the renewal rate. The totals are rebuilt from
//! the facts at the next start (`monitoring_totals_state` cleared), as for every change to derived data.

use sea_orm_migration::prelude::*;

use crate::m20261202_000008_monitoring_totals::MonitoringTotalsState;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Counting by sale again needs the same rebuild.
        manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await
    }
}
