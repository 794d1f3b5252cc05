//! The `claim_loss_items` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claim_loss_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub claim_id: i64,
    pub category: String,
    pub kind: String,
    pub description: String,
    /// The injured person or seat (driver and passenger items); empty otherwise.
    pub person: String,
    pub quantity_micros: i64,
    pub unit_price_fen: i64,
    pub assessed_fen: i64,
    pub removed: bool,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
