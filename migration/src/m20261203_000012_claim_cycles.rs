//! One row per closed claim with its cycle (report → close and the time in each open stage, in microseconds),
//! written when the claim closes and removed when it reopens. A dealer's dashboard takes the cycle-time
//! statistics from these rows instead of reading every closed claim with its stage history, which grew with the
//! dealer's claims on every request. Derived data, like the monitoring totals: `monitoring_totals_state` is
//! cleared so that the server's start (or `monitoring rebuild`) fills the table from the facts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::index;
use crate::m20261202_000008_monitoring_totals::MonitoringTotalsState;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClaimCycles::Table)
                    .col(big_integer(ClaimCycles::ClaimId).primary_key())
                    .col(big_integer(ClaimCycles::DealerId))
                    .col(timestamp_with_time_zone(ClaimCycles::ClosedAt))
                    .col(big_integer(ClaimCycles::ReportToCloseUs))
                    .col(big_integer_null(ClaimCycles::ReportedUs))
                    .col(big_integer_null(ClaimCycles::RegisteredUs))
                    .col(big_integer_null(ClaimCycles::SurveyedUs))
                    .col(big_integer_null(ClaimCycles::SettledUs))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            ClaimCycles::Table,
            "idx_claim_cycles_dealer_closed",
            &[ClaimCycles::DealerId, ClaimCycles::ClosedAt],
        )
        .await?;
        manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ClaimCycles::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ClaimCycles {
    Table,
    ClaimId,
    DealerId,
    ClosedAt,
    ReportToCloseUs,
    ReportedUs,
    RegisteredUs,
    SurveyedUs,
    SettledUs,
}
