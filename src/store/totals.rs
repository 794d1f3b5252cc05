//! The monitoring totals (`domain::monitoring::Rollup`) in the database: every write that changes a figure adds
//! its difference in the same transaction; dashboards and the portfolio read them; `rebuild` recomputes them from
//! the facts and `verify` compares the two.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, Iterable, QueryFilter, QuerySelect, StreamTrait};

use crate::domain::claims::{ServiceTargets, Stage};
use crate::domain::monitoring::{
    Bands, ClaimCycle, DayKey, DevelopmentDayKey, DevelopmentKey, DevelopmentTotals, Figures, LiveClaims, MonthKey,
    MonthTotals, OPEN_STAGES, Period, Rollup, claim_cycle, cycle_stats, month_of,
};
use crate::error::{AppError, AppResult};
use entity::{claim_cycles, claims, dealer_claim_development, dealer_totals, monitoring_totals_state};

const TOTALS_TABLE: &str = "dealer_totals";
const DEVELOPMENT_TABLE: &str = "dealer_claim_development";
/// Rows per statement: 20 parameters a row stays under SQLite's 32,766 and PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 1000;

/// Shards per total on PostgreSQL. Every sale of a dealer adds to the same dealer-month row, and a writer keeps
/// that row locked until it commits: with one row per key a busy dealer's writes queue behind each other (on
/// `benches/issue_load.sh` it held issuing at about 480 quotes issued/s with the row lock the top wait). Each
/// transaction adds to one of `SHARDS` rows of a key instead, and readers sum them. SQLite has one writer at a
/// time anyway and keeps one row per key.
const SHARDS: i16 = 8;

/// Adds a change to the stored totals. Rows are written in key order, so concurrent writers lock them in the same
/// order and cannot deadlock; call it last in a transaction, so the rows stay locked only until the commit.
pub async fn apply(db: &impl ConnectionTrait, change: &Rollup) -> AppResult<()> {
    let shard = match db.get_database_backend() {
        DbBackend::Postgres => rand::random_range(0..SHARDS),
        _ => 0,
    };
    apply_to_shard(db, change, shard).await
}

async fn apply_to_shard(db: &impl ConnectionTrait, change: &Rollup, shard: i16) -> AppResult<()> {
    // A month's row and its days' rows share a table, so one statement writes both.
    let months = change.months.iter().map(|(key, totals)| {
        let key: [Expr; 5] = [key.dealer_id.into(), MONTH.into(), key.month.into(), key.term_days.into(), shard.into()];
        (key, totals.fields())
    });
    let days = change.days.iter().map(|(key, totals)| {
        let key: [Expr; 5] = [key.dealer_id.into(), DAY.into(), key.day.into(), key.term_days.into(), shard.into()];
        (key, totals.fields())
    });
    let key = ["dealer_id", "grain", "starts_on", "term_days", "shard"];
    add_rows(db, TOTALS_TABLE, key, MonthTotals::COLUMNS, months.chain(days)).await?;
    let development = change.development.iter().map(|(key, totals)| {
        let key: [Expr; 5] =
            [key.dealer_id.into(), MONTH.into(), key.movement_month.into(), key.accident_month.into(), shard.into()];
        (key, totals.fields())
    });
    let development_days = change.development_days.iter().map(|(key, totals)| {
        let key: [Expr; 5] =
            [key.dealer_id.into(), DAY.into(), key.movement_on.into(), key.accident_on.into(), shard.into()];
        (key, totals.fields())
    });
    let key = ["dealer_id", "grain", "movement_on", "accident_on", "shard"];
    add_rows(db, DEVELOPMENT_TABLE, key, DevelopmentTotals::COLUMNS, development.chain(development_days)).await
}

/// The `grain` of a month's row (its dates the months' first days) and of a single day's.
const MONTH: i16 = 0;
const DAY: i16 = 1;

