//! Underwriting: versioned rating documents, quotes, policies with their
//! coverages and every version (issue, endorsement, cancellation).
//! Amounts are integer fen; rates and factors integer millionths.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RatingVersions::Table)
                    .col(big_pk_auto(RatingVersions::Id))
                    .col(date(RatingVersions::EffectiveFrom))
                    // The tables and rules as JSON, decimals as strings: exact, and kept as priced.
                    .col(text(RatingVersions::Document))
                    .col(text(RatingVersions::Note))
                    .col(big_integer_null(RatingVersions::CreatedBy))
                    .col(timestamp_with_time_zone(RatingVersions::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Quotes::Table)
                    .col(big_pk_auto(Quotes::Id))
                    .col(big_integer(Quotes::DealerId))
                    .col(big_integer(Quotes::SellerId))
                    .col(big_integer(Quotes::RatingVersionId))
                    .col(string_len(Quotes::Status, 16))
                    .col(string_len(Quotes::BusinessType, 16))
                    .col(string_len(Quotes::Vin, 17))
                    .col(string_len(Quotes::Plate, 16))
                    .col(date(Quotes::FirstRegistration))
                    .col(big_integer(Quotes::NewCarPriceFen))
                    .col(integer(Quotes::Seats))
                    .col(string_len(Quotes::OwnerName, 64))
                    .col(string_len(Quotes::OwnerIdNumber, 18))
                    .col(string_len(Quotes::OwnerPhone, 16))
                    .col(integer(Quotes::NcdLevel))
                    .col(string_len(Quotes::AccidentHistory, 32))
                    .col(big_integer(Quotes::PricingCoefficientMicros))
                    .col(date(Quotes::StartDate))
                    .col(text(Quotes::CoveragesJson))
                    .col(text(Quotes::PremiumJson))
                    .col(big_integer(Quotes::CompulsoryFen))
                    .col(big_integer(Quotes::CommercialFen))
                    .col(big_integer(Quotes::TotalFen))
                    .col(text(Quotes::RuleHitsJson))
                    .col(big_integer_null(Quotes::RenewalOfPolicyId))
                    .col(big_integer_null(Quotes::ReviewedBy))
                    .col(timestamp_with_time_zone_null(Quotes::ReviewedAt))
                    .col(text_null(Quotes::ReviewNote))
                    .col(integer(Quotes::Version).default(1))
                    .col(timestamp_with_time_zone(Quotes::CreatedAt))
                    .col(timestamp_with_time_zone(Quotes::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quotes_dealer")
                            .from(Quotes::Table, Quotes::DealerId)
                            .to(Dealers::Table, Dealers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quotes_seller")
                            .from(Quotes::Table, Quotes::SellerId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quotes_rating_version")
                            .from(Quotes::Table, Quotes::RatingVersionId)
                            .to(RatingVersions::Table, RatingVersions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, Quotes::Table, "idx_quotes_dealer_status", &[Quotes::DealerId, Quotes::Status]).await?;
        index(manager, Quotes::Table, "idx_quotes_status", &[Quotes::Status, Quotes::CreatedAt]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Policies::Table)
                    .col(big_pk_auto(Policies::Id))
                    .col(string_len_uniq(Policies::PolicyNo, 32))
                    .col(string_len(Policies::Product, 16))
                    .col(big_integer(Policies::QuoteId))
                    .col(big_integer(Policies::DealerId))
                    .col(big_integer(Policies::SellerId))
                    .col(string_len(Policies::BusinessType, 16))
                    .col(string_len(Policies::Vin, 17))
                    .col(string_len(Policies::Plate, 16))
                    .col(string_len(Policies::OwnerName, 64))
                    .col(string_len(Policies::OwnerIdNumber, 18))
                    .col(string_len(Policies::OwnerPhone, 16))
                    .col(date(Policies::StartDate))
                    .col(date(Policies::EndDate))
                    .col(string_len(Policies::Status, 16))
                    .col(big_integer(Policies::PremiumFen))
                    .col(big_integer(Policies::PricingCoefficientMicros))
                    .col(integer(Policies::NcdLevel))
                    .col(big_integer(Policies::RatingVersionId))
                    .col(date_null(Policies::CancelledFrom))
                    .col(text_null(Policies::CancelReason))
                    .col(big_integer_null(Policies::RefundFen))
                    .col(big_integer_null(Policies::RenewalOfPolicyId))
                    .col(integer(Policies::Version).default(1))
                    .col(timestamp_with_time_zone(Policies::IssuedAt))
                    .col(timestamp_with_time_zone(Policies::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_policies_quote")
                            .from(Policies::Table, Policies::QuoteId)
                            .to(Quotes::Table, Quotes::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_policies_dealer")
                            .from(Policies::Table, Policies::DealerId)
                            .to(Dealers::Table, Dealers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_policies_seller")
                            .from(Policies::Table, Policies::SellerId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, Policies::Table, "idx_policies_dealer_start", &[Policies::DealerId, Policies::StartDate])
            .await?;
        index(manager, Policies::Table, "idx_policies_dealer_end", &[Policies::DealerId, Policies::EndDate]).await?;
        index(manager, Policies::Table, "idx_policies_vin", &[Policies::Vin]).await?;
        index(manager, Policies::Table, "idx_policies_plate", &[Policies::Plate]).await?;
        index(manager, Policies::Table, "idx_policies_quote", &[Policies::QuoteId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(PolicyCoverages::Table)
                    .col(big_pk_auto(PolicyCoverages::Id))
                    .col(big_integer(PolicyCoverages::PolicyId))
                    .col(string_len(PolicyCoverages::Kind, 16))
                    .col(string_len(PolicyCoverages::Code, 32))
                    .col(big_integer_null(PolicyCoverages::SumInsuredFen))
                    .col(big_integer(PolicyCoverages::BasePremiumFen))
                    .col(big_integer(PolicyCoverages::PremiumFen))
                    .col(text(PolicyCoverages::FactorsJson))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_policy_coverages_policy")
                            .from(PolicyCoverages::Table, PolicyCoverages::PolicyId)
                            .to(Policies::Table, Policies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, PolicyCoverages::Table, "idx_policy_coverages_policy", &[PolicyCoverages::PolicyId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(PolicyVersions::Table)
                    .col(big_pk_auto(PolicyVersions::Id))
                    .col(big_integer(PolicyVersions::PolicyId))
                    .col(integer(PolicyVersions::Seq))
                    .col(string_len(PolicyVersions::Kind, 16))
                    .col(date(PolicyVersions::EffectiveDate))
                    .col(text(PolicyVersions::ChangesJson))
                    .col(big_integer(PolicyVersions::PremiumBeforeFen))
                    .col(big_integer(PolicyVersions::PremiumAfterFen))
                    .col(big_integer(PolicyVersions::AdjustmentFen))
                    .col(big_integer(PolicyVersions::CreatedBy))
                    .col(timestamp_with_time_zone(PolicyVersions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_policy_versions_policy")
                            .from(PolicyVersions::Table, PolicyVersions::PolicyId)
                            .to(Policies::Table, Policies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_policy_versions_policy_seq")
                    .table(PolicyVersions::Table)
                    .col(PolicyVersions::PolicyId)
                    .col(PolicyVersions::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PolicyVersions::Table.into_iden(),
            PolicyCoverages::Table.into_iden(),
            Policies::Table.into_iden(),
            Quotes::Table.into_iden(),
            RatingVersions::Table.into_iden(),
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
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Dealers {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum RatingVersions {
    Table,
    Id,
    EffectiveFrom,
    Document,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Quotes {
    Table,
    Id,
    DealerId,
    SellerId,
    RatingVersionId,
    Status,
    BusinessType,
    Vin,
    Plate,
    FirstRegistration,
    NewCarPriceFen,
    Seats,
    OwnerName,
    OwnerIdNumber,
    OwnerPhone,
    NcdLevel,
    AccidentHistory,
    PricingCoefficientMicros,
    StartDate,
    CoveragesJson,
    PremiumJson,
    CompulsoryFen,
    CommercialFen,
    TotalFen,
    RuleHitsJson,
    RenewalOfPolicyId,
    ReviewedBy,
    ReviewedAt,
    ReviewNote,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Policies {
    Table,
    Id,
    PolicyNo,
    Product,
    QuoteId,
    DealerId,
    SellerId,
    BusinessType,
    Vin,
    Plate,
    OwnerName,
    OwnerIdNumber,
    OwnerPhone,
    StartDate,
    EndDate,
    Status,
    PremiumFen,
    PricingCoefficientMicros,
    NcdLevel,
    RatingVersionId,
    CancelledFrom,
    CancelReason,
    RefundFen,
    RenewalOfPolicyId,
    Version,
    IssuedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PolicyCoverages {
    Table,
    Id,
    PolicyId,
    Kind,
    Code,
    SumInsuredFen,
    BasePremiumFen,
    PremiumFen,
    FactorsJson,
}

#[derive(DeriveIden, Clone, Copy)]
enum PolicyVersions {
    Table,
    Id,
    PolicyId,
    Seq,
    Kind,
    EffectiveDate,
    ChangesJson,
    PremiumBeforeFen,
    PremiumAfterFen,
    AdjustmentFen,
    CreatedBy,
    CreatedAt,
}
