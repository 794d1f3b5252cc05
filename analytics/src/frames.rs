//! The frames analytics reads: one per kind of record, columns named and typed here once.
//!
//! The service fills them from the database (streamed rows pushed straight into columns) and
//! `autochannel export --parquet DIR` writes them as `DIR/<frame>.parquet`; every analytics
//! command can read them back from there instead of the database.
//!
//! Money is integer fen (`Int64`), days are `Date`, instants are `Datetime(µs)` in UTC. Periods
//! are cut in China-local days (UTC+8, no daylight saving), as the service does.

use std::fs::File;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;
use polars::series::IsSorted;

/// Microseconds in a day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;
/// China is UTC+8 all year.
pub const CHINA_OFFSET_MICROS: i64 = 8 * 3_600_000_000;

/// Days since 1970-01-01, as polars stores a `Date`.
pub fn days(day: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    i32::try_from((day - epoch).num_days()).unwrap_or(if day < epoch { i32::MIN } else { i32::MAX })
}

/// The day `days` after 1970-01-01.
pub fn date(days: i32) -> NaiveDate {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    epoch.checked_add_signed(chrono::TimeDelta::days(i64::from(days))).unwrap_or(NaiveDate::MAX)
}

/// Microseconds since the epoch, as polars stores a `Datetime(µs)`.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// Column kinds a frame is made of.
#[doc(hidden)]
#[macro_export]
macro_rules! column_kind {
    (type i64) => { i64 };
    (type opt_i64) => { Option<i64> };
    (type i32) => { i32 };
    (type date) => { i32 };
    (type opt_date) => { Option<i32> };
    (type timestamp) => { i64 };
    (type str) => { String };
    (type bool) => { bool };
    (dtype i64) => { DataType::Int64 };
    (dtype opt_i64) => { DataType::Int64 };
    (dtype i32) => { DataType::Int32 };
    (dtype date) => { DataType::Date };
    (dtype opt_date) => { DataType::Date };
    (dtype timestamp) => { DataType::Datetime(TimeUnit::Microseconds, None) };
    (dtype str) => { DataType::String };
    (dtype bool) => { DataType::Boolean };
}

