//! SQLite: a second trigram index over the plate and VIN alone. Every claim number shares its first trigrams
//! (`CL2`, `L20`, `202`, …), so looking up the start of a claim number in the index of migration 15 read the lists of
//! nearly every claim (14 ms at 100,000 claims). The start of a claim number is now a range of the claim-number
//! index, and only the plate and VIN are looked up by trigram, here, where those trigrams are rare (under 1 ms).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::helpers::execute_on;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: [&str; 5] = [
    "CREATE VIRTUAL TABLE claims_vehicle_search USING fts5(plate, vin, content='claims', content_rowid='id', \
     tokenize='trigram')",
    "INSERT INTO claims_vehicle_search(claims_vehicle_search) VALUES ('rebuild')",
    "CREATE TRIGGER claims_vehicle_search_insert AFTER INSERT ON claims BEGIN \
     INSERT INTO claims_vehicle_search(rowid, plate, vin) VALUES (new.id, new.plate, new.vin); END",
    "CREATE TRIGGER claims_vehicle_search_delete AFTER DELETE ON claims BEGIN \
     INSERT INTO claims_vehicle_search(claims_vehicle_search, rowid, plate, vin) \
     VALUES ('delete', old.id, old.plate, old.vin); END",
    // Not on a change of claim number (every report sets one after its insert): the plate and VIN are what it holds.
    "CREATE TRIGGER claims_vehicle_search_update AFTER UPDATE OF plate, vin ON claims BEGIN \
     INSERT INTO claims_vehicle_search(claims_vehicle_search, rowid, plate, vin) \
     VALUES ('delete', old.id, old.plate, old.vin); \
     INSERT INTO claims_vehicle_search(rowid, plate, vin) VALUES (new.id, new.plate, new.vin); END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on(manager, DbBackend::Sqlite, &UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = [
            "DROP TRIGGER IF EXISTS claims_vehicle_search_insert",
            "DROP TRIGGER IF EXISTS claims_vehicle_search_delete",
            "DROP TRIGGER IF EXISTS claims_vehicle_search_update",
            "DROP TABLE IF EXISTS claims_vehicle_search",
        ];
        execute_on(manager, DbBackend::Sqlite, &statements).await
    }
}
