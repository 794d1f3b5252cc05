//! Loads the analytics frames from the database: each table streamed once, its rows pushed straight into
//! columns (no model per row), so a million policies load in seconds.

use analytics::frames::{
    ClaimRows, ClaimTransitionRows, CommissionRows, CoverageRows, DealerRows, FeedbackRows, Frames, PaymentRows,
    PolicyRows, PolicyVersionRows, ReferralRows, ReserveRows, days, micros,
};
use analytics::polars::prelude::PolarsError;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, StreamTrait};

use crate::error::{AppError, AppResult};
use entity::{
    claim_payments, claim_reserve_movements, claim_transitions, claims, commission_ledger, complaints, dealers,
    feedback, policies, policy_coverages, policy_versions, repair_referrals,
};

fn frame_error(e: PolarsError) -> AppError {
    AppError::Internal(anyhow::anyhow!("building a frame: {e}"))
}

/// China-local day of an instant, as days since the epoch.
fn china_days(at: DateTime<Utc>) -> i32 {
    days(super::monitoring::local_day(at))
}

/// Every frame, read from the database as it stands; `progress` hears each frame's name and rows when loaded.
pub async fn load<C>(db: &C, today: NaiveDate, mut progress: impl FnMut(&str, usize)) -> AppResult<Frames>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut dealer_rows = DealerRows::default();
    {
        let mut stream = dealers::Entity::find()
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
            .order_by_asc(dealers::Column::Id)
            .into_tuple::<(i64, String, String, String, String, String, String)>()
            .stream(db)
            .await?;
        while let Some((id, code, name, region, brands, group, status)) = stream.try_next().await? {
            let brand = serde_json::from_str::<Vec<String>>(&brands).ok().and_then(|b| b.into_iter().next());
            dealer_rows.push(id, code, name, region, brand.unwrap_or_default(), group, status);
        }
    }
    let dealers = dealer_rows.into_frame().map_err(frame_error)?;
    progress("dealers", dealers.height());

    let mut policy_rows = PolicyRows::default();
    {
        let mut stream = policies::Entity::find()
            .select_only()
            .columns([
                policies::Column::Id,
                policies::Column::QuoteId,
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
                i64,
                i64,
                String,
                String,
                NaiveDate,
                NaiveDate,
                Option<NaiveDate>,
                i64,
                i64,
                Option<i64>,
            )>()
            .stream(db)
            .await?;
        while let Some((
            id,
            quote,
            dealer,
            product,
            business,
            start,
            end,
            cancelled,
            premium,
            coefficient,
            renewal_of,
        )) = stream.try_next().await?
        {
            policy_rows.push(
                id,
                quote,
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
        }
    }
    let policies_frame = policy_rows.into_frame().map_err(frame_error)?;
    progress("policies", policies_frame.height());

    // Versions carry no dealer; the policy's is looked up from the rows just read.
    let dealer_of: std::collections::HashMap<i64, i64> = {
        let ids = policies_frame.column("policy_id").map_err(frame_error)?.i64().map_err(frame_error)?;
        let dealer_ids = policies_frame.column("dealer_id").map_err(frame_error)?.i64().map_err(frame_error)?;
        ids.iter().zip(dealer_ids.iter()).filter_map(|(p, d)| Some((p?, d?))).collect()
    };
    let mut version_rows = PolicyVersionRows::default();
    {
        let mut stream = policy_versions::Entity::find()
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
            .into_tuple::<(i64, i32, String, NaiveDate, DateTime<Utc>, i64, i64)>()
            .stream(db)
            .await?;
        while let Some((policy, seq, kind, effective, created, after, adjustment)) = stream.try_next().await? {
            let dealer = dealer_of.get(&policy).copied().unwrap_or_default();
            version_rows.push(policy, dealer, seq, kind, days(effective), micros(created), after, adjustment);
        }
    }
    let policy_versions = version_rows.into_frame().map_err(frame_error)?;
    progress("policy_versions", policy_versions.height());

    let mut coverage_rows = CoverageRows::default();
    {
        let mut stream = policy_coverages::Entity::find()
            .select_only()
            .columns([
                policy_coverages::Column::PolicyId,
                policy_coverages::Column::Kind,
                policy_coverages::Column::Code,
                policy_coverages::Column::PremiumFen,
            ])
            .into_tuple::<(i64, String, String, i64)>()
            .stream(db)
            .await?;
        while let Some((policy, kind, code, premium)) = stream.try_next().await? {
            coverage_rows.push(policy, kind, code, premium);
        }
    }
    let coverages = coverage_rows.into_frame().map_err(frame_error)?;
    progress("coverages", coverages.height());

    let mut commission_rows = CommissionRows::default();
    {
        let mut stream = commission_ledger::Entity::find()
            .select_only()
            .columns([
                commission_ledger::Column::DealerId,
                commission_ledger::Column::BookedOn,
                commission_ledger::Column::AmountFen,
            ])
            .into_tuple::<(i64, NaiveDate, i64)>()
            .stream(db)
            .await?;
        while let Some((dealer, booked, amount)) = stream.try_next().await? {
            commission_rows.push(dealer, days(booked), amount);
        }
    }
    let commissions = commission_rows.into_frame().map_err(frame_error)?;
    progress("commission_ledger", commissions.height());

    let mut claim_rows = ClaimRows::default();
    {
        let mut stream = claims::Entity::find()
            .select_only()
            .columns([
                claims::Column::Id,
                claims::Column::DealerId,
                claims::Column::AccidentOn,
                claims::Column::ReportedAt,
                claims::Column::Stage,
                claims::Column::StageSince,
            ])
            .into_tuple::<(i64, i64, NaiveDate, DateTime<Utc>, String, DateTime<Utc>)>()
            .stream(db)
            .await?;
        while let Some((id, dealer, accident, reported, stage, since)) = stream.try_next().await? {
            claim_rows.push(id, dealer, days(accident), micros(reported), stage, micros(since));
        }
    }
    let claims_frame = claim_rows.into_frame().map_err(frame_error)?;
    progress("claims", claims_frame.height());

    let mut transition_rows = ClaimTransitionRows::default();
    {
        let mut stream = claim_transitions::Entity::find()
            .select_only()
            .columns([
                claim_transitions::Column::ClaimId,
                claim_transitions::Column::Id,
                claim_transitions::Column::ToStage,
                claim_transitions::Column::At,
            ])
            .into_tuple::<(i64, i64, String, DateTime<Utc>)>()
            .stream(db)
            .await?;
        while let Some((claim, id, stage, at)) = stream.try_next().await? {
            transition_rows.push(claim, id, stage, micros(at));
        }
    }
    let claim_transitions = transition_rows.into_frame().map_err(frame_error)?;
    progress("claim_transitions", claim_transitions.height());

    let mut reserve_rows = ReserveRows::default();
    {
        let mut stream = claim_reserve_movements::Entity::find()
            .select_only()
            .columns([
                claim_reserve_movements::Column::ClaimId,
                claim_reserve_movements::Column::CreatedAt,
                claim_reserve_movements::Column::AmountFen,
            ])
            .into_tuple::<(i64, DateTime<Utc>, i64)>()
            .stream(db)
            .await?;
        while let Some((claim, at, amount)) = stream.try_next().await? {
            reserve_rows.push(claim, micros(at), amount);
        }
    }
    let reserves = reserve_rows.into_frame().map_err(frame_error)?;
    progress("reserve_movements", reserves.height());

    let mut payment_rows = PaymentRows::default();
    {
        let mut stream = claim_payments::Entity::find()
            .select_only()
            .columns([
                claim_payments::Column::ClaimId,
                claim_payments::Column::DealerId,
                claim_payments::Column::PaidOn,
                claim_payments::Column::AmountFen,
            ])
            .into_tuple::<(i64, i64, NaiveDate, i64)>()
            .stream(db)
            .await?;
        while let Some((claim, dealer, paid, amount)) = stream.try_next().await? {
            payment_rows.push(claim, dealer, days(paid), amount);
        }
    }
    let payments = payment_rows.into_frame().map_err(frame_error)?;
    progress("payments", payments.height());

    let mut referral_rows = ReferralRows::default();
    {
        let mut stream = repair_referrals::Entity::find()
            .select_only()
            .columns([
                repair_referrals::Column::DealerId,
                repair_referrals::Column::ReferredOn,
                repair_referrals::Column::ValueFen,
            ])
            .into_tuple::<(i64, NaiveDate, i64)>()
            .stream(db)
            .await?;
        while let Some((dealer, on, value)) = stream.try_next().await? {
            referral_rows.push(dealer, days(on), value);
        }
    }
    let referrals = referral_rows.into_frame().map_err(frame_error)?;
    progress("repair_referrals", referrals.height());

    let mut feedback_rows = FeedbackRows::default();
    {
        let mut stream = feedback::Entity::find()
            .select_only()
            .columns([
                feedback::Column::DealerId,
                feedback::Column::FeedbackDate,
                feedback::Column::Category,
                feedback::Column::Status,
            ])
            .into_tuple::<(i64, NaiveDate, String, String)>()
            .stream(db)
            .await?;
        while let Some((dealer, on, category, status)) = stream.try_next().await? {
            feedback_rows.push(dealer, "feedback".into(), days(on), category, status == "new", false);
        }
    }
    {
        let mut stream = complaints::Entity::find()
            .select_only()
            .columns([
                complaints::Column::DealerId,
                complaints::Column::LoggedAt,
                complaints::Column::Category,
                complaints::Column::Status,
                complaints::Column::DueOn,
            ])
            .into_tuple::<(i64, DateTime<Utc>, String, String, NaiveDate)>()
            .stream(db)
            .await?;
        while let Some((dealer, logged, category, status, due)) = stream.try_next().await? {
            let open = status != "resolved";
            feedback_rows.push(dealer, "complaint".into(), china_days(logged), category, open, open && due < today);
        }
    }
    let feedback_frame = feedback_rows.into_frame().map_err(frame_error)?;
    progress("feedback", feedback_frame.height());

    Ok(Frames {
        dealers,
        policies: policies_frame,
        policy_versions,
        coverages,
        commissions,
        claims: claims_frame,
        claim_transitions,
        reserves,
        payments,
        referrals,
        feedback: feedback_frame,
    })
}
