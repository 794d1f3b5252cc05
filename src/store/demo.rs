//! Bulk inserts for demo data, in one transaction, audited once per kind of record.

use chrono::Datelike;
use indicatif::ProgressBar;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::domain::auth::{NO_LOGIN_HASH, Role};
use crate::domain::money::{rate_to_micros, to_fen, to_fen_non_negative};
use crate::domain::underwriting::changes::StatutoryReason;
use crate::domain::underwriting::lifecycle::{self, Period};
use crate::domain::underwriting::rating::{CoverageKind, PremiumLine};
use crate::domain::underwriting::{Product, QuoteStatus};
use crate::store::begin_write;
use entity::{dealers, policies, policy_coverages, policy_versions, quotes, sales_qualifications, user_dealers, users};

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

/// Each dealer with the first sales assistant working there, for generated sales.
pub async fn policy_dealers(db: &DatabaseConnection) -> anyhow::Result<Vec<crate::demo::PolicyDealer>> {
    let dealers = dealers::Entity::find().order_by_asc(dealers::Column::Id).all(db).await?;
    let assistants: std::collections::HashSet<i64> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Role.eq(Role::SalesAssistant.as_str()))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let sellers: Vec<(i64, i64)> = user_dealers::Entity::find()
        .select_only()
        .column(user_dealers::Column::DealerId)
        .column(user_dealers::Column::UserId)
        .order_by_asc(user_dealers::Column::UserId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .filter(|(_, user)| assistants.contains(user))
        .collect();
    Ok(dealers
        .into_iter()
        .filter_map(|d| {
            let seller_id = sellers.iter().find(|(dealer, _)| *dealer == d.id).map(|(_, user)| *user)?;
            let brand = serde_json::from_str::<Vec<String>>(&d.brands).ok()?.into_iter().next().unwrap_or_default();
            Some(crate::demo::PolicyDealer { id: d.id, region: d.region, brand, seller_id })
        })
        .collect())
}

fn fen(amount: Decimal) -> anyhow::Result<i64> {
    to_fen(amount).map_err(|e| anyhow::anyhow!("amount {amount}: {e}"))
}