/// Adds each row's totals to the row with its key, inserting it when missing.
async fn add_rows<const N: usize>(
    db: &impl ConnectionTrait,
    table: &str,
    key: [&str; N],
    columns: &[&str],
    rows: impl Iterator<Item = ([Expr; N], Vec<i64>)>,
) -> AppResult<()> {
    let rows: Vec<([Expr; N], Vec<i64>)> = rows.collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = Query::insert();
        insert.into_table(Alias::new(table)).columns(key.iter().chain(columns).map(|c| Alias::new(*c)));
        for (key, totals) in chunk {
            let values = key.iter().cloned().chain(totals.iter().map(|v| Expr::from(*v)));
            insert.values(values.collect::<Vec<_>>()).map_err(|e| AppError::Internal(e.into()))?;
        }
        insert.on_conflict(adding(table, &key, columns));
        db.execute(&insert).await?;
    }
    Ok(())
}

/// `ON CONFLICT (key) DO UPDATE SET c = table.c + excluded.c` for every total: both databases speak it.
fn adding(table: &str, key: &[&str], columns: &[&str]) -> OnConflict {
    let mut on_conflict = OnConflict::columns(key.iter().map(|c| Alias::new(*c)));
    on_conflict.values(columns.iter().map(|c| {
        let current = Expr::col((Alias::new(table), Alias::new(*c)));
        (Alias::new(*c), current.add(Expr::cust(format!(r#"excluded."{c}""#))))
    }));
    on_conflict
}

/// The stored totals of the given dealers (all when `None`) that figures for periods ending on or before `before`
/// need (all when `None`): the months before the month of `before`, and that month's days before `before`. Each is
/// one range of the tables' keys. The rows are read by position: a portfolio reads some twenty thousand, and looking
/// every column up by name was most of its time.
pub async fn load(
    db: &impl ConnectionTrait,
    dealer_ids: Option<&[i64]>,
    before: Option<NaiveDate>,
) -> AppResult<Rollup> {
    use sea_orm::Condition;
    use {dealer_claim_development as development, dealer_totals as totals};
    let mut rollup = Rollup::default();
    let (mut which_totals, mut which_cells) = (Condition::all(), Condition::all());
    // No sentinel date for "all": SQLite compares dates as text, where "+262142-12-31" sorts first.
    if let Some(before) = before {
        let cut_month = month_of(before);
        which_totals = which_totals.add(
            Condition::any().add(totals::Column::Grain.eq(MONTH).and(totals::Column::StartsOn.lt(cut_month))).add(
                totals::Column::Grain
                    .eq(DAY)
                    .and(totals::Column::StartsOn.gte(cut_month))
                    .and(totals::Column::StartsOn.lt(before)),
            ),
        );
        // The cut month's single days: its movements, and movements of its accidents dated before it (rare; by the
        // accident index).
        which_cells = which_cells.add(
            Condition::any()
                .add(development::Column::Grain.eq(MONTH).and(development::Column::MovementOn.lt(cut_month)))
                .add(
                    development::Column::Grain
                        .eq(DAY)
                        .and(development::Column::MovementOn.gte(cut_month))
                        .and(development::Column::MovementOn.lt(before)),
                )
                .add(
                    development::Column::Grain
                        .eq(DAY)
                        .and(development::Column::AccidentOn.gte(cut_month))
                        .and(development::Column::AccidentOn.lt(before))
                        .and(development::Column::MovementOn.lt(cut_month)),
                ),
        );
    }
    if let Some(ids) = dealer_ids {
        which_totals = which_totals.add(totals::Column::DealerId.is_in(ids.to_vec()));
        which_cells = which_cells.add(development::Column::DealerId.is_in(ids.to_vec()));
    }
    let key = ["dealer_id", "grain", "starts_on", "term_days"];
    for row in db.query_all(&selected(TOTALS_TABLE, &key, MonthTotals::COLUMNS, which_totals)).await? {
        let at = |i: usize| row.try_get_by_index::<i64>(i);
        let values = (key.len()..key.len() + MonthTotals::COLUMNS.len()).map(at).collect::<Result<Vec<_>, _>>()?;
        let totals = MonthTotals::from_fields(&values);
        let (dealer_id, grain, starts_on, term_days) = (
            at(0)?,
            row.try_get_by_index::<i16>(1)?,
            row.try_get_by_index::<NaiveDate>(2)?,
            row.try_get_by_index::<i32>(3)?,
        );
        if grain == DAY {
            rollup.add_day(DayKey { dealer_id, day: starts_on, term_days }, &totals, 1);
        } else {
            rollup.add_month(MonthKey { dealer_id, month: starts_on, term_days }, &totals, 1);
        }
    }
    let key = ["dealer_id", "grain", "movement_on", "accident_on"];
    for row in db.query_all(&selected(DEVELOPMENT_TABLE, &key, DevelopmentTotals::COLUMNS, which_cells)).await? {
        let totals = DevelopmentTotals { paid_fen: row.try_get_by_index(4)?, reserve_fen: row.try_get_by_index(5)? };
        let (dealer_id, grain, movement_on, accident_on) = (
            row.try_get_by_index::<i64>(0)?,
            row.try_get_by_index::<i16>(1)?,
            row.try_get_by_index::<NaiveDate>(2)?,
            row.try_get_by_index::<NaiveDate>(3)?,
        );
        if grain == DAY {
            rollup.add_development_day(DevelopmentDayKey { dealer_id, accident_on, movement_on }, &totals, 1);
        } else {
            let key = DevelopmentKey { dealer_id, accident_month: accident_on, movement_month: movement_on };
            rollup.add_development(key, &totals, 1);
        }
    }
    Ok(rollup)
}

/// `SELECT key…, total… FROM table WHERE condition`. A key's shards come as several rows and add up in the rollup:
/// summing them in PostgreSQL (bigint sums are numeric there) took six times as long as reading them.
fn selected(table: &str, key: &[&str], columns: &[&str], condition: sea_orm::Condition) -> SelectStatement {
    let mut select = Query::select();
    select.from(Alias::new(table)).columns(key.iter().chain(columns).map(|c| Alias::new(*c))).cond_where(condition);
    select
}

/// Claims open now and those past their stage's service target, per dealer (cycle times left out).
pub async fn open_claims(
    db: &impl ConnectionTrait,
    dealer_ids: &[i64],
    targets: &ServiceTargets,
    at: DateTime<Utc>,
) -> AppResult<HashMap<i64, LiveClaims>> {
    let mut out: HashMap<i64, LiveClaims> = HashMap::new();
    for chunk in dealer_ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(i64, String, DateTime<Utc>)> = claims::Entity::find()
            .select_only()
            .column(claims::Column::DealerId)
            .column(claims::Column::Stage)
            .column(claims::Column::StageSince)
            .filter(claims::Column::DealerId.is_in(chunk.to_vec()))
            .filter(claims::Column::Stage.is_in(OPEN_STAGES))
            .into_tuple()
            .all(db)
            .await?;
        for (dealer_id, stage, since) in rows {
            let live = out.entry(dealer_id).or_default();
            live.open += 1;
            let stage = Stage::parse(&stage).unwrap_or(Stage::Reported);
            live.overdue += u64::from(targets.is_overdue(stage, since, at));
        }
    }
    Ok(out)
}

/// What `rebuild` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    pub total_rows: usize,
    pub development_rows: usize,
    pub claim_cycles: usize,
}

/// Recomputes every total from the facts, replacing what was stored. Writers wait meanwhile (PostgreSQL: the
/// totals tables are locked first, so a write either committed before, and is in the facts read, or adds its
/// difference after the rebuilt totals are in; SQLite: one writer at a time anyway).
pub async fn rebuild(db: &sea_orm::DatabaseConnection, targets: &ServiceTargets) -> AppResult<Rebuilt> {
    let tx = crate::store::begin_write(db).await?;
    if ConnectionTrait::get_database_backend(&tx) == DbBackend::Postgres {
        tx.execute_unprepared(&format!(
            r#"LOCK TABLE "{TOTALS_TABLE}", "{DEVELOPMENT_TABLE}", "claim_cycles", "monitoring_totals_state" IN EXCLUSIVE MODE"#
        ))
        .await?;
    }
    let facts = super::monitoring::facts(&tx, None, targets, super::now()).await?;
    let rollup = Rollup::from_facts(&facts);
    dealer_totals::Entity::delete_many().exec(&tx).await?;
    dealer_claim_development::Entity::delete_many().exec(&tx).await?;
    apply_to_shard(&tx, &rollup, 0).await?;
    claim_cycles::Entity::delete_many().exec(&tx).await?;
    let cycles: Vec<ClaimCycle> = facts.claims.iter().filter_map(claim_cycle).collect();
    for chunk in cycles.chunks(ROWS_PER_STATEMENT) {
        claim_cycles::Entity::insert_many(chunk.iter().map(cycle_row)).exec_without_returning(&tx).await?;
    }
    monitoring_totals_state::Entity::delete_many().exec(&tx).await?;
    monitoring_totals_state::Entity::insert(monitoring_totals_state::ActiveModel {
        id: sea_orm::ActiveValue::Set(1),
        rebuilt_at: sea_orm::ActiveValue::Set(super::now()),
    })
    .exec(&tx)
    .await?;
    tx.commit().await?;
    Ok(Rebuilt {
        total_rows: rollup.months.len() + rollup.days.len(),
        development_rows: rollup.development.len() + rollup.development_days.len(),
        claim_cycles: cycles.len(),
    })
}

/// Rebuilds the totals if they never were (a database migrated from before they existed); a no-op otherwise.
pub async fn ensure_built(db: &sea_orm::DatabaseConnection, targets: &ServiceTargets) -> AppResult<Option<Rebuilt>> {
    if monitoring_totals_state::Entity::find_by_id(1).one(db).await?.is_some() {
        return Ok(None);
    }
    rebuild(db, targets).await.map(Some)
}

/// A stored total that differs from the one the facts give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub row: String,
    pub stored: Vec<i64>,
    pub from_facts: Vec<i64>,
}

/// Compares the stored totals with totals recomputed from the facts, in one consistent snapshot.
pub async fn verify(db: &sea_orm::DatabaseConnection, targets: &ServiceTargets) -> AppResult<Vec<Difference>> {
    let tx = super::read_snapshot(db).await?;
    let stored = load(&tx, None, None).await?;
    let stored_cycles = cycles(&tx, None, None).await?;
    let facts = super::monitoring::facts(&tx, None, targets, super::now()).await?;
    tx.commit().await?;
    let expected = Rollup::from_facts(&facts);
    let mut differences = Vec::new();
    let month_row = |k: &MonthKey| format!("dealer {} month {} term {}", k.dealer_id, k.month, k.term_days);
    differ(&stored.months, &expected.months, month_row, MonthTotals::fields, &mut differences);
    let day_row = |k: &DayKey| format!("dealer {} day {} term {}", k.dealer_id, k.day, k.term_days);
    differ(&stored.days, &expected.days, day_row, MonthTotals::fields, &mut differences);
    let cell = |k: &DevelopmentKey| {
        format!("dealer {} accidents {} movements {}", k.dealer_id, k.accident_month, k.movement_month)
    };
    differ(&stored.development, &expected.development, cell, DevelopmentTotals::fields, &mut differences);
    let day_cell = |k: &DevelopmentDayKey| {
        format!("dealer {} accident on {} movements on {}", k.dealer_id, k.accident_on, k.movement_on)
    };
    differ(&stored.development_days, &expected.development_days, day_cell, DevelopmentTotals::fields, &mut differences);
    let mut expected_cycles: HashMap<i64, ClaimCycle> =
        facts.claims.iter().filter_map(claim_cycle).map(|c| (c.claim_id, c)).collect();
    for cycle in stored_cycles {
        let expected = expected_cycles.remove(&cycle.claim_id);
        if expected != Some(cycle) {
            differences.push(Difference {
                row: format!("cycle of claim {}", cycle.claim_id),
                stored: cycle_fields(Some(&cycle)),
                from_facts: cycle_fields(expected.as_ref()),
            });
        }
    }
    for cycle in expected_cycles.into_values() {
        differences.push(Difference {
            row: format!("cycle of claim {}", cycle.claim_id),
            stored: Vec::new(),
            from_facts: cycle_fields(Some(&cycle)),
        });
    }
    Ok(differences)
}

/// Adds a difference for every key whose totals differ between `stored` and `expected` (a missing key is zero).
fn differ<K: Ord, T: Copy + Default + PartialEq>(
    stored: &BTreeMap<K, T>,
    expected: &BTreeMap<K, T>,
    row: impl Fn(&K) -> String,
    fields: impl Fn(&T) -> Vec<i64>,
    differences: &mut Vec<Difference>,
) {
    let keys: BTreeSet<&K> = stored.keys().chain(expected.keys()).collect();
    for key in keys {
        let (a, b) = (stored.get(key).copied().unwrap_or_default(), expected.get(key).copied().unwrap_or_default());
        if a != b {
            differences.push(Difference { row: row(key), stored: fields(&a), from_facts: fields(&b) });
        }
    }
}

/// A cycle as numbers, for a difference: closure time (µs since the epoch), report → close, each stage (-1: none).
fn cycle_fields(cycle: Option<&ClaimCycle>) -> Vec<i64> {
    cycle.map_or_else(Vec::new, |c| {
        [c.closed_at.timestamp_micros(), c.report_to_close_us]
            .into_iter()
            .chain(c.stage_us.iter().map(|s| s.unwrap_or(-1)))
            .collect()
    })
}

fn cycle_row(cycle: &ClaimCycle) -> claim_cycles::ActiveModel {
    use sea_orm::ActiveValue::Set;
    let [reported, registered, surveyed, settled] = cycle.stage_us;
    claim_cycles::ActiveModel {
        claim_id: Set(cycle.claim_id),
        dealer_id: Set(cycle.dealer_id),
        closed_at: Set(cycle.closed_at),
        report_to_close_us: Set(cycle.report_to_close_us),
        reported_us: Set(reported),
        registered_us: Set(registered),
        surveyed_us: Set(surveyed),
        settled_us: Set(settled),
    }
}

/// Records a claim's cycle as it now stands: called in the transaction that closes it, after the closing transition
/// is recorded (the cycle is computed from the stored stage history, exactly as the facts give it).
pub async fn record_cycle(tx: &impl ConnectionTrait, claim_id: i64) -> AppResult<()> {
    let Some(cycle) = super::monitoring::claim_cycle_of(tx, claim_id).await? else { return Ok(()) };
    // Written once per closure; should a row be there already, it is replaced whole (every column but the key).
    let columns = claim_cycles::Column::iter().filter(|c| !matches!(c, claim_cycles::Column::ClaimId));
    claim_cycles::Entity::insert(cycle_row(&cycle))
        .on_conflict(OnConflict::column(claim_cycles::Column::ClaimId).update_columns(columns).to_owned())
        .exec_without_returning(tx)
        .await?;
    Ok(())
}

/// Forgets a claim's cycle: it was reopened, and its next closure records a new one.
pub async fn forget_cycle(tx: &impl ConnectionTrait, claim_id: i64) -> AppResult<()> {
    claim_cycles::Entity::delete_by_id(claim_id).exec(tx).await?;
    Ok(())
}

/// The stored cycles of one dealer (all when `None`) closed at or after `since` (all when `None`).
pub async fn cycles<C>(db: &C, dealer_id: Option<i64>, since: Option<DateTime<Utc>>) -> AppResult<Vec<ClaimCycle>>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut query = claim_cycles::Entity::find();
    if let Some(dealer_id) = dealer_id {
        query = query.filter(claim_cycles::Column::DealerId.eq(dealer_id));
    }
    if let Some(since) = since {
        query = query.filter(claim_cycles::Column::ClosedAt.gte(since));
    }
    let columns = query.select_only().columns([
        claim_cycles::Column::ClaimId,
        claim_cycles::Column::DealerId,
        claim_cycles::Column::ClosedAt,
        claim_cycles::Column::ReportToCloseUs,
        claim_cycles::Column::ReportedUs,
        claim_cycles::Column::RegisteredUs,
        claim_cycles::Column::SurveyedUs,
        claim_cycles::Column::SettledUs,
    ]);
    // Streamed into the compact cycles: a dashboard reads every claim its dealer closed in 13 months, and a model
    // per row besides every row received at once took several times their memory, per request.
    let mut out = Vec::new();
    super::frames::each_row(
        db,
        columns.into_tuple::<(i64, i64, DateTime<Utc>, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>)>(),
        |(claim_id, dealer_id, closed_at, report_to_close_us, reported, registered, surveyed, settled)| {
            out.push(ClaimCycle {
                claim_id,
                dealer_id,
                closed_at,
                report_to_close_us,
                stage_us: [reported, registered, surveyed, settled],
            })
        },
    )
    .await?;
    Ok(out)
}

