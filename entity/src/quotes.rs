//! The `quotes` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quotes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub seller_id: i64,
    pub rating_version_id: i64,
    pub status: String,
    pub business_type: String,
    pub vin: String,
    pub plate: String,
    pub first_registration: Date,
    pub new_car_price_fen: i64,
    pub seats: i32,
    pub owner_name: String,
    pub owner_id_number: String,
    pub owner_phone: String,
    pub ncd_level: i32,
    pub accident_history: String,
    pub pricing_coefficient_micros: i64,
    pub start_date: Date,
    pub coverages_json: String,
    pub premium_json: String,
    pub compulsory_fen: i64,
    pub commercial_fen: i64,
    pub total_fen: i64,
    pub rule_hits_json: String,
    pub history_json: String,
    /// The last China day the quote may be issued; null only on rows written before expiry existed.
    pub valid_until: Option<Date>,
    pub renewal_of_policy_id: Option<i64>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub review_note: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
