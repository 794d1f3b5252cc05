//! The `autochannel` command line: serve, migrate, manage users, load demo
//! data and verify the audit trail. Errors print one line and exit non-zero.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, bail};
use base64::Engine;
use chrono::Utc;
use clap::{Parser, Subcommand};
use rand::RngCore;
use rust_decimal::Decimal;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use sea_orm_migration::MigratorTrait;
use tracing_subscriber::EnvFilter;

use crate::app::{self, AppState};
use crate::config::{DatabaseConfig, ServeConfig};
use crate::db::{self, Migrator};
use crate::demo::{self, DemoOptions};
use crate::domain::auth::{Role, hash_password, password_problem};
use crate::store::PageRequest;
use crate::store::audit::{self, Actor, Verification};
use crate::store::begin_write;
use crate::store::users::{self, NewUser, UserChange, UserFilter};

#[derive(Debug, Parser)]
#[command(
    name = "autochannel",
    version,
    about = "Auto insurance through car dealers: underwriting, claims, commission, dealer monitoring"
)]
pub struct Cli {
    #[command(flatten)]
    database: DatabaseConfig,

    /// Log filter, e.g. `info` or `autochannel=debug,tower_http=info`. By default the database driver's notices
    /// and the migrator's step-by-step lines are left out: every command migrates first, and they buried its output.
    #[arg(
        long,
        env = "AUTOCHANNEL_LOG",
        value_name = "AUTOCHANNEL_LOG",
        default_value = "info,sqlx=warn,sea_orm_migration=warn",
        global = true
    )]
    log: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate to the latest schema, then serve the web pages and the API.
    Serve {
        /// Fill an empty database with demo data and create one login per role.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        config: ServeConfig,
    },
    /// Apply, roll back or list schema migrations.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Fill an empty database with deterministic demo data.
    DemoData {
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        dealers: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Policies to issue over the last 13 months; 100 per dealer when left out.
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=50_000_000))]
        policies: Option<u64>,
        /// Claims per vehicle-year of cover (DOMAIN.md: 10–25% of policies a year have a claim).
        #[arg(long, default_value_t = 0.17, value_parser = parse_claim_rate)]
        claim_rate: f64,
    },
    /// Commission statements and their ledger.
    Commission {
        #[command(subcommand)]
        action: CommissionCommand,
    },
    /// Dealer alerts.
    Alerts {
        #[command(subcommand)]
        action: AlertsCommand,
    },
    /// The monitoring totals the dashboards read (kept by every write).
    Monitoring {
        #[command(subcommand)]
        action: MonitoringCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Write a consistent copy of the database to FILE while the service keeps running
    /// (SQLite: an online copy with `VACUUM INTO`; PostgreSQL: `pg_dump` in its custom format).
    Backup {
        /// The new file; an existing file is never overwritten.
        file: std::path::PathBuf,
    },
    /// Write the analytics frames (policies, coverages, claims with reserve and payment movements, commission
    /// ledger, repair referrals, feedback, dealers) as Parquet files, one per frame, for `analytics … --from-parquet`.
    Export {
        /// The directory to write into (created if missing).
        #[arg(long)]
        parquet: std::path::PathBuf,
    },
    /// Actuarial and dealer analytics.
    Analytics {
        #[command(subcommand)]
        action: AnalyticsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AnalyticsCommand {
    /// Develop cumulative triangles with the chain ladder (Mack 1993): volume-weighted age-to-age factors,
    /// cumulative factors to ultimate, ultimates and IBNR per origin and in total.
    ChainLadder {
        /// CSV with the columns triangle,origin,age,value (cumulative values; several triangles per file).
        #[arg(long)]
        triangle: std::path::PathBuf,
        #[arg(long, value_enum, default_value_t = TriangleFormat::Json)]
        format: TriangleFormat,
        /// Tail factor applied beyond the last development age (1 = none).
        #[arg(long, default_value_t = 1.0)]
        tail: f64,
    },
    /// Every dealer's monitoring figures, ultimate loss ratio (chain ladder per dealer) and position among its
    /// peers (region, brand, size band, portfolio) for a period, written to a file.
    Dealers(DealersArgs),
}

#[derive(Debug, clap::Args)]
struct DealersArgs {
    /// month, quarter, year_to_date, rolling_12_months (around --on), or a named period: 2026-10, 2026Q3, 2026.
    #[arg(long, default_value = "rolling_12_months")]
    period: String,
    /// The day the figures are taken as of (default: today, China time): the period containing it, to the end of
    /// that day.
    #[arg(long)]
    on: Option<chrono::NaiveDate>,
    /// Read the frames from this `export --parquet` directory instead of the database.
    #[arg(long)]
    from_parquet: Option<std::path::PathBuf>,
    /// The file to write: .csv, .parquet or .xlsx.
    #[arg(long)]
    out: std::path::PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TriangleFormat {
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Roll back the latest migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input or a prompt, never from the command line.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, help = format!("one of: {}", Role::ALL.map(Role::as_str).join(", ")))]
        role: String,
        /// Shown in pages; defaults to the name.
        #[arg(long)]
        display_name: Option<String>,
        /// Dealer code, repeat for several (sales assistants and dealer staff).
        #[arg(long = "dealer")]
        dealers: Vec<String>,
        /// Claims settlement authority in CNY.
        #[arg(long)]
        authority_limit: Option<Decimal>,
    },
    /// List users.
    List {
        #[arg(long)]
        role: Option<String>,
    },
    /// Disable a user and end their sessions.
    Disable { name: String },
}