fn plain<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Stores generated sales as quotes, policies, coverages and versions, in batches within one transaction.
pub async fn insert_sales(
    db: &DatabaseConnection,
    sales: &[crate::demo::DemoSale],
    rating_version_id: i64,
    seed: u64,
    progress: &ProgressBar,
) -> anyhow::Result<usize> {
    let tx = begin_write(db).await?;
    let next_quote: Option<i64> = quotes::Entity::find()
        .select_only()
        .column_as(quotes::Column::Id.max(), "m")
        .into_tuple()
        .one(&tx)
        .await?
        .flatten();
    let next_policy: Option<i64> = policies::Entity::find()
        .select_only()
        .column_as(policies::Column::Id.max(), "m")
        .into_tuple()
        .one(&tx)
        .await?
        .flatten();
    let mut quote_id = next_quote.unwrap_or(0);
    let mut policy_id = next_policy.unwrap_or(0);
    // Sale index and product → policy id, so a renewal links to the policy it renews.
    let mut issued: std::collections::HashMap<(usize, &'static str), i64> = std::collections::HashMap::new();
    let mut index = 0usize;
    let mut stored = 0;
    let china = crate::domain::clock::china();
    for chunk in sales.chunks(400) {
        let (mut quote_rows, mut policy_rows, mut coverage_rows, mut version_rows) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for sale in chunk {
            let sale_index = index;
            index += 1;
            quote_id += 1;
            let issued_at = sale
                .issue_date
                .and_hms_opt(10, 0, 0)
                .and_then(|t| t.and_local_timezone(china).single())
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_else(now);
            // A renewal's cover starts the day the renewed policy's ends.
            let start = match sale.renews.and_then(|original| sales.get(original)) {
                Some(original) => Period::one_year_from(original.issue_date + chrono::Duration::days(1)).end,
                None => sale.issue_date + chrono::Duration::days(1),
            };
            let period = Period::one_year_from(start);
            quote_rows.push(quotes::ActiveModel {
                id: Set(quote_id),
                dealer_id: Set(sale.dealer_id),
                seller_id: Set(sale.seller_id),
                rating_version_id: Set(rating_version_id),
                status: Set(QuoteStatus::Issued.as_str().into()),
                business_type: Set(sale.business_type.as_str().into()),
                vin: Set(sale.vin.clone()),
                plate: Set(sale.plate.clone()),
                first_registration: Set(sale.first_registration),
                new_car_price_fen: Set(fen(sale.new_car_price)?),
                seats: Set(i32::try_from(sale.seats)?),
                owner_name: Set(sale.owner_name.clone()),
                owner_id_number: Set(sale.owner_id_number.clone()),
                owner_phone: Set(sale.owner_phone.clone()),
                ncd_level: Set(sale.ncd_level),
                accident_history: Set(plain(&sale.accident_history)),
                pricing_coefficient_micros: Set(rate_to_micros(sale.pricing_coefficient)?),
                start_date: Set(period.start),
                coverages_json: Set(serde_json::to_string(&sale.coverages)?),
                premium_json: Set(serde_json::to_string(&sale.premium)?),
                compulsory_fen: Set(fen(sale.premium.compulsory_total)?),
                commercial_fen: Set(fen(sale.premium.commercial_total)?),
                total_fen: Set(fen(sale.premium.total)?),
                rule_hits_json: Set("[]".into()),
                history_json: Set("[]".into()),
                valid_until: Set(Some(start)),
                renewal_of_policy_id: Set(None),
                reviewed_by: Set(None),
                reviewed_at: Set(None),
                review_note: Set(None),
                version: Set(2),
                created_at: Set(issued_at),
                updated_at: Set(issued_at),
            });
            for product in [Product::Compulsory, Product::Commercial] {
                let lines: Vec<&PremiumLine> = sale
                    .premium
                    .lines
                    .iter()
                    .filter(|l| (l.coverage == CoverageKind::Compulsory) == (product == Product::Compulsory))
                    .collect();
                if lines.is_empty() {
                    continue;
                }
                policy_id += 1;
                issued.insert((sale_index, product.as_str()), policy_id);
                let renews = sale.renews.and_then(|original| issued.get(&(original, product.as_str())).copied());
                let premium: Decimal = lines.iter().map(|l| l.premium).sum();
                let refund = sale.cancelled.map(|(day, _)| lifecycle::refund_on_cancel(premium, &period, day));
                let plate =
                    sale.endorsed.as_ref().map(|(_, plate)| plate.clone()).unwrap_or_else(|| sale.plate.clone());
                policy_rows.push(policies::ActiveModel {
                    id: Set(policy_id),
                    policy_no: Set(product.policy_number(period.start.year(), policy_id)),
                    product: Set(product.as_str().into()),
                    quote_id: Set(quote_id),
                    dealer_id: Set(sale.dealer_id),
                    seller_id: Set(sale.seller_id),
                    business_type: Set(sale.business_type.as_str().into()),
                    vin: Set(sale.vin.clone()),
                    plate: Set(plate.clone()),
                    owner_name: Set(sale.owner_name.clone()),
                    owner_id_number: Set(sale.owner_id_number.clone()),
                    owner_phone: Set(sale.owner_phone.clone()),
                    start_date: Set(period.start),
                    end_date: Set(period.end),
                    status: Set(if sale.cancelled.is_some() { "cancelled" } else { "in_force" }.into()),
                    premium_fen: Set(fen(premium)?),
                    pricing_coefficient_micros: Set(rate_to_micros(
                        product.pricing_coefficient(sale.pricing_coefficient),
                    )?),
                    ncd_level: Set(sale.ncd_level),
                    rating_version_id: Set(rating_version_id),
                    cancelled_from: Set(sale.cancelled.map(|(day, _)| day)),
                    cancel_reason: Set(sale.cancelled.map(|(_, reason)| reason.to_string())),
                    statutory_reason: Set(sale.cancelled.filter(|_| product == Product::Compulsory).map(
                        |(_, reason)| {
                            let statutory = if reason == "重复投保" {
                                StatutoryReason::InsuredTwice
                            } else {
                                StatutoryReason::Deregistered
                            };
                            statutory.as_str().to_string()
                        },
                    )),
                    refund_fen: Set(refund.map(fen).transpose()?),
                    renewal_of_policy_id: Set(renews),
                    version: Set(1 + i32::from(sale.cancelled.is_some()) + i32::from(sale.endorsed.is_some())),
                    issued_at: Set(issued_at),
                    updated_at: Set(issued_at),
                });
                for line in &lines {
                    coverage_rows.push(policy_coverages::ActiveModel {
                        policy_id: Set(policy_id),
                        kind: Set(line.coverage.as_str().into()),
                        code: Set(line.code.clone()),
                        sum_insured_fen: Set(line.sum_insured.map(fen).transpose()?),
                        base_premium_fen: Set(fen(line.base_premium)?),
                        premium_fen: Set(fen(line.premium)?),
                        factors_json: Set(serde_json::to_string(&line.factors)?),
                        ..Default::default()
                    });
                }
                let version = |seq: i32,
                               kind: &str,
                               day,
                               changes: serde_json::Value,
                               before: Decimal,
                               after: Decimal,
                               adjustment: Decimal| {
                    Ok::<_, anyhow::Error>(policy_versions::ActiveModel {
                        policy_id: Set(policy_id),
                        seq: Set(seq),
                        kind: Set(kind.into()),
                        effective_date: Set(day),
                        changes_json: Set(changes.to_string()),
                        premium_before_fen: Set(fen(before)?),
                        premium_after_fen: Set(fen(after)?),
                        adjustment_fen: Set(fen(adjustment)?),
                        created_by: Set(sale.seller_id),
                        created_at: Set(issued_at),
                        ..Default::default()
                    })
                };
                version_rows.push(version(
                    1,
                    "issue",
                    period.start,
                    serde_json::json!({ "quote_id": quote_id }),
                    Decimal::ZERO,
                    premium,
                    premium,
                )?);
                let mut seq = 1;
                if let Some((day, plate)) = &sale.endorsed {
                    seq += 1;
                    version_rows.push(version(
                        seq,
                        "endorse",
                        *day,
                        serde_json::json!({ "plate": plate }),
                        premium,
                        premium,
                        Decimal::ZERO,
                    )?);
                }
                if let (Some((day, reason)), Some(refund)) = (sale.cancelled, refund) {
                    seq += 1;
                    let changes = serde_json::json!({ "reason": reason, "refund": refund });
                    version_rows.push(version(seq, "cancel", day, changes, premium, premium - refund, -refund)?);
                }
            }
        }
        stored += policy_rows.len();
        quotes::Entity::insert_many(quote_rows).exec_without_returning(&tx).await?;
        policies::Entity::insert_many(policy_rows.clone()).exec_without_returning(&tx).await?;
        for rows in coverage_rows.chunks(1000) {
            policy_coverages::Entity::insert_many(rows.to_vec()).exec_without_returning(&tx).await?;
        }
        for rows in version_rows.chunks(1000) {
            policy_versions::Entity::insert_many(rows.to_vec()).exec_without_returning(&tx).await?;
        }
        progress.inc(policy_rows.len() as u64);
    }
    if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Ids were given explicitly; move the sequences past them.
        for table in ["quotes", "policies"] {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            );
            tx.execute_unprepared(&sql).await?;
        }
    }
    let change = Change {
        action: "demo_import",
        entity: "policy",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({ "count": stored, "seed": seed })),
    };
    audit::append(&tx, &Actor::system("demo-data"), change).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Every vehicle's policies (compulsory and commercial from one quote), for demo claims.
