//! The `dealer_claim_development` table: payments and reserve movements of a dealer's claims by accident month
//! and the month they were made, and by single days.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dealer_claim_development")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dealer_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub accident_month: Date,
    /// 0 in a whole-months cell; 1–31: the accident's day of the month in a single days' cell.
    #[sea_orm(primary_key, auto_increment = false)]
    pub accident_day: i16,
    #[sea_orm(primary_key, auto_increment = false)]
    pub movement_month: Date,
    /// 0 in a whole-months cell; 1–31: the movement's day of the month in a single days' cell.
    #[sea_orm(primary_key, auto_increment = false)]
    pub movement_day: i16,
    /// One of several rows that together hold the key's totals (see `store::totals::SHARDS`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub shard: i16,
    pub paid_fen: i64,
    pub reserve_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
