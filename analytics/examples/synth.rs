//! Writes a realistic synthetic dataset as the 11 Parquet frames, for the figures benchmark.
//!
//! ```sh
//! cargo run --release -p analytics --example synth -- --dir DIR [--policies 10000000] [--claims 1500000] \
//!     [--dealers 2000] [--seed 1] [--now 2026-01-31T04:00:00Z]
//! ```
//!
//! Policies start over about 3 years ending today (China time): compulsory and commercial pairs sharing a
//! vehicle id (some compulsory only), about 5 % of sales cancelled (a cancel version with the pro-rata refund as
//! a negative adjustment, the commission clawed back), about 10 % of policies endorsed (a few twice), renewals
//! linking `renewal_of_policy_id` (renewals issued up to 30 days ahead of their start). Claims have accident days
//! inside cover and go reported → registered → surveyed → settled (with payments) → closed, some declined or
//! withdrawn, a few reopened, and those whose next step would be after "now" stay open; reserve movements,
//! payments, repair referrals and a commission ledger go with them, and a few feedback rows per dealer.
//!
//! Everything follows from `--seed` and `--now` (default: the current time). Rows are built in chunks with the
//! crate's row builders and stacked as frames, so the generator holds little beyond the frames themselves.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use analytics::figures::OPEN_STAGES;
use analytics::frames::{
    CHINA_OFFSET_MICROS, ClaimCycleRows, ClaimRows, CommissionRows, CoverageRows, DealerRows, FeedbackRows, Frames,
    MICROS_PER_DAY, PaymentRows, PolicyRows, PolicyVersionRows, ReferralRows, ReserveRows, date, days, micros,
};
use analytics::polars::prelude::{DataFrame, PolarsResult};
use chrono::{DateTime, Months, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MICROS_PER_HOUR: i64 = 3_600_000_000;
/// Policies per chunk of rows turned into frames.
const POLICY_CHUNK: usize = 1_000_000;
/// Claims per chunk of rows turned into frames.
const CLAIM_CHUNK: usize = 250_000;

struct Args {
    dir: PathBuf,
    policies: usize,
    claims: usize,
    dealers: usize,
    seed: u64,
    now: DateTime<Utc>,
}

fn usage() -> String {
    "usage: synth --dir DIR [--policies 10000000] [--claims 1500000] [--dealers 2000] [--seed 1] [--now RFC3339]"
        .to_string()
}

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { dir: PathBuf::new(), policies: 10_000_000, claims: 1_500_000, dealers: 2_000, seed: 1, now: Utc::now() };
    let mut dir = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value\n{}", usage()));
        let number = |v: String| v.replace('_', "").parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--policies" => args.policies = number(value()?)?,
            "--claims" => args.claims = number(value()?)?,
            "--dealers" => args.dealers = number(value()?)?.max(1),
            "--seed" => args.seed = number(value()?)? as u64,
            "--now" => args.now = DateTime::parse_from_rfc3339(&value()?).map_err(|e| format!("--now: {e}"))?.to_utc(),
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    args.dir = dir.ok_or_else(usage)?;
    Ok(args)
}

/// 00:00 China time of a day, in UTC microseconds.
fn china_midnight(day: i32) -> i64 {
    i64::from(day) * MICROS_PER_DAY - CHINA_OFFSET_MICROS
}

/// The China-local day of an instant.
fn china_day(at: i64) -> i32 {
    ((at + CHINA_OFFSET_MICROS).div_euclid(MICROS_PER_DAY)) as i32
}

/// `n × num ÷ den` rounded half away from zero (den > 0).
fn pro_rata(n: i64, num: i64, den: i64) -> i64 {
    let p = i128::from(n) * i128::from(num);
    let d = i128::from(den);
    let r = if p >= 0 { (2 * p + d) / (2 * d) } else { -((-2 * p + d) / (2 * d)) };
    r as i64
}