/// Each dealer's figures for each period, in `periods` order, from the stored totals; open and overdue claims as of
/// `at`. Every period starts on the first of a month; those not ending on the first of one end in the month of the
/// latest end (figures as of one day). Cycle times only `with_cycle` (one query per dealer, for a dashboard), else `None`.
pub async fn figures(
    db: &(impl ConnectionTrait + StreamTrait),
    dealer_ids: &[i64],
    periods: &[Period],
    bands: &(dyn Fn(i64) -> Bands + Sync),
    with_cycle: bool,
    targets: &ServiceTargets,
    at: DateTime<Utc>,
) -> AppResult<HashMap<i64, Vec<Figures>>> {
    let Some(until) = periods.iter().map(|p| p.to).max() else { return Ok(HashMap::new()) };
    let since = periods.iter().map(|p| p.from).min().unwrap_or(until);
    if let Some(odd) = periods.iter().find(|p| p.to.day() != 1 && month_of(p.to) != month_of(until)) {
        return Err(AppError::Internal(anyhow::anyhow!("{odd:?} ends inside a month before the latest period's")));
    }
    let rollup = load(db, Some(dealer_ids), Some(until)).await?;
    let mut live = open_claims(db, dealer_ids, targets, at).await?;
    let mut out = HashMap::with_capacity(dealer_ids.len());
    for &dealer_id in dealer_ids {
        let open = live.remove(&dealer_id).unwrap_or_default();
        let closed = if with_cycle {
            // A day early: closures are cut by China day, a timestamp is UTC.
            let from = since.pred_opt().unwrap_or(since).and_time(chrono::NaiveTime::MIN).and_utc();
            Some(cycles(db, Some(dealer_id), Some(from)).await?)
        } else {
            None
        };
        let dealer_bands = bands(dealer_id);
        let mut list = Vec::with_capacity(periods.len());
        for period in periods {
            let cycle = closed.as_deref().map(|cycles| cycle_stats(cycles.iter(), *period));
            let claims = LiveClaims { open: open.open, overdue: open.overdue, cycle };
            let figures = rollup.figures(dealer_id, *period, &claims, &dealer_bands).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("the period {period:?} does not start on a first"))
            })?;
            list.push(figures);
        }
        out.insert(dealer_id, list);
    }
    Ok(out)
}
