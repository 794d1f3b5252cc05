//! Claims are looked up by the policies that cover them: settling and paying vehicle damage count what every claim
//! of the commercial policy has paid (its sum insured is for the policy year), and the renewal's NCD level reads a
//! policy's claims by either policy. Without these indexes each of those read the whole claims table.

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COMMERCIAL: &str = "idx_claims_commercial_policy";
const COMPULSORY: &str = "idx_claims_compulsory_policy";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, Claims::Table, COMMERCIAL, &[Claims::CommercialPolicyId]).await?;
        index(manager, Claims::Table, COMPULSORY, &[Claims::CompulsoryPolicyId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [COMMERCIAL, COMPULSORY] {
            manager.drop_index(Index::drop().name(name).table(Claims::Table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Claims {
    Table,
    CommercialPolicyId,
    CompulsoryPolicyId,
}
