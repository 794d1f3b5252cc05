//! The `policies` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub policy_no: String,
    pub product: String,
    pub quote_id: i64,
    pub dealer_id: i64,
    pub seller_id: i64,
    pub business_type: String,
    pub vin: String,
    pub plate: String,
    pub owner_name: String,
    pub owner_id_number: String,
    pub owner_phone: String,
    pub start_date: Date,
    pub end_date: Date,
    pub status: String,
    pub premium_fen: i64,
    pub pricing_coefficient_micros: i64,
    pub ncd_level: i32,
    pub rating_version_id: i64,
    pub cancelled_from: Option<Date>,
    pub cancel_reason: Option<String>,
    pub statutory_reason: Option<String>,
    pub refund_fen: Option<i64>,
    pub renewal_of_policy_id: Option<i64>,
    pub version: i32,
    pub issued_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
