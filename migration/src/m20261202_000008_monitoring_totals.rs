//! Monthly totals per dealer that the monitoring figures are read from (kept by every write, rebuilt on demand):
//! premium rate changes, flows and counts per dealer × month × policy term, and the development of claims by
//! accident month × movement month. `monitoring_totals_state` records when they were last rebuilt from the facts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The integer totals of a dealer-month, in the order of `domain::monitoring::MonthTotals`.
pub(crate) const MONTH_TOTALS: [DealerMonthTotals; 16] = [
    DealerMonthTotals::CoverFen,
    DealerMonthTotals::CoverFenDays,
    DealerMonthTotals::NormalisedMillifen,
    DealerMonthTotals::NormalisedMillifenDays,
    DealerMonthTotals::UnpricedFen,
    DealerMonthTotals::UnpricedFenDays,
    DealerMonthTotals::Cars,
    DealerMonthTotals::CarDays,
    DealerMonthTotals::WrittenFen,
    DealerMonthTotals::CommissionFen,
    DealerMonthTotals::PaidFen,
    DealerMonthTotals::ReferralCount,
    DealerMonthTotals::ReferralFen,
    DealerMonthTotals::Expiring,
    DealerMonthTotals::Renewed,
    DealerMonthTotals::ClaimCount,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(month_totals_table(false)).await?;
        manager.create_table(development_table(false)).await?;
        manager
            .create_table(
                Table::create()
                    .table(MonitoringTotalsState::Table)
                    .col(integer(MonitoringTotalsState::Id).primary_key())
                    .col(timestamp_with_time_zone(MonitoringTotalsState::RebuiltAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MonitoringTotalsState::Table.into_iden(),
            DealerClaimDevelopment::Table.into_iden(),
            DealerMonthTotals::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// The dealer-month totals table; `sharded` adds the `shard` column to its key (migration 10).
pub(crate) fn month_totals_table(sharded: bool) -> TableCreateStatement {
    let mut months = Table::create();
    months
        .table(DealerMonthTotals::Table)
        .col(big_integer(DealerMonthTotals::DealerId))
        .col(date(DealerMonthTotals::Month))
        .col(integer(DealerMonthTotals::TermDays));
    if sharded {
        months.col(small_integer(DealerMonthTotals::Shard).default(0));
    }
    for column in MONTH_TOTALS {
        months.col(big_integer(column).default(0));
    }
    let mut key = Index::create();
    key.col(DealerMonthTotals::DealerId).col(DealerMonthTotals::Month).col(DealerMonthTotals::TermDays);
    if sharded {
        key.col(DealerMonthTotals::Shard);
    }
    months.primary_key(&mut key);
    months.to_owned()
}

/// The claim development table; `sharded` adds the `shard` column to its key (migration 10).
pub(crate) fn development_table(sharded: bool) -> TableCreateStatement {
    let mut development = Table::create();
    development
        .table(DealerClaimDevelopment::Table)
        .col(big_integer(DealerClaimDevelopment::DealerId))
        .col(date(DealerClaimDevelopment::AccidentMonth))
        .col(date(DealerClaimDevelopment::MovementMonth));
    if sharded {
        development.col(small_integer(DealerClaimDevelopment::Shard).default(0));
    }
    development
        .col(big_integer(DealerClaimDevelopment::PaidFen).default(0))
        .col(big_integer(DealerClaimDevelopment::ReserveFen).default(0));
    let mut key = Index::create();
    key.col(DealerClaimDevelopment::DealerId)
        .col(DealerClaimDevelopment::AccidentMonth)
        .col(DealerClaimDevelopment::MovementMonth);
    if sharded {
        key.col(DealerClaimDevelopment::Shard);
    }
    development.primary_key(&mut key);
    development.to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum DealerMonthTotals {
    Table,
    DealerId,
    Month,
    TermDays,
    Shard,
    CoverFen,
    CoverFenDays,
    NormalisedMillifen,
    NormalisedMillifenDays,
    UnpricedFen,
    UnpricedFenDays,
    Cars,
    CarDays,
    WrittenFen,
    CommissionFen,
    PaidFen,
    ReferralCount,
    ReferralFen,
    Expiring,
    Renewed,
    ClaimCount,
}

#[derive(DeriveIden)]
pub(crate) enum DealerClaimDevelopment {
    Table,
    DealerId,
    AccidentMonth,
    MovementMonth,
    Shard,
    PaidFen,
    ReserveFen,
}

#[derive(DeriveIden)]
pub(crate) enum MonitoringTotalsState {
    Table,
    Id,
    RebuiltAt,
}
