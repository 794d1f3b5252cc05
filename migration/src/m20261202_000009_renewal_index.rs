//! Renewals are looked up by the policy they renew: on every renewal issued (was the old policy renewed
//! before?), every endorsement and cancellation (the vehicle's monitoring facts) and every totals rebuild.
//! Without an index each of those read the whole policies table.

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_policies_renewal_of";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, Policies::Table, NAME, &[Policies::RenewalOfPolicyId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table(Policies::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Policies {
    Table,
    RenewalOfPolicyId,
}
