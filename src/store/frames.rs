//! Loads the analytics frames from the database: each table streamed once, in one snapshot, its rows pushed
//! straight into columns (no model per row), so a million policies load in about a second.

use analytics::frames::{
    ClaimCycleRows, ClaimRows, CommissionRows, CoverageRows, DealerRows, FeedbackRows, Frames, PaymentRows, PolicyRows,
    PolicyVersionRows, ReferralRows, ReserveRows, days, dense_vehicle_ids, micros,
};
use analytics::polars::prelude::PolarsError;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, Iterable, QuerySelect, SelectGetableTuple, Selector, StreamTrait,
    TryGetableMany,
};

use crate::domain::monitoring::vehicle_key;
use crate::error::{AppError, AppResult};
use entity::{
    claim_cycles, claim_payments, claim_reserve_movements, claims, commission_ledger, complaints, dealers, feedback,
    policies, policy_coverages, policy_versions, repair_referrals,
};

fn frame_error(e: PolarsError) -> AppError {
    AppError::Internal(anyhow::anyhow!("building a frame: {e}"))
}

/// A `claim_cycles` row as read for the frame.
type CycleTuple = (i64, i64, DateTime<Utc>, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// China-local day of an instant, as days since the epoch.
fn china_days(at: DateTime<Utc>) -> i32 {
    days(super::monitoring::local_day(at))
}

/// Streams the rows of a query into `push`, one at a time, without a model per row.
pub(crate) async fn each_row<C, T>(
    db: &C,
    query: Selector<SelectGetableTuple<T>>,
    mut push: impl FnMut(T),
) -> AppResult<()>
where
    C: ConnectionTrait + StreamTrait,
    T: TryGetableMany + Send,
{
    let mut stream = query.stream(db).await?;
    while let Some(row) = stream.try_next().await? {
        push(row);
    }
    Ok(())
}

/// Every frame, read from one consistent state of the database (a claim's payments never without the claim,
/// however busy the service); `progress` hears each frame's name and rows when loaded.
pub async fn load(db: &DatabaseConnection, today: NaiveDate, progress: impl FnMut(&str, usize)) -> AppResult<Frames> {
    let snapshot = super::read_snapshot(db).await?;
    let frames = load_from(&snapshot, today, progress).await?;
    snapshot.commit().await?;
    Ok(frames)
}

async fn load_from<C>(db: &C, today: NaiveDate, mut progress: impl FnMut(&str, usize)) -> AppResult<Frames>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut dealer_rows = DealerRows::default();
    each_row(
        db,
        dealers::Entity::find()
            .select_only()
            .columns([
                dealers::Column::Id,
                dealers::Column::Code,
                dealers::Column::Name,
                dealers::Column::Region,
                dealers::Column::Brands,
                dealers::Column::DealerGroup,
                dealers::Column::Status,
            ])
            .into_tuple::<(i64, String, String, String, String, String, String)>(),
        |(id, code, name, region, brands, group, status)| {
            let brand = serde_json::from_str::<Vec<String>>(&brands).ok().and_then(|b| b.into_iter().next());
            dealer_rows.push(id, code, name, region, brand.unwrap_or_default(), group, status);
        },
    )
    .await?;
    let dealers = dealer_rows.into_frame().map_err(frame_error)?;
    progress("dealers", dealers.height());

    let mut policy_rows = PolicyRows::default();
    each_row(
        db,
        policies::Entity::find()
        .select_only()
        .columns([
            policies::Column::Id,
            policies::Column::Vin,
            policies::Column::DealerId,
            policies::Column::Product,
            policies::Column::BusinessType,
            policies::Column::StartDate,
            policies::Column::EndDate,
            policies::Column::CancelledFrom,
            policies::Column::PremiumFen,
            policies::Column::PricingCoefficientMicros,
            policies::Column::RenewalOfPolicyId,
        ])
        .into_tuple::<(
            i64,
            String,
            i64,
            String,
            String,
            NaiveDate,
            NaiveDate,
            Option<NaiveDate>,
            i64,
            i64,
            Option<i64>,
        )>(),
        |(
            id,
            vin,
            dealer,
            product,
            business,
            start,
            end,
            cancelled,
            premium,
            coefficient,
            renewal_of,
        )| {
        policy_rows.push(
            id,
            vehicle_key(&vin),
            dealer,
            product,
            business,
            days(start),
            days(end),
            cancelled.map(days),
            premium,
            coefficient,
            renewal_of,
        );
        },
    )
    .await?;
    let policies_frame = policy_rows.into_frame().and_then(dense_vehicle_ids).map_err(frame_error)?;
    progress("policies", policies_frame.height());

    // Versions carry no dealer; the policy's is looked up from the rows just read.
    let dealer_of: std::collections::HashMap<i64, i64> = {
        let ids = policies_frame.column("policy_id").map_err(frame_error)?.i64().map_err(frame_error)?;
        let dealer_ids = policies_frame.column("dealer_id").map_err(frame_error)?.i64().map_err(frame_error)?;
        ids.iter().zip(dealer_ids.iter()).filter_map(|(p, d)| Some((p?, d?))).collect()
    };
    let mut version_rows = PolicyVersionRows::default();
    each_row(
        db,
        policy_versions::Entity::find()
            .select_only()
            .columns([
                policy_versions::Column::PolicyId,
                policy_versions::Column::Seq,
                policy_versions::Column::Kind,
                policy_versions::Column::EffectiveDate,
                policy_versions::Column::CreatedAt,
                policy_versions::Column::PremiumAfterFen,
                policy_versions::Column::AdjustmentFen,
            ])
            .into_tuple::<(i64, i32, String, NaiveDate, DateTime<Utc>, i64, i64)>(),
        |(policy, seq, kind, effective, created, after, adjustment)| {
            let dealer = dealer_of.get(&policy).copied().unwrap_or_default();
            version_rows.push(policy, dealer, seq, kind, days(effective), micros(created), after, adjustment);
        },
    )
    .await?;
    let policy_versions = version_rows.into_frame().map_err(frame_error)?;
    progress("policy_versions", policy_versions.height());

    let mut coverage_rows = CoverageRows::default();
    each_row(
        db,
        policy_coverages::Entity::find()
            .select_only()
            .columns([
                policy_coverages::Column::PolicyId,
                policy_coverages::Column::Kind,
                policy_coverages::Column::Code,
                policy_coverages::Column::PremiumFen,
            ])
            .into_tuple::<(i64, String, String, i64)>(),
        |(policy, kind, code, premium)| {
            coverage_rows.push(policy, kind, code, premium);
        },
    )
    .await?;
    let coverages = coverage_rows.into_frame().map_err(frame_error)?;
    progress("coverages", coverages.height());

    let mut commission_rows = CommissionRows::default();
    each_row(
        db,
        commission_ledger::Entity::find()
            .select_only()
            .columns([
                commission_ledger::Column::DealerId,
                commission_ledger::Column::BookedOn,
                commission_ledger::Column::AmountFen,
            ])
            .into_tuple::<(i64, NaiveDate, i64)>(),
        |(dealer, booked, amount)| {
            commission_rows.push(dealer, days(booked), amount);
        },
    )
    .await?;
    let commissions = commission_rows.into_frame().map_err(frame_error)?;
    progress("commission_ledger", commissions.height());

    let mut claim_rows = ClaimRows::default();
    each_row(
        db,
        claims::Entity::find()
            .select_only()
            .columns([
                claims::Column::Id,
                claims::Column::DealerId,
                claims::Column::AccidentOn,
                claims::Column::ReportedAt,
                claims::Column::Stage,
                claims::Column::StageSince,
            ])
            .into_tuple::<(i64, i64, NaiveDate, DateTime<Utc>, String, DateTime<Utc>)>(),
        |(id, dealer, accident, reported, stage, since)| {
            claim_rows.push(id, dealer, days(accident), micros(reported), stage, micros(since));
        },
    )
    .await?;
    let claims_frame = claim_rows.into_frame().map_err(frame_error)?;
    progress("claims", claims_frame.height());

    let mut cycle_rows = ClaimCycleRows::default();
    each_row(
        db,
        // Every column, in the entity's order, which is the tuple's.
        claim_cycles::Entity::find().select_only().columns(claim_cycles::Column::iter()).into_tuple::<CycleTuple>(),
        |(claim, dealer, closed_at, report_to_close, reported, registered, surveyed, settled)| {
            cycle_rows.push(claim, dealer, micros(closed_at), report_to_close, reported, registered, surveyed, settled);
        },
    )
    .await?;
    let claim_cycles = cycle_rows.into_frame().map_err(frame_error)?;
    progress("claim_cycles", claim_cycles.height());

    let mut reserve_rows = ReserveRows::default();
    each_row(
        db,
        claim_reserve_movements::Entity::find()
            .select_only()
            .columns([
                claim_reserve_movements::Column::ClaimId,
                claim_reserve_movements::Column::CreatedAt,
                claim_reserve_movements::Column::AmountFen,
            ])
            .into_tuple::<(i64, DateTime<Utc>, i64)>(),
        |(claim, at, amount)| {
            reserve_rows.push(claim, micros(at), amount);
        },
    )
    .await?;
    let reserves = reserve_rows.into_frame().map_err(frame_error)?;
    progress("reserve_movements", reserves.height());

    let mut payment_rows = PaymentRows::default();
    each_row(
        db,
        claim_payments::Entity::find()
            .select_only()
            .columns([
                claim_payments::Column::ClaimId,
                claim_payments::Column::DealerId,
                claim_payments::Column::PaidOn,
                claim_payments::Column::AmountFen,
            ])
            .into_tuple::<(i64, i64, NaiveDate, i64)>(),
        |(claim, dealer, paid, amount)| {
            payment_rows.push(claim, dealer, days(paid), amount);
        },
    )
    .await?;
    let payments = payment_rows.into_frame().map_err(frame_error)?;
    progress("payments", payments.height());

    let mut referral_rows = ReferralRows::default();
    each_row(
        db,
        repair_referrals::Entity::find()
            .select_only()
            .columns([
                repair_referrals::Column::DealerId,
                repair_referrals::Column::ReferredOn,
                repair_referrals::Column::ValueFen,
            ])
            .into_tuple::<(i64, NaiveDate, i64)>(),
        |(dealer, on, value)| {
            referral_rows.push(dealer, days(on), value);
        },
    )
    .await?;
    let referrals = referral_rows.into_frame().map_err(frame_error)?;
    progress("repair_referrals", referrals.height());

    let mut feedback_rows = FeedbackRows::default();
    each_row(
        db,
        feedback::Entity::find()
            .select_only()
            .columns([
                feedback::Column::DealerId,
                feedback::Column::FeedbackDate,
                feedback::Column::Category,
                feedback::Column::Status,
            ])
            .into_tuple::<(i64, NaiveDate, String, String)>(),
        |(dealer, on, category, status)| {
            feedback_rows.push(dealer, "feedback".into(), days(on), category, status == "new", false);
        },
    )
    .await?;
    each_row(
        db,
        complaints::Entity::find()
            .select_only()
            .columns([
                complaints::Column::DealerId,
                complaints::Column::LoggedAt,
                complaints::Column::Category,
                complaints::Column::Status,
                complaints::Column::DueOn,
            ])
            .into_tuple::<(i64, DateTime<Utc>, String, String, NaiveDate)>(),
        |(dealer, logged, category, status, due)| {
            let open = status != "resolved";
            feedback_rows.push(dealer, "complaint".into(), china_days(logged), category, open, open && due < today);
        },
    )
    .await?;
    let feedback_frame = feedback_rows.into_frame().map_err(frame_error)?;
    progress("feedback", feedback_frame.height());

    let mut frames = Frames {
        dealers,
        policies: policies_frame,
        policy_versions,
        coverages,
        commissions,
        claims: claims_frame,
        claim_cycles,
        reserves,
        payments,
        referrals,
        feedback: feedback_frame,
    };
    // Read in the tables' own order (sequential scans); put in key order here, for merge joins.
    frames.sort_by_keys().map_err(frame_error)?;
    Ok(frames)
}
