//! Service plans: the versioned rules that propose plan items, each dealer's plans (kept as history) and
//! their items with the channel manager's decision and where an accepted change was applied.

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
                    .table(ServicePlanRules::Table)
                    .col(big_pk_auto(ServicePlanRules::Id))
                    .col(integer(ServicePlanRules::Version))
                    .col(text(ServicePlanRules::Document))
                    .col(text(ServicePlanRules::Note))
                    .col(big_integer(ServicePlanRules::CreatedBy))
                    .col(timestamp_with_time_zone(ServicePlanRules::CreatedAt))
                    .to_owned(),
            )
            .await?;
        unique(manager, ServicePlanRules::Table, "ux_service_plan_rules_version", &[ServicePlanRules::Version]).await?;

        manager
            .create_table(
                Table::create()
                    .table(ServicePlans::Table)
                    .col(big_pk_auto(ServicePlans::Id))
                    .col(big_integer(ServicePlans::DealerId))
                    .col(date(ServicePlans::PeriodFrom))
                    .col(date(ServicePlans::PeriodTo))
                    .col(integer(ServicePlans::RulesVersion))
                    .col(text(ServicePlans::FiguresJson))
                    .col(big_integer(ServicePlans::GeneratedBy))
                    .col(timestamp_with_time_zone(ServicePlans::GeneratedAt))
                    .foreign_key(&mut fk(
                        "fk_service_plans_dealer",
                        ServicePlans::Table,
                        ServicePlans::DealerId,
                        Dealers::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, ServicePlans::Table, "ix_service_plans_dealer", &[ServicePlans::DealerId, ServicePlans::Id])
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ServicePlanItems::Table)
                    .col(big_pk_auto(ServicePlanItems::Id))
                    .col(big_integer(ServicePlanItems::PlanId))
                    .col(big_integer(ServicePlanItems::DealerId))
                    .col(string_len(ServicePlanItems::RuleId, 64))
                    .col(string_len(ServicePlanItems::Kind, 32))
                    .col(text(ServicePlanItems::TitleZh))
                    .col(text(ServicePlanItems::TitleEn))
                    .col(text(ServicePlanItems::ProposalJson))
                    .col(text(ServicePlanItems::TriggersJson))
                    .col(string_len(ServicePlanItems::Status, 16))
                    .col(text_null(ServicePlanItems::DecidedProposalJson))
                    .col(text_null(ServicePlanItems::Note))
                    .col(big_integer_null(ServicePlanItems::DecidedBy))
                    .col(timestamp_with_time_zone_null(ServicePlanItems::DecidedAt))
                    .col(text_null(ServicePlanItems::Applied))
                    .col(integer(ServicePlanItems::Version))
                    .foreign_key(&mut fk(
                        "fk_service_plan_items_plan",
                        ServicePlanItems::Table,
                        ServicePlanItems::PlanId,
                        ServicePlans::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, ServicePlanItems::Table, "ix_service_plan_items_plan", &[ServicePlanItems::PlanId]).await?;
        index(
            manager,
            ServicePlanItems::Table,
            "ix_service_plan_items_dealer",
            &[ServicePlanItems::DealerId, ServicePlanItems::Status],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [ServicePlanItems::Table.into_iden(), ServicePlans::Table.into_iden(), ServicePlanRules::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Dealers {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServicePlanRules {
    Table,
    Id,
    Version,
    Document,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServicePlans {
    Table,
    Id,
    DealerId,
    PeriodFrom,
    PeriodTo,
    RulesVersion,
    FiguresJson,
    GeneratedBy,
    GeneratedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServicePlanItems {
    Table,
    Id,
    PlanId,
    DealerId,
    RuleId,
    Kind,
    TitleZh,
    TitleEn,
    ProposalJson,
    TriggersJson,
    Status,
    DecidedProposalJson,
    Note,
    DecidedBy,
    DecidedAt,
    Applied,
    Version,
}
