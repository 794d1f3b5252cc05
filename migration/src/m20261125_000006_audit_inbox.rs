//! Audit records are written to an inbox inside each business transaction and sealed into
//! the hash chain shortly after, in batches: writers no longer queue for the chain's head.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditInbox::Table)
                    .col(big_pk_auto(AuditInbox::Id))
                    .col(timestamp_with_time_zone(AuditInbox::At))
                    .col(big_integer_null(AuditInbox::ActorId))
                    .col(string_len(AuditInbox::Actor, 64))
                    .col(string_len(AuditInbox::Action, 64))
                    .col(string_len(AuditInbox::Entity, 64))
                    .col(string_len_null(AuditInbox::EntityId, 64))
                    .col(text_null(AuditInbox::BeforeJson))
                    .col(text_null(AuditInbox::AfterJson))
                    .col(string_len_null(AuditInbox::Ip, 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditInbox::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum AuditInbox {
    Table,
    Id,
    At,
    ActorId,
    Actor,
    Action,
    Entity,
    EntityId,
    BeforeJson,
    AfterJson,
    Ip,
}