pub async fn claimable_vehicles(db: &DatabaseConnection) -> anyhow::Result<Vec<crate::demo::claims::ClaimablePolicy>> {
    use crate::demo::claims::{ClaimablePolicy, PolicyTerm};
    use std::collections::{BTreeMap, HashMap};
    let dealer_rows: Vec<(i64, String, bool)> = dealers::Entity::find()
        .select_only()
        .column(dealers::Column::Id)
        .column(dealers::Column::Name)
        .column(dealers::Column::HasRepairShop)
        .into_tuple()
        .all(db)
        .await?;
    let dealer_of: HashMap<i64, (String, bool)> =
        dealer_rows.into_iter().map(|(id, name, shop)| (id, (name, shop))).collect();
    let seats: HashMap<i64, i32> = quotes::Entity::find()
        .select_only()
        .column(quotes::Column::Id)
        .column(quotes::Column::Seats)
        .filter(quotes::Column::Status.eq(QuoteStatus::Issued.as_str()))
        .into_tuple::<(i64, i32)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut coverages: HashMap<i64, Vec<(String, Decimal)>> = HashMap::new();
    let rows: Vec<(i64, String, Option<i64>)> = policy_coverages::Entity::find()
        .select_only()
        .column(policy_coverages::Column::PolicyId)
        .column(policy_coverages::Column::Code)
        .column(policy_coverages::Column::SumInsuredFen)
        .into_tuple()
        .all(db)
        .await?;
    for (policy_id, code, sum_insured) in rows {
        if let Some(fen) = sum_insured {
            coverages.entry(policy_id).or_default().push((code, crate::domain::money::from_fen(fen)));
        }
    }
    let policy_rows = policies::Entity::find().order_by_asc(policies::Column::Id).all(db).await?;
    let mut vehicles: BTreeMap<i64, ClaimablePolicy> = BTreeMap::new();
    for p in policy_rows {
        let Some((dealer_name, shop)) = dealer_of.get(&p.dealer_id).cloned() else { continue };
        let term = PolicyTerm { id: p.id, start: p.start_date, end: p.end_date, cancelled_from: p.cancelled_from };
        let vehicle = vehicles.entry(p.quote_id).or_insert_with(|| ClaimablePolicy {
            dealer_id: p.dealer_id,
            dealer_has_repair_shop: shop,
            dealer_name,
            vin: p.vin.clone(),
            plate: p.plate.clone(),
            owner_name: p.owner_name.clone(),
            owner_phone: p.owner_phone.clone(),
            seats: seats.get(&p.quote_id).copied().unwrap_or(5),
            compulsory: None,
            commercial: None,
            coverages: Vec::new(),
        });
        if p.product == Product::Compulsory.as_str() {
            vehicle.compulsory = Some(term);
        } else {
            vehicle.commercial = Some(term);
            vehicle.coverages = coverages.remove(&p.id).unwrap_or_default();
        }
    }
    Ok(vehicles.into_values().collect())
}

