//! Times reading the Parquet frames and the dealer figures over them.
//!
//! ```sh
//! cargo run --release -p analytics --example figures_bench -- --dir DIR [--out figures.csv] [--json FILE] \
//!     [--runs 5] [--now 2026-01-31T04:00:00Z] [--from 2025-02-01 --to 2026-02-01] \
//!     [--profile] [--profile-part NAME] [--explain] [--parts] [--without FRAME,...]
//! ```
//!
//! Each run reads what the figures use (`Frames::read_for_figures`: all frames but coverages
//! and feedback, without the policies' product and business type) and computes `dealer_figures` for the rolling 12 months
//! to today (China time): `to` is the day after today, `from` 12 months before it; then the peer comparison
//! over that result (`peers::compare` and `peers::composite`), timed on its own. It prints the minimum and
//! median wall time of each, the figures' CPU time (every thread: unlike wall time, it hardly moves when other
//! work shares the cores) and the peak RSS (VmHWM) of the process. The result of the last run is written as
//! CSV to `--out` (nulls empty, floats in shortest round-trip form); `--json` writes the numbers for
//! `benches/analytics_duckdb.py`.
//!
//! To see where the time goes: `--profile` runs the query once more under polars' profiler and prints its
//! slowest nodes (`--profile-part earned`: of that sub-query alone), `--explain` prints the optimised plan,
//! `--parts` times each sub-query of the figures on its own
//! on polars' in-memory and streaming engines, and `--without claim_cycles,...` empties those frames after
//! reading, so the difference to a full run is what their part of the query costs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use analytics::figures::{
    FIGURE_COLUMNS, FigureParams, collect_deep, dealer_figure_parts, dealer_figures, dealer_figures_lazy,
};
use analytics::frames::{CHINA_OFFSET_MICROS, Frames, MICROS_PER_DAY, date, micros};
use analytics::polars::prelude::*;
use analytics::{peers, process};
use chrono::{DateTime, Months, NaiveDate, Utc};

// The service's allocator: with glibc's, every column of millions of rows is a fresh mapping whose pages fault in
// (and are zeroed) on each run — more than a third of the pass's CPU time went to the kernel.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    dir: PathBuf,
    out: Option<PathBuf>,
    json: Option<PathBuf>,
    runs: usize,
    now: DateTime<Utc>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    profile: bool,
    explain: bool,
    parts: bool,
    profile_part: Option<String>,
    without: Vec<String>,
}

fn usage() -> String {
    "usage: figures_bench --dir DIR [--out FILE.csv] [--runs 5] [--now RFC3339] [--from DAY --to DAY] \
     [--json FILE] [--profile] [--profile-part NAME] [--explain] [--parts] [--without FRAME,...]"
        .to_string()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        dir: PathBuf::new(),
        out: None,
        json: None,
        runs: 5,
        now: Utc::now(),
        from: None,
        to: None,
        profile: false,
        explain: false,
        parts: false,
        profile_part: None,
        without: Vec::new(),
    };
    let mut dir = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value\n{}", usage()));
        let day = |v: String| NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--out" => args.out = Some(PathBuf::from(value()?)),
            "--json" => args.json = Some(PathBuf::from(value()?)),
            "--runs" => args.runs = value()?.parse::<usize>().map_err(|e| format!("--runs: {e}"))?.max(1),
            "--now" => args.now = DateTime::parse_from_rfc3339(&value()?).map_err(|e| format!("--now: {e}"))?.to_utc(),
            "--from" => args.from = Some(day(value()?)?),
            "--to" => args.to = Some(day(value()?)?),
            "--profile" => args.profile = true,
            "--explain" => args.explain = true,
            "--parts" => args.parts = true,
            "--profile-part" => {
                args.profile = true;
                args.profile_part = Some(value()?);
            }
            "--without" => args.without = value()?.split(',').map(str::to_string).collect(),
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    args.dir = dir.ok_or_else(usage)?;
    Ok(args)
}

