//! Small builders the migrations share from the store-side migration on (earlier migrations keep
//! their own copies: a landed migration is never edited).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// A foreign key from `table.column` to `target.id`.
pub fn fk<T, C, R>(name: &str, table: T, column: C, target: R) -> ForeignKeyCreateStatement
where
    T: IntoIden + 'static,
    C: IntoIden + 'static,
    R: IntoIden + 'static,
{
    ForeignKey::create().name(name).from(table, column).to(target, Alias::new("id")).to_owned()
}

/// An index on `table` over `cols`.
pub async fn index<T, C>(manager: &SchemaManager<'_>, table: T, name: &str, cols: &[C]) -> Result<(), DbErr>
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    manager.create_index(index_statement(table, name, cols).to_owned()).await
}

/// A unique index on `table` over `cols`.
pub async fn unique<T, C>(manager: &SchemaManager<'_>, table: T, name: &str, cols: &[C]) -> Result<(), DbErr>
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    manager.create_index(index_statement(table, name, cols).unique().to_owned()).await
}

fn index_statement<T, C>(table: T, name: &str, cols: &[C]) -> IndexCreateStatement
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(*col);
    }
    stmt
}

/// Runs raw statements, in order, on one backend only (a no-op on the other): for what sea-query does not
/// build, such as PostgreSQL storage parameters or SQLite virtual tables and triggers.
pub async fn execute_on(manager: &SchemaManager<'_>, backend: DbBackend, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != backend {
        return Ok(());
    }
    for statement in statements {
        manager.get_connection().execute_unprepared(statement).await?;
    }
    Ok(())
}