/// The adjusters and their authority, for demo claims.
pub async fn adjusters(db: &DatabaseConnection) -> anyhow::Result<Vec<crate::demo::claims::DemoAdjuster>> {
    let rows: Vec<(i64, Option<i64>)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::AuthorityLimitFen)
        .filter(users::Column::Role.eq(Role::ClaimsAdjuster.as_str()))
        .order_by_asc(users::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, authority)| crate::demo::claims::DemoAdjuster { id, authority_fen: authority.unwrap_or(0) })
        .collect())
}

/// Stores generated claims with their whole files, in batches within one transaction.
pub async fn insert_claims(
    db: &DatabaseConnection,
    claims: &[crate::demo::claims::DemoClaim],
    seed: u64,
    progress: &ProgressBar,
) -> anyhow::Result<usize> {
    use entity::{
        claim_loss_items, claim_payments, claim_reserve_movements, claim_settlements, claim_transitions,
        repair_referrals,
    };
    let tx = begin_write(db).await?;
    let max_id = |table: &'static str| {
        let tx = &tx;
        async move {
            let sql = format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}");
            let row = tx.query_one_raw(sea_orm::Statement::from_string(tx.get_database_backend(), sql)).await?;
            Ok::<i64, anyhow::Error>(row.map(|r| r.try_get::<i64>("", "m")).transpose()?.unwrap_or(0))
        }
    };
    let mut claim_id = max_id("claims").await?;
    let mut settlement_id = max_id("claim_settlements").await?;
    for chunk in claims.chunks(300) {
        let mut claim_rows = Vec::new();
        let (mut transitions, mut movements, mut items, mut settlements, mut payments, mut referrals) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for claim in chunk {
            claim_id += 1;
            let accident_on = claim.accident_at.with_timezone(&super::claims::china()).date_naive();
            claim_rows.push(entity::claims::ActiveModel {
                id: Set(claim_id),
                claim_no: Set(super::claims::claim_number(accident_on, claim_id)),
                dealer_id: Set(claim.dealer_id),
                policy_id: Set(claim.policy_id),
                compulsory_policy_id: Set(claim.compulsory_policy_id),
                commercial_policy_id: Set(claim.commercial_policy_id),
                vin: Set(claim.vin.clone()),
                plate: Set(claim.plate.clone()),
                accident_at: Set(claim.accident_at),
                accident_on: Set(accident_on),
                reported_at: Set(claim.reported_at),
                reporter_name: Set(claim.reporter_name.clone()),
                reporter_phone: Set(claim.reporter_phone.clone()),
                place: Set(claim.place.clone()),
                description: Set(claim.description.clone()),
                stage: Set(claim.stage.as_str().into()),
                stage_since: Set(claim.stage_since),
                handler_id: Set(claim.handler_id),
                surveyor_id: Set(claim.surveyor_id),
                repair_shop: Set(claim.repair_shop.clone()),
                repair_at_dealer: Set(claim.repair_at_dealer),
                liability_share_micros: Set(claim.liability_share.map(rate_to_micros).transpose()?),
                duplicate_of: Set(String::new()),
                decline_reason: Set(claim.decline_reason.clone()),
                reopen_count: Set(claim.reopen_count),
                version: Set(i32::try_from(claim.transitions.len())?),
                created_by: Set(claim.created_by),
                updated_at: Set(claim.stage_since),
            });
            for t in &claim.transitions {
                transitions.push(claim_transitions::ActiveModel {
                    claim_id: Set(claim_id),
                    transition: Set(t.transition.into()),
                    from_stage: Set(t.from.map(|s| s.as_str().to_string())),
                    to_stage: Set(t.to.as_str().into()),
                    note: Set(t.note.clone()),
                    actor_id: Set(t.actor),
                    at: Set(t.at),
                    ..Default::default()
                });
            }
            for m in &claim.movements {
                movements.push(claim_reserve_movements::ActiveModel {
                    claim_id: Set(claim_id),
                    coverage: Set(m.coverage.clone()),
                    amount_fen: Set(fen(m.amount)?),
                    reason: Set(m.reason.into()),
                    note: Set(String::new()),
                    created_by: Set(m.actor),
                    created_at: Set(m.at),
                    ..Default::default()
                });
            }
            for i in &claim.loss_items {
                items.push(claim_loss_items::ActiveModel {
                    claim_id: Set(claim_id),
                    category: Set(i.category.as_str().into()),
                    kind: Set(i.kind.into()),
                    description: Set(i.description.into()),
                    person: Set(String::new()),
                    quantity_micros: Set(rate_to_micros(i.quantity)?),
                    unit_price_fen: Set(fen(i.unit_price)?),
                    assessed_fen: Set(fen(i.assessed)?),
                    removed: Set(false),
                    created_by: Set(claim.handler_id.unwrap_or(claim.created_by)),
                    created_at: Set(i.at),
                    ..Default::default()
                });
            }
            let first_settlement = settlement_id + 1;
            for s in &claim.settlements {
                settlement_id += 1;
                settlements.push(claim_settlements::ActiveModel {
                    id: Set(settlement_id),
                    claim_id: Set(claim_id),
                    status: Set(if s.approved { "approved" } else { "pending_approval" }.into()),
                    liability_share_micros: Set(rate_to_micros(s.calculation.liability_share)?),
                    total_fen: Set(fen(s.calculation.total)?),
                    calculation_json: Set(serde_json::to_string(&s.calculation)?),
                    proposed_by: Set(s.proposed_by),
                    proposed_at: Set(s.proposed_at),
                    approved_by: Set(s.approved_by),
                    approved_at: Set(s.approved_at),
                    note: Set(String::new()),
                });
            }
            for p in &claim.payments {
                payments.push(claim_payments::ActiveModel {
                    claim_id: Set(claim_id),
                    settlement_id: Set(first_settlement + i64::try_from(p.settlement)?),
                    dealer_id: Set(claim.dealer_id),
                    coverage: Set(p.coverage.clone()),
                    payee: Set(p.payee.clone()),
                    amount_fen: Set(fen(p.amount)?),
                    paid_on: Set(p.paid_on),
                    created_by: Set(p.actor),
                    created_at: Set(p.at),
                    ..Default::default()
                });
            }
            if let Some((value, day)) = claim.referral {
                referrals.push(repair_referrals::ActiveModel {
                    claim_id: Set(claim_id),
                    dealer_id: Set(claim.dealer_id),
                    value_fen: Set(fen(value)?),
                    referred_on: Set(day),
                    created_at: Set(claim.stage_since),
                    ..Default::default()
                });
            }
        }
        entity::claims::Entity::insert_many(claim_rows).exec_without_returning(&tx).await?;
        for rows in transitions.chunks(1000) {
            claim_transitions::Entity::insert_many(rows.to_vec()).exec_without_returning(&tx).await?;
        }
        for rows in movements.chunks(1000) {
            claim_reserve_movements::Entity::insert_many(rows.to_vec()).exec_without_returning(&tx).await?;
        }
        for rows in items.chunks(1000) {
            claim_loss_items::Entity::insert_many(rows.to_vec()).exec_without_returning(&tx).await?;
        }
        for rows in settlements.chunks(500) {
            claim_settlements::Entity::insert_many(rows.to_vec()).exec_without_returning(&tx).await?;
        }
        for rows in payments.chunks(1000) {
            claim_payments::Entity::insert_many(rows.to_vec()).exec_without_returning(&tx).await?;
        }
        for rows in referrals.chunks(1000) {
            repair_referrals::Entity::insert_many(rows.to_vec()).exec_without_returning(&tx).await?;
        }
        progress.inc(chunk.len() as u64);
    }
    if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        for table in ["claims", "claim_settlements"] {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            );
            tx.execute_unprepared(&sql).await?;
        }
    }
    let change = Change {
        action: "demo_import",
        entity: "claim",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({ "count": claims.len(), "seed": seed })),
    };
    audit::append(&tx, &Actor::system("demo-data"), change).await?;
    tx.commit().await?;
    Ok(claims.len())
}

