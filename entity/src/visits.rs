//! The `visits` table: a channel manager's planned and recorded visits to a dealer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "visits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub manager_id: i64,
    pub planned_on: Date,
    pub purpose: String,
    pub status: String,
    pub visited_on: Option<Date>,
    pub findings: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub recorded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
