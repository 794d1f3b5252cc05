//! Compulsory premium is statutory and never carries the channel pricing coefficient, but compulsory policies were
//! stored with their sale's commercial coefficient, so the price-normalised premium divided it out of compulsory
//! premium too. Compulsory policies now carry 1; the monitoring totals are rebuilt from the facts at the next start
//! (`monitoring_totals_state` cleared), as for every change to derived data.

use sea_orm_migration::prelude::*;

use crate::m20261202_000008_monitoring_totals::MonitoringTotalsState;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::update()
                    .table(Policies::Table)
                    .value(Policies::PricingCoefficientMicros, 1_000_000i64)
                    .and_where(Expr::col(Policies::Product).eq("compulsory"))
                    .to_owned(),
            )
            .await?;
        manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The coefficient each compulsory policy carried before is not kept; 1 is the right value either way.
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Policies {
    Table,
    Product,
    PricingCoefficientMicros,
}
