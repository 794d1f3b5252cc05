//! First notice of loss, claim numbers, and the owner's look-up of a claim.

use super::*;

/// First notice of loss.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// The policy number; or give the plate.
    pub policy_no: Option<String>,
    pub plate: Option<String>,
    /// RFC 3339 (`2026-11-20T08:30:00+08:00`).
    #[schema(value_type = String)]
    pub accident_at: DateTime<FixedOffset>,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub place: String,
    pub description: String,
}

/// Records a first notice of loss against the policies in force at the accident time.
pub async fn report(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    request: &ReportRequest,
    settings: &ClaimSettings,
) -> AppResult<i64> {
    let at = now();
    let checked = report_rules::check_report(
        &report_rules::ReportInput {
            policy_no: request.policy_no.as_deref(),
            plate: request.plate.as_deref(),
            accident_at: request.accident_at.with_timezone(&Utc),
            reporter_name: &request.reporter_name,
            reporter_phone: &request.reporter_phone,
            place: &request.place,
            description: &request.description,
        },
        at,
    )
    .map_err(AppError::Validation)?;
    let accident_at = checked.accident_at;
    let accident_on = checked.accident_on;

    // The vehicle: from the policy number, or the plate's policies within scope.
    let mut found = policies::Entity::find().filter(in_scope(scope, policies::Column::DealerId));
    found = match (&checked.policy_no, &checked.plate) {
        (Some(no), _) => found.filter(policies::Column::PolicyNo.eq(no.clone())),
        (None, Some(plate)) => found.filter(policies::Column::Plate.eq(plate.clone())),
        (None, None) => return Err(AppError::field("policy_no", "required", "give the policy number or the plate")),
    };
    let matched = found.order_by_desc(policies::Column::Id).limit(50).all(tx).await?;
    let Some(first) = matched.first() else {
        let field = if checked.policy_no.is_some() { "policy_no" } else { "plate" };
        return Err(AppError::field(
            field,
            "no_policy",
            "no policy of yours matches; check the policy number or plate",
        ));
    };
    let vin = first.vin.clone();
    let candidates = policies::Entity::find()
        .filter(policies::Column::Vin.eq(&vin))
        .filter(in_scope(scope, policies::Column::DealerId))
        .order_by_desc(policies::Column::StartDate)
        .all(tx)
        .await?;
    let terms: Vec<report_rules::PolicyTerm> = candidates
        .iter()
        .map(|p| report_rules::PolicyTerm {
            id: p.id,
            policy_no: p.policy_no.clone(),
            product: p.product.clone(),
            start: p.start_date,
            end: p.end_date,
            cancelled_from: p.cancelled_from,
        })
        .collect();
    let in_force = report_rules::policies_in_force(&terms, accident_on).map_err(|p| AppError::Validation(vec![p]))?;
    let (compulsory, commercial) = (in_force.compulsory, in_force.commercial);
    let primary = candidates.iter().find(|p| p.id == in_force.primary).ok_or(AppError::NotFound)?;
    let (reporter_name, phone, place, description) = (
        checked.reporter_name.as_str(),
        checked.reporter_phone.clone(),
        checked.place.as_str(),
        checked.description.as_str(),
    );

    let window = Duration::days(i64::from(settings.duplicate_days));
    let mut duplicates: Vec<String> = claims::Entity::find()
        .select_only()
        .column(claims::Column::ClaimNo)
        .filter(Condition::any().add(claims::Column::Vin.eq(&vin)).add(claims::Column::Plate.eq(&primary.plate)))
        .filter(claims::Column::AccidentOn.gte(accident_on - window))
        .filter(claims::Column::AccidentOn.lte(accident_on + window))
        .into_tuple()
        .all(tx)
        .await?;
    duplicates.sort();
    duplicates.dedup();
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let inserted = claims::Entity::insert(claims::ActiveModel {
        // A unique placeholder until the id gives the number (within this transaction).
        claim_no: Set(format!("~{:x}", rand::random::<u64>())),
        dealer_id: Set(primary.dealer_id),
        policy_id: Set(primary.id),
        compulsory_policy_id: Set(compulsory),
        commercial_policy_id: Set(commercial),
        vin: Set(vin.clone()),
        plate: Set(primary.plate.clone()),
        accident_at: Set(crate::domain::audit::audit_time(accident_at)),
        accident_on: Set(accident_on),
        reported_at: Set(at),
        reporter_name: Set(reporter_name.to_string()),
        reporter_phone: Set(phone),
        place: Set(place.to_string()),
        description: Set(description.to_string()),
        stage: Set(Stage::Reported.as_str().into()),
        stage_since: Set(at),
        handler_id: Set(None),
        surveyor_id: Set(None),
        repair_shop: Set(None),
        repair_at_dealer: Set(false),
        liability_share_micros: Set(None),
        duplicate_of: Set(duplicates.join(",")),
        decline_reason: Set(None),
        reopen_count: Set(0),
        version: Set(1),
        created_by: Set(actor_id),
        updated_at: Set(at),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let id = inserted.last_insert_id;
    let claim_no = claim_number(accident_on, id);
    claims::Entity::update_many()
        .col_expr(claims::Column::ClaimNo, Expr::value(claim_no.clone()))
        .filter(claims::Column::Id.eq(id))
        .exec(tx)
        .await?;
    record_transition(tx, id, "report", None, Stage::Reported, "", actor_id, at).await?;
    let change = Change::new("report", "claim", id).after(&serde_json::json!({
        "claim_no": claim_no, "policy_id": primary.id, "dealer_id": primary.dealer_id,
        "accident_at": accident_at, "possible_duplicates": duplicates,
    }));
    audit::append(tx, actor, change).await?;
    // Last: the totals' rows are shared with the dealer's other claims and sales.
    totals::apply(tx, &Rollup::claim(primary.dealer_id, accident_on, Stage::Reported.as_str())).await?;
    Ok(id)
}

/// Claim numbers: `CL`, the accident year, and the id, zero-padded; unique as the id is.
pub fn claim_number(accident_on: NaiveDate, id: i64) -> String {
    use chrono::Datelike;
    format!("CL{}{:08}", accident_on.year(), id)
}

/// Ids from here on take nine digits or more in their claim number, past the padding of [`claim_number`].
pub(super) const FIRST_NINE_DIGIT_ID: i64 = 100_000_000;

/// The ids below [`FIRST_NINE_DIGIT_ID`] whose claim number can start with `term`, when `term` is `CL`, a year and
/// at least one digit of the id: `CL20260001` → 10,000 to 19,999.
pub fn ids_numbered_from(term: &str) -> Option<(i64, i64)> {
    let digits = term.strip_prefix("CL")?;
    if !(5..=12).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id_digits = &digits[4..];
    let scale = 10i64.pow(8 - u32::try_from(id_digits.len()).ok()?);
    let start: i64 = id_digits.parse().ok()?;
    Some((start * scale, (start + 1) * scale - 1))
}

/// What the public status page shows: nothing but the stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStatus {
    pub claim_no: String,
    #[schema(value_type = String)]
    pub stage: Stage,
    /// What is awaited, as a key of `lookup.awaiting` (the stage, `settled_part_paid` or `closed_unpaid`).
    pub awaiting: String,
}

/// The owner's look-up: the claim number and the last six characters of the plate or the
/// owner's ID number. Throttled per address; a miss looks the same whatever was wrong.
pub async fn lookup(
    tx: &impl ConnectionTrait,
    ip: &str,
    claim_no: &str,
    tail: &str,
    max_per_window: u32,
) -> AppResult<Option<PublicStatus>> {
    use entity::claim_lookups;
    let at = now();
    let window_start = at - Duration::minutes(15);
    let recent = claim_lookups::Entity::find()
        .filter(claim_lookups::Column::Ip.eq(ip))
        .filter(claim_lookups::Column::At.gt(window_start))
        .count(tx)
        .await?;
    if report_rules::lookups_exhausted(recent, max_per_window) {
        return Err(AppError::TooManyRequests { retry_after_secs: 15 * 60 });
    }
    let claim_no = claim_no.trim().to_uppercase();
    let mut found = None;
    if let Some(claim) = claims::Entity::find().filter(claims::Column::ClaimNo.eq(&claim_no)).one(tx).await? {
        let policy = policies::Entity::find_by_id(claim.policy_id).one(tx).await?;
        if report_rules::owner_may_see(tail, &claim.plate, policy.as_ref().map(|p| p.owner_id_number.as_str())) {
            let stage = Stage::parse(&claim.stage).unwrap_or(Stage::Reported);
            let paid_any = !paid_by_coverage(tx, claim.id).await?.is_empty();
            let last_status: Option<String> = claim_settlements::Entity::find()
                .select_only()
                .column(claim_settlements::Column::Status)
                .filter(claim_settlements::Column::ClaimId.eq(claim.id))
                .filter(claim_settlements::Column::Status.ne("superseded"))
                .order_by_desc(claim_settlements::Column::Id)
                .into_tuple()
                .one(tx)
                .await?;
            let withdrawn = last_status.as_deref() == Some("withdrawn");
            let awaiting = flow::owner_message(stage, paid_any, withdrawn).to_string();
            found = Some(PublicStatus { claim_no: claim.claim_no, stage, awaiting });
        }
    }
    claim_lookups::Entity::insert(claim_lookups::ActiveModel {
        ip: Set(ip.chars().take(64).collect()),
        found: Set(found.is_some()),
        at: Set(at),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    Ok(found)
}
