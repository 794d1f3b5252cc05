//! The `claims` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claims")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub claim_no: String,
    pub dealer_id: i64,
    pub policy_id: i64,
    pub compulsory_policy_id: Option<i64>,
    pub commercial_policy_id: Option<i64>,
    pub vin: String,
    pub plate: String,
    pub accident_at: DateTimeUtc,
    pub accident_on: Date,
    pub reported_at: DateTimeUtc,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub place: String,
    pub description: String,
    pub stage: String,
    pub stage_since: DateTimeUtc,
    pub handler_id: Option<i64>,
    pub surveyor_id: Option<i64>,
    pub repair_shop: Option<String>,
    pub repair_at_dealer: bool,
    pub liability_share_micros: Option<i64>,
    pub duplicate_of: String,
    pub decline_reason: Option<String>,
    pub reopen_count: i32,
    pub version: i32,
    pub created_by: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
