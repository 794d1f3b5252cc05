//! The `feedback` table: a sales assistant's daily feedback from a store.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub author_id: i64,
    pub feedback_date: Date,
    pub category: String,
    pub urgency: String,
    pub body: String,
    pub photo_sha256: Option<String>,
    pub photo_content_type: Option<String>,
    pub photo_bytes: Option<i64>,
    pub submission_ref: String,
    pub status: String,
    pub handled_by: Option<i64>,
    pub handled_at: Option<DateTimeUtc>,
    pub handled_note: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