/// Books the demo policies' commission as the service would have: an accrual on the issue day at
/// the agreement's rate, and the pro-rata reversal on the cancellation day. Returns the entry count.
pub async fn book_demo_ledger(db: &DatabaseConnection, progress: &ProgressBar) -> anyhow::Result<usize> {
    use crate::domain::commission::{self, EntryKind};
    use entity::{commission_agreements, commission_ledger};
    let tx = begin_write(db).await?;
    let agreements = commission_agreements::Entity::find().all(&tx).await?;
    let rate_of = |dealer: i64, product: &str, business_type: &str, day: chrono::NaiveDate| {
        agreements
            .iter()
            .filter(|a| a.dealer_id == dealer && a.product == product && a.business_type == business_type)
            .find(|a| a.valid_from <= day && a.valid_to.is_none_or(|to| day < to))
            .map(|a| (a.id, crate::domain::money::rate_from_micros(a.base_rate_micros)))
    };
    let china = crate::domain::clock::china();
    let rows = policies::Entity::find().order_by_asc(policies::Column::Id).all(&tx).await?;
    progress.set_length(rows.len() as u64);
    let mut entries = Vec::new();
    let at = now();
    for p in &rows {
        let issued_on = p.issued_at.with_timezone(&china).date_naive();
        let premium = crate::domain::money::from_fen(p.premium_fen);
        let (agreement_id, rate) = match rate_of(p.dealer_id, &p.product, &p.business_type, issued_on) {
            Some((id, rate)) => (Some(id), rate),
            None => (None, Decimal::ZERO),
        };
        let accrued = commission::accrual(premium, rate);
        let entry = |kind: EntryKind, day, basis: Decimal, amount: Decimal, note: &str| {
            Ok::<_, anyhow::Error>(commission_ledger::ActiveModel {
                dealer_id: Set(p.dealer_id),
                policy_id: Set(Some(p.id)),
                agreement_id: Set(agreement_id),
                product: Set(p.product.clone()),
                business_type: Set(p.business_type.clone()),
                kind: Set(kind.as_str().into()),
                booked_on: Set(day),
                basis_fen: Set(fen(basis)?),
                rate_micros: Set(rate_to_micros(rate)?),
                amount_fen: Set(fen(amount)?),
                note: Set(note.into()),
                created_at: Set(at),
                ..Default::default()
            })
        };
        let note = if agreement_id.is_none() { "no agreement in force" } else { "" };
        entries.push(entry(EntryKind::Accrual, issued_on, premium, accrued, note)?);
        if let (Some(day), Some(refund)) = (p.cancelled_from, p.refund_fen) {
            let refund = crate::domain::money::from_fen(refund);
            let amount = commission::reversal(refund, rate, accrued, premium);
            entries.push(entry(EntryKind::Reversal, day, -refund, amount, "cancellation")?);
        }
        progress.inc(1);
    }
    let count = entries.len();
    for chunk in entries.chunks(1000) {
        commission_ledger::Entity::insert_many(chunk.to_vec()).exec_without_returning(&tx).await?;
    }
    let change = Change {
        action: "demo_import",
        entity: "commission_ledger",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({ "count": count })),
    };
    audit::append(&tx, &Actor::system("demo-data"), change).await?;
    tx.commit().await?;
    Ok(count)
}

