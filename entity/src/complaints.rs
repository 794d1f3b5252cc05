//! The `complaints` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "complaints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub source: String,
    pub complainant: String,
    pub contact: String,
    pub category: String,
    pub description: String,
    pub logged_by: i64,
    pub logged_at: DateTimeUtc,
    pub owner_id: i64,
    pub due_on: Date,
    pub status: String,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
