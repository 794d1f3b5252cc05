//! Bulk inserts for demo data, in one transaction, audited once per kind of record.

use indicatif::ProgressBar;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::db::begin_write;
use crate::domain::auth::{NO_LOGIN_HASH, Role};
use crate::domain::money::to_fen_non_negative;
use entity::{dealers, sales_qualifications, user_dealers, users};

use super::audit::{self, Actor, Change};
use super::now;

#[derive(Debug, Clone, PartialEq)]
pub struct DemoDealer {
    pub code: String,
    pub name: String,
    pub dealer_group: String,
    pub region: String,
    pub brands: Vec<String>,
    pub has_repair_shop: bool,
    pub status: String,
    /// Username of the owning channel manager.
    pub channel_manager: String,
}

/// A generated staff member; demo staff cannot sign in.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoStaff {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub dealer_codes: Vec<String>,
    pub authority_limit: Option<Decimal>,
    pub certificate: Option<(String, chrono::NaiveDate, chrono::NaiveDate)>,
}

impl DemoStaff {
    pub fn new(username: String, display_name: String, role: Role) -> Self {
        Self { username, display_name, role, dealer_codes: Vec::new(), authority_limit: None, certificate: None }
    }
}

const CHUNK: usize = 500;

pub async fn has_dealers(db: &DatabaseConnection) -> Result<bool, sea_orm::DbErr> {
    Ok(dealers::Entity::find().count(db).await? > 0)
}

pub async fn insert(
    db: &DatabaseConnection,
    data: &super::super::demo::DemoData,
    seed: u64,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let tx = begin_write(db).await?;
    let at = now();
    progress.set_message("staff");
    for chunk in data.staff.chunks(CHUNK) {
        let rows = chunk.iter().map(|s| {
            Ok(users::ActiveModel {
                username: Set(s.username.clone()),
                display_name: Set(s.display_name.clone()),
                role: Set(s.role.as_str().to_string()),
                password_hash: Set(NO_LOGIN_HASH.to_string()),
                disabled: Set(false),
                authority_limit_fen: Set(s.authority_limit.map(to_fen_non_negative).transpose()?),
                version: Set(1),
                created_at: Set(at),
                updated_at: Set(at),
                ..Default::default()
            })
        });
        let rows = rows.collect::<Result<Vec<_>, crate::domain::money::MoneyError>>()?;
        users::Entity::insert_many(rows).exec_without_returning(&tx).await?;
        progress.inc(chunk.len() as u64);
    }
    let user_ids = ids_by(&tx, users::Entity::find(), |u: &users::Model| (u.username.clone(), u.id)).await?;

    progress.set_message("dealers");
    for chunk in data.dealers.chunks(CHUNK) {
        let rows = chunk.iter().map(|d| dealers::ActiveModel {
            code: Set(d.code.clone()),
            name: Set(d.name.clone()),
            dealer_group: Set(d.dealer_group.clone()),
            region: Set(d.region.clone()),
            brands: Set(serde_json::to_string(&d.brands).unwrap_or_else(|_| "[]".into())),
            has_repair_shop: Set(d.has_repair_shop),
            status: Set(d.status.clone()),
            channel_manager_id: Set(user_ids.get(&d.channel_manager).copied()),
            version: Set(1),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        });
        dealers::Entity::insert_many(rows).exec_without_returning(&tx).await?;
        progress.inc(chunk.len() as u64);
    }
    let dealer_ids = ids_by(&tx, dealers::Entity::find(), |d: &dealers::Model| (d.code.clone(), d.id)).await?;

    let links: Vec<_> = data
        .staff
        .iter()
        .flat_map(|s| s.dealer_codes.iter().map(move |code| (s, code)))
        .filter_map(|(s, code)| {
            Some(user_dealers::ActiveModel {
                user_id: Set(*user_ids.get(&s.username)?),
                dealer_id: Set(*dealer_ids.get(code)?),
            })
        })
        .collect();
    for chunk in links.chunks(CHUNK) {
        user_dealers::Entity::insert_many(chunk.to_vec()).exec_without_returning(&tx).await?;
    }
    let certificates: Vec<_> = data
        .staff
        .iter()
        .filter_map(|s| {
            let (number, from, to) = s.certificate.clone()?;
            Some(sales_qualifications::ActiveModel {
                user_id: Set(*user_ids.get(&s.username)?),
                certificate_no: Set(number),
                valid_from: Set(from),
                valid_to: Set(to),
                created_at: Set(at),
                ..Default::default()
            })
        })
        .collect();
    for chunk in certificates.chunks(CHUNK) {
        sales_qualifications::Entity::insert_many(chunk.to_vec()).exec_without_returning(&tx).await?;
    }

    let actor = Actor::system("demo-data");
    for (entity, count) in [("user", data.staff.len()), ("dealer", data.dealers.len())] {
        let change = Change {
            action: "demo_import",
            entity,
            entity_id: None,
            before: None,
            after: Some(serde_json::json!({ "count": count, "seed": seed })),
        };
        audit::append(&tx, &actor, change).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn ids_by<E, F>(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<E>,
    key: F,
) -> Result<std::collections::HashMap<String, i64>, sea_orm::DbErr>
where
    E: EntityTrait,
    F: Fn(&E::Model) -> (String, i64),
{
    Ok(query.all(db).await?.iter().map(key).collect())
}

/// Moves every dealer of one channel manager to another.
pub async fn take_over_dealers(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    from_username: &str,
    to_user_id: i64,
) -> anyhow::Result<()> {
    let Some(from) = users::Entity::find().filter(users::Column::Username.eq(from_username)).one(tx).await? else {
        return Ok(());
    };
    let moved = dealers::Entity::update_many()
        .col_expr(dealers::Column::ChannelManagerId, Expr::value(to_user_id))
        .col_expr(dealers::Column::Version, Expr::col(dealers::Column::Version).add(1))
        .filter(dealers::Column::ChannelManagerId.eq(from.id))
        .exec(tx)
        .await?;
    let change = Change::new("reassign_channel_manager", "dealer", format!("manager:{}", from.id))
        .before(&serde_json::json!({ "channel_manager_id": from.id }))
        .after(&serde_json::json!({ "channel_manager_id": to_user_id, "dealers": moved.rows_affected }));
    audit::append(tx, actor, change).await?;
    Ok(())
}

/// Gives one dealer to a channel manager.
pub async fn assign_dealer(tx: &impl ConnectionTrait, actor: &Actor, code: &str, user_id: i64) -> anyhow::Result<()> {
    let Some(dealer) = dealers::Entity::find().filter(dealers::Column::Code.eq(code)).one(tx).await? else {
        return Ok(());
    };
    dealers::Entity::update_many()
        .col_expr(dealers::Column::ChannelManagerId, Expr::value(user_id))
        .col_expr(dealers::Column::Version, Expr::col(dealers::Column::Version).add(1))
        .filter(dealers::Column::Id.eq(dealer.id))
        .exec(tx)
        .await?;
    let change = Change::new("reassign_channel_manager", "dealer", dealer.id)
        .before(&serde_json::json!({ "channel_manager_id": dealer.channel_manager_id }))
        .after(&serde_json::json!({ "channel_manager_id": user_id }));
    audit::append(tx, actor, change).await?;
    Ok(())
}