/// Marks demo statements older than the last two months paid and the one before last confirmed,
/// as a year of monthly settlement would have left them.
pub async fn settle_demo_statements(db: &DatabaseConnection, last_closed: chrono::NaiveDate) -> anyhow::Result<()> {
    use entity::commission_statements;
    let tx = begin_write(db).await?;
    let confirmed_before = last_closed;
    let paid_before = super::commission::month_of(last_closed - chrono::Duration::days(1));
    let at = now();
    commission_statements::Entity::update_many()
        .col_expr(commission_statements::Column::Status, Expr::value("paid"))
        .col_expr(commission_statements::Column::Version, Expr::value(3))
        .col_expr(commission_statements::Column::ConfirmedAt, Expr::value(Some(at)))
        .col_expr(commission_statements::Column::PaidAt, Expr::value(Some(at)))
        .filter(commission_statements::Column::Month.lt(paid_before))
        .exec(&tx)
        .await?;
    commission_statements::Entity::update_many()
        .col_expr(commission_statements::Column::Status, Expr::value("confirmed"))
        .col_expr(commission_statements::Column::Version, Expr::value(2))
        .col_expr(commission_statements::Column::ConfirmedAt, Expr::value(Some(at)))
        .filter(commission_statements::Column::Month.gte(paid_before))
        .filter(commission_statements::Column::Month.lt(confirmed_before))
        .exec(&tx)
        .await?;
    let change = Change {
        action: "demo_import",
        entity: "commission_statement",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({ "paid_before": paid_before, "confirmed_before": confirmed_before })),
    };
    audit::append(&tx, &Actor::system("demo-data"), change).await?;
    tx.commit().await?;
    Ok(())
}

