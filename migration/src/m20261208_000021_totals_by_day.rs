//! Keeps every monitoring total per day as well as per month, so figures can be taken as of any day: earned premium
//! and exposure count only the days that have passed. `dealer_totals` replaces `dealer_month_totals`: a row of
//! grain 0 holds a month (`starts_on` its first day), of grain 1 a single day. The grain comes first in the key
//! after the dealer, so the whole months before a day and the days of one month are each one range of the key.
//! `dealer_claim_development` likewise, keyed by movement then accident, with an index by accident for the rare
//! movement dated before its accident. The totals are derived data: the tables are created empty and
//! `monitoring_totals_state` cleared, so the server rebuilds them from the facts when it starts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261202_000008_monitoring_totals::{
    DealerClaimDevelopment, DealerMonthTotals, MONTH_TOTALS, MonitoringTotalsState, development_table,
    month_totals_table,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum DealerTotals {
    Table,
    Grain,
    StartsOn,
}

#[derive(DeriveIden, Clone, Copy)]
enum Development {
    Grain,
    MovementOn,
    AccidentOn,
}

const DEVELOPMENT_BY_ACCIDENT: &str = "dealer_claim_development_by_accident";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DealerMonthTotals::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(DealerClaimDevelopment::Table).to_owned()).await?;
        let mut totals = Table::create();
        totals
            .table(DealerTotals::Table)
            .col(big_integer(DealerMonthTotals::DealerId))
            .col(small_integer(DealerTotals::Grain))
            .col(date(DealerTotals::StartsOn))
            .col(integer(DealerMonthTotals::TermDays))
            .col(small_integer(DealerMonthTotals::Shard).default(0));
        for column in MONTH_TOTALS {
            totals.col(big_integer(column).default(0));
        }
        totals.primary_key(
            Index::create()
                .col(DealerMonthTotals::DealerId)
                .col(DealerTotals::Grain)
                .col(DealerTotals::StartsOn)
                .col(DealerMonthTotals::TermDays)
                .col(DealerMonthTotals::Shard),
        );
        manager.create_table(totals.to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(DealerClaimDevelopment::Table)
                    .col(big_integer(DealerClaimDevelopment::DealerId))
                    .col(small_integer(Development::Grain))
                    .col(date(Development::MovementOn))
                    .col(date(Development::AccidentOn))
                    .col(small_integer(DealerClaimDevelopment::Shard).default(0))
                    .col(big_integer(DealerClaimDevelopment::PaidFen).default(0))
                    .col(big_integer(DealerClaimDevelopment::ReserveFen).default(0))
                    .primary_key(
                        Index::create()
                            .col(DealerClaimDevelopment::DealerId)
                            .col(Development::Grain)
                            .col(Development::MovementOn)
                            .col(Development::AccidentOn)
                            .col(DealerClaimDevelopment::Shard),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(DEVELOPMENT_BY_ACCIDENT)
                    .table(DealerClaimDevelopment::Table)
                    .col(DealerClaimDevelopment::DealerId)
                    .col(Development::Grain)
                    .col(Development::AccidentOn)
                    .col(Development::MovementOn)
                    .to_owned(),
            )
            .await?;
        // Empty totals until rebuilt: the server's start (and `monitoring rebuild`) fills them again.
        manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DealerTotals::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(DealerClaimDevelopment::Table).to_owned()).await?;
        manager.create_table(month_totals_table(true)).await?;
        manager.create_table(development_table(true)).await?;
        manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await
    }
}
