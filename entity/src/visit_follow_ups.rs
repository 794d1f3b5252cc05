//! The `visit_follow_ups` table: actions agreed on a visit, each with an owner and a due date.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "visit_follow_ups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub visit_id: i64,
    pub dealer_id: i64,
    pub action: String,
    pub owner_id: i64,
    pub due_on: Date,
    pub done_at: Option<DateTimeUtc>,
    pub done_note: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
