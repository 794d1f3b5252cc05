//! Commission and monitoring: the insurer's filed rate ranges (a versioned document,
//! like the rating tables), per-dealer agreements, the append-only commission ledger,
//! monthly statements with their lines, per-dealer alert thresholds and the alerts
//! raised. Amounts are integer fen; rates integer millionths.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FiledRateVersions::Table)
                    .col(big_pk_auto(FiledRateVersions::Id))
                    .col(date(FiledRateVersions::EffectiveFrom))
                    .col(text(FiledRateVersions::Document))
                    .col(text(FiledRateVersions::Note))
                    .col(big_integer_null(FiledRateVersions::CreatedBy))
                    .col(timestamp_with_time_zone(FiledRateVersions::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommissionAgreements::Table)
                    .col(big_pk_auto(CommissionAgreements::Id))
                    .col(big_integer(CommissionAgreements::DealerId))
                    .col(string_len(CommissionAgreements::Product, 16))
                    .col(string_len(CommissionAgreements::BusinessType, 16))
                    .col(date(CommissionAgreements::ValidFrom))
                    .col(date_null(CommissionAgreements::ValidTo))
                    .col(big_integer(CommissionAgreements::BaseRateMicros))
                    // Tiers and the loss-ratio clause as JSON, rates as strings: exact, kept as agreed.
                    .col(text(CommissionAgreements::TermsJson))
                    .col(text(CommissionAgreements::Note))
                    .col(big_integer_null(CommissionAgreements::CreatedBy))
                    .col(timestamp_with_time_zone(CommissionAgreements::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_commission_agreements_dealer")
                            .from(CommissionAgreements::Table, CommissionAgreements::DealerId)
                            .to(Dealers::Table, Dealers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            CommissionAgreements::Table,
            "idx_commission_agreements_dealer",
            &[CommissionAgreements::DealerId, CommissionAgreements::Product, CommissionAgreements::BusinessType],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommissionLedger::Table)
                    .col(big_pk_auto(CommissionLedger::Id))
                    .col(big_integer(CommissionLedger::DealerId))
                    .col(big_integer_null(CommissionLedger::PolicyId))
                    .col(big_integer_null(CommissionLedger::AgreementId))
                    .col(string_len(CommissionLedger::Product, 16))
                    .col(string_len(CommissionLedger::BusinessType, 16))
                    // accrual, reversal, adjustment, tier_true_up or correction.
                    .col(string_len(CommissionLedger::Kind, 16))
                    .col(date(CommissionLedger::BookedOn))
                    .col(big_integer(CommissionLedger::BasisFen))
                    .col(big_integer(CommissionLedger::RateMicros))
                    .col(big_integer(CommissionLedger::AmountFen))
                    .col(text(CommissionLedger::Note))
                    .col(timestamp_with_time_zone(CommissionLedger::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_commission_ledger_dealer")
                            .from(CommissionLedger::Table, CommissionLedger::DealerId)
                            .to(Dealers::Table, Dealers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            CommissionLedger::Table,
            "idx_commission_ledger_dealer_day",
            &[CommissionLedger::DealerId, CommissionLedger::BookedOn],
        )
        .await?;
        index(manager, CommissionLedger::Table, "idx_commission_ledger_policy", &[CommissionLedger::PolicyId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(CommissionStatements::Table)
                    .col(big_pk_auto(CommissionStatements::Id))
                    .col(big_integer(CommissionStatements::DealerId))
                    // The first day of the month the statement covers.
                    .col(date(CommissionStatements::Month))
                    // draft, confirmed or paid.
                    .col(string_len(CommissionStatements::Status, 16))
                    .col(big_integer(CommissionStatements::TotalFen))
                    .col(big_integer(CommissionStatements::LineCount))
                    .col(integer(CommissionStatements::Version).default(1))
                    .col(timestamp_with_time_zone(CommissionStatements::CreatedAt))
                    .col(timestamp_with_time_zone_null(CommissionStatements::ConfirmedAt))
                    .col(big_integer_null(CommissionStatements::ConfirmedBy))
                    .col(timestamp_with_time_zone_null(CommissionStatements::PaidAt))
                    .col(big_integer_null(CommissionStatements::PaidBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_commission_statements_dealer")
                            .from(CommissionStatements::Table, CommissionStatements::DealerId)
                            .to(Dealers::Table, Dealers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_commission_statements_dealer_month")
                    .table(CommissionStatements::Table)
                    .col(CommissionStatements::DealerId)
                    .col(CommissionStatements::Month)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // Which ledger entries a statement lists; a link table, so ledger rows are never updated.
        manager
            .create_table(
                Table::create()
                    .table(CommissionStatementLines::Table)
                    .col(big_integer(CommissionStatementLines::StatementId))
                    .col(big_integer(CommissionStatementLines::EntryId))
                    .primary_key(
                        Index::create()
                            .col(CommissionStatementLines::StatementId)
                            .col(CommissionStatementLines::EntryId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_commission_statement_lines_statement")
                            .from(CommissionStatementLines::Table, CommissionStatementLines::StatementId)
                            .to(CommissionStatements::Table, CommissionStatements::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_commission_statement_lines_entry")
                            .from(CommissionStatementLines::Table, CommissionStatementLines::EntryId)
                            .to(CommissionLedger::Table, CommissionLedger::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_commission_statement_lines_entry")
                    .table(CommissionStatementLines::Table)
                    .col(CommissionStatementLines::EntryId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DealerThresholds::Table)
                    .col(big_integer(DealerThresholds::DealerId).primary_key())
                    // The thresholds as JSON (rates as strings).
                    .col(text(DealerThresholds::Document))
                    .col(integer(DealerThresholds::Version).default(1))
                    .col(big_integer_null(DealerThresholds::UpdatedBy))
                    .col(timestamp_with_time_zone(DealerThresholds::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DealerAlerts::Table)
                    .col(big_pk_auto(DealerAlerts::Id))
                    .col(big_integer(DealerAlerts::DealerId))
                    .col(string_len(DealerAlerts::Kind, 32))
                    .col(date(DealerAlerts::PeriodFrom))
                    .col(date(DealerAlerts::PeriodTo))
                    .col(text(DealerAlerts::Reason))
                    .col(text(DealerAlerts::FiguresJson))
                    .col(timestamp_with_time_zone(DealerAlerts::RaisedAt))
                    .col(big_integer_null(DealerAlerts::AcknowledgedBy))
                    .col(timestamp_with_time_zone_null(DealerAlerts::AcknowledgedAt))
                    .col(text_null(DealerAlerts::Note))
                    .col(integer(DealerAlerts::Version).default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_dealer_alerts_kind_period")
                    .table(DealerAlerts::Table)
                    .col(DealerAlerts::DealerId)
                    .col(DealerAlerts::Kind)
                    .col(DealerAlerts::PeriodFrom)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DealerAlerts::Table.into_iden(),
            DealerThresholds::Table.into_iden(),
            CommissionStatementLines::Table.into_iden(),
            CommissionStatements::Table.into_iden(),
            CommissionLedger::Table.into_iden(),
            CommissionAgreements::Table.into_iden(),
            FiledRateVersions::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

async fn index<T, C>(manager: &SchemaManager<'_>, table: T, name: &str, cols: &[C]) -> Result<(), DbErr>
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(*col);
    }
    manager.create_index(stmt.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Dealers {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum FiledRateVersions {
    Table,
    Id,
    EffectiveFrom,
    Document,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommissionAgreements {
    Table,
    Id,
    DealerId,
    Product,
    BusinessType,
    ValidFrom,
    ValidTo,
    BaseRateMicros,
    TermsJson,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommissionLedger {
    Table,
    Id,
    DealerId,
    PolicyId,
    AgreementId,
    Product,
    BusinessType,
    Kind,
    BookedOn,
    BasisFen,
    RateMicros,
    AmountFen,
    Note,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommissionStatements {
    Table,
    Id,
    DealerId,
    Month,
    Status,
    TotalFen,
    LineCount,
    Version,
    CreatedAt,
    ConfirmedAt,
    ConfirmedBy,
    PaidAt,
    PaidBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommissionStatementLines {
    Table,
    StatementId,
    EntryId,
}

#[derive(DeriveIden, Clone, Copy)]
enum DealerThresholds {
    Table,
    DealerId,
    Document,
    Version,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DealerAlerts {
    Table,
    Id,
    DealerId,
    Kind,
    PeriodFrom,
    PeriodTo,
    Reason,
    FiguresJson,
    RaisedAt,
    AcknowledgedBy,
    AcknowledgedAt,
    Note,
    Version,
}
