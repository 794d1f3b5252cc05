//! The `claim_cycles` table: a closed claim's cycle (see `domain::monitoring::ClaimCycle`), kept while it stays closed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claim_cycles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub claim_id: i64,
    pub dealer_id: i64,
    pub closed_at: DateTimeUtc,
    pub report_to_close_us: i64,
    pub reported_us: Option<i64>,
    pub registered_us: Option<i64>,
    pub surveyed_us: Option<i64>,
    pub settled_us: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