macro_rules! frame {
    ($(#[$doc:meta])* $name:ident = $file:literal { $($(#[$field_doc:meta])* $field:ident: $kind:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Default, Clone)]
        pub struct $name {
            $($(#[$field_doc])* pub $field: Vec<column_kind!(type $kind)>,)+
        }

        impl $name {
            /// The frame's name, also its Parquet file's stem.
            pub const NAME: &'static str = $file;

            /// Column names and types, in order.
            pub fn schema() -> Vec<(&'static str, DataType)> {
                vec![$((stringify!($field), column_kind!(dtype $kind))),+]
            }

            /// Appends one row.
            #[allow(clippy::too_many_arguments)]
            pub fn push(&mut self, $($field: column_kind!(type $kind)),+) {
                $(self.$field.push($field);)+
            }

            /// The rows as a frame with the declared types.
            pub fn into_frame(self) -> PolarsResult<DataFrame> {
                let columns = vec![$(
                    Column::new(stringify!($field).into(), self.$field).cast(&column_kind!(dtype $kind))?
                ),+];
                DataFrame::new_infer_height(columns)
            }
        }
    };
}

/// Numbers a frame's `vehicle_id` keys (hashes of VINs, spread over 63 bits) 1, 2, 3, … in key order, so that the
/// exposure sweep can pack a dealer, a vehicle and two days into one sortable integer; equal keys stay equal.
pub fn dense_vehicle_ids(policies: DataFrame) -> PolarsResult<DataFrame> {
    policies
        .lazy()
        .with_column(
            col("vehicle_id")
                .rank(RankOptions { method: RankMethod::Dense, descending: false }, None)
                .cast(DataType::Int64)
                .alias("vehicle_id"),
        )
        .collect()
}

frame! {
    /// Dealers with what peer groups are cut by.
    DealerRows = "dealers" {
        dealer_id: i64,
        code: str,
        name: str,
        region: str,
        /// The first brand the dealer sells; peers are cut by it.
        brand: str,
        dealer_group: str,
        /// active | suspended | remediation
        status: str,
    }
}

frame! {
    /// Policies as issued (with the cancellation, if any).
    PolicyRows = "policies" {
        policy_id: i64,
        /// The car: compulsory and commercial policies of one VIN share it, so exposure counts the car once.
        vehicle_id: i64,
        dealer_id: i64,
        product: str,
        business_type: str,
        start: date,
        /// Exclusive.
        end: date,
        cancelled_from: opt_date,
        premium_fen: i64,
        pricing_coefficient_micros: i64,
        renewal_of_policy_id: opt_i64,
    }
}

frame! {
    /// Every version of a policy: issue, endorsements, cancellation.
    PolicyVersionRows = "policy_versions" {
        policy_id: i64,
        dealer_id: i64,
        seq: i32,
        /// issue | endorse | cancel
        kind: str,
        effective_on: date,
        created_at: timestamp,
        premium_after_fen: i64,
        adjustment_fen: i64,
    }
}

frame! {
    /// Premium per coverage of each policy.
    CoverageRows = "coverages" {
        policy_id: i64,
        kind: str,
        code: str,
        premium_fen: i64,
    }
}

frame! {
    /// The commission ledger.
    CommissionRows = "commission_ledger" {
        dealer_id: i64,
        booked_on: date,
        amount_fen: i64,
    }
}

frame! {
    /// Claims as they stand now.
    ClaimRows = "claims" {
        claim_id: i64,
        dealer_id: i64,
        accident_on: date,
        reported_at: timestamp,
        stage: str,
        stage_since: timestamp,
    }
}

frame! {
    /// The cycle of each claim that is closed now (the service keeps one row per closure and drops it when the
    /// claim reopens): when it closed, report to close, and the time spent in each open stage (`None`: never
    /// entered), all in microseconds.
    ClaimCycleRows = "claim_cycles" {
        claim_id: i64,
        dealer_id: i64,
        closed_at: timestamp,
        report_to_close_us: i64,
        reported_us: opt_i64,
        registered_us: opt_i64,
        surveyed_us: opt_i64,
        settled_us: opt_i64,
    }
}

frame! {
    /// Case-reserve movements; a claim's reserve is their sum.
    ReserveRows = "reserve_movements" {
        claim_id: i64,
        at: timestamp,
        amount_fen: i64,
    }
}

frame! {
    /// Claim payments.
    PaymentRows = "payments" {
        claim_id: i64,
        dealer_id: i64,
        paid_on: date,
        amount_fen: i64,
    }
}

frame! {
    /// Repairs sent to a dealer's own workshop.
    ReferralRows = "repair_referrals" {
        dealer_id: i64,
        referred_on: date,
        value_fen: i64,
    }
}

frame! {
    /// Daily feedback and complaints from the stores.
    FeedbackRows = "feedback" {
        dealer_id: i64,
        /// feedback | complaint
        kind: str,
        on: date,
        category: str,
        /// Complaints: open until resolved; feedback: new until read.
        open: bool,
        /// Complaints past their due day while open.
        overdue: bool,
    }
}

/// Whether the values never decrease.
fn ascending(values: &Int64Chunked) -> bool {
    let mut last = i64::MIN;
    values.downcast_iter().all(|chunk| {
        chunk.values().iter().all(|&value| {
            let in_order = value >= last;
            last = value;
            in_order
        })
    })
}

/// Every frame analytics reads.
#[derive(Debug, Clone)]
pub struct Frames {
    pub dealers: DataFrame,
    pub policies: DataFrame,
    pub policy_versions: DataFrame,
    pub coverages: DataFrame,
    pub commissions: DataFrame,
    pub claims: DataFrame,
    pub claim_cycles: DataFrame,
    pub reserves: DataFrame,
    pub payments: DataFrame,
    pub referrals: DataFrame,
    pub feedback: DataFrame,
}

/// A frame that is missing or not shaped as analytics needs.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{frame}: {source}")]
    Polars { frame: &'static str, source: PolarsError },
    #[error("{frame}: column {column} is missing")]
    MissingColumn { frame: &'static str, column: &'static str },
    #[error("{frame}: column {column} is {found}, expected {expected}")]
    WrongType { frame: &'static str, column: &'static str, found: String, expected: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

type Schema = fn() -> Vec<(&'static str, DataType)>;

/// The frames the dealer figures, peer comparison and development read (not coverages, not feedback).
pub const FIGURE_FRAMES: [&str; 9] = [
    DealerRows::NAME,
    PolicyRows::NAME,
    PolicyVersionRows::NAME,
    CommissionRows::NAME,
    ClaimRows::NAME,
    ClaimCycleRows::NAME,
    ReserveRows::NAME,
    PaymentRows::NAME,
    ReferralRows::NAME,
];

/// Columns of [`FIGURE_FRAMES`] that nothing in the figures, peers or development reads: [`Frames::read_for_figures`]
/// leaves them null instead of holding ten million short strings each (320 MiB at 10 million policies).
pub const FIGURE_SKIPPED_COLUMNS: [(&str, &str); 2] =
    [(PolicyRows::NAME, "product"), (PolicyRows::NAME, "business_type")];

/// (name, schema) of every frame, in the order of [`Frames`]' fields.
const LAYOUT: [(&str, Schema); 11] = [
    (DealerRows::NAME, DealerRows::schema),
    (PolicyRows::NAME, PolicyRows::schema),
    (PolicyVersionRows::NAME, PolicyVersionRows::schema),
    (CoverageRows::NAME, CoverageRows::schema),
    (CommissionRows::NAME, CommissionRows::schema),
    (ClaimRows::NAME, ClaimRows::schema),
    (ClaimCycleRows::NAME, ClaimCycleRows::schema),
    (ReserveRows::NAME, ReserveRows::schema),
    (PaymentRows::NAME, PaymentRows::schema),
    (ReferralRows::NAME, ReferralRows::schema),
    (FeedbackRows::NAME, FeedbackRows::schema),
];

impl Frames {
    /// All frames empty, with their columns.
    pub fn empty() -> PolarsResult<Frames> {
        Ok(Frames {
            dealers: DealerRows::default().into_frame()?,
            policies: PolicyRows::default().into_frame()?,
            policy_versions: PolicyVersionRows::default().into_frame()?,
            coverages: CoverageRows::default().into_frame()?,
            commissions: CommissionRows::default().into_frame()?,
            claims: ClaimRows::default().into_frame()?,
            claim_cycles: ClaimCycleRows::default().into_frame()?,
            reserves: ReserveRows::default().into_frame()?,
            payments: PaymentRows::default().into_frame()?,
            referrals: ReferralRows::default().into_frame()?,
            feedback: FeedbackRows::default().into_frame()?,
        })
    }

    fn by_name(&self) -> [&DataFrame; 11] {
        [
            &self.dealers,
            &self.policies,
            &self.policy_versions,
            &self.coverages,
            &self.commissions,
            &self.claims,
            &self.claim_cycles,
            &self.reserves,
            &self.payments,
            &self.referrals,
            &self.feedback,
        ]
    }

    /// Checks that every frame has its columns with their types (extra columns are allowed).
    pub fn validate(&self) -> Result<(), FrameError> {
        for ((frame, schema), df) in LAYOUT.iter().zip(self.by_name()) {
            for (column, expected) in schema() {
                let found = df.column(column).map_err(|_| FrameError::MissingColumn { frame, column })?.dtype().clone();
                if found != expected {
                    return Err(FrameError::WrongType {
                        frame,
                        column,
                        found: found.to_string(),
                        expected: expected.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Marks each frame's key column as sorted where its rows are in key order (checked, not assumed), so that
    /// polars joins those frames by merging and groups them by slicing instead of hashing 10 million keys.
    /// Frames read from Parquet in id order, or put in it by [`Frames::sort_by_keys`], get the flag; frames in
    /// any other order are left as they are and take the hashing paths, with the same results.
    pub fn flag_sorted_keys(&mut self) -> PolarsResult<()> {
        self.order_keys(false)
    }

    /// Puts each keyed frame in key order where it is not (versions by policy and sequence; rows of one key keep
    /// their order), then flags the keys as [`Frames::flag_sorted_keys`] does. For frames read in whatever order
    /// the database keeps its rows: a sequential read plus this sort costs a fraction of what reading a table
    /// in key order costs once updates have scattered its rows (an index scan that jumps around the heap).
    pub fn sort_by_keys(&mut self) -> PolarsResult<()> {
        self.order_keys(true)
    }

    /// Flags each keyed frame's key as sorted where its rows are in key order; with `sort`, first sorts the
    /// frames that are not. One check of each key column either way.
    fn order_keys(&mut self, sort: bool) -> PolarsResult<()> {
        for (df, key) in self.keyed() {
            let column = df.column(key[0])?;
            let mut in_order = column.null_count() == 0 && ascending(column.as_materialized_series().i64()?);
            if !in_order && sort {
                *df = df.sort(key, SortMultipleOptions::default().with_maintain_order(true))?;
                in_order = df.column(key[0])?.null_count() == 0;
            }
            if in_order {
                let mut column = df.column(key[0])?.clone();
                column.set_sorted_flag(IsSorted::Ascending);
                df.with_column(column)?;
            }
        }
        Ok(())
    }

    /// The frames analytics joins or groups by a key, with that key (and the columns that order rows within it).
    fn keyed(&mut self) -> [(&mut DataFrame, &'static [&'static str]); 8] {
        [
            (&mut self.dealers, &["dealer_id"]),
            (&mut self.policies, &["policy_id"]),
            (&mut self.policy_versions, &["policy_id", "seq"]),
            (&mut self.coverages, &["policy_id"]),
            (&mut self.claims, &["claim_id"]),
            (&mut self.claim_cycles, &["claim_id"]),
            (&mut self.reserves, &["claim_id"]),
            (&mut self.payments, &["claim_id"]),
        ]
    }

    /// Whether a frame's key column is flagged as sorted (see [`Frames::flag_sorted_keys`]).
    pub fn sorted_by(df: &DataFrame, key: &str) -> bool {
        df.column(key).is_ok_and(|c| c.is_sorted_flag() == IsSorted::Ascending)
    }

    /// Total rows across the frames.
    pub fn rows(&self) -> usize {
        self.by_name().iter().map(|df| df.height()).sum()
    }

    /// Writes each frame to `dir/<frame>.parquet` (the directory must exist), calling `progress`
    /// with each frame's name and rows as it is written.
    pub fn write_parquet(&self, dir: &Path, mut progress: impl FnMut(&str, usize)) -> Result<(), FrameError> {
        for ((frame, _), df) in LAYOUT.iter().zip(self.by_name()) {
            let path = dir.join(format!("{frame}.parquet"));
            let io = |source| FrameError::Io { path: path.display().to_string(), source };
            let file = File::create(&path).map_err(io)?;
            let mut df = df.clone();
            ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(&mut df)
                .map_err(|source| FrameError::Polars { frame, source })?;
            progress(frame, df.height());
        }
        Ok(())
    }

    /// Reads every frame from `dir/<frame>.parquet` and checks its columns.
    pub fn read_parquet(dir: &Path) -> Result<Frames, FrameError> {
        Self::read_parquet_only(dir, &LAYOUT.map(|(frame, _)| frame), &[])
    }

    /// Reads what the figures, peers and development use from `dir/<frame>.parquet`: [`FIGURE_FRAMES`] without
    /// [`FIGURE_SKIPPED_COLUMNS`].
    pub fn read_for_figures(dir: &Path) -> Result<Frames, FrameError> {
        Self::read_parquet_only(dir, &FIGURE_FRAMES, &FIGURE_SKIPPED_COLUMNS)
    }

    /// Reads the named frames from `dir/<frame>.parquet` (the others are left empty, with their columns) and
    /// checks their columns. The `skipped` (frame, column) pairs are not read: those columns are null.
    pub fn read_parquet_only(dir: &Path, frames: &[&str], skipped: &[(&str, &str)]) -> Result<Frames, FrameError> {
        let empty = Frames::empty().map_err(|source| FrameError::Polars { frame: "frames", source })?;
        let empty = empty.by_name().map(DataFrame::clone);
        let mut read = Vec::with_capacity(LAYOUT.len());
        for ((frame, schema), empty) in LAYOUT.into_iter().zip(empty) {
            if !frames.contains(&frame) {
                read.push(empty);
                continue;
            }
            let path = dir.join(format!("{frame}.parquet"));
            if !path.is_file() {
                return Err(FrameError::Io {
                    path: path.display().to_string(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                });
            }
            let (left_out, kept): (Vec<_>, Vec<_>) =
                schema().into_iter().partition(|(column, _)| skipped.contains(&(frame, *column)));
            let polars = |source| FrameError::Polars { frame, source };
            let mut scan =
                LazyFrame::scan_parquet(PlRefPath::new(path.display().to_string()), ScanArgsParquet::default())
                    .map_err(polars)?;
            if !left_out.is_empty() {
                scan = scan.select(kept.iter().map(|(column, _)| col(*column)).collect::<Vec<_>>());
            }
            let mut df = scan.collect().map_err(polars)?;
            for (column, dtype) in left_out {
                // A null of the column's type, held once for all rows.
                df.with_column(Column::full_null(column.into(), df.height(), &dtype)).map_err(polars)?;
            }
            read.push(df);
        }
        let mut read = read.into_iter();
        let mut next = || read.next().unwrap_or_default();
        let mut frames = Frames {
            dealers: next(),
            policies: next(),
            policy_versions: next(),
            coverages: next(),
            commissions: next(),
            claims: next(),
            claim_cycles: next(),
            reserves: next(),
            payments: next(),
            referrals: next(),
            feedback: next(),
        };
        frames.validate()?;
        frames.flag_sorted_keys().map_err(|source| FrameError::Polars { frame: "frames", source })?;
        Ok(frames)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_and_match_polars() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(days(day), 19_782);
        assert_eq!(date(days(day)), day);
        let mut rows = CommissionRows::default();
        rows.push(1, days(day), 100);
        let df = rows.into_frame().unwrap();
        assert_eq!(df.column("booked_on").unwrap().dtype(), &DataType::Date);
        assert_eq!(df.column("booked_on").unwrap().cast(&DataType::Int32).unwrap().i32().unwrap().get(0), Some(19_782));
    }

    #[test]
    fn parquet_round_trip_keeps_every_frame() {
        let dir = tempfile::tempdir().unwrap();
        let mut frames = Frames::empty().unwrap();
        let mut policies = PolicyRows::default();
        policies.push(1, 1, 7, "commercial".into(), "new_car".into(), 19_000, 19_365, None, 500_000, 1_000_000, None);
        frames.policies = policies.into_frame().unwrap();
        let mut written = Vec::new();
        frames.write_parquet(dir.path(), |name, rows| written.push((name.to_string(), rows))).unwrap();
        assert_eq!(written.len(), 11);
        let back = Frames::read_parquet(dir.path()).unwrap();
        assert!(back.policies.equals_missing(&frames.policies));
        assert_eq!(back.rows(), 1);
    }

    #[test]
    fn the_figures_read_leaves_out_what_they_do_not_use() {
        let dir = tempfile::tempdir().unwrap();
        let mut frames = Frames::empty().unwrap();
        let mut policies = PolicyRows::default();
        policies.push(1, 1, 7, "commercial".into(), "new_car".into(), 19_000, 19_365, None, 500_000, 1_000_000, None);
        policies.push(2, 2, 7, "compulsory".into(), "renewal".into(), 19_001, 19_366, None, 95_000, 900_000, Some(1));
        frames.policies = policies.into_frame().unwrap();
        let mut coverages = CoverageRows::default();
        coverages.push(1, "commercial".into(), "vehicle_damage".into(), 300_000);
        frames.coverages = coverages.into_frame().unwrap();
        frames.write_parquet(dir.path(), |_, _| {}).unwrap();

        let back = Frames::read_for_figures(dir.path()).unwrap();
        // Not a figure frame: empty, with its columns.
        assert_eq!(back.coverages.height(), 0);
        let skipped = ["product", "business_type"];
        for column in skipped {
            let values = back.policies.column(column).unwrap();
            assert_eq!(values.dtype(), &DataType::String);
            assert_eq!(values.null_count(), 2, "{column}");
        }
        let used = |df: &DataFrame| df.drop_many(skipped);
        assert!(used(&back.policies).equals_missing(&used(&frames.policies)));
        assert!(Frames::sorted_by(&back.policies, "policy_id"));
    }

    #[test]
    fn a_wrong_column_type_is_named() {
        let mut frames = Frames::empty().unwrap();
        frames.payments =
            df!("claim_id" => [1i64], "dealer_id" => [1i64], "paid_on" => ["2024-01-01"], "amount_fen" => [1i64])
                .unwrap();
        let err = frames.validate().unwrap_err().to_string();
        assert!(err.contains("payments: column paid_on is str, expected date"), "{err}");
    }
}