/// Every dealer with its channel manager, sales assistants and staff, for the demo store side.
pub async fn store_dealers(db: &DatabaseConnection) -> anyhow::Result<Vec<crate::demo::store_side::StoreDealer>> {
    let dealer_rows: Vec<(i64, Option<i64>)> = dealers::Entity::find()
        .select_only()
        .column(dealers::Column::Id)
        .column(dealers::Column::ChannelManagerId)
        .order_by_asc(dealers::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let links: Vec<(i64, i64)> = user_dealers::Entity::find()
        .select_only()
        .column(user_dealers::Column::DealerId)
        .column(user_dealers::Column::UserId)
        .into_tuple()
        .all(db)
        .await?;
    let roles: std::collections::HashMap<i64, String> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Role)
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut out: Vec<crate::demo::store_side::StoreDealer> = dealer_rows
        .into_iter()
        .map(|(id, channel_manager_id)| crate::demo::store_side::StoreDealer {
            id,
            channel_manager_id,
            seller_ids: Vec::new(),
            staff_ids: Vec::new(),
        })
        .collect();
    for (dealer_id, user_id) in links {
        let Some(dealer) = out.iter_mut().find(|d| d.id == dealer_id) else { continue };
        match roles.get(&user_id).map(String::as_str) {
            Some("sales_assistant") => dealer.seller_ids.push(user_id),
            Some("dealer_staff") => dealer.staff_ids.push(user_id),
            _ => {}
        }
    }
    for dealer in &mut out {
        dealer.seller_ids.sort_unstable();
        dealer.staff_ids.sort_unstable();
    }
    Ok(out)
}

