//! The `service_plan_items` table: each proposed item, the decision on it and where it was applied.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_plan_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub dealer_id: i64,
    pub rule_id: String,
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub proposal_json: String,
    pub triggers_json: String,
    pub status: String,
    pub decided_proposal_json: Option<String>,
    pub note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub applied: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