#[derive(Debug, Subcommand)]
enum CommissionCommand {
    /// Check every statement against the ledger; print each difference and exit 1 on any.
    Reconcile,
    /// Close a month: book the volume-tier true-ups and draw up each dealer's draft statement.
    CloseMonth {
        /// The month, as YYYY-MM.
        #[arg(long, value_parser = parse_month)]
        month: chrono::NaiveDate,
    },
}

#[derive(Debug, Subcommand)]
enum AlertsCommand {
    /// Raise the alerts for every dealer, each with its own thresholds, on the rolling 12 months to the end of the day
    /// (run daily).
    Raise {
        /// The day to judge as of (default: today, China time).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
enum MonitoringCommand {
    /// Recompute every dealer's monthly totals from the policies, claims and ledger (after a bulk load).
    Rebuild,
    /// Compare the stored totals with totals recomputed from the facts; print each difference and exit 1 on any.
    Verify,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain; print OK with the count, or the first broken record and exit 1.
    Verify,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = match EnvFilter::try_new(&cli.log) {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("error: AUTOCHANNEL_LOG: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Analytics on files needs no database.
    if let Command::Analytics { action: AnalyticsCommand::ChainLadder { triangle, format, tail } } = &cli.command {
        return chain_ladder(triangle, *format, *tail);
    }
    if let Command::Analytics { action: AnalyticsCommand::Dealers(args @ DealersArgs { from_parquet: Some(_), .. }) } =
        &cli.command
    {
        return analytics_dealers(None, args).await;
    }
    let db = db::connect_with_pool(&cli.database.database_url, cli.database.pool.unwrap_or_else(db::default_pool))
        .await
        .with_context(|| format!("DATABASE_URL: cannot open {}", redact(&cli.database.database_url)))?;
    match cli.command {
        Command::Serve { demo, config } => serve(db, config, demo).await,
        Command::Migrate { action } => migrate(&db, action.unwrap_or(MigrateAction::Up)).await,
        Command::User { action } => user(&db, action).await,
        Command::DemoData { dealers, seed, policies, claim_rate } => {
            db::migrate(&db).await?;
            let options = DemoOptions { dealers, seed, as_of: Utc::now().date_naive() };
            let started = std::time::Instant::now();
            let data = demo::load(&db, &options).await?;
            let count = policies.unwrap_or(u64::from(dealers) * 100);
            let issued = demo::load_policies(&db, &options, usize::try_from(count)?).await?;
            let policies_done = started.elapsed().as_secs_f64();
            let claims = demo::load_claims(&db, &options, Utc::now(), claim_rate).await?;
            let claims_done = started.elapsed().as_secs_f64();
            let (agreements, refused, entries, statements) = demo::load_commission(&db, &options).await?;
            let commission_done = started.elapsed().as_secs_f64();
            let (feedback, visits, complaints, surveys) = demo::load_store_side(&db, &options).await?;
            refresh_statistics(&db).await?;
            let total = started.elapsed().as_secs_f64();
            println!(
                "timings: dealers and policies {policies_done:.1} s, claims {:.1} s, commission and alerts {:.1} s, \
                 store side {:.1} s",
                claims_done - policies_done,
                commission_done - claims_done,
                total - commission_done
            );
            println!(
                "store side: {feedback} feedback notes, {visits} visits, {complaints} complaints, {surveys} surveys"
            );
            println!(
                "demo data: {} dealers, {} staff, {issued} policies, {claims} claims, {agreements} commission agreements \
                 ({refused} refused as outside the filed range), {entries} ledger entries, {statements} statements \
                 (seed {seed}) in {:.1} s",
                data.dealers.len(),
                data.staff.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Commission { action: CommissionCommand::Reconcile } => {
            let differences = crate::store::commission::reconcile(&db).await?;
            if differences.is_empty() {
                let statements = entity::commission_statements::Entity::find().count(&db).await?;
                println!("OK: {statements} statements reconcile with the ledger to the fen");
                Ok(ExitCode::SUCCESS)
            } else {
                for difference in &differences {
                    println!("DIFFERENCE: {}", difference.message);
                }
                println!("{} differences", differences.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Commission { action: CommissionCommand::CloseMonth { month } } => {
            let tx = crate::store::begin_write(&db).await?;
            let created = crate::store::commission::close_month(&tx, &Actor::system("cli"), month).await?;
            tx.commit().await?;
            println!("{}: {} draft statements", month.format("%Y-%m"), created.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Alerts { action: AlertsCommand::Raise { on } } => {
            let tx = crate::store::begin_write(&db).await?;
            let on = on.unwrap_or_else(crate::store::quotes::today);
            let targets = ServeConfig::default().service_targets();
            let raised = crate::store::monitoring::raise_alerts(&tx, &Actor::system("cli"), on, &targets).await?;
            tx.commit().await?;
            let judged =
                crate::domain::monitoring::Period::to_date(crate::domain::monitoring::PeriodKind::Rolling12Months, on);
            println!("{}: {raised} new alerts", judged.label(" – "));
            Ok(ExitCode::SUCCESS)
        }
        Command::Analytics { action: AnalyticsCommand::ChainLadder { triangle, format, tail } } => {
            chain_ladder(&triangle, format, tail)
        }
        Command::Monitoring { action: MonitoringCommand::Rebuild } => {
            db::migrate(&db).await?;
            let started = std::time::Instant::now();
            let rebuilt = crate::store::totals::rebuild(&db, &ServeConfig::default().service_targets()).await?;
            println!(
                "monitoring totals rebuilt: {} rows of dealers' months and days, {} of claim development, {} closed-claim cycles in {:.1} s",
                rebuilt.total_rows,
                rebuilt.development_rows,
                rebuilt.claim_cycles,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Monitoring { action: MonitoringCommand::Verify } => {
            let differences = crate::store::totals::verify(&db, &ServeConfig::default().service_targets()).await?;
            if differences.is_empty() {
                println!("OK: the monitoring totals equal the totals recomputed from the facts");
                Ok(ExitCode::SUCCESS)
            } else {
                for d in &differences {
                    println!("DIFFERENCE: {}: stored {:?}, from the facts {:?}", d.row, d.stored, d.from_facts);
                }
                println!("{} differences", differences.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Analytics { action: AnalyticsCommand::Dealers(args) } => analytics_dealers(Some(&db), &args).await,
        Command::Export { parquet } => export_parquet(&db, &parquet).await,
        Command::Backup { file } => backup(&db, &cli.database.database_url, &file).await,
        Command::Audit { action: AuditCommand::Verify } => match audit::verify(&db).await? {
            Verification::Intact { records } => {
                println!("OK: {records} audit records, chain intact");
                Ok(ExitCode::SUCCESS)
            }
            Verification::Broken { checked, first_break } => {
                println!("BROKEN after {checked} good records: {first_break}");
                Ok(ExitCode::FAILURE)
            }
        },
    }
}

/// A spinner on a terminal (hidden otherwise) for the steps of a long job.
fn steps_spinner() -> indicatif::ProgressBar {
    let spinner = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    spinner.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// Loads the frames from the database and says how long each took (the load is the slow part on a big
/// database).
async fn load_frames(
    db: &DatabaseConnection,
    spinner: &indicatif::ProgressBar,
) -> anyhow::Result<analytics::frames::Frames> {
    let mut last = std::time::Instant::now();
    let mut timings = Vec::new();
    let frames = crate::store::frames::load(db, crate::store::quotes::today(), |name, rows| {
        spinner.set_message(format!("loaded {name}: {rows} rows"));
        timings.push(format!("{name} {rows} rows {:.2} s", last.elapsed().as_secs_f64()));
        last = std::time::Instant::now();
    })
    .await?;
    spinner.suspend(|| println!("loaded from the database: {}", timings.join(", ")));
    Ok(frames)
}

async fn export_parquet(db: &DatabaseConnection, dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("--parquet: cannot create {}", dir.display()))?;
    let started = std::time::Instant::now();
    let spinner = steps_spinner();
    let frames = load_frames(db, &spinner).await?;
    frames.write_parquet(dir, |name, rows| {
        spinner.set_message(format!("wrote {name}: {rows} rows"));
        println!("{}: {rows} rows", dir.join(format!("{name}.parquet")).display());
    })?;
    spinner.finish_and_clear();
    println!("exported {} rows in {:.1} s", frames.rows(), started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

async fn analytics_dealers(db: Option<&DatabaseConnection>, args: &DealersArgs) -> anyhow::Result<ExitCode> {
    let on = args.on.unwrap_or_else(crate::store::quotes::today);
    let Some(period) = crate::analysis::parse_period(&args.period, on) else {
        eprintln!(
            "--period {}: choose month, quarter, year_to_date, rolling_12_months, or name one like 2026-10, 2026Q3, 2026",
            args.period
        );
        return Ok(ExitCode::from(2));
    };
    let extension = args.out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if !matches!(extension.as_deref(), Some("csv" | "parquet" | "xlsx")) {
        eprintln!("--out {}: the file must end in .csv, .parquet or .xlsx", args.out.display());
        return Ok(ExitCode::from(2));
    }
    let started = std::time::Instant::now();
    let spinner = steps_spinner();
    let frames = match (&args.from_parquet, db) {
        (Some(dir), _) => {
            spinner.set_message(format!("reading {}", dir.display()));
            // Only what the figures read: the coverages alone are a fifth of the frames' memory.
            match analytics::frames::Frames::read_for_figures(dir) {
                Ok(frames) => frames,
                Err(e) => {
                    spinner.finish_and_clear();
                    eprintln!("--from-parquet: {e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        (None, Some(db)) => load_frames(db, &spinner).await?,
        (None, None) => bail!("no database and no --from-parquet"),
    };
    let loaded = started.elapsed().as_secs_f64();
    let snapshot = crate::analysis::compute(
        &frames,
        period,
        Utc::now(),
        &ServeConfig::default().service_targets(),
        &crate::domain::monitoring::Bands::default(),
        |step| spinner.set_message(format!("computing {step}")),
    )?;
    spinner.set_message(format!("writing {}", args.out.display()));
    crate::analysis::write_table(&snapshot.table(), &args.out)?;
    spinner.finish_and_clear();
    println!(
        "{}: {} dealers, {}; loaded in {loaded:.1} s, computed and written in {:.1} s",
        args.out.display(),
        snapshot.dealers.height(),
        period.label(" – "),
        started.elapsed().as_secs_f64() - loaded
    );
    Ok(ExitCode::SUCCESS)
}

fn chain_ladder(path: &std::path::Path, format: TriangleFormat, tail: f64) -> anyhow::Result<ExitCode> {
    use analytics::{chain_ladder, triangle_io};
    let file = std::fs::File::open(path).with_context(|| format!("--triangle: cannot open {}", path.display()))?;
    let triangles = match triangle_io::read_triangles_csv(std::io::BufReader::new(file)) {
        Ok(triangles) => triangles,
        Err(e) => {
            eprintln!("{}: nothing developed, fix these first:\n{e}", path.display());
            return Ok(ExitCode::from(2));
        }
    };
    let mut developments = Vec::with_capacity(triangles.len());
    for triangle in &triangles {
        match chain_ladder::develop_with_tail(triangle, None, tail) {
            Ok(development) => developments.push(development),
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return Ok(ExitCode::from(2));
            }
        }
    }
    let stdout = std::io::stdout().lock();
    match format {
        TriangleFormat::Json => triangle_io::write_json(&developments, stdout)?,
        TriangleFormat::Csv => triangle_io::write_csv(&developments, stdout)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// After a bulk load the planner's statistics describe empty tables; without fresh ones PostgreSQL
/// picked plans 2–3 times slower for the claims queue on the load database.
async fn refresh_statistics(db: &DatabaseConnection) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("ANALYZE").await.context("refreshing the planner's statistics")?;
    Ok(())
}

async fn backup(db: &DatabaseConnection, url: &str, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    use sea_orm::ConnectionTrait;
    if file.exists() {
        bail!("{} exists; a backup never overwrites a file, choose a new name", file.display());
    }
    let started = std::time::Instant::now();
    // Audit records still in the inbox go onto the chain first, so the copy verifies as a whole.
    audit::seal(db).await.context("sealing pending audit records")?;
    if url.starts_with("sqlite:") {
        let path = file.to_str().context("the backup file name is not valid UTF-8")?;
        // One statement, one read transaction: writers carry on, the copy is as of its start.
        db.execute_unprepared(&format!("VACUUM INTO '{}'", path.replace('\'', "''")))
            .await
            .with_context(|| format!("writing {}", file.display()))?;
    } else {
        let status = std::process::Command::new("pg_dump")
            .args(["--format=custom", "--no-owner", "--file"])
            .arg(file)
            .arg("--dbname")
            .arg(url)
            .status()
            .context("running pg_dump (install PostgreSQL's client tools)")?;
        if !status.success() {
            bail!("pg_dump failed ({status}); nothing was written to {}", file.display());
        }
    }
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!("backup written: {} ({bytes} bytes) in {:.1} s", file.display(), started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// Hides a password in a database URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn serve(db: DatabaseConnection, config: ServeConfig, with_demo: bool) -> anyhow::Result<ExitCode> {
    db::migrate(&db).await.context("migrating the database")?;
    if with_demo {
        if crate::store::demo::has_dealers(&db).await? {
            tracing::info!("the database already has data; --demo adds nothing");
        } else {
            let today = Utc::now().date_naive();
            let options = DemoOptions { dealers: 20, seed: 1, as_of: today };
            demo::load(&db, &options).await?;
            demo::load_policies(&db, &options, 2_000).await?;
            demo::load_claims(&db, &options, Utc::now(), 0.17).await?;
            demo::load_commission(&db, &options).await?;
            demo::load_store_side(&db, &options).await?;
            refresh_statistics(&db).await?;
            let (password, generated) = match std::env::var("AUTOCHANNEL_DEMO_PASSWORD") {
                Ok(password) if !password.is_empty() => (password, false),
                _ => (random_password(), true),
            };
            if let Some(problem) = password_problem(&password) {
                bail!("AUTOCHANNEL_DEMO_PASSWORD: {problem}");
            }
            demo::create_logins(&db, &password, today).await?;
            let shown = if generated { password.as_str() } else { "(from AUTOCHANNEL_DEMO_PASSWORD)" };
            println!(
                "demo logins: admin, manager, underwriter, adjuster, claims_lead, assistant, dealer; password: {shown}"
            );
        }
    }
    if let Some(rebuilt) = crate::store::totals::ensure_built(&db, &config.service_targets()).await? {
        tracing::info!(total_rows = rebuilt.total_rows, "monitoring totals built from the facts");
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("AUTOCHANNEL_BIND: cannot listen on {}", config.bind))?;
    println!("autochannel listening on http://{}", listener.local_addr()?);
    app::serve(listener, AppState::new(db, config), app::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

fn random_password() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn migrate(db: &DatabaseConnection, action: MigrateAction) -> anyhow::Result<ExitCode> {
    match action {
        MigrateAction::Up => {
            Migrator::up(db, None).await?;
            println!("migrated to the latest schema");
        }
        MigrateAction::Down => {
            Migrator::down(db, Some(1)).await?;
            println!("rolled back the latest migration");
        }
        MigrateAction::Status => {
            for migration in Migrator::get_migration_with_status(db).await? {
                println!("{:<50} {}", migration.name(), migration.status());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn user(db: &DatabaseConnection, action: UserCommand) -> anyhow::Result<ExitCode> {
    db::migrate(db).await?;
    let actor = Actor::system("cli");
    match action {
        UserCommand::Add { name, role, display_name, dealers, authority_limit } => {
            let Some(role) = Role::parse(&role) else {
                bail!("--role: {role:?} is not a role; use one of {}", Role::ALL.map(Role::as_str).join(", "));
            };
            let password = read_password()?;
            if let Some(problem) = password_problem(&password) {
                bail!("password: {problem}");
            }
            let password_hash = hash_password(&password).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
            let new = NewUser {
                display_name: display_name.unwrap_or_else(|| name.clone()),
                username: name,
                role,
                password_hash,
                dealer_codes: dealers,
                authority_limit,
            };
            let tx = begin_write(db).await?;
            let user = users::create(&tx, &actor, new).await.map_err(describe)?;
            tx.commit().await?;
            println!("added user {} ({}) with id {}", user.username, user.role.as_str(), user.id);
        }
        UserCommand::List { role } => {
            let role = match role {
                Some(name) => Some(Role::parse(&name).with_context(|| format!("--role: {name:?} is not a role"))?),
                None => None,
            };
            let mut page = 1;
            println!("{:<6} {:<20} {:<16} {:<9} display name", "id", "username", "role", "status");
            loop {
                let listed =
                    users::list(db, &UserFilter { role, search: None }, PageRequest::new(Some(page), Some(200)))
                        .await
                        .map_err(describe)?;
                for u in &listed.items {
                    let status = if u.disabled { "disabled" } else { "active" };
                    println!("{:<6} {:<20} {:<16} {:<9} {}", u.id, u.username, u.role.as_str(), status, u.display_name);
                }
                if page >= listed.pages() {
                    break;
                }
                page += 1;
            }
        }
        UserCommand::Disable { name } => {
            let Some(row) = users::find_by_username(db, &name).await.map_err(describe)? else {
                bail!("no user is named {name:?}");
            };
            let tx = begin_write(db).await?;
            users::update(
                &tx,
                &actor,
                row.id,
                UserChange { version: row.version, disabled: Some(true), ..Default::default() },
            )
            .await
            .map_err(describe)?;
            tx.commit().await?;
            println!("disabled {name}; their sessions are ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per refused field, for the terminal.
fn describe(error: crate::error::AppError) -> anyhow::Error {
    match error {
        crate::error::AppError::Validation(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            anyhow::anyhow!("{}", lines.join("; "))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// From a prompt (twice, to catch typos) on a terminal, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let second = rpassword::prompt_password("again: ")?;
        if first != second {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn parse_claim_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=5.0).contains(&rate) => Ok(rate),
        _ => Err("a number of claims per vehicle-year from 0 to 5, e.g. 0.17".into()),
    }
}

fn parse_month(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
        .map_err(|_| "a month as YYYY-MM, e.g. 2026-10".to_string())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_in_database_urls_are_hidden() {
        assert_eq!(redact("postgres://app:secret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact("postgres://postgres@127.0.0.1/x"), "postgres://postgres@127.0.0.1/x");
        assert_eq!(redact("sqlite://autochannel.db"), "sqlite://autochannel.db");
    }
}