fn percent(amount: i64, pct: i64) -> i64 {
    pro_rata(amount, pct, 100)
}

/// Frames stacked chunk by chunk.
#[derive(Default)]
struct Stack(Option<DataFrame>);

impl Stack {
    fn push(&mut self, df: DataFrame) -> PolarsResult<()> {
        match &mut self.0 {
            Some(acc) => {
                acc.vstack_mut_owned(df)?;
            }
            None => self.0 = Some(df),
        }
        Ok(())
    }

    fn take(self, empty: impl FnOnce() -> PolarsResult<DataFrame>) -> PolarsResult<DataFrame> {
        match self.0 {
            Some(df) => Ok(df),
            None => empty(),
        }
    }
}

struct Dealer {
    /// Commercial commission rate, percent.
    commercial_rate: i64,
}

/// What a claim needs to know about a policy.
#[derive(Clone, Copy)]
struct Cover {
    dealer: u32,
    start: i32,
    /// Exclusive: the end, or the cancellation day.
    cover_end: i32,
    commercial: bool,
}

struct Gen {
    rng: ChaCha8Rng,
    now: i64,
    today: i32,
    /// Cumulative dealer weights.
    weights: Vec<f64>,
    dealers: Vec<Dealer>,
}

impl Gen {
    fn pick_dealer(&mut self) -> usize {
        let total = self.weights.last().copied().unwrap_or(1.0);
        let x = self.rng.random::<f64>() * total;
        self.weights.partition_point(|w| *w <= x).min(self.weights.len() - 1)
    }

    /// A time during opening hours (08:00–21:00 China) on `day`, never after now.
    fn time_on(&mut self, day: i32) -> i64 {
        let at = china_midnight(day) + self.rng.random_range(8 * MICROS_PER_HOUR..21 * MICROS_PER_HOUR);
        at.min(self.now - self.rng.random_range(1_000_000..600_000_000))
    }

    /// A duration between `lo` and `hi` hours, in microseconds.
    fn hours(&mut self, lo: f64, hi: f64) -> i64 {
        (self.rng.random_range(lo..hi) * MICROS_PER_HOUR as f64) as i64
    }

    /// A normal-ish variate (Irwin–Hall with 12 terms).
    fn normalish(&mut self) -> f64 {
        (0..12).map(|_| self.rng.random::<f64>()).sum::<f64>() - 6.0
    }
}

const REGIONS: [&str; 7] = ["East", "North", "South", "Central", "Southwest", "Northwest", "Northeast"];
const BRANDS: [&str; 12] = [
    "BYD",
    "Toyota",
    "Volkswagen",
    "Honda",
    "Geely",
    "BMW",
    "Mercedes-Benz",
    "Audi",
    "Nissan",
    "Changan",
    "Tesla",
    "Buick",
];
const NCD_FACTORS: [i64; 6] = [700_000, 800_000, 900_000, 1_000_000, 1_100_000, 1_300_000];
const FEEDBACK_CATEGORIES: [&str; 6] =
    ["pricing", "claims_service", "repair_referral", "competitor", "customer_complaint", "system"];

fn dealers(g: &mut Gen, count: usize) -> PolarsResult<DataFrame> {
    let mut rows = DealerRows::default();
    for i in 1..=count {
        let status = match g.rng.random_range(0..100) {
            0..=93 => "active",
            94..=97 => "remediation",
            _ => "suspended",
        };
        rows.push(
            i as i64,
            format!("DLR{i:05}"),
            format!("Dealer {i}"),
            REGIONS[g.rng.random_range(0..REGIONS.len())].into(),
            BRANDS[g.rng.random_range(0..BRANDS.len())].into(),
            format!("G{:03}", g.rng.random_range(0..300)),
            status.into(),
        );
        // Dealer sizes are log-normal: a few big stores, many small ones.
        let weight = (0.9 * g.normalish()).exp();
        let previous = g.weights.last().copied().unwrap_or(0.0);
        g.weights.push(previous + weight);
        g.dealers.push(Dealer { commercial_rate: g.rng.random_range(10..=20) });
    }
    rows.into_frame()
}

