//! The claims queue: filters, search by claim number, plate or VIN, the board's counts and the start page's tiles.

use super::*;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimFilter {
    pub stage: Option<Stage>,
    /// With no stage: only claims still open (the work queue) rather than every claim.
    pub open_only: bool,
    pub dealer_id: Option<i64>,
    /// Only claims handled by this user.
    pub handler_id: Option<i64>,
    /// Only claims past their stage's service target.
    pub overdue: bool,
    /// Only claims that have waited in their stage at least this many hours.
    pub min_hours_in_stage: Option<i64>,
    /// Claim number, plate or VIN (part of).
    pub search: Option<String>,
}

/// The claims a filter selects, as a query to count, page or group.
fn filtered(
    backend: DbBackend,
    scope: &Scope,
    filter: &ClaimFilter,
    targets: &ServiceTargets,
    at: DateTime<Utc>,
) -> sea_orm::Select<claims::Entity> {
    let mut query = claims::Entity::find().filter(in_scope(scope, claims::Column::DealerId));
    if let Some(stage) = filter.stage {
        query = query.filter(claims::Column::Stage.eq(stage.as_str()));
    } else if filter.open_only {
        query =
            query.filter(claims::Column::Stage.is_in(Stage::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str())));
    }
    if let Some(dealer_id) = filter.dealer_id {
        query = query.filter(claims::Column::DealerId.eq(dealer_id));
    }
    if let Some(handler_id) = filter.handler_id {
        query = query.filter(claims::Column::HandlerId.eq(handler_id));
    }
    if let Some(hours) = filter.min_hours_in_stage {
        query = query.filter(claims::Column::StageSince.lte(at - Duration::hours(hours)));
    }
    if filter.overdue {
        // Overdue = a waiting stage whose target has passed; one condition per stage keeps it in SQL. The stages
        // listed once more up front give PostgreSQL one index range to scan (read alone, the ORed conditions
        // made it read every open claim's row).
        let with_targets = Stage::ALL.iter().filter(|s| targets.for_stage(**s).is_some()).map(|s| s.as_str());
        query = query.filter(claims::Column::Stage.is_in(with_targets));
        let mut any = Condition::any();
        for stage in Stage::ALL {
            if let Some(target) = targets.for_stage(stage) {
                any = any.add(
                    Condition::all()
                        .add(claims::Column::Stage.eq(stage.as_str()))
                        .add(claims::Column::StageSince.lt(at - target)),
                );
            }
        }
        query = query.filter(any);
    }
    match filter.search(backend) {
        None => query,
        // The start of a claim number matches claim numbers only from their start: a range, where a trigram index
        // looks up trigrams every number has (`CL2`, `202`, …). Plates and VINs are still searched for it.
        // PostgreSQL: a range of ids (27 ms for a tenth of all claims by trigram, 2 ms so). `substr`, not
        // `LIKE 'CL…%'`, which PostgreSQL would serve from the trigram index again.
        Some(Search::NumberStart { term, first, last }) if backend == DbBackend::Postgres => {
            let prefix = Expr::cust_with_values(
                r#"substr("claims"."claim_no", 1, $1) = $2"#,
                [sea_orm::Value::from(term.len() as i32), sea_orm::Value::from(term.clone())],
            );
            let numbered = Condition::all().add(prefix).add(
                Condition::any()
                    .add(claims::Column::Id.between(first, last))
                    .add(claims::Column::Id.gte(report::FIRST_NINE_DIGIT_ID)),
            );
            query.filter(in_vehicles(&term).add(numbered))
        }
        // SQLite: a range of the claim-number index, and the plate and VIN through their own trigram index
        // (migration 16): 14 ms through the index of all three, 1 ms so.
        Some(Search::NumberStart { term, .. }) => query.filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(claims::Column::ClaimNo.gte(term.as_str()))
                        .add(claims::Column::ClaimNo.lt(numbers_after(&term))),
                )
                .add(Expr::cust_with_values(
                    r#""claims"."id" IN (SELECT rowid FROM claims_vehicle_search WHERE claims_vehicle_search MATCH ?)"#,
                    [fts_phrase(&term)],
                )),
        ),
        // SQLite: through the trigram index of migration 15, which finds any part of three characters or more
        // (as the LIKE below does, but without reading every claim).
        Some(Search::Trigrams(term)) => query.filter(Expr::cust_with_values(
            r#""claims"."id" IN (SELECT rowid FROM claims_search WHERE claims_search MATCH ?)"#,
            [fts_phrase(&term)],
        )),
        // PostgreSQL's trigram index serves the LIKE; on SQLite a term this short is read claim by claim.
        Some(Search::Anywhere(term)) => {
            query.filter(in_vehicles(&term).add(claims::Column::ClaimNo.like(format!("%{term}%"))))
        }
    }
}

