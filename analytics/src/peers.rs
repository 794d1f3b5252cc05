//! Dealers compared with their peers: by region, by brand, by size band and across the portfolio.
//!
//! For each compared figure and each peer group a dealer belongs to: its percentile rank among the peers
//! with a value, the peers' median and the dealer's distance from it in median absolute deviations (MAD).
//! A composite score (0–100, higher is better) weighs the dealer's percentile ranks, each turned so that
//! a high rank means good for the insurer.

use polars::prelude::*;

/// Which way is good for a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// A figure dealers are compared on, with its weight in the composite score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compared {
    pub figure: &'static str,
    pub better: Better,
    pub weight: f64,
}

/// The figures compared and the composite's weights (they sum to 1). Loss experience weighs most because it
/// decides whether the channel makes money; volume and retention next; service speed last.
pub const COMPARED: [Compared; 10] = [
    Compared { figure: "loss_ratio", better: Better::Lower, weight: 0.20 },
    Compared { figure: "ultimate_loss_ratio", better: Better::Lower, weight: 0.10 },
    Compared { figure: "price_normalised_loss_ratio", better: Better::Lower, weight: 0.10 },
    Compared { figure: "variable_cost_ratio", better: Better::Lower, weight: 0.15 },
    Compared { figure: "frequency", better: Better::Lower, weight: 0.10 },
    Compared { figure: "severity", better: Better::Lower, weight: 0.05 },
    Compared { figure: "written_premium", better: Better::Higher, weight: 0.10 },
    Compared { figure: "renewal_rate", better: Better::Higher, weight: 0.10 },
    Compared { figure: "referral_ratio", better: Better::Lower, weight: 0.05 },
    Compared { figure: "report_to_close_hours", better: Better::Lower, weight: 0.05 },
];

/// The peer dimensions, each a column of the dealer attributes frame.
pub const DIMENSIONS: [&str; 4] = ["region", "brand", "size_band", "portfolio"];

/// Fewest peers with a value for a comparison to mean anything; smaller groups get no percentile.
pub const MIN_PEERS: u32 = 3;

/// The dealer attributes peers are cut by: `dealers` (dealer_id, region, brand) with `size_band` from written
/// premium (terciles of the dealers that wrote any: small, medium, large; none when it wrote nothing) and
/// `portfolio` (everyone).
pub fn peer_attributes(dealers: &DataFrame, figures: &DataFrame) -> PolarsResult<LazyFrame> {
    let premium = figures.clone().lazy().select([col("dealer_id"), col("written_premium_fen")]);
    let writing = col("written_premium_fen").gt(lit(0i64));
    let share = (col("written_premium_fen")
        .rank(RankOptions { method: RankMethod::Average, descending: false }, None)
        .cast(DataType::Float64)
        / col("written_premium_fen").count().cast(DataType::Float64))
    .over([writing.clone()])?;
    Ok(dealers
        .clone()
        .lazy()
        .select([col("dealer_id"), col("region"), col("brand")])
        .join(premium, [col("dealer_id")], [col("dealer_id")], JoinArgs::new(JoinType::Left))
        .with_column(
            when(col("written_premium_fen").fill_null(lit(0i64)).lt_eq(lit(0i64)))
                .then(lit(NULL).cast(DataType::String))
                .when(share.clone().lt_eq(lit(1.0 / 3.0)))
                .then(lit("small"))
                .when(share.lt_eq(lit(2.0 / 3.0)))
                .then(lit("medium"))
                .otherwise(lit("large"))
                .alias("size_band"),
        )
        .with_column(lit("all").alias("portfolio"))
        .select([col("dealer_id"), col("region"), col("brand"), col("size_band"), col("portfolio")]))
}