/// The rows of one chunk of policies and what goes with them.
#[derive(Default)]
struct PolicyChunk {
    policies: PolicyRows,
    versions: PolicyVersionRows,
    coverages: CoverageRows,
    commissions: CommissionRows,
}

/// One policy of a sale, as the chain of renewals goes on.
struct Issued {
    id: i64,
    cancelled: bool,
}

struct PolicyStacks {
    policies: Stack,
    versions: Stack,
    coverages: Stack,
    commissions: Stack,
}

impl PolicyStacks {
    fn flush(&mut self, chunk: &mut PolicyChunk) -> PolarsResult<()> {
        let c = std::mem::take(chunk);
        self.policies.push(c.policies.into_frame()?)?;
        self.versions.push(c.versions.into_frame()?)?;
        self.coverages.push(c.coverages.into_frame()?)?;
        self.commissions.push(c.commissions.into_frame()?)?;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn issue_policy(
    g: &mut Gen,
    out: &mut PolicyChunk,
    covers: &mut Vec<Cover>,
    id: i64,
    vehicle: i64,
    dealer: usize,
    commercial: bool,
    business: &str,
    start: i32,
    created_at: i64,
    cancel_on: Option<i32>,
    renewal_of: Option<i64>,
) {
    let end = days(date(start).checked_add_months(Months::new(12)).unwrap_or(date(start + 365)));
    let term = i64::from(end - start);
    let dealer_id = dealer as i64 + 1;
    let (mut premium, coefficient, rate) = if commercial {
        (
            g.rng.random_range(200_000..=900_000i64),
            g.rng.random_range(500_000..=1_500_000i64),
            g.dealers[dealer].commercial_rate,
        )
    } else {
        let factor = NCD_FACTORS[g.rng.random_range(0..NCD_FACTORS.len())];
        (95_000 * factor / 1_000_000, factor, 4)
    };
    let product = if commercial { "commercial" } else { "compulsory" };

    // Coverages as issued.
    if commercial {
        let damage = premium * 60 / 100;
        let liability = premium * 30 / 100;
        out.coverages.push(id, "vehicle_damage".into(), "VD".into(), damage);
        out.coverages.push(id, "third_party".into(), "TPL".into(), liability);
        out.coverages.push(id, "driver".into(), "DRV".into(), premium - damage - liability);
    } else {
        out.coverages.push(id, "compulsory".into(), "CTPL".into(), premium);
    }

    let mut seq = 1;
    out.versions.push(id, dealer_id, seq, "issue".into(), start, created_at, premium, premium);
    out.commissions.push(dealer_id, china_day(created_at), percent(premium, rate));

    // Endorsements: about 10 % of policies in force for a day or more, a tenth of them twice.
    let last_day = cancel_on.unwrap_or(end).min(g.today + 1);
    if last_day - start >= 3 && g.rng.random_range(0..100) < 10 {
        let times = if g.rng.random_range(0..10) == 0 { 2 } else { 1 };
        let mut from = start + 1;
        for _ in 0..times {
            if from >= last_day {
                break;
            }
            let on = g.rng.random_range(from..last_day);
            let new_premium = if commercial {
                (premium as f64 * g.rng.random_range(0.85..1.2)).round() as i64
            } else {
                premium // a plate or phone change
            };
            let adjustment = pro_rata(new_premium - premium, i64::from(end - on), term);
            seq += 1;
            let at = g.time_on(on);
            out.versions.push(id, dealer_id, seq, "endorse".into(), on, at, new_premium, adjustment);
            if adjustment != 0 {
                out.commissions.push(dealer_id, china_day(at), percent(adjustment, rate));
            }
            premium = new_premium;
            from = on + 1;
        }
    }
    if let Some(on) = cancel_on {
        let refund = pro_rata(premium, i64::from(end - on), term);
        seq += 1;
        let at = g.time_on(on);
        out.versions.push(id, dealer_id, seq, "cancel".into(), on, at, premium - refund, -refund);
        out.commissions.push(dealer_id, china_day(at), -percent(refund, rate));
    }
    out.policies.push(
        id,
        vehicle,
        dealer_id,
        product.into(),
        business.into(),
        start,
        end,
        cancel_on,
        premium,
        coefficient,
        renewal_of,
    );
    covers.push(Cover { dealer: dealer as u32, start, cover_end: cancel_on.unwrap_or(end), commercial });
}

/// Policies, their versions, coverages and commission, and a compact record of every policy's cover.
fn policies(g: &mut Gen, target: usize, frames: &mut Frames) -> PolarsResult<Vec<Cover>> {
    let started = Instant::now();
    let mut covers = Vec::with_capacity(target);
    let mut stacks = PolicyStacks {
        policies: Stack::default(),
        versions: Stack::default(),
        coverages: Stack::default(),
        commissions: Stack::default(),
    };
    let mut chunk = PolicyChunk::default();
    let mut next_id = 1i64;
    let mut vehicle = 0i64;
    let first_day = g.today - 3 * 365;
    'sales: while (next_id as usize) <= target {
        vehicle += 1;
        let mut dealer = g.pick_dealer();
        let with_commercial = g.rng.random_range(0..100) >= 8;
        let mut start = g.rng.random_range(first_day..=g.today);
        let mut business = if g.rng.random_range(0..4) == 0 { "transfer_in" } else { "new_car" };
        let mut created_day = start - if g.rng.random_range(0..3) == 0 { g.rng.random_range(1..=3) } else { 0 };
        let mut previous: [Option<i64>; 2] = [None, None];
        loop {
            let created_at = g.time_on(created_day);
            let end = days(date(start).checked_add_months(Months::new(12)).unwrap_or(date(start + 365)));
            // About 5 % of sales are cancelled (both policies, the same day).
            let cancel_on = (start < g.today && g.rng.random_range(0..100) < 5)
                .then(|| g.rng.random_range(start + 1..=g.today.min(end - 1)));
            let mut issued = Vec::with_capacity(2);
            for (slot, commercial) in [(0, false), (1, true)] {
                if commercial && !with_commercial {
                    continue;
                }
                if (next_id as usize) > target {
                    break;
                }
                let id = next_id;
                next_id += 1;
                issue_policy(
                    g,
                    &mut chunk,
                    &mut covers,
                    id,
                    vehicle,
                    dealer,
                    commercial,
                    business,
                    start,
                    created_at,
                    cancel_on,
                    previous[slot],
                );
                issued.push((slot, Issued { id, cancelled: cancel_on.is_some() }));
                if covers.len().is_multiple_of(POLICY_CHUNK) {
                    stacks.flush(&mut chunk)?;
                    eprintln!("  policies: {} ({:.1} s)", covers.len(), started.elapsed().as_secs_f64());
                }
            }
            // About 65 % renew at the end, issued 1–30 days ahead; a tenth of them move to another dealer.
            let renew_created = end - g.rng.random_range(1..=30);
            if issued.is_empty()
                || issued.iter().any(|(_, p)| p.cancelled)
                || renew_created > g.today
                || g.rng.random_range(0..100) >= 65
            {
                continue 'sales;
            }
            previous = [None, None];
            for (slot, p) in issued {
                previous[slot] = Some(p.id);
            }
            if g.rng.random_range(0..10) == 0 {
                dealer = g.pick_dealer();
            }
            start = end;
            created_day = renew_created;
            business = "renewal";
        }
    }
    if !chunk.policies.policy_id.is_empty() {
        stacks.flush(&mut chunk)?;
    }
    frames.policies = stacks.policies.take(|| PolicyRows::default().into_frame())?;
    frames.policy_versions = stacks.versions.take(|| PolicyVersionRows::default().into_frame())?;
    frames.coverages = stacks.coverages.take(|| CoverageRows::default().into_frame())?;
    frames.commissions = stacks.commissions.take(|| CommissionRows::default().into_frame())?;
    eprintln!(
        "policies: {} policies, {} versions, {} coverages, {} commission rows for {} vehicles in {:.1} s",
        frames.policies.height(),
        frames.policy_versions.height(),
        frames.coverages.height(),
        frames.commissions.height(),
        vehicle,
        started.elapsed().as_secs_f64()
    );
    Ok(covers)
}

#[derive(Default)]
struct ClaimChunk {
    claims: ClaimRows,
    cycles: ClaimCycleRows,
    reserves: ReserveRows,
    payments: PaymentRows,
    referrals: ReferralRows,
}

/// One claim's life, written as it goes; stops (leaving the claim open) at the first step after now.
struct ClaimLife<'a> {
    out: &'a mut ClaimChunk,
    claim: i64,
    dealer: i64,
    /// Current stage and since when.
    stage: &'static str,
    since: i64,
    reserve: i64,
    /// Time spent in each open stage (reported, registered, surveyed, settled) by visits that have ended.
    spent: [Option<i64>; 4],
}

