//! Claims: the claim file with its stage and version, every transition, reserve
//! movements (never overwritten), loss items, documents by content hash,
//! settlements with their approval, payments, repair referrals, and the owner
//! status look-ups (for throttling). Amounts are integer fen; shares and
//! quantities integer millionths.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Claims::Table)
                    .col(big_pk_auto(Claims::Id))
                    .col(string_len_uniq(Claims::ClaimNo, 24))
                    .col(big_integer(Claims::DealerId))
                    .col(big_integer(Claims::PolicyId))
                    .col(big_integer_null(Claims::CompulsoryPolicyId))
                    .col(big_integer_null(Claims::CommercialPolicyId))
                    .col(string_len(Claims::Vin, 17))
                    .col(string_len(Claims::Plate, 16))
                    .col(timestamp_with_time_zone(Claims::AccidentAt))
                    // The accident day in China time: what cover and the figures are judged by.
                    .col(date(Claims::AccidentOn))
                    .col(timestamp_with_time_zone(Claims::ReportedAt))
                    .col(string_len(Claims::ReporterName, 64))
                    .col(string_len(Claims::ReporterPhone, 16))
                    .col(string_len(Claims::Place, 200))
                    .col(text(Claims::Description))
                    .col(string_len(Claims::Stage, 16))
                    .col(timestamp_with_time_zone(Claims::StageSince))
                    .col(big_integer_null(Claims::HandlerId))
                    .col(big_integer_null(Claims::SurveyorId))
                    .col(string_len_null(Claims::RepairShop, 200))
                    .col(boolean(Claims::RepairAtDealer).default(false))
                    .col(big_integer_null(Claims::LiabilityShareMicros))
                    .col(text(Claims::DuplicateOf))
                    .col(text_null(Claims::DeclineReason))
                    .col(integer(Claims::ReopenCount).default(0))
                    .col(integer(Claims::Version).default(1))
                    .col(big_integer(Claims::CreatedBy))
                    .col(timestamp_with_time_zone(Claims::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_claims_dealer",
                        Claims::Table,
                        Claims::DealerId,
                        Dealers::Table,
                        Dealers::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_claims_policy",
                        Claims::Table,
                        Claims::PolicyId,
                        Policies::Table,
                        Policies::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, Claims::Table, "idx_claims_stage", &[Claims::Stage, Claims::StageSince]).await?;
        index(
            manager,
            Claims::Table,
            "idx_claims_dealer_stage",
            &[Claims::DealerId, Claims::Stage, Claims::StageSince],
        )
        .await?;
        // The work queue: open claims, longest waiting first, found without walking closed ones.
        manager
            .create_index(
                Index::create()
                    .name("idx_claims_open_queue")
                    .table(Claims::Table)
                    .col(Claims::StageSince)
                    .col(Claims::Id)
                    .and_where(Expr::col(Claims::Stage).is_in(["reported", "registered", "surveyed", "settled"]))
                    .to_owned(),
            )
            .await?;
        // The queue's order when every stage is listed.
        index(manager, Claims::Table, "idx_claims_stage_since", &[Claims::StageSince, Claims::Id]).await?;
        index(manager, Claims::Table, "idx_claims_dealer_accident", &[Claims::DealerId, Claims::AccidentOn]).await?;
        index(manager, Claims::Table, "idx_claims_vin", &[Claims::Vin, Claims::AccidentOn]).await?;
        index(manager, Claims::Table, "idx_claims_plate", &[Claims::Plate, Claims::AccidentOn]).await?;
        index(manager, Claims::Table, "idx_claims_handler", &[Claims::HandlerId, Claims::Stage]).await?;
        index(manager, Claims::Table, "idx_claims_policy", &[Claims::PolicyId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(ClaimTransitions::Table)
                    .col(big_pk_auto(ClaimTransitions::Id))
                    .col(big_integer(ClaimTransitions::ClaimId))
                    .col(string_len(ClaimTransitions::Transition, 32))
                    .col(string_len_null(ClaimTransitions::FromStage, 16))
                    .col(string_len(ClaimTransitions::ToStage, 16))
                    .col(text(ClaimTransitions::Note))
                    .col(big_integer(ClaimTransitions::ActorId))
                    .col(timestamp_with_time_zone(ClaimTransitions::At))
                    .foreign_key(&mut claim_fk(
                        "fk_claim_transitions_claim",
                        ClaimTransitions::Table,
                        ClaimTransitions::ClaimId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, ClaimTransitions::Table, "idx_claim_transitions_claim", &[ClaimTransitions::ClaimId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(ClaimReserveMovements::Table)
                    .col(big_pk_auto(ClaimReserveMovements::Id))
                    .col(big_integer(ClaimReserveMovements::ClaimId))
                    .col(string_len(ClaimReserveMovements::Coverage, 32))
                    .col(big_integer(ClaimReserveMovements::AmountFen))
                    .col(string_len(ClaimReserveMovements::Reason, 16))
                    .col(text(ClaimReserveMovements::Note))
                    .col(big_integer(ClaimReserveMovements::CreatedBy))
                    .col(timestamp_with_time_zone(ClaimReserveMovements::CreatedAt))
                    .foreign_key(&mut claim_fk(
                        "fk_claim_reserve_movements_claim",
                        ClaimReserveMovements::Table,
                        ClaimReserveMovements::ClaimId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, ClaimReserveMovements::Table, "idx_claim_reserves_claim", &[ClaimReserveMovements::ClaimId])
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClaimLossItems::Table)
                    .col(big_pk_auto(ClaimLossItems::Id))
                    .col(big_integer(ClaimLossItems::ClaimId))
                    .col(string_len(ClaimLossItems::Category, 32))
                    .col(string_len(ClaimLossItems::Kind, 16))
                    .col(string_len(ClaimLossItems::Description, 200))
                    .col(big_integer(ClaimLossItems::QuantityMicros))
                    .col(big_integer(ClaimLossItems::UnitPriceFen))
                    .col(big_integer(ClaimLossItems::AssessedFen))
                    .col(boolean(ClaimLossItems::Removed).default(false))
                    .col(big_integer(ClaimLossItems::CreatedBy))
                    .col(timestamp_with_time_zone(ClaimLossItems::CreatedAt))
                    .foreign_key(&mut claim_fk(
                        "fk_claim_loss_items_claim",
                        ClaimLossItems::Table,
                        ClaimLossItems::ClaimId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, ClaimLossItems::Table, "idx_claim_loss_items_claim", &[ClaimLossItems::ClaimId]).await?;
        index(
            manager,
            ClaimLossItems::Table,
            "idx_claim_loss_items_part",
            &[ClaimLossItems::Kind, ClaimLossItems::Description],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClaimDocuments::Table)
                    .col(big_pk_auto(ClaimDocuments::Id))
                    .col(big_integer(ClaimDocuments::ClaimId))
                    .col(string_len(ClaimDocuments::FileName, 200))
                    .col(string_len(ClaimDocuments::ContentType, 64))
                    .col(big_integer(ClaimDocuments::SizeBytes))
                    .col(string_len(ClaimDocuments::Sha256, 64))
                    .col(string_len(ClaimDocuments::StoredPath, 300))
                    .col(big_integer(ClaimDocuments::UploadedBy))
                    .col(timestamp_with_time_zone(ClaimDocuments::UploadedAt))
                    .foreign_key(&mut claim_fk(
                        "fk_claim_documents_claim",
                        ClaimDocuments::Table,
                        ClaimDocuments::ClaimId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, ClaimDocuments::Table, "idx_claim_documents_claim", &[ClaimDocuments::ClaimId]).await?;
        index(manager, ClaimDocuments::Table, "idx_claim_documents_sha256", &[ClaimDocuments::Sha256]).await?;

        manager
            .create_table(
                Table::create()
                    .table(ClaimSettlements::Table)
                    .col(big_pk_auto(ClaimSettlements::Id))
                    .col(big_integer(ClaimSettlements::ClaimId))
                    // `pending_approval`, `approved` or `superseded`.
                    .col(string_len(ClaimSettlements::Status, 20))
                    .col(big_integer(ClaimSettlements::LiabilityShareMicros))
                    .col(big_integer(ClaimSettlements::TotalFen))
                    // The whole calculation as shown, line by line, amounts as strings.
                    .col(text(ClaimSettlements::CalculationJson))
                    .col(big_integer(ClaimSettlements::ProposedBy))
                    .col(timestamp_with_time_zone(ClaimSettlements::ProposedAt))
                    .col(big_integer_null(ClaimSettlements::ApprovedBy))
                    .col(timestamp_with_time_zone_null(ClaimSettlements::ApprovedAt))
                    .col(text(ClaimSettlements::Note))
                    .foreign_key(&mut claim_fk(
                        "fk_claim_settlements_claim",
                        ClaimSettlements::Table,
                        ClaimSettlements::ClaimId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, ClaimSettlements::Table, "idx_claim_settlements_claim", &[ClaimSettlements::ClaimId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(ClaimPayments::Table)
                    .col(big_pk_auto(ClaimPayments::Id))
                    .col(big_integer(ClaimPayments::ClaimId))
                    .col(big_integer(ClaimPayments::SettlementId))
                    .col(big_integer(ClaimPayments::DealerId))
                    .col(string_len(ClaimPayments::Coverage, 32))
                    .col(string_len(ClaimPayments::Payee, 100))
                    .col(big_integer(ClaimPayments::AmountFen))
                    .col(date(ClaimPayments::PaidOn))
                    .col(big_integer(ClaimPayments::CreatedBy))
                    .col(timestamp_with_time_zone(ClaimPayments::CreatedAt))
                    .foreign_key(&mut claim_fk("fk_claim_payments_claim", ClaimPayments::Table, ClaimPayments::ClaimId))
                    .to_owned(),
            )
            .await?;
        index(manager, ClaimPayments::Table, "idx_claim_payments_claim", &[ClaimPayments::ClaimId]).await?;
        index(
            manager,
            ClaimPayments::Table,
            "idx_claim_payments_dealer_day",
            &[ClaimPayments::DealerId, ClaimPayments::PaidOn],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RepairReferrals::Table)
                    .col(big_pk_auto(RepairReferrals::Id))
                    .col(big_integer(RepairReferrals::ClaimId))
                    .col(big_integer(RepairReferrals::DealerId))
                    .col(big_integer(RepairReferrals::ValueFen))
                    .col(date(RepairReferrals::ReferredOn))
                    .col(timestamp_with_time_zone(RepairReferrals::CreatedAt))
                    .foreign_key(&mut claim_fk(
                        "fk_repair_referrals_claim",
                        RepairReferrals::Table,
                        RepairReferrals::ClaimId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            RepairReferrals::Table,
            "idx_repair_referrals_dealer_day",
            &[RepairReferrals::DealerId, RepairReferrals::ReferredOn],
        )
        .await?;
        index(manager, RepairReferrals::Table, "idx_repair_referrals_claim", &[RepairReferrals::ClaimId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(ClaimLookups::Table)
                    .col(big_pk_auto(ClaimLookups::Id))
                    .col(string_len(ClaimLookups::Ip, 64))
                    .col(boolean(ClaimLookups::Found))
                    .col(timestamp_with_time_zone(ClaimLookups::At))
                    .to_owned(),
            )
            .await?;
        index(manager, ClaimLookups::Table, "idx_claim_lookups_ip_at", &[ClaimLookups::Ip, ClaimLookups::At]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ClaimLookups::Table.into_iden(),
            RepairReferrals::Table.into_iden(),
            ClaimPayments::Table.into_iden(),
            ClaimSettlements::Table.into_iden(),
            ClaimDocuments::Table.into_iden(),
            ClaimLossItems::Table.into_iden(),
            ClaimReserveMovements::Table.into_iden(),
            ClaimTransitions::Table.into_iden(),
            Claims::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

fn fk<
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
    U: IntoIden + Copy + 'static,
    D: IntoIden + Copy + 'static,
>(
    name: &str,
    from_table: T,
    from_col: C,
    to_table: U,
    to_col: D,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from_table, from_col).to(to_table, to_col).to_owned()
}

fn claim_fk<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    name: &str,
    table: T,
    col: C,
) -> ForeignKeyCreateStatement {
    fk(name, table, col, Claims::Table, Claims::Id)
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
enum Policies {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Claims {
    Table,
    Id,
    ClaimNo,
    DealerId,
    PolicyId,
    CompulsoryPolicyId,
    CommercialPolicyId,
    Vin,
    Plate,
    AccidentAt,
    AccidentOn,
    ReportedAt,
    ReporterName,
    ReporterPhone,
    Place,
    Description,
    Stage,
    StageSince,
    HandlerId,
    SurveyorId,
    RepairShop,
    RepairAtDealer,
    LiabilityShareMicros,
    DuplicateOf,
    DeclineReason,
    ReopenCount,
    Version,
    CreatedBy,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClaimTransitions {
    Table,
    Id,
    ClaimId,
    Transition,
    FromStage,
    ToStage,
    Note,
    ActorId,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClaimReserveMovements {
    Table,
    Id,
    ClaimId,
    Coverage,
    AmountFen,
    Reason,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClaimLossItems {
    Table,
    Id,
    ClaimId,
    Category,
    Kind,
    Description,
    QuantityMicros,
    UnitPriceFen,
    AssessedFen,
    Removed,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClaimDocuments {
    Table,
    Id,
    ClaimId,
    FileName,
    ContentType,
    SizeBytes,
    Sha256,
    StoredPath,
    UploadedBy,
    UploadedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClaimSettlements {
    Table,
    Id,
    ClaimId,
    Status,
    LiabilityShareMicros,
    TotalFen,
    CalculationJson,
    ProposedBy,
    ProposedAt,
    ApprovedBy,
    ApprovedAt,
    Note,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClaimPayments {
    Table,
    Id,
    ClaimId,
    SettlementId,
    DealerId,
    Coverage,
    Payee,
    AmountFen,
    PaidOn,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum RepairReferrals {
    Table,
    Id,
    ClaimId,
    DealerId,
    ValueFen,
    ReferredOn,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClaimLookups {
    Table,
    Id,
    Ip,
    Found,
    At,
}
