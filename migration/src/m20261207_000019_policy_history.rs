//! A compulsory policy is cancelled only for a statutory reason, which is kept; a quote keeps the claims that moved
//! its history factors (floating factor, NCD), so the renewal shows why it is priced as it is; a month-end true-up
//! keeps the dealer's loss ratio its agreement's loss-ratio clause was judged on; a quote is valid to a day; the
//! pricing coefficient comes from the underwriters' channel table, versioned like the rating tables.
//!
//! Renewal is per car: each renewing policy now points at the old policy of its own product (both used to point at
//! the one the renewal was quoted from), and the renewal rate counts cars, so the monitoring totals are rebuilt
//! from the facts at the next start (`monitoring_totals_state` cleared).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261202_000008_monitoring_totals::MonitoringTotalsState;

/// Each renewing policy pointed at the sibling of another product is pointed at the old policy of its own.
const RELINK_RENEWALS: &str = "UPDATE policies SET renewal_of_policy_id = (
    SELECT s.id FROM policies s JOIN policies o ON s.quote_id = o.quote_id
    WHERE o.id = policies.renewal_of_policy_id AND s.product = policies.product)
  WHERE renewal_of_policy_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM policies s JOIN policies o ON s.quote_id = o.quote_id
    WHERE o.id = policies.renewal_of_policy_id AND s.product = policies.product)";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Policies::Table)
                    .add_column(string_len_null(Policies::StatutoryReason, 32))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Quotes::Table).add_column(text(Quotes::HistoryJson).default("[]")).to_owned(),
            )
            .await?;
        // Quotes expire: those made before expiry was kept are valid up to their start day.
        manager
            .alter_table(Table::alter().table(Quotes::Table).add_column(date_null(Quotes::ValidUntil)).to_owned())
            .await?;
        manager
            .exec_stmt(
                Query::update().table(Quotes::Table).value(Quotes::ValidUntil, Expr::col(Quotes::StartDate)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CommissionLedger::Table)
                    .add_column(big_integer_null(CommissionLedger::LossRatioMicros))
                    .to_owned(),
            )
            .await?;
        manager.get_connection().execute_unprepared(RELINK_RENEWALS).await?;
        manager.exec_stmt(Query::delete().from_table(MonitoringTotalsState::Table).to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(ChannelCoefficientVersions::Table)
                    .col(big_pk_auto(ChannelCoefficientVersions::Id))
                    .col(date(ChannelCoefficientVersions::EffectiveFrom))
                    // Coefficients as JSON, decimals as strings: exact, and kept as set.
                    .col(text(ChannelCoefficientVersions::Document))
                    .col(text(ChannelCoefficientVersions::Note))
                    .col(big_integer_null(ChannelCoefficientVersions::CreatedBy))
                    .col(timestamp_with_time_zone(ChannelCoefficientVersions::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ChannelCoefficientVersions::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter().table(CommissionLedger::Table).drop_column(CommissionLedger::LossRatioMicros).to_owned(),
            )
            .await?;
        manager.alter_table(Table::alter().table(Quotes::Table).drop_column(Quotes::HistoryJson).to_owned()).await?;
        manager.alter_table(Table::alter().table(Quotes::Table).drop_column(Quotes::ValidUntil).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Policies::Table).drop_column(Policies::StatutoryReason).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Policies {
    Table,
    StatutoryReason,
}

#[derive(DeriveIden, Clone, Copy)]
enum Quotes {
    Table,
    HistoryJson,
    ValidUntil,
    StartDate,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommissionLedger {
    Table,
    LossRatioMicros,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChannelCoefficientVersions {
    Table,
    Id,
    EffectiveFrom,
    Document,
    Note,
    CreatedBy,
    CreatedAt,
}