/// CPU time (user + system, every thread) of the process so far, from /proc/self/stat (100 ticks a second).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let ticks: u64 = after_name.split_whitespace().skip(11).take(2).filter_map(|t| t.parse::<u64>().ok()).sum();
    Duration::from_millis(ticks * 10)
}

/// Peak resident memory of the process so far (VmHWM).
fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

fn status_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (min, median) in ms; the median of an even count is the mean of the middle two.
fn min_median(times: &[Duration]) -> (f64, f64) {
    let mut v: Vec<f64> = times.iter().copied().map(ms).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    (v[0], median)
}

fn cell(value: AnyValue<'_>) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Int32(i) => i.to_string(),
        AnyValue::Int64(i) => i.to_string(),
        AnyValue::UInt32(i) => i.to_string(),
        AnyValue::UInt64(i) => i.to_string(),
        AnyValue::Float64(f) => format!("{f:?}"),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

fn write_csv(df: &DataFrame, path: &PathBuf) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = csv::Writer::from_path(path)?;
    let columns: Vec<&Column> = FIGURE_COLUMNS.iter().map(|c| df.column(c)).collect::<PolarsResult<_>>()?;
    out.write_record(FIGURE_COLUMNS)?;
    for row in 0..df.height() {
        let record: Vec<String> = columns.iter().map(|c| c.get(row).map(cell)).collect::<PolarsResult<_>>()?;
        out.write_record(&record)?;
    }
    out.flush()?;
    Ok(())
}

/// Runs the query once under polars' profiler and prints its slowest nodes.
fn profile(query: LazyFrame) -> Result<(), Box<dyn std::error::Error>> {
    let (_, timings) = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(scope, move || query.profile())
            .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?
            .join()
            .unwrap_or_else(|_| Err(PolarsError::ComputeError("profiling panicked".into())))
    })?;
    let timings = timings
        .lazy()
        .with_column((col("end") - col("start")).alias("us"))
        .sort(["us"], SortMultipleOptions::default().with_order_descending(true))
        .collect()?;
    let node = timings.column("node")?.str()?.clone();
    let start = timings.column("start")?.cast(&DataType::Int64)?;
    let end = timings.column("end")?.cast(&DataType::Int64)?;
    let us = timings.column("us")?.cast(&DataType::Int64)?;
    let (start, end, us) = (start.i64()?, end.i64()?, us.i64()?);
    let wall = end.max().unwrap_or(0);
    eprintln!(
        "profile: {} nodes, query wall {:.0} ms; slowest nodes (ms, start..end ms):",
        timings.height(),
        wall as f64 / 1e3
    );
    let shown = std::env::var("PROFILE_NODES").ok().and_then(|n| n.parse().ok()).unwrap_or(30);
    for i in 0..timings.height().min(shown) {
        eprintln!(
            "  {:>8.1}  {:>7.0}..{:<7.0} {}",
            us.get(i).unwrap_or(0) as f64 / 1e3,
            start.get(i).unwrap_or(0) as f64 / 1e3,
            end.get(i).unwrap_or(0) as f64 / 1e3,
            node.get(i).unwrap_or("?")
        );
    }
    Ok(())
}

/// Each sub-query of the figures collected on its own, 3 times on each engine: the fastest wall and CPU time.
fn time_parts(frames: &Frames, params: &FigureParams) -> Result<(), Box<dyn std::error::Error>> {
    let (started, cpu_before) = (Instant::now(), cpu_time());
    let parts = dealer_figure_parts(frames, params)?;
    eprintln!(
        "parts: building them (the eager checks on the frames) {:.0} ms, CPU {:.0} ms",
        ms(started.elapsed()),
        ms(cpu_time().saturating_sub(cpu_before))
    );
    eprintln!("parts (fastest of 3; wall / CPU ms):   in-memory          streaming");
    for (name, part) in parts {
        let mut cells = Vec::new();
        for engine in [Engine::InMemory, Engine::Streaming] {
            let mut best = (Duration::MAX, Duration::MAX);
            for _ in 0..3 {
                let (started, cpu_before) = (Instant::now(), cpu_time());
                let query = part.clone();
                std::thread::scope(|scope| {
                    std::thread::Builder::new()
                        .stack_size(256 << 20)
                        .spawn_scoped(scope, move || query.collect_with_engine(engine).map(|_| ()))
                        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?
                        .join()
                        .unwrap_or_else(|_| Err(PolarsError::ComputeError("the part panicked".into())))
                })?;
                best = (best.0.min(started.elapsed()), best.1.min(cpu_time().saturating_sub(cpu_before)));
            }
            cells.push(format!("{:>7.0} / {:<7.0}", ms(best.0), ms(best.1)));
        }
        eprintln!("  {name:<16} {}", cells.join("  "));
    }
    Ok(())
}

