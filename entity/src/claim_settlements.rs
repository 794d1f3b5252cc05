//! The `claim_settlements` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claim_settlements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub claim_id: i64,
    pub status: String,
    pub liability_share_micros: i64,
    pub total_fen: i64,
    pub calculation_json: String,
    pub proposed_by: i64,
    pub proposed_at: DateTimeUtc,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub note: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