impl ClaimLife<'_> {
    fn enter(&mut self, stage: &'static str, at: i64) {
        // A repeat of the stage (a payment in settled) is not a new visit.
        if stage != self.stage {
            if let Some(index) = OPEN_STAGES.iter().position(|s| *s == self.stage) {
                self.spent[index] = Some(self.spent[index].unwrap_or(0) + (at - self.since));
            }
            self.stage = stage;
            self.since = at;
        }
    }

    fn reserve(&mut self, at: i64, amount: i64) {
        if amount != 0 {
            self.out.reserves.push(self.claim, at, amount);
            self.reserve += amount;
        }
    }

    /// A payment in settled: the reserve is raised first if it does not cover it, then taken down.
    fn pay(&mut self, at: i64, amount: i64) {
        if amount > self.reserve {
            self.reserve(at, amount - self.reserve);
        }
        self.reserve(at, -amount);
        self.out.payments.push(self.claim, self.dealer, china_day(at), amount);
        self.enter("settled", at);
    }
}

fn claim(g: &mut Gen, out: &mut ClaimChunk, covers: &[Cover], claim_id: i64) {
    // A policy with cover up to today; commercial policies carry most claims.
    let cover = loop {
        let c = covers[g.rng.random_range(0..covers.len())];
        if c.start <= g.today && c.cover_end > c.start && (c.commercial || g.rng.random_range(0..10) < 3) {
            break c;
        }
    };
    let dealer = i64::from(cover.dealer) + 1;
    let accident = g.rng.random_range(cover.start..cover.cover_end.min(g.today + 1));
    let reported_day =
        (accident + if g.rng.random_range(0..10) < 7 { 0 } else { g.rng.random_range(1..=3) }).min(g.today);
    let reported = g.time_on(reported_day).max(china_midnight(accident));
    let mut life = ClaimLife { out, claim: claim_id, dealer, stage: "", since: reported, reserve: 0, spent: [None; 4] };
    life.enter("reported", reported);
    let now = g.now;
    let fate = g.rng.random_range(0..1000);
    let mut t = reported;
    'life: {
        if fate < 15 {
            t += g.hours(1.0, 72.0);
            if t <= now {
                life.enter("withdrawn", t);
            }
            break 'life;
        }
        // Register (target 24 h) with the initial case reserve.
        t += g.hours(0.5, 40.0);
        if t > now {
            break 'life;
        }
        life.enter("registered", t);
        let estimate = (g.rng.random_range((100_000f64).ln()..(3_000_000f64).ln())).exp().round() as i64;
        life.reserve(t, estimate);
        if fate < 30 || (45..100).contains(&fate) {
            // Withdrawn or declined after registration.
            t += g.hours(2.0, 100.0);
            if t <= now {
                let stage = if fate < 30 { "withdrawn" } else { "declined" };
                let release = -life.reserve;
                life.reserve(t, release);
                life.enter(stage, t);
            }
            break 'life;
        }
        // Survey (target 48 h): a reassessment, and a repair sent to the dealer's shop for 40 %.
        t += g.hours(2.0, 80.0);
        if t > now {
            break 'life;
        }
        life.enter("surveyed", t);
        let reassessed = (life.reserve as f64 * g.rng.random_range(0.7..1.3)).round() as i64;
        let change = reassessed - life.reserve;
        life.reserve(t, change);
        if g.rng.random_range(0..10) < 4 {
            let value = (reassessed as f64 * g.rng.random_range(0.6..1.2)).round() as i64;
            life.out.referrals.push(dealer, china_day(t), value);
        }
        if (100..130).contains(&fate) {
            t += g.hours(2.0, 100.0);
            if t <= now {
                let release = -life.reserve;
                life.reserve(t, release);
                life.enter("declined", t);
            }
            break 'life;
        }
        // Settle (target 120 h), then one to three payments, each a repeated "settled" transition.
        t += g.hours(4.0, 200.0);
        if t > now {
            break 'life;
        }
        life.enter("settled", t);
        let total = (life.reserve.max(10_000) as f64 * g.rng.random_range(0.7..1.15)).round() as i64;
        let parts = match g.rng.random_range(0..100) {
            0..=69 => 1,
            70..=92 => 2,
            _ => 3,
        };
        let mut left = total;
        for part in 0..parts {
            t += g.hours(1.0, 96.0);
            if t > now {
                break 'life;
            }
            let amount = if part + 1 == parts { left } else { left / 2 };
            left -= amount;
            life.pay(t, amount);
        }
        // Close: the rest of the reserve released.
        t += g.hours(1.0, 150.0);
        if t > now {
            break 'life;
        }
        let release = -life.reserve;
        life.reserve(t, release);
        life.enter("closed", t);
        // About 1 % reopen: back to settled with a new reserve, paid and closed again.
        if fate >= 990 {
            t += g.hours(24.0, 500.0);
            if t > now {
                break 'life;
            }
            life.enter("settled", t);
            let extra = g.rng.random_range(50_000..2_000_000i64);
            life.reserve(t, extra);
            t += g.hours(1.0, 96.0);
            if t > now {
                break 'life;
            }
            life.pay(t, extra);
            t += g.hours(1.0, 96.0);
            if t > now {
                break 'life;
            }
            life.enter("closed", t);
        }
    }
    let (stage, since) = (life.stage, life.since);
    if stage == "closed" {
        // The cycle the service records at the (last) closure.
        let [reported_us, registered_us, surveyed_us, settled_us] = life.spent;
        life.out.cycles.push(
            claim_id,
            dealer,
            since,
            since - reported,
            reported_us,
            registered_us,
            surveyed_us,
            settled_us,
        );
    }
    life.out.claims.push(claim_id, dealer, accident, reported, stage.into(), since);
}