/// Stores the demo store side in one transaction, audited once per kind of record.
pub async fn insert_store_side(
    db: &DatabaseConnection,
    side: &crate::demo::store_side::StoreSide,
    seed: u64,
) -> anyhow::Result<()> {
    use entity::{complaint_events, complaints, feedback, satisfaction_surveys, visit_follow_ups, visits};
    let tx = begin_write(db).await?;
    for (index, chunk) in side.feedback.chunks(500).enumerate() {
        let rows = chunk.iter().enumerate().map(|(n, f)| feedback::ActiveModel {
            dealer_id: Set(f.dealer_id),
            author_id: Set(f.author_id),
            feedback_date: Set(f.date),
            category: Set(f.category.as_str().into()),
            urgency: Set(f.urgency.as_str().into()),
            body: Set(f.body.clone()),
            submission_ref: Set(format!("demo-{seed}-{index}-{n}")),
            status: Set(f.status.as_str().into()),
            handled_by: Set(f.handled.as_ref().map(|h| h.0)),
            handled_at: Set(f.handled.as_ref().map(|h| h.1)),
            handled_note: Set(f.handled.as_ref().map(|h| h.2.clone()).filter(|n| !n.is_empty())),
            version: Set(1),
            created_at: Set(f.created_at),
            ..Default::default()
        });
        feedback::Entity::insert_many(rows).exec_without_returning(&tx).await?;
    }
    for v in &side.visits {
        let id = visits::Entity::insert(visits::ActiveModel {
            dealer_id: Set(v.dealer_id),
            manager_id: Set(v.manager_id),
            planned_on: Set(v.planned_on),
            purpose: Set(v.purpose.clone()),
            status: Set(if v.done.is_some() { "done" } else { "planned" }.into()),
            visited_on: Set(v.done.as_ref().map(|d| d.0)),
            findings: Set(v.done.as_ref().map(|d| d.1.clone())),
            version: Set(1),
            created_at: Set(v.created_at),
            recorded_at: Set(v.done.as_ref().map(|_| v.created_at + chrono::Duration::days(7))),
            ..Default::default()
        })
        .exec(&tx)
        .await?
        .last_insert_id;
        for f in &v.follow_ups {
            visit_follow_ups::Entity::insert(visit_follow_ups::ActiveModel {
                visit_id: Set(id),
                dealer_id: Set(v.dealer_id),
                action: Set(f.action.clone()),
                owner_id: Set(f.owner_id),
                due_on: Set(f.due_on),
                done_at: Set(f.done.as_ref().map(|d| d.0)),
                done_note: Set(f.done.as_ref().map(|d| d.1.clone())),
                version: Set(1),
                created_at: Set(v.created_at),
                ..Default::default()
            })
            .exec(&tx)
            .await?;
        }
    }
    for c in &side.complaints {
        let owner = c.handed_to.as_ref().map(|h| h.1).unwrap_or(c.logged_by);
        let id = complaints::Entity::insert(complaints::ActiveModel {
            dealer_id: Set(c.dealer_id),
            source: Set(c.source.as_str().into()),
            complainant: Set(c.complainant.clone()),
            contact: Set(c.contact.clone()),
            category: Set(c.category.as_str().into()),
            description: Set(c.description.clone()),
            logged_by: Set(c.logged_by),
            logged_at: Set(c.logged_at),
            owner_id: Set(owner),
            due_on: Set(c.due_on),
            status: Set(if c.resolved.is_some() { "resolved" } else { "open" }.into()),
            resolved_at: Set(c.resolved.as_ref().map(|r| r.0)),
            resolution: Set(c.resolved.as_ref().map(|r| r.1.clone())),
            version: Set(1),
            ..Default::default()
        })
        .exec(&tx)
        .await?
        .last_insert_id;
        let mut events = vec![complaint_events::ActiveModel {
            complaint_id: Set(id),
            kind: Set("logged".into()),
            actor_id: Set(c.logged_by),
            from_owner_id: Set(None),
            to_owner_id: Set(Some(c.logged_by)),
            note: Set(String::new()),
            at: Set(c.logged_at),
            ..Default::default()
        }];
        if let Some((at, to, note)) = &c.handed_to {
            events.push(complaint_events::ActiveModel {
                complaint_id: Set(id),
                kind: Set("handed_over".into()),
                actor_id: Set(c.logged_by),
                from_owner_id: Set(Some(c.logged_by)),
                to_owner_id: Set(Some(*to)),
                note: Set(note.clone()),
                at: Set(*at),
                ..Default::default()
            });
        }
        if let Some((at, resolution)) = &c.resolved {
            events.push(complaint_events::ActiveModel {
                complaint_id: Set(id),
                kind: Set("resolved".into()),
                actor_id: Set(owner),
                from_owner_id: Set(Some(owner)),
                to_owner_id: Set(None),
                note: Set(resolution.clone()),
                at: Set(std::cmp::max(*at, c.handed_to.as_ref().map(|h| h.0).unwrap_or(*at))),
                ..Default::default()
            });
        }
        complaint_events::Entity::insert_many(events).exec_without_returning(&tx).await?;
    }
    for chunk in side.surveys.chunks(500) {
        let rows = chunk.iter().map(|s| satisfaction_surveys::ActiveModel {
            dealer_id: Set(s.dealer_id),
            quarter: Set(s.quarter.to_string()),
            respondent: Set(s.respondent.clone()),
            scores_json: Set(serde_json::to_string(&s.ratings).unwrap_or_default()),
            recorded_by: Set(s.recorded_by),
            recorded_at: Set(s.recorded_at),
            version: Set(1),
            ..Default::default()
        });
        satisfaction_surveys::Entity::insert_many(rows).exec_without_returning(&tx).await?;
    }
    let change = Change {
        action: "demo_import",
        entity: "store_side",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({
            "feedback": side.feedback.len(), "visits": side.visits.len(),
            "complaints": side.complaints.len(), "surveys": side.surveys.len(), "seed": seed,
        })),
    };
    audit::append(&tx, &Actor::system("demo-data"), change).await?;
    tx.commit().await?;
    Ok(())
}