/// How a claims search is matched.
enum Search {
    /// The start of a claim number (`CL`, the year, a digit of the id or more): ids `first..=last` below nine digits.
    NumberStart { term: String, first: i64, last: i64 },
    /// Any part of the claim number, plate or VIN, through SQLite's trigram index (three characters or more).
    Trigrams(String),
    /// Any part of the claim number, plate or VIN, by `LIKE`.
    Anywhere(String),
}

impl ClaimFilter {
    fn searching(&self) -> bool {
        self.search_term().is_some()
    }

    /// The search as matched: upper case, without the `LIKE` wildcards.
    fn search_term(&self) -> Option<String> {
        let term = self.search.as_deref()?.trim().replace(['%', '_'], "").to_uppercase();
        (!term.is_empty()).then_some(term)
    }

    /// The search and how it is matched on `backend`.
    fn search(&self, backend: DbBackend) -> Option<Search> {
        let term = self.search_term()?;
        Some(match ids_numbered_from(&term) {
            Some((first, last)) => Search::NumberStart { term, first, last },
            None if backend == DbBackend::Sqlite && term.chars().count() >= 3 => Search::Trigrams(term),
            None => Search::Anywhere(term),
        })
    }
}

/// Plates or VINs holding `term`.
fn in_vehicles(term: &str) -> Condition {
    let pattern = format!("%{term}%");
    Condition::any().add(claims::Column::Plate.like(&pattern)).add(claims::Column::Vin.like(&pattern))
}