/// Each frame's estimated size in memory.
fn print_sizes(frames: &Frames) {
    let mib = |df: &DataFrame| df.estimated_size() as f64 / (1024.0 * 1024.0);
    let sizes = [
        ("dealers", &frames.dealers),
        ("policies", &frames.policies),
        ("policy_versions", &frames.policy_versions),
        ("coverages", &frames.coverages),
        ("commission_ledger", &frames.commissions),
        ("claims", &frames.claims),
        ("claim_cycles", &frames.claim_cycles),
        ("reserve_movements", &frames.reserves),
        ("payments", &frames.payments),
        ("repair_referrals", &frames.referrals),
        ("feedback", &frames.feedback),
    ];
    let total: f64 = sizes.iter().map(|(_, df)| mib(df)).sum();
    let each: Vec<String> = sizes.iter().map(|(name, df)| format!("{name} {:.0}", mib(df))).collect();
    eprintln!("  frames in memory: {total:.0} MiB ({})", each.join(", "));
}

/// Replaces the named frames with empty ones (same columns).
fn empty_frames(frames: &mut Frames, names: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let empty = Frames::empty()?;
    for name in names {
        let (slot, blank) = match name.as_str() {
            "dealers" => (&mut frames.dealers, empty.dealers.clone()),
            "policies" => (&mut frames.policies, empty.policies.clone()),
            "policy_versions" => (&mut frames.policy_versions, empty.policy_versions.clone()),
            "coverages" => (&mut frames.coverages, empty.coverages.clone()),
            "commission_ledger" => (&mut frames.commissions, empty.commissions.clone()),
            "claims" => (&mut frames.claims, empty.claims.clone()),
            "claim_cycles" => (&mut frames.claim_cycles, empty.claim_cycles.clone()),
            "reserve_movements" => (&mut frames.reserves, empty.reserves.clone()),
            "payments" => (&mut frames.payments, empty.payments.clone()),
            "repair_referrals" => (&mut frames.referrals, empty.referrals.clone()),
            "feedback" => (&mut frames.feedback, empty.feedback.clone()),
            other => return Err(format!("--without: no frame {other}").into()),
        };
        *slot = blank;
    }
    Ok(())
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let today = date(((micros(args.now) + CHINA_OFFSET_MICROS).div_euclid(MICROS_PER_DAY)) as i32);
    let to = args.to.unwrap_or_else(|| today.succ_opt().unwrap_or(today));
    let from = args.from.unwrap_or_else(|| to.checked_sub_months(Months::new(12)).unwrap_or(to));
    let params = FigureParams::new(from, to, args.now);
    let settings: Vec<String> = process::BATCH_ALLOCATOR_SETTINGS
        .iter()
        .map(|(variable, _)| format!("{variable}={}", std::env::var(variable).unwrap_or_default()))
        .collect();
    eprintln!(
        "figures_bench: {} from {from} to {to} (exclusive), now {}, {} runs, {} cores, {}",
        args.dir.display(),
        args.now.to_rfc3339(),
        args.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        settings.join(" ")
    );

    let mut reads = Vec::with_capacity(args.runs);
    let mut passes = Vec::with_capacity(args.runs);
    let mut pass_cpus = Vec::with_capacity(args.runs);
    let mut peer_passes = Vec::with_capacity(args.runs);
    let mut result = None;
    for run in 1..=args.runs {
        let started = Instant::now();
        let mut frames = Frames::read_for_figures(&args.dir)?;
        let read = started.elapsed();
        let rss_after_read = status_mib("VmRSS:");
        if run == 1 {
            print_sizes(&frames);
        }
        empty_frames(&mut frames, &args.without)?;
        let started = Instant::now();
        let cpu_before = cpu_time();
        let df = dealer_figures(&frames, &params)?;
        let pass = started.elapsed();
        let pass_cpu = cpu_time().saturating_sub(cpu_before);
        let started = Instant::now();
        let comparison = collect_deep(peers::compare(&frames.dealers, &df)?)?;
        let scores = collect_deep(peers::composite(comparison.clone().lazy()))?;
        let peer_pass = started.elapsed();
        eprintln!(
            "  run {run}: read {:.0} ms ({} rows, RSS {:.0} MiB), figures {:.0} ms (CPU {:.0} ms, {} dealers), peers {:.0} ms ({} comparisons, {} scores), peak RSS so far {:.0} MiB",
            ms(read),
            frames.rows(),
            rss_after_read,
            ms(pass),
            ms(pass_cpu),
            df.height(),
            ms(peer_pass),
            comparison.height(),
            scores.height(),
            peak_rss_mib()
        );
        reads.push(read);
        passes.push(pass);
        pass_cpus.push(pass_cpu);
        peer_passes.push(peer_pass);
        if run == args.runs && args.explain {
            let plan = dealer_figures_lazy(&frames, &params)?.explain(true)?;
            eprintln!("optimised plan:\n{plan}");
        }
        if run == args.runs && args.profile {
            let query = match &args.profile_part {
                Some(name) => dealer_figure_parts(&frames, &params)?
                    .into_iter()
                    .find_map(|(part, query)| (part == name.as_str()).then_some(query))
                    .ok_or_else(|| format!("--profile-part: no part {name}"))?,
                None => dealer_figures_lazy(&frames, &params)?,
            };
            profile(query)?;
        }
        if run == args.runs && args.parts {
            time_parts(&frames, &params)?;
        }
        result = Some(df);
    }
    let peak = peak_rss_mib();
    let (read_min, read_median) = min_median(&reads);
    let (pass_min, pass_median) = min_median(&passes);
    let (peers_min, peers_median) = min_median(&peer_passes);
    println!("engine  read min/median ms  figures min/median ms  peers min/median ms  peak RSS MiB");
    println!(
        "polars  {read_min:>8.0} / {read_median:<8.0}  {pass_min:>8.0} / {pass_median:<8.0}  \
         {peers_min:>8.0} / {peers_median:<8.0}   {peak:>8.0}"
    );

    if let (Some(path), Some(df)) = (&args.out, &result) {
        write_csv(df, path)?;
        eprintln!("wrote {} dealers to {}", df.height(), path.display());
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "engine": "polars",
            "from": from.to_string(),
            "to": to.to_string(),
            "now": args.now.to_rfc3339(),
            "runs": args.runs,
            "read_ms": reads.iter().copied().map(ms).collect::<Vec<_>>(),
            "figures_ms": passes.iter().copied().map(ms).collect::<Vec<_>>(),
            "figures_cpu_ms": pass_cpus.iter().copied().map(ms).collect::<Vec<_>>(),
            "peers_ms": peer_passes.iter().copied().map(ms).collect::<Vec<_>>(),
            "read_ms_min": read_min,
            "read_ms_median": read_median,
            "figures_ms_min": pass_min,
            "figures_ms_median": pass_median,
            "peak_rss_mib": peak,
        });
        std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    // The allocator settings `autochannel analytics` runs with (src/main.rs), so that the bench measures what the
    // command does; a value already set is kept, so others can be tried.
    if let Some(error) = process::restart_with(&process::BATCH_ALLOCATOR_SETTINGS) {
        eprintln!("figures_bench: could not restart with the analytics process settings ({error})");
    }
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
            eprintln!("figures_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
