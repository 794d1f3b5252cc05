//! The `dealer_claim_development` table: payments and reserve movements of a dealer's claims by the month they were
//! made and the accident month, and by the day they were made and the accident day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dealer_claim_development")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dealer_id: i64,
    /// 0: a cell of months, the dates their first days; 1: a cell of single days.
    #[sea_orm(primary_key, auto_increment = false)]
    pub grain: i16,
    #[sea_orm(primary_key, auto_increment = false)]
    pub movement_on: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub accident_on: Date,
    /// One of several rows that together hold the key's totals (see `store::totals::SHARDS`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub shard: i16,
    pub paid_fen: i64,
    pub reserve_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
