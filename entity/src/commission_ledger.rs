//! The `commission_ledger` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commission_ledger")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub policy_id: Option<i64>,
    pub agreement_id: Option<i64>,
    pub product: String,
    pub business_type: String,
    pub kind: String,
    pub booked_on: Date,
    pub basis_fen: i64,
    pub rate_micros: i64,
    pub amount_fen: i64,
    pub note: String,
    /// The dealer's loss ratio a month-end true-up judged the loss-ratio clause on, in millionths.
    pub loss_ratio_micros: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
