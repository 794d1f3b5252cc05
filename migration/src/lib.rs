//! Schema migrations, one file per change; a landed migration is never edited.

pub use sea_orm_migration::prelude::*;

mod helpers;

mod m20261122_000001_foundation;
mod m20261122_000002_underwriting;
mod m20261125_000003_claims;
mod m20261125_000004_commission;
mod m20261125_000005_feedback;
mod m20261125_000006_audit_inbox;
mod m20261125_000007_service_plans;
mod m20261202_000008_monitoring_totals;
mod m20261202_000009_renewal_index;
mod m20261203_000010_sharded_totals;
mod m20261203_000011_claims_by_cover;
mod m20261203_000012_claim_cycles;
mod m20261203_000013_claims_autovacuum;
mod m20261203_000014_claims_search;
mod m20261203_000015_claims_search_sqlite;
mod m20261205_000016_claims_vehicle_search_sqlite;
mod m20261207_000017_loss_item_person;
mod m20261207_000018_compulsory_coefficient;
mod m20261207_000019_policy_history;
mod m20261207_000020_cars_by_vin;
mod m20261208_000021_totals_by_day;

/// Every migration of the product, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_underwriting::Migration),
            Box::new(m20261125_000003_claims::Migration),
            Box::new(m20261125_000004_commission::Migration),
            Box::new(m20261125_000005_feedback::Migration),
            Box::new(m20261125_000006_audit_inbox::Migration),
            Box::new(m20261125_000007_service_plans::Migration),
            Box::new(m20261202_000008_monitoring_totals::Migration),
            Box::new(m20261202_000009_renewal_index::Migration),
            Box::new(m20261203_000010_sharded_totals::Migration),
            Box::new(m20261203_000011_claims_by_cover::Migration),
            Box::new(m20261203_000012_claim_cycles::Migration),
            Box::new(m20261203_000013_claims_autovacuum::Migration),
            Box::new(m20261203_000014_claims_search::Migration),
            Box::new(m20261203_000015_claims_search_sqlite::Migration),
            Box::new(m20261205_000016_claims_vehicle_search_sqlite::Migration),
            Box::new(m20261207_000017_loss_item_person::Migration),
            Box::new(m20261207_000018_compulsory_coefficient::Migration),
            Box::new(m20261207_000019_policy_history::Migration),
            Box::new(m20261207_000020_cars_by_vin::Migration),
            Box::new(m20261208_000021_totals_by_day::Migration),
        ]
    }
}
