//! Shards the monitoring totals: each key (dealer × month × term, dealer × accident month × movement month) may have
//! several rows, one per `shard`, that readers sum. Concurrent sales of one dealer then add to different rows instead
//! of queueing for one row lock (see `store::totals::SHARDS`). The totals are derived data: the tables are
//! recreated empty and `monitoring_totals_state` cleared, so the server rebuilds them from the facts when it starts.

use sea_orm_migration::prelude::*;

use crate::m20261202_000008_monitoring_totals::{
    DealerClaimDevelopment, DealerMonthTotals, MonitoringTotalsState, development_table, month_totals_table,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, false).await
    }
}

async fn recreate(manager: &SchemaManager<'_>, sharded: bool) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(DealerMonthTotals::Table).to_owned()).await?;
    manager.drop_table(Table::drop().table(DealerClaimDevelopment::Table).to_owned()).await?;
    manager.create_table(month_totals_table(sharded)).await?;
    manager.create_table(development_table(sharded)).await?;
    // Empty totals until rebuilt: the server's start (and `monitoring rebuild`) fills them again.
    manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await
}
