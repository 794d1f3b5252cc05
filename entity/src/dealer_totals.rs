//! The `dealer_totals` table: a dealer's monitoring totals per month and per day (see
//! `domain::monitoring::MonthTotals`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dealer_totals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dealer_id: i64,
    /// 0: a month's row, `starts_on` its first day; 1: a single day's row. First in the key after the dealer, so
    /// the months before a day and the days of one month are each one range of the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub grain: i16,
    #[sea_orm(primary_key, auto_increment = false)]
    pub starts_on: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub term_days: i32,
    /// One of several rows that together hold the key's totals (see `store::totals::SHARDS`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub shard: i16,
    pub cover_fen: i64,
    pub cover_fen_days: i64,
    pub normalised_millifen: i64,
    pub normalised_millifen_days: i64,
    pub unpriced_fen: i64,
    pub unpriced_fen_days: i64,
    pub cars: i64,
    pub car_days: i64,
    pub written_fen: i64,
    pub commission_fen: i64,
    pub paid_fen: i64,
    pub referral_count: i64,
    pub referral_fen: i64,
    pub expiring: i64,
    pub renewed: i64,
    pub claim_count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
