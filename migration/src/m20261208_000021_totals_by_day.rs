//! Keeps every monitoring total per day as well as per month, so figures can be taken as of any day: earned premium
//! and exposure count only the days that have passed. A month's row has `day_of_month` 0 and its days' rows 1–31;
//! a development cell has `accident_day` and `movement_day` 0 and the cells of single days 1–31. The totals are
//! derived data: the tables are recreated empty and `monitoring_totals_state` cleared, so the server rebuilds them
//! from the facts when it starts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261202_000008_monitoring_totals::{
    DealerClaimDevelopment, DealerMonthTotals, MONTH_TOTALS, MonitoringTotalsState, development_table,
    month_totals_table,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum DayColumns {
    DayOfMonth,
    AccidentDay,
    MovementDay,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager).await?;
        let mut months = Table::create();
        months
            .table(DealerMonthTotals::Table)
            .col(big_integer(DealerMonthTotals::DealerId))
            .col(date(DealerMonthTotals::Month))
            .col(small_integer(DayColumns::DayOfMonth).default(0))
            .col(integer(DealerMonthTotals::TermDays))
            .col(small_integer(DealerMonthTotals::Shard).default(0));
        for column in MONTH_TOTALS {
            months.col(big_integer(column).default(0));
        }
        months.primary_key(
            Index::create()
                .col(DealerMonthTotals::DealerId)
                .col(DealerMonthTotals::Month)
                .col(DayColumns::DayOfMonth)
                .col(DealerMonthTotals::TermDays)
                .col(DealerMonthTotals::Shard),
        );
        manager.create_table(months.to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(DealerClaimDevelopment::Table)
                    .col(big_integer(DealerClaimDevelopment::DealerId))
                    .col(date(DealerClaimDevelopment::AccidentMonth))
                    .col(small_integer(DayColumns::AccidentDay).default(0))
                    .col(date(DealerClaimDevelopment::MovementMonth))
                    .col(small_integer(DayColumns::MovementDay).default(0))
                    .col(small_integer(DealerClaimDevelopment::Shard).default(0))
                    .col(big_integer(DealerClaimDevelopment::PaidFen).default(0))
                    .col(big_integer(DealerClaimDevelopment::ReserveFen).default(0))
                    .primary_key(
                        Index::create()
                            .col(DealerClaimDevelopment::DealerId)
                            .col(DealerClaimDevelopment::AccidentMonth)
                            .col(DayColumns::AccidentDay)
                            .col(DealerClaimDevelopment::MovementMonth)
                            .col(DayColumns::MovementDay)
                            .col(DealerClaimDevelopment::Shard),
                    )
                    .to_owned(),
            )
            .await?;
        // Empty totals until rebuilt: the server's start (and `monitoring rebuild`) fills them again.
        manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager).await?;
        manager.create_table(month_totals_table(true)).await?;
        manager.create_table(development_table(true)).await?;
        manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await
    }
}

async fn drop_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(DealerMonthTotals::Table).to_owned()).await?;
    manager.drop_table(Table::drop().table(DealerClaimDevelopment::Table).to_owned()).await
}
