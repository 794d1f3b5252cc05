//! The store side: sales assistants' daily feedback, channel managers' visits with
//! their follow-ups, complaints with their owner and every hand-over, and the
//! dealers' quarterly satisfaction surveys.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Feedback::Table)
                    .col(big_pk_auto(Feedback::Id))
                    .col(big_integer(Feedback::DealerId))
                    .col(big_integer(Feedback::AuthorId))
                    .col(date(Feedback::FeedbackDate))
                    .col(string_len(Feedback::Category, 32))
                    .col(string_len(Feedback::Urgency, 16))
                    .col(text(Feedback::Body))
                    .col(string_len_null(Feedback::PhotoSha256, 64))
                    .col(string_len_null(Feedback::PhotoContentType, 64))
                    .col(big_integer_null(Feedback::PhotoBytes))
                    // Chosen by the phone when the form opens, so a resent post is recognised.
                    .col(string_len(Feedback::SubmissionRef, 64))
                    .col(string_len(Feedback::Status, 16))
                    .col(big_integer_null(Feedback::HandledBy))
                    .col(timestamp_with_time_zone_null(Feedback::HandledAt))
                    .col(text_null(Feedback::HandledNote))
                    .col(integer(Feedback::Version).default(1))
                    .col(timestamp_with_time_zone(Feedback::CreatedAt))
                    .foreign_key(&mut fk("fk_feedback_dealer", Feedback::Table, Feedback::DealerId, Dealers::Table))
                    .foreign_key(&mut fk("fk_feedback_author", Feedback::Table, Feedback::AuthorId, Users::Table))
                    .to_owned(),
            )
            .await?;
        unique(manager, Feedback::Table, "uq_feedback_submission", &[Feedback::AuthorId, Feedback::SubmissionRef])
            .await?;
        index(manager, Feedback::Table, "idx_feedback_dealer_date", &[Feedback::DealerId, Feedback::FeedbackDate])
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Visits::Table)
                    .col(big_pk_auto(Visits::Id))
                    .col(big_integer(Visits::DealerId))
                    .col(big_integer(Visits::ManagerId))
                    .col(date(Visits::PlannedOn))
                    .col(text(Visits::Purpose))
                    .col(string_len(Visits::Status, 16))
                    .col(date_null(Visits::VisitedOn))
                    .col(text_null(Visits::Findings))
                    .col(integer(Visits::Version).default(1))
                    .col(timestamp_with_time_zone(Visits::CreatedAt))
                    .col(timestamp_with_time_zone_null(Visits::RecordedAt))
                    .foreign_key(&mut fk("fk_visits_dealer", Visits::Table, Visits::DealerId, Dealers::Table))
                    .foreign_key(&mut fk("fk_visits_manager", Visits::Table, Visits::ManagerId, Users::Table))
                    .to_owned(),
            )
            .await?;
        index(manager, Visits::Table, "idx_visits_dealer", &[Visits::DealerId, Visits::Status, Visits::VisitedOn])
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(VisitFollowUps::Table)
                    .col(big_pk_auto(VisitFollowUps::Id))
                    .col(big_integer(VisitFollowUps::VisitId))
                    .col(big_integer(VisitFollowUps::DealerId))
                    .col(text(VisitFollowUps::Action))
                    .col(big_integer(VisitFollowUps::OwnerId))
                    .col(date(VisitFollowUps::DueOn))
                    .col(timestamp_with_time_zone_null(VisitFollowUps::DoneAt))
                    .col(text_null(VisitFollowUps::DoneNote))
                    .col(integer(VisitFollowUps::Version).default(1))
                    .col(timestamp_with_time_zone(VisitFollowUps::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_visit_follow_ups_visit",
                        VisitFollowUps::Table,
                        VisitFollowUps::VisitId,
                        Visits::Table,
                    ))
                    .foreign_key(&mut fk(
                        "fk_visit_follow_ups_owner",
                        VisitFollowUps::Table,
                        VisitFollowUps::OwnerId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, VisitFollowUps::Table, "idx_visit_follow_ups_visit", &[VisitFollowUps::VisitId]).await?;
        index(manager, VisitFollowUps::Table, "idx_visit_follow_ups_owner", &[VisitFollowUps::OwnerId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Complaints::Table)
                    .col(big_pk_auto(Complaints::Id))
                    .col(big_integer(Complaints::DealerId))
                    .col(string_len(Complaints::Source, 16))
                    .col(string_len(Complaints::Complainant, 100))
                    .col(string_len(Complaints::Contact, 40))
                    .col(string_len(Complaints::Category, 32))
                    .col(text(Complaints::Description))
                    .col(big_integer(Complaints::LoggedBy))
                    .col(timestamp_with_time_zone(Complaints::LoggedAt))
                    // 首问负责制: whoever takes the complaint owns it until it is resolved or handed on.
                    .col(big_integer(Complaints::OwnerId))
                    .col(date(Complaints::DueOn))
                    .col(string_len(Complaints::Status, 16))
                    .col(timestamp_with_time_zone_null(Complaints::ResolvedAt))
                    .col(text_null(Complaints::Resolution))
                    .col(integer(Complaints::Version).default(1))
                    .foreign_key(&mut fk(
                        "fk_complaints_dealer",
                        Complaints::Table,
                        Complaints::DealerId,
                        Dealers::Table,
                    ))
                    .foreign_key(&mut fk("fk_complaints_owner", Complaints::Table, Complaints::OwnerId, Users::Table))
                    .to_owned(),
            )
            .await?;
        index(manager, Complaints::Table, "idx_complaints_owner", &[Complaints::OwnerId, Complaints::Status]).await?;
        index(manager, Complaints::Table, "idx_complaints_dealer", &[Complaints::DealerId, Complaints::Status]).await?;

        manager
            .create_table(
                Table::create()
                    .table(ComplaintEvents::Table)
                    .col(big_pk_auto(ComplaintEvents::Id))
                    .col(big_integer(ComplaintEvents::ComplaintId))
                    .col(string_len(ComplaintEvents::Kind, 16))
                    .col(big_integer(ComplaintEvents::ActorId))
                    .col(big_integer_null(ComplaintEvents::FromOwnerId))
                    .col(big_integer_null(ComplaintEvents::ToOwnerId))
                    .col(text(ComplaintEvents::Note))
                    .col(timestamp_with_time_zone(ComplaintEvents::At))
                    .foreign_key(&mut fk(
                        "fk_complaint_events_complaint",
                        ComplaintEvents::Table,
                        ComplaintEvents::ComplaintId,
                        Complaints::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, ComplaintEvents::Table, "idx_complaint_events_complaint", &[ComplaintEvents::ComplaintId])
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SatisfactionSurveys::Table)
                    .col(big_pk_auto(SatisfactionSurveys::Id))
                    .col(big_integer(SatisfactionSurveys::DealerId))
                    .col(string_len(SatisfactionSurveys::Quarter, 8))
                    .col(string_len(SatisfactionSurveys::Respondent, 100))
                    // Per dimension: expected and perceived, 1 to 5, as JSON.
                    .col(text(SatisfactionSurveys::ScoresJson))
                    .col(big_integer(SatisfactionSurveys::RecordedBy))
                    .col(timestamp_with_time_zone(SatisfactionSurveys::RecordedAt))
                    .col(integer(SatisfactionSurveys::Version).default(1))
                    .foreign_key(&mut fk(
                        "fk_satisfaction_surveys_dealer",
                        SatisfactionSurveys::Table,
                        SatisfactionSurveys::DealerId,
                        Dealers::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            SatisfactionSurveys::Table,
            "uq_satisfaction_surveys_quarter",
            &[SatisfactionSurveys::DealerId, SatisfactionSurveys::Quarter],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SatisfactionSurveys::Table.into_iden(),
            ComplaintEvents::Table.into_iden(),
            Complaints::Table.into_iden(),
            VisitFollowUps::Table.into_iden(),
            Visits::Table.into_iden(),
            Feedback::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Dealers {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
}

// The column is `feedback_date`; the lint's advice would rename the column.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden, Clone, Copy)]
enum Feedback {
    Table,
    Id,
    DealerId,
    AuthorId,
    FeedbackDate,
    Category,
    Urgency,
    Body,
    PhotoSha256,
    PhotoContentType,
    PhotoBytes,
    SubmissionRef,
    Status,
    HandledBy,
    HandledAt,
    HandledNote,
    Version,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Visits {
    Table,
    Id,
    DealerId,
    ManagerId,
    PlannedOn,
    Purpose,
    Status,
    VisitedOn,
    Findings,
    Version,
    CreatedAt,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum VisitFollowUps {
    Table,
    Id,
    VisitId,
    DealerId,
    Action,
    OwnerId,
    DueOn,
    DoneAt,
    DoneNote,
    Version,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Complaints {
    Table,
    Id,
    DealerId,
    Source,
    Complainant,
    Contact,
    Category,
    Description,
    LoggedBy,
    LoggedAt,
    OwnerId,
    DueOn,
    Status,
    ResolvedAt,
    Resolution,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ComplaintEvents {
    Table,
    Id,
    ComplaintId,
    Kind,
    ActorId,
    FromOwnerId,
    ToOwnerId,
    Note,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum SatisfactionSurveys {
    Table,
    Id,
    DealerId,
    Quarter,
    Respondent,
    ScoresJson,
    RecordedBy,
    RecordedAt,
    Version,
}