/// A term as one FTS5 phrase: its characters in a row, none read as query syntax.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// The first string after every string that starts with `prefix` (ASCII, as the start of a claim number is).
fn numbers_after(prefix: &str) -> String {
    let mut bytes = prefix.as_bytes().to_vec();
    if let Some(last) = bytes.last_mut() {
        *last += 1;
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// A read for a search on PostgreSQL: planned for its own pattern. A prepared statement is soon planned once for
/// any pattern, and that plan suits one kind of search only: walking the queue's order (fast when a tenth of the
/// claims match, reading the whole table when three do) or the trigram index (the reverse).
async fn planned_for_search(db: &DatabaseConnection) -> AppResult<DatabaseTransaction> {
    let tx = db.begin().await?;
    tx.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
    Ok(tx)
}

/// The queue: claims in scope, oldest in their stage first.
pub async fn list(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &ClaimFilter,
    paging: PageRequest,
    targets: &ServiceTargets,
) -> AppResult<Page<Claim>> {
    if filter.searching() && db.get_database_backend() == DbBackend::Postgres {
        let tx = planned_for_search(db).await?;
        let page = list_in(&tx, scope, filter, paging, targets).await?;
        tx.commit().await?;
        return Ok(page);
    }
    list_in(db, scope, filter, paging, targets).await
}

async fn list_in(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ClaimFilter,
    paging: PageRequest,
    targets: &ServiceTargets,
) -> AppResult<Page<Claim>> {
    let at = now();
    let query = filtered(db.get_database_backend(), scope, filter, targets, at);
    // The page's ids first, then their rows: the ids come from the (stage_since, id) index alone, so a deep page
    // skips index entries instead of reading (and discarding) every earlier claim's row.
    let page = query
        .clone()
        .select_only()
        .column(claims::Column::Id)
        .order_by_asc(claims::Column::StageSince)
        .order_by_asc(claims::Column::Id)
        .offset(paging.offset())
        .limit(paging.per_page);
    let through_trigrams = matches!(filter.search(db.get_database_backend()), Some(Search::Trigrams(_)));
    let (ids, total) = if through_trigrams {
        // A search through SQLite's trigram index: the count rides on the page (`COUNT(*) OVER ()`), so the index
        // is read once a request, not twice (a broad term's trigram lists cost more than the rows it finds).
        let rows: Vec<(i64, i64)> =
            page.column_as(Expr::cust("COUNT(*) OVER ()"), "total").into_tuple().all(db).await?;
        let total = match rows.first() {
            Some((_, total)) => u64::try_from(*total).unwrap_or(0),
            // Past the last page no row carries the count.
            None => query.count(db).await?,
        };
        (rows.into_iter().map(|(id, _)| id).collect(), total)
    } else {
        let total = query.count(db).await?;
        (page.into_tuple().all(db).await?, total)
    };
    let mut rows = if ids.is_empty() {
        Vec::new()
    } else {
        claims::Entity::find().filter(claims::Column::Id.is_in(ids.clone())).all(db).await?
    };
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    let reserves = sums_by_claim::<claim_reserve_movements::Entity, _, _>(
        db,
        &ids,
        claim_reserve_movements::Column::ClaimId,
        claim_reserve_movements::Column::AmountFen,
    )
    .await?;
    let paid = sums_by_claim::<claim_payments::Entity, _, _>(
        db,
        &ids,
        claim_payments::Column::ClaimId,
        claim_payments::Column::AmountFen,
    )
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            to_claim(
                r,
                from_fen(reserves.get(&r.id).copied().unwrap_or(0)),
                from_fen(paid.get(&r.id).copied().unwrap_or(0)),
                targets,
                at,
            )
        })
        .collect();
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

async fn sums_by_claim<E, C1, C2>(
    db: &impl ConnectionTrait,
    ids: &[i64],
    claim_col: C1,
    amount_col: C2,
) -> AppResult<HashMap<i64, i64>>
where
    E: EntityTrait,
    C1: ColumnTrait,
    C2: ColumnTrait,
{
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = E::find()
        .select_only()
        .column(claim_col)
        .column(amount_col)
        .filter(claim_col.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let mut sums = HashMap::new();
    for (id, amount) in rows {
        *sums.entry(id).or_insert(0) += amount;
    }
    Ok(sums)
}

/// Days of closed, declined and withdrawn claims the board counts.
pub const BOARD_FINAL_DAYS: i64 = 30;

/// Claims in scope per stage (final stages: the last 30 days), and how many of each are overdue:
/// the board's column heads.
pub async fn stage_counts(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &ClaimFilter,
    targets: &ServiceTargets,
) -> AppResult<Vec<(Stage, u64, u64)>> {
    if filter.searching() && db.get_database_backend() == DbBackend::Postgres {
        let tx = planned_for_search(db).await?;
        let counts = stage_counts_in(&tx, scope, filter, targets).await?;
        tx.commit().await?;
        return Ok(counts);
    }
    stage_counts_in(db, scope, filter, targets).await
}

async fn stage_counts_in(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ClaimFilter,
    targets: &ServiceTargets,
) -> AppResult<Vec<(Stage, u64, u64)>> {
    let at = now();
    let all_stages = ClaimFilter { stage: None, open_only: false, overdue: false, ..filter.clone() };
    // COUNT(*) rather than COUNT(id): the (stage, stage_since) index holds all a count needs, so PostgreSQL
    // counts from the index alone (no table rows read) when the table is vacuumed.
    let grouped = |query: sea_orm::Select<claims::Entity>| {
        query
            .select_only()
            .column(claims::Column::Stage)
            .expr(Expr::cust("COUNT(*)"))
            .group_by(claims::Column::Stage)
            .into_tuple::<(String, i64)>()
    };
    // Open stages in full; final stages only their last 30 days: what the queue's reader acts on, and cheap to
    // count. Two queries, each one range of the (stage, stage_since) index: as one query with an OR, PostgreSQL
    // read every row of both ranges from the table (or scanned it in parallel).
    let open_stages = Stage::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str());
    let final_stages = Stage::ALL.iter().filter(|s| !s.is_open()).map(|s| s.as_str());
    let mut all: HashMap<String, i64> = grouped(
        filtered(db.get_database_backend(), scope, &all_stages, targets, at)
            .filter(claims::Column::Stage.is_in(open_stages)),
    )
    .all(db)
    .await?
    .into_iter()
    .collect();
    all.extend(
        grouped(
            filtered(db.get_database_backend(), scope, &all_stages, targets, at)
                .filter(claims::Column::Stage.is_in(final_stages))
                .filter(claims::Column::StageSince.gte(at - Duration::days(BOARD_FINAL_DAYS))),
        )
        .all(db)
        .await?,
    );
    let overdue_filter = ClaimFilter { overdue: true, ..all_stages.clone() };
    let overdue: HashMap<String, i64> =
        grouped(filtered(db.get_database_backend(), scope, &overdue_filter, targets, at))
            .all(db)
            .await?
            .into_iter()
            .collect();
    let counts = Stage::ALL
        .into_iter()
        .map(|stage| {
            let n =
                |map: &HashMap<String, i64>| u64::try_from(map.get(stage.as_str()).copied().unwrap_or(0)).unwrap_or(0);
            (stage, n(&all), n(&overdue))
        })
        .collect();
    Ok(counts)
}

async fn count(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ClaimFilter,
    targets: &ServiceTargets,
) -> AppResult<u64> {
    Ok(filtered(db.get_database_backend(), scope, filter, targets, now()).count(db).await?)
}

/// Open claims in scope and how many of them are overdue: the start page's tiles.
pub async fn open_and_overdue(
    db: &impl ConnectionTrait,
    scope: &Scope,
    targets: &ServiceTargets,
) -> AppResult<(u64, u64)> {
    let open = claims::Entity::find()
        .filter(in_scope(scope, claims::Column::DealerId))
        .filter(claims::Column::Stage.is_in(Stage::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str())))
        .count(db)
        .await?;
    let overdue = count(db, scope, &ClaimFilter { overdue: true, ..Default::default() }, targets).await?;
    Ok((open, overdue))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_number_prefix_is_a_range_of_ids() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).expect("date");
        assert_eq!(ids_numbered_from("CL20260001"), Some((10_000, 19_999)));
        assert_eq!(ids_numbered_from("CL20261"), Some((10_000_000, 19_999_999)));
        assert_eq!(ids_numbered_from(&claim_number(day, 123)), Some((123, 123)));
        // Not the start of a number with a digit of the id: searched as any other text.
        for term in ["CL2026", "CL", "CL2026A1", "X20260001", "CL2026000000001", "20260001"] {
            assert_eq!(ids_numbered_from(term), None, "{term}");
        }
        // Exactly the ids whose number starts with the term (below nine digits).
        for term in ["CL20260", "CL202600012", "CL2026000123", "CL20269"] {
            let (first, last) = ids_numbered_from(term).expect("a range");
            for id in [0, 1, 99, 1_234, 12_345, 123_456, 1_230_000, 90_000_000, 99_999_999] {
                let starts = claim_number(day, id).starts_with(term);
                assert_eq!(starts, (first..=last).contains(&id), "{term} and id {id}");
            }
        }
    }

    #[test]
    fn the_numbers_after_a_prefix_bound_every_number_with_it() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).expect("date");
        for term in ["CL20260", "CL20269", "CL2026000123"] {
            let after = numbers_after(term);
            for id in [0, 1, 99, 1_234, 99_999, 123_456, 1_230_000, 99_999_999, 123_456_789] {
                let number = claim_number(day, id);
                let in_range = number.as_str() >= term && number < after;
                assert_eq!(in_range, number.starts_with(term), "{term}: {number}");
            }
        }
    }
}
