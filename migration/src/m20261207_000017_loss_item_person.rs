//! Driver and passenger cover pay each injured person up to the per-seat limit, so a loss item names the person or
//! seat it is for (empty for losses that are not per person).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ClaimLossItems::Table)
                    .add_column(string_len(ClaimLossItems::Person, 64).default(""))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(ClaimLossItems::Table).drop_column(ClaimLossItems::Person).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ClaimLossItems {
    Table,
    Person,
}