/// The compared figures of a [`crate::figures::dealer_figures`] frame as plain numbers: money in yuan, cycle
/// time in hours; `ultimate_loss_ratio` is taken from the frame when present.
pub fn compared_values(figures: &DataFrame) -> LazyFrame {
    let has_ultimate = figures.column("ultimate_loss_ratio").is_ok();
    figures.clone().lazy().select([
        col("dealer_id"),
        col("loss_ratio"),
        if has_ultimate {
            col("ultimate_loss_ratio")
        } else {
            lit(NULL).cast(DataType::Float64).alias("ultimate_loss_ratio")
        },
        col("price_normalised_loss_ratio"),
        col("variable_cost_ratio"),
        col("frequency"),
        col("severity"),
        (col("written_premium_fen").cast(DataType::Float64) / lit(100.0)).alias("written_premium"),
        col("renewal_rate"),
        col("referral_ratio"),
        (col("report_to_close_median_centihours").cast(DataType::Float64) / lit(100.0)).alias("report_to_close_hours"),
    ])
}

/// One row per dealer × dimension × compared figure: `dealer_id, dimension, peer_group, figure, value, peers,
/// percentile, peer_median, mad, mad_distance, goodness` (goodness: the percentile turned so 1 is best).
///
/// Percentile: (average rank − 1) ÷ (peers − 1), 0 for the lowest value and 1 for the highest; none with
/// fewer than [`MIN_PEERS`] peers or no value. MAD distance: (value − median) ÷ MAD; none when the MAD is 0.
pub fn compare(dealers: &DataFrame, figures: &DataFrame) -> PolarsResult<LazyFrame> {
    let attributes = peer_attributes(dealers, figures)?;
    let values = compared_values(figures);
    let long = concat(
        COMPARED
            .iter()
            .map(|c| {
                values.clone().select([col("dealer_id"), lit(c.figure).alias("figure"), col(c.figure).alias("value")])
            })
            .collect::<Vec<_>>(),
        UnionArgs::default(),
    )?;
    let better = by_figure(COMPARED.iter().map(|c| (c.figure, lit(c.better == Better::Higher))), lit(true));
    let per_dimension = DIMENSIONS
        .iter()
        .map(|dimension| -> PolarsResult<LazyFrame> {
            let group = [col("peer_group"), col("figure")];
            let peers = col("value").count().over(group.clone())?.cast(DataType::UInt32);
            let rank = col("value")
                .rank(RankOptions { method: RankMethod::Average, descending: false }, None)
                .over(group.clone())?;
            let median = col("value").median().over(group.clone())?;
            let mad = (col("value") - col("peer_median")).abs().median().over(group)?;
            Ok(long
                .clone()
                .join(
                    attributes.clone().select([col("dealer_id"), col(*dimension).alias("peer_group")]),
                    [col("dealer_id")],
                    [col("dealer_id")],
                    JoinArgs::new(JoinType::Inner),
                )
                .filter(col("peer_group").is_not_null())
                .with_columns([lit(*dimension).alias("dimension"), peers.alias("peers"), median.alias("peer_median")])
                .with_column(
                    when(col("value").is_not_null().and(col("peers").gt_eq(lit(MIN_PEERS))))
                        .then(
                            (rank.cast(DataType::Float64) - lit(1.0))
                                / (col("peers").cast(DataType::Float64) - lit(1.0)),
                        )
                        .otherwise(lit(NULL).cast(DataType::Float64))
                        .alias("percentile"),
                )
                .with_column(mad.alias("mad"))
                .with_column(
                    when(col("mad").gt(lit(0.0)))
                        .then((col("value") - col("peer_median")) / col("mad"))
                        .otherwise(lit(NULL).cast(DataType::Float64))
                        .alias("mad_distance"),
                ))
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    Ok(concat(per_dimension, UnionArgs::default())?
        .with_column(
            when(better.clone()).then(col("percentile")).otherwise(lit(1.0) - col("percentile")).alias("goodness"),
        )
        .select([
            col("dealer_id"),
            col("dimension"),
            col("peer_group"),
            col("figure"),
            col("value"),
            col("peers"),
            col("percentile"),
            col("peer_median"),
            col("mad"),
            col("mad_distance"),
            col("goodness"),
        ])
        .sort(["dealer_id", "dimension", "figure"], SortMultipleOptions::default()))
}

/// Least total weight of the figures with a percentile for a composite score.
pub const MIN_SCORED_WEIGHT: f64 = 0.5;

/// Composite score per dealer and dimension: Σ weight × goodness ÷ Σ weight over the figures with a
/// percentile, × 100; none when those figures weigh less than [`MIN_SCORED_WEIGHT`].
/// Columns: `dealer_id, dimension, peer_group, composite_score, scored_figures, scored_weight`.
pub fn composite(comparison: LazyFrame) -> LazyFrame {
    let weight = by_figure(COMPARED.iter().map(|c| (c.figure, lit(c.weight))), lit(0.0));
    comparison
        .filter(col("goodness").is_not_null())
        .with_column(weight.alias("weight"))
        .group_by([col("dealer_id"), col("dimension"), col("peer_group")])
        .agg([
            ((col("weight") * col("goodness")).sum() / col("weight").sum() * lit(100.0)).alias("composite_score"),
            col("figure").count().cast(DataType::UInt32).alias("scored_figures"),
            col("weight").sum().alias("scored_weight"),
        ])
        // A score from a few minor figures (a dealer with no claims and no renewals yet) would mislead.
        .with_column(
            when(col("scored_weight").gt_eq(lit(MIN_SCORED_WEIGHT)))
                .then(col("composite_score"))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("composite_score"),
        )
        .sort(["dealer_id", "dimension"], SortMultipleOptions::default())
}

/// `value` of the row's figure, `otherwise` for any other figure.
fn by_figure(values: impl Iterator<Item = (&'static str, Expr)>, otherwise: Expr) -> Expr {
    let start = when(lit(false)).then(otherwise.clone());
    let mut values = values;
    let Some((figure, value)) = values.next() else { return otherwise };
    let mut chain = start.when(col("figure").eq(lit(figure))).then(value);
    for (figure, value) in values {
        chain = chain.when(col("figure").eq(lit(figure))).then(value);
    }
    chain.otherwise(otherwise)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::figures::collect_deep;

    fn dealers() -> DataFrame {
        df!(
            "dealer_id" => [1i64, 2, 3, 4, 5],
            "region" => ["East", "East", "East", "West", "West"],
            "brand" => ["BYD", "BYD", "VW", "VW", "VW"],
        )
        .unwrap()
    }

    /// Only the columns `compared_values` reads.
    fn figures() -> DataFrame {
        df!(
            "dealer_id" => [1i64, 2, 3, 4, 5],
            "loss_ratio" => [Some(0.5), Some(0.7), Some(0.9), Some(1.2), None],
            "price_normalised_loss_ratio" => [Some(0.5), Some(0.7), Some(0.9), Some(1.2), None],
            "variable_cost_ratio" => [Some(0.6), Some(0.8), Some(1.0), Some(1.3), None],
            "frequency" => [Some(0.1), Some(0.2), Some(0.2), Some(0.4), None],
            "severity" => [Some(5000.0), Some(6000.0), Some(7000.0), Some(8000.0), None],
            "written_premium_fen" => [100_000_000i64, 200_000_000, 300_000_000, 400_000_000, 0],
            "renewal_rate" => [Some(0.6), Some(0.5), Some(0.4), Some(0.3), None],
            "referral_ratio" => [Some(0.1), Some(0.1), Some(0.2), Some(0.3), None],
            "report_to_close_median_centihours" => [Some(10_000i64), Some(20_000), Some(30_000), Some(40_000), None],
        )
        .unwrap()
    }

    fn row(df: &DataFrame, dealer: i64, dimension: &str, figure: &str) -> DataFrame {
        df.clone()
            .lazy()
            .filter(
                col("dealer_id")
                    .eq(lit(dealer))
                    .and(col("dimension").eq(lit(dimension)))
                    .and(col("figure").eq(lit(figure))),
            )
            .collect()
            .unwrap()
    }

    fn f(df: &DataFrame, column: &str) -> Option<f64> {
        df.column(column).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().get(0)
    }

    #[test]
    fn percentile_median_and_mad_by_hand() {
        let out = collect_deep(compare(&dealers(), &figures()).unwrap()).unwrap();
        // Portfolio loss ratios 0.5, 0.7, 0.9, 1.2 (dealer 5 has none): median 0.8;
        // deviations 0.3, 0.1, 0.1, 0.4 → MAD 0.2. Dealer 4: rank 4 of 4 → percentile 1, (1.2 − 0.8) / 0.2 = 2.
        let d4 = row(&out, 4, "portfolio", "loss_ratio");
        assert_eq!(f(&d4, "percentile"), Some(1.0));
        assert!((f(&d4, "peer_median").unwrap() - 0.8).abs() < 1e-12);
        assert!((f(&d4, "mad").unwrap() - 0.2).abs() < 1e-12);
        assert!((f(&d4, "mad_distance").unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(f(&d4, "goodness"), Some(0.0), "the highest loss ratio is the worst");
        // Region East: 0.5, 0.7, 0.9 → dealer 2 in the middle.
        let d2 = row(&out, 2, "region", "loss_ratio");
        assert_eq!(f(&d2, "percentile"), Some(0.5));
        assert_eq!(f(&d2, "peers"), Some(3.0));
        // Frequency ties (0.2, 0.2) share the average rank: ranks 1, 2.5, 2.5, 4 → (2.5 − 1) / 3 = 0.5.
        assert_eq!(f(&row(&out, 2, "portfolio", "frequency"), "percentile"), Some(0.5));
        // Region West has two dealers with a value at most: too few peers for a percentile.
        assert_eq!(f(&row(&out, 4, "region", "loss_ratio"), "percentile"), None);
        // Written premium: higher is better.
        assert_eq!(f(&row(&out, 4, "portfolio", "written_premium"), "goodness"), Some(1.0));
    }

    #[test]
    fn size_bands_are_terciles_of_dealers_that_wrote() {
        let bands = collect_deep(peer_attributes(&dealers(), &figures()).unwrap()).unwrap();
        let values: Vec<Option<&str>> = bands.column("size_band").unwrap().str().unwrap().iter().collect();
        // Shares of rank among the 4 writers: 0.25, 0.5, 0.75, 1.0; dealer 5 wrote nothing.
        assert_eq!(values, [Some("small"), Some("medium"), Some("large"), Some("large"), None]);
    }

    #[test]
    fn the_composite_weighs_goodness() {
        let out = collect_deep(composite(compare(&dealers(), &figures()).unwrap())).unwrap();
        let portfolio = |dealer: i64| {
            let r = out
                .clone()
                .lazy()
                .filter(col("dealer_id").eq(lit(dealer)).and(col("dimension").eq(lit("portfolio"))))
                .collect()
                .unwrap();
            f(&r, "composite_score")
        };
        // Dealer 1 is best on every figure but written premium (2nd lowest of 5: 0.25) and the referral ratio (tied
        // lowest: 1 − 0.5 / 3); no ultimate loss ratio, so its weight (0.10) is left out.
        let d1 = portfolio(1).unwrap();
        let good = 0.20 + 0.10 + 0.15 + 0.10 + 0.05 + 0.10 * 0.25 + 0.10 + 0.05 * (1.0 - 0.5 / 3.0) + 0.05;
        let expected = 100.0 * good / 0.90;
        assert!((d1 - expected).abs() < 1e-9, "{d1} vs {expected}");
        assert!(portfolio(4).unwrap() < portfolio(2).unwrap());
        assert_eq!(portfolio(5), None, "no figures, no score");
    }
}