fn claims(g: &mut Gen, count: usize, covers: &[Cover], frames: &mut Frames) -> PolarsResult<()> {
    let started = Instant::now();
    let mut stacks: [Stack; 5] = Default::default();
    let mut chunk = ClaimChunk::default();
    let flush = |chunk: &mut ClaimChunk, stacks: &mut [Stack; 5]| -> PolarsResult<()> {
        let c = std::mem::take(chunk);
        stacks[0].push(c.claims.into_frame()?)?;
        stacks[1].push(c.cycles.into_frame()?)?;
        stacks[2].push(c.reserves.into_frame()?)?;
        stacks[3].push(c.payments.into_frame()?)?;
        stacks[4].push(c.referrals.into_frame()?)
    };
    if !covers.is_empty() {
        for i in 0..count {
            claim(g, &mut chunk, covers, i as i64 + 1);
            if (i + 1) % CLAIM_CHUNK == 0 {
                flush(&mut chunk, &mut stacks)?;
                eprintln!("  claims: {} ({:.1} s)", i + 1, started.elapsed().as_secs_f64());
            }
        }
    }
    flush(&mut chunk, &mut stacks)?;
    let [claims, cycles, reserves, payments, referrals] = stacks;
    frames.claims = claims.take(|| ClaimRows::default().into_frame())?;
    frames.claim_cycles = cycles.take(|| ClaimCycleRows::default().into_frame())?;
    frames.reserves = reserves.take(|| ReserveRows::default().into_frame())?;
    frames.payments = payments.take(|| PaymentRows::default().into_frame())?;
    frames.referrals = referrals.take(|| ReferralRows::default().into_frame())?;
    eprintln!(
        "claims: {} claims, {} closed (cycles), {} reserve movements, {} payments, {} referrals in {:.1} s",
        frames.claims.height(),
        frames.claim_cycles.height(),
        frames.reserves.height(),
        frames.payments.height(),
        frames.referrals.height(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn feedback(g: &mut Gen, dealers: usize) -> PolarsResult<DataFrame> {
    let mut rows = FeedbackRows::default();
    for dealer in 1..=dealers as i64 {
        for _ in 0..g.rng.random_range(5..40) {
            let on = g.today - g.rng.random_range(0..365);
            let category = FEEDBACK_CATEGORIES[g.rng.random_range(0..FEEDBACK_CATEGORIES.len())].to_string();
            if g.rng.random_range(0..10) < 7 {
                let unread = on > g.today - 14 && g.rng.random_range(0..3) == 0;
                rows.push(dealer, "feedback".into(), on, category, unread, false);
            } else {
                let open = g.rng.random_range(0..100) < 15;
                rows.push(dealer, "complaint".into(), on, category, open, open && on + 7 < g.today);
            }
        }
    }
    rows.into_frame()
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.dir)?;
    let now = micros(args.now);
    let today = china_day(now);
    eprintln!(
        "synth: {} policies, {} claims, {} dealers, seed {}, today {} (China), now {}",
        args.policies,
        args.claims,
        args.dealers,
        args.seed,
        date(today),
        args.now.to_rfc3339()
    );
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(args.seed),
        now,
        today,
        weights: Vec::with_capacity(args.dealers),
        dealers: Vec::with_capacity(args.dealers),
    };
    let mut frames = Frames::empty()?;
    frames.dealers = dealers(&mut g, args.dealers)?;
    let covers = policies(&mut g, args.policies, &mut frames)?;
    claims(&mut g, args.claims, &covers, &mut frames)?;
    drop(covers);
    frames.feedback = feedback(&mut g, args.dealers)?;
    frames.validate()?;
    let generated = started.elapsed();
    eprintln!(
        "generated {} rows in {:.1} s; writing Parquet to {}",
        frames.rows(),
        generated.as_secs_f64(),
        args.dir.display()
    );
    let writing = Instant::now();
    frames.write_parquet(&args.dir, |name, rows| {
        eprintln!("  {name}.parquet: {rows} rows ({:.1} s)", writing.elapsed().as_secs_f64())
    })?;
    let mut bytes = 0u64;
    for entry in std::fs::read_dir(&args.dir)? {
        let entry = entry?;
        if entry.path().extension().is_some_and(|e| e == "parquet") {
            bytes += entry.metadata()?.len();
        }
    }
    eprintln!(
        "done in {:.1} s (generate {:.1} s, write {:.1} s); Parquet {:.1} MiB; peak RSS {:.0} MiB",
        started.elapsed().as_secs_f64(),
        generated.as_secs_f64(),
        writing.elapsed().as_secs_f64(),
        bytes as f64 / (1024.0 * 1024.0),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synth: {e}");
            ExitCode::FAILURE
        }
    }
}
