//! The standard (volume-weighted) chain ladder of Mack (1993) on cumulative triangles.
//!
//! A [`Triangle`] holds cumulative values by origin (rows) × development age (columns).
//! [`develop`] estimates age-to-age factors from the triangle itself; [`develop_with`] applies
//! factors chosen elsewhere (for example a peer segment's pattern for a thin dealer triangle).
//! Both return a [`Development`]: factors, per-origin latest / cdf / ultimate / ibnr, and totals.
//!
//! Guarantees: no panic on any input, and every number in a [`Development`] is finite (an input
//! that would overflow `f64` is reported as [`TriangleError::Overflow`] instead).
//!
//! # Performance
//!
//! Cells are one row-major `Vec<Option<f64>>` per triangle, and developing a triangle makes a
//! handful of allocations per triangle plus one `String` per origin, none per cell. Developing
//! 2,000 triangles of 20 × 20 takes a few milliseconds in a release build.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use thiserror::Error;

/// Why a triangle, a factor pattern or a development is rejected. Every variant names the triangle.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TriangleError {
    #[error("triangle {triangle:?} has no origins")]
    Empty { triangle: String },
    #[error("triangle {triangle:?}: {cells} cells given for {origins} origins x {ages} ages")]
    ShapeMismatch { triangle: String, origins: usize, ages: usize, cells: usize },
    #[error("triangle {triangle:?} is too large to hold: {origins} origins x {ages} ages")]
    TooLarge { triangle: String, origins: usize, ages: usize },
    #[error("triangle {triangle:?}: ages must be strictly ascending, but age {age} follows age {previous}")]
    AgesNotAscending { triangle: String, previous: u32, age: u32 },
    #[error("triangle {triangle:?}: origin {origin:?} appears more than once")]
    DuplicateOrigin { triangle: String, origin: String },
    #[error("triangle {triangle:?}: origin {origin:?} has more than one value at age {age}")]
    DuplicateCell { triangle: String, origin: String, age: u32 },
    #[error("triangle {triangle:?}: origin {origin:?} at age {age} is {value}, not a finite number")]
    NonFiniteValue { triangle: String, origin: String, age: u32, value: f64 },
    #[error("triangle {triangle:?}: origin {origin:?} has no observed value")]
    EmptyOrigin { triangle: String, origin: String },
    #[error(
        "triangle {triangle:?}: origin {origin:?} has no value at age {age} but has values before and after it \
         (a hole in the row)"
    )]
    HoleInRow { triangle: String, origin: String, age: u32 },
    #[error("triangle {triangle:?}: tail factor {tail_factor} must be a finite number >= 1")]
    InvalidTail { triangle: String, tail_factor: f64 },
    #[error(
        "triangle {triangle:?}: given factor {factor} from age {from_age} to age {to_age} is invalid \
         (it must be finite and go to a later age)"
    )]
    InvalidFactor { triangle: String, from_age: u32, to_age: u32, factor: f64 },
    #[error("triangle {triangle:?}: more than one given factor starts at age {from_age}")]
    ConflictingFactors { triangle: String, from_age: u32 },
    #[error("triangle {triangle:?}: no factor given from age {from_age} to age {to_age}")]
    MissingFactor { triangle: String, from_age: u32, to_age: u32 },
    #[error("triangle {triangle:?}: the development overflows the range of f64")]
    Overflow { triangle: String },
}

/// The most cells (origins × distinct ages) [`Triangle::from_cells`] lays out, about 1 GiB. Scattered
/// cells (each origin at its own ages) would otherwise ask for a grid far beyond memory.
pub const MAX_CELLS: usize = 1 << 26;

/// Cumulative values by origin × development age. Built only through [`Triangle::new`] or
/// [`Triangle::from_cells`], so every triangle satisfies the invariants they check.
#[derive(Debug, Clone, PartialEq)]
pub struct Triangle {
    name: String,
    origins: Vec<String>,
    ages: Vec<u32>,
    /// Row-major: the cell of origin `i` at age index `k` is `cells[i * ages.len() + k]`.
    cells: Vec<Option<f64>>,
}

impl Triangle {
    /// Builds a triangle from row-major `cells` (`None` = not yet observed), keeping `origins`
    /// in the order given.
    ///
    /// Rejected: no origins, `cells.len() != origins.len() * ages.len()`, ages not strictly
    /// ascending, a repeated origin, a NaN/infinite value, an origin without any value, and a
    /// hole inside a row (a `None` between two observed cells). A row may start after the first
    /// age (leading `None`s): its observed cells only need to be contiguous from its own first
    /// one. Zeros and negative values are data.
    pub fn new(
        name: impl Into<String>,
        origins: Vec<String>,
        ages: Vec<u32>,
        cells: Vec<Option<f64>>,
    ) -> Result<Self, TriangleError> {
        let triangle = Self { name: name.into(), origins, ages, cells };
        triangle.validate()?;
        Ok(triangle)
    }

    /// Builds a triangle from `(origin, age, value)` cells in any order. Columns are the distinct
    /// ages present, ascending. Origins sort numerically when every origin parses as an integer
    /// (so "9" < "10"), otherwise lexicographically (so "2019Q1" < "2019Q2"). The same origin and
    /// age given twice is an error; everything [`Triangle::new`] checks is checked too.
    pub fn from_cells<I, O>(name: impl Into<String>, cells: I) -> Result<Self, TriangleError>
    where
        I: IntoIterator<Item = (O, u32, f64)>,
        O: Into<String>,
    {
        let name = name.into();
        let mut origin_slots: HashMap<String, usize> = HashMap::new();
        let mut origins: Vec<String> = Vec::new();
        let mut entries: Vec<(usize, u32, f64)> = Vec::new();
        for (origin, age, value) in cells {
            let origin = origin.into();
            let slot = match origin_slots.get(&origin) {
                Some(&slot) => slot,
                None => {
                    let slot = origins.len();
                    origin_slots.insert(origin.clone(), slot);
                    origins.push(origin);
                    slot
                }
            };
            entries.push((slot, age, value));
        }

        let mut ages: Vec<u32> = entries.iter().map(|&(_, age, _)| age).collect();
        ages.sort_unstable();
        ages.dedup();

        // row_of_slot[slot] is the row the origin first seen as `slot` lands on after sorting.
        let sorted_slots = origin_sort_order(&origins);
        let mut row_of_slot = vec![0; origins.len()];
        for (row, &slot) in sorted_slots.iter().enumerate() {
            if let Some(target) = row_of_slot.get_mut(slot) {
                *target = row;
            }
        }

        let too_large = || TriangleError::TooLarge { triangle: name.clone(), origins: origins.len(), ages: ages.len() };
        let cell_count =
            origins.len().checked_mul(ages.len()).filter(|&count| count <= MAX_CELLS).ok_or_else(too_large)?;
        let mut grid: Vec<Option<f64>> = Vec::new();
        // A sparse input can ask for a huge grid; fail with an error rather than abort on OOM.
        grid.try_reserve_exact(cell_count).map_err(|_| too_large())?;
        grid.resize(cell_count, None);

        for (slot, age, value) in entries {
            let (Some(&row), Ok(column)) = (row_of_slot.get(slot), ages.binary_search(&age)) else {
                continue; // unreachable: every slot and age was registered above
            };
            if let Some(cell) = grid.get_mut(row * ages.len() + column) {
                if cell.is_some() {
                    return Err(TriangleError::DuplicateCell {
                        triangle: name,
                        origin: origins.get(slot).cloned().unwrap_or_default(),
                        age,
                    });
                }
                *cell = Some(value);
            }
        }

        let sorted_origins = sorted_slots.iter().filter_map(|&slot| origins.get(slot).cloned()).collect();
        Self::new(name, sorted_origins, ages, grid)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    pub fn ages(&self) -> &[u32] {
        &self.ages
    }

    /// The cumulative value of origin `origin_index` at age column `age_index`; `None` when not
    /// observed or out of range.
    pub fn get(&self, origin_index: usize, age_index: usize) -> Option<f64> {
        if age_index >= self.ages.len() {
            return None;
        }
        let index = origin_index.checked_mul(self.ages.len())?.checked_add(age_index)?;
        self.cells.get(index).copied().flatten()
    }

    fn rows(&self) -> impl Iterator<Item = &[Option<f64>]> {
        // max(1) only keeps chunks_exact from panicking; a valid triangle always has an age.
        self.cells.chunks_exact(self.ages.len().max(1))
    }

    fn validate(&self) -> Result<(), TriangleError> {
        let triangle = || self.name.clone();
        if self.origins.is_empty() {
            return Err(TriangleError::Empty { triangle: triangle() });
        }
        if self.origins.len().checked_mul(self.ages.len()) != Some(self.cells.len()) {
            return Err(TriangleError::ShapeMismatch {
                triangle: triangle(),
                origins: self.origins.len(),
                ages: self.ages.len(),
                cells: self.cells.len(),
            });
        }
        if let Some(pair) = self.ages.windows(2).find(|pair| pair[0] >= pair[1]) {
            return Err(TriangleError::AgesNotAscending { triangle: triangle(), previous: pair[0], age: pair[1] });
        }
        let mut seen = HashSet::with_capacity(self.origins.len());
        if let Some(origin) = self.origins.iter().find(|origin| !seen.insert(origin.as_str())) {
            return Err(TriangleError::DuplicateOrigin { triangle: triangle(), origin: origin.clone() });
        }
        if self.ages.is_empty() {
            return Err(TriangleError::EmptyOrigin {
                triangle: triangle(),
                origin: self.origins.first().cloned().unwrap_or_default(),
            });
        }
        for (origin, row) in self.origins.iter().zip(self.rows()) {
            for (&age, cell) in self.ages.iter().zip(row) {
                if let Some(value) = *cell
                    && !value.is_finite()
                {
                    return Err(TriangleError::NonFiniteValue {
                        triangle: triangle(),
                        origin: origin.clone(),
                        age,
                        value,
                    });
                }
            }
            let (Some(first), Some(last)) =
                (row.iter().position(Option::is_some), row.iter().rposition(Option::is_some))
            else {
                return Err(TriangleError::EmptyOrigin { triangle: triangle(), origin: origin.clone() });
            };
            let observed_span = row.get(first..=last).unwrap_or_default();
            if let Some(gap) = observed_span.iter().position(Option::is_none) {
                return Err(TriangleError::HoleInRow {
                    triangle: triangle(),
                    origin: origin.clone(),
                    age: self.ages.get(first + gap).copied().unwrap_or_default(),
                });
            }
        }
        Ok(())
    }
}

/// Row order for `origins`: numeric when all parse as integers, else lexicographic.
fn origin_sort_order(origins: &[String]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..origins.len()).collect();
    let text = |slot: usize| origins.get(slot).map(String::as_str).unwrap_or_default();
    let numeric_keys: Option<Vec<i128>> = origins.iter().map(|origin| origin.parse().ok()).collect();
    match numeric_keys {
        Some(keys) => order.sort_by(|&a, &b| {
            // Ties ("1" vs "01") fall back to text so the order never depends on input order.
            keys.get(a).cmp(&keys.get(b)).then_with(|| text(a).cmp(text(b)))
        }),
        None => order.sort_by(|&a, &b| text(a).cmp(text(b))),
    }
    order
}

/// A development factor from one age to a later one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AgeToAge {
    pub from_age: u32,
    pub to_age: u32,
    pub factor: f64,
    /// `false` when the data could not give a factor and 1.0 was used instead: no origin has
    /// both ages observed, or the values at `from_age` sum to 0 while those at `to_age` do not
    /// (growth from nothing has no ratio). Both sides summing to 0 gives an observed 1.0.
    pub observed: bool,
}

/// The chain-ladder projection of one origin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OriginResult {
    pub origin: String,
    /// The last age at which the origin has a value.
    pub latest_age: u32,
    pub latest: f64,
    /// Cumulative development factor from `latest_age` to ultimate.
    pub cdf: f64,
    pub ultimate: f64,
    pub ibnr: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Totals {
    pub latest: f64,
    pub ultimate: f64,
    pub ibnr: f64,
}

/// The result of developing one triangle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Development {
    pub triangle: String,
    /// The factors used, in age order: one per pair of adjacent ages of the triangle, followed
    /// (with given factors only) by those that carry the last age further, see [`develop_with`].
    pub factors: Vec<AgeToAge>,
    pub origins: Vec<OriginResult>,
    pub total: Totals,
    /// Applied beyond the last age; left out of the JSON when 1 (no tail).
    #[serde(skip_serializing_if = "is_no_tail")]
    pub tail_factor: f64,
}

fn is_no_tail(tail_factor: &f64) -> bool {
    *tail_factor == 1.0
}

/// Volume-weighted age-to-age factors, one per pair of adjacent age columns:
/// f_k = Σ C(i,k+1) / Σ C(i,k) over the origins with both cells observed. When that has no
/// meaning the factor is 1.0 with `observed: false` (see [`AgeToAge::observed`]); never NaN/inf.
pub fn age_to_age_factors(triangle: &Triangle) -> Vec<AgeToAge> {
    #[derive(Clone, Copy, Default)]
    struct Sums {
        from: f64,
        to: f64,
        origins: usize,
    }
    let mut sums = vec![Sums::default(); triangle.ages.len().saturating_sub(1)];
    for row in triangle.rows() {
        for (pair, step) in row.windows(2).zip(sums.iter_mut()) {
            if let [Some(from), Some(to)] = *pair {
                step.from += from;
                step.to += to;
                step.origins += 1;
            }
        }
    }
    triangle
        .ages
        .windows(2)
        .zip(&sums)
        .map(|(ages, step)| {
            let (factor, observed) = if step.origins == 0 {
                (1.0, false)
            } else if step.from == 0.0 {
                // 0 → 0 means nothing developed (1.0 is right); 0 → x ≠ 0 has no ratio.
                (1.0, step.to == 0.0)
            } else {
                let ratio = step.to / step.from;
                // Sums past f64 range (or a subnormal divisor) give no usable ratio either.
                if ratio.is_finite() { (ratio, true) } else { (1.0, false) }
            };
            AgeToAge { from_age: ages[0], to_age: ages[1], factor, observed }
        })
        .collect()
}

/// Develops `triangle` with its own age-to-age factors and no tail.
pub fn develop(triangle: &Triangle) -> Result<Development, TriangleError> {
    develop_with_tail(triangle, None, 1.0)
}

/// Develops `triangle` with given factors (e.g. a peer segment's) instead of its own; no tail.
///
/// For each pair of adjacent ages (a, b) of the triangle the factor from a to b is used. When
/// the given factors step through intermediate ages instead (a→m, m→b) their product is used,
/// so a triangle missing an age column still matches a full pattern. Given factors that go on
/// from the triangle's last age are applied too (the cdf of the last age is their product), so a
/// young triangle is developed to the pattern's end rather than stopped at its own oldest age.
///
/// Errors: a pair (a, b) that the factors cannot bridge, a gap in the factors after the last
/// age ([`TriangleError::MissingFactor`] names the ages); a non-finite factor or one that does
/// not go to a later age; two factors from the same age.
pub fn develop_with(triangle: &Triangle, factors: &[AgeToAge]) -> Result<Development, TriangleError> {
    develop_with_tail(triangle, Some(factors), 1.0)
}

/// Develops `triangle` with `given_factors` (or, when `None`, its own factors) and a tail
/// factor applied after the last factor, i.e. to the cdf of every age. A tail must be finite and
/// ≥ 1; 1.0 means no tail.
pub fn develop_with_tail(
    triangle: &Triangle,
    given_factors: Option<&[AgeToAge]>,
    tail_factor: f64,
) -> Result<Development, TriangleError> {
    if !(tail_factor.is_finite() && tail_factor >= 1.0) {
        return Err(TriangleError::InvalidTail { triangle: triangle.name.clone(), tail_factor });
    }
    let (steps, beyond_last) = match given_factors {
        None => (age_to_age_factors(triangle), Vec::new()),
        Some(given) => factors_from_pattern(triangle, given)?,
    };
    project(triangle, steps, beyond_last, tail_factor)
}

/// Maps given factors onto the triangle's age steps, plus the chain beyond its last age.
fn factors_from_pattern(
    triangle: &Triangle,
    given: &[AgeToAge],
) -> Result<(Vec<AgeToAge>, Vec<AgeToAge>), TriangleError> {
    let name = || triangle.name.clone();
    let mut by_from_age: HashMap<u32, AgeToAge> = HashMap::with_capacity(given.len());
    for factor in given {
        if !factor.factor.is_finite() || factor.to_age <= factor.from_age {
            return Err(TriangleError::InvalidFactor {
                triangle: name(),
                from_age: factor.from_age,
                to_age: factor.to_age,
                factor: factor.factor,
            });
        }
        // One factor per starting age keeps the chain from any age unambiguous.
        if by_from_age.insert(factor.from_age, *factor).is_some() {
            return Err(TriangleError::ConflictingFactors { triangle: name(), from_age: factor.from_age });
        }
    }

    let mut steps = Vec::with_capacity(triangle.ages.len().saturating_sub(1));
    for ages in triangle.ages.windows(2) {
        let (from_age, to_age) = (ages[0], ages[1]);
        let missing = || TriangleError::MissingFactor { triangle: name(), from_age, to_age };
        let mut bridged = AgeToAge { from_age, to_age, factor: 1.0, observed: true };
        let mut age = from_age;
        // Each link moves to a strictly later age, so this ends.
        while age < to_age {
            let link = by_from_age.get(&age).filter(|link| link.to_age <= to_age).ok_or_else(missing)?;
            bridged.factor *= link.factor;
            bridged.observed &= link.observed;
            age = link.to_age;
        }
        steps.push(bridged);
    }

    let mut beyond_last = Vec::new();
    let mut age = triangle.ages.last().copied().unwrap_or_default();
    while let Some(link) = by_from_age.get(&age) {
        beyond_last.push(*link);
        age = link.to_age;
    }
    // A chain that stops before the pattern's last age would silently drop development.
    if let Some(next_age) =
        given.iter().flat_map(|factor| [factor.from_age, factor.to_age]).filter(|&pattern_age| pattern_age > age).min()
    {
        return Err(TriangleError::MissingFactor { triangle: name(), from_age: age, to_age: next_age });
    }
    Ok((steps, beyond_last))
}

fn project(
    triangle: &Triangle,
    steps: Vec<AgeToAge>,
    beyond_last: Vec<AgeToAge>,
    tail_factor: f64,
) -> Result<Development, TriangleError> {
    let overflow = || TriangleError::Overflow { triangle: triangle.name.clone() };

    // cdfs[k] = Π_{j ≥ k} f_j × (factors beyond the last age) × tail.
    let mut running = beyond_last.iter().map(|factor| factor.factor).product::<f64>() * tail_factor;
    let mut cdfs = Vec::with_capacity(triangle.ages.len());
    cdfs.push(running);
    for step in steps.iter().rev() {
        running *= step.factor;
        cdfs.push(running);
    }
    cdfs.reverse();

    let mut origins = Vec::with_capacity(triangle.origins.len());
    let mut total = Totals { latest: 0.0, ultimate: 0.0, ibnr: 0.0 };
    for (origin, row) in triangle.origins.iter().zip(triangle.rows()) {
        let empty_origin = || TriangleError::EmptyOrigin { triangle: triangle.name.clone(), origin: origin.clone() };
        // Validation guarantees an observed cell, so the error arm is never taken.
        let (latest_index, latest) = row
            .iter()
            .enumerate()
            .rev()
            .find_map(|(index, cell)| cell.map(|value| (index, value)))
            .ok_or_else(empty_origin)?;
        let latest_age = triangle.ages.get(latest_index).copied().ok_or_else(empty_origin)?;
        let cdf = cdfs.get(latest_index).copied().ok_or_else(empty_origin)?;
        let ultimate = latest * cdf;
        let ibnr = ultimate - latest;
        if !(cdf.is_finite() && ultimate.is_finite() && ibnr.is_finite()) {
            return Err(overflow());
        }
        total.latest += latest;
        total.ultimate += ultimate;
        total.ibnr += ibnr;
        origins.push(OriginResult { origin: origin.clone(), latest_age, latest, cdf, ultimate, ibnr });
    }
    if !(total.latest.is_finite() && total.ultimate.is_finite() && total.ibnr.is_finite()) {
        return Err(overflow());
    }

    let mut factors = steps;
    factors.extend(beyond_last);
    Ok(Development { triangle: triangle.name.clone(), factors, origins, total, tail_factor })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An upper-left triangle: row `i` holds consecutive ages starting at `first_age`.
    fn triangle(name: &str, origins: &[&str], first_age: u32, rows: &[&[f64]]) -> Triangle {
        let width = rows.iter().map(|row| row.len()).max().unwrap_or(0);
        let ages = (0..width as u32).map(|k| first_age + k).collect();
        let cells = rows.iter().flat_map(|row| (0..width).map(|k| row.get(k).copied())).collect();
        Triangle::new(name, origins.iter().map(|o| o.to_string()).collect(), ages, cells).unwrap()
    }

    fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
        assert!((actual - expected).abs() <= tolerance, "{what}: got {actual}, expected {expected} ± {tolerance}");
    }

    fn assert_all_finite(development: &Development) {
        for factor in &development.factors {
            assert!(factor.factor.is_finite(), "{factor:?}");
        }
        for origin in &development.origins {
            for value in [origin.latest, origin.cdf, origin.ultimate, origin.ibnr] {
                assert!(value.is_finite(), "{origin:?}");
            }
        }
        let total = development.total;
        assert!(total.latest.is_finite() && total.ultimate.is_finite() && total.ibnr.is_finite());
    }

    // ChainLadder (R) dataset RAA: Mack (1994), from RAA "Historical Loss Development" (1991) p.96.
    const RAA_ORIGINS: [&str; 10] = ["1981", "1982", "1983", "1984", "1985", "1986", "1987", "1988", "1989", "1990"];
    const RAA: [&[f64]; 10] = [
        &[5012., 8269., 10907., 11805., 13539., 16181., 18009., 18608., 18662., 18834.],
        &[106., 4285., 5396., 10666., 13782., 15599., 15496., 16169., 16704.],
        &[3410., 8992., 13873., 16141., 18735., 22214., 22863., 23466.],
        &[5655., 11555., 15766., 21266., 23425., 26083., 27067.],
        &[1092., 9565., 15836., 22169., 25955., 26180.],
        &[1513., 6445., 11702., 12935., 15852.],
        &[557., 4020., 10946., 12314.],
        &[1351., 6947., 13112.],
        &[3133., 5395.],
        &[2063.],
    ];

    // ChainLadder (R) dataset GenIns: Taylor & Ashe (1983), table 1 of Mack (1993).
    const GENINS: [&[f64]; 10] = [
        &[357848., 1124788., 1735330., 2218270., 2745596., 3319994., 3466336., 3606286., 3833515., 3901463.],
        &[352118., 1236139., 2170033., 3353322., 3799067., 4120063., 4647867., 4914039., 5339085.],
        &[290507., 1292306., 2218525., 3235179., 3985995., 4132918., 4628910., 4909315.],
        &[310608., 1418858., 2195047., 3757447., 4029929., 4381982., 4588268.],
        &[443160., 1136350., 2128333., 2897821., 3402672., 3873311.],
        &[396132., 1333217., 2180715., 2985752., 3691712.],
        &[440832., 1288463., 2419861., 3483130.],
        &[359480., 1421128., 2864498.],
        &[376686., 1363294.],
        &[344014.],
    ];
    const TEN_ORIGINS: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

    #[test]
    fn raa_reproduces_mack_and_chainladder_r() {
        let development = develop(&triangle("RAA", &RAA_ORIGINS, 1, &RAA)).unwrap();
        // Mack (1994) / ChainLadder MackChainLadder(RAA)$f, to 3 dp.
        let published = [2.999, 1.624, 1.271, 1.172, 1.113, 1.042, 1.033, 1.017, 1.009];
        assert_eq!(development.factors.len(), published.len());
        for (factor, expected) in development.factors.iter().zip(published) {
            assert!(factor.observed);
            assert_close(factor.factor, expected, 0.0005, "RAA factor");
        }
        // ChainLadder summary.MackChainLadder example output: ultimates rounded to units.
        let ultimates = [18834., 16858., 24083., 28703., 28927., 19501., 17749., 24019., 16045., 18402.];
        let ibnrs = [0., 154., 617., 1636., 2747., 3649., 5435., 10907., 10650., 16339.];
        for ((origin, ultimate), ibnr) in development.origins.iter().zip(ultimates).zip(ibnrs) {
            assert_close(origin.ultimate, ultimate, 0.5, &origin.origin);
            assert_close(origin.ibnr, ibnr, 0.5, &origin.origin);
        }
        assert_eq!(development.origins[0].cdf, 1.0);
        assert_eq!(development.origins[0].ibnr, 0.0);
        assert_eq!(development.origins[9].latest_age, 1);
        assert_close(development.total.latest, 160_987.0, 1e-9, "RAA latest");
        assert_close(development.total.ultimate, 213_122.23, 0.005, "RAA ultimate");
        assert_close(development.total.ibnr, 52_135.23, 0.005, "RAA IBNR");
    }

    #[test]
    fn genins_reproduces_taylor_ashe_and_mack_1993() {
        let development = develop(&triangle("GenIns", &TEN_ORIGINS, 1, &GENINS)).unwrap();
        // ChainLadder MackChainLadder help page, GNI$f (6 dp); Mack (1993) prints them to 3 dp.
        let published = [3.490607, 1.747333, 1.457413, 1.173852, 1.103824, 1.086269, 1.053874, 1.076555, 1.017725];
        for (factor, expected) in development.factors.iter().zip(published) {
            assert_close(factor.factor, expected, 5e-7, "GenIns factor");
        }
        let ibnrs =
            [0., 94_634., 469_511., 709_638., 984_889., 1_419_459., 2_177_641., 3_920_301., 4_278_972., 4_625_811.];
        for (origin, ibnr) in development.origins.iter().zip(ibnrs) {
            assert_close(origin.ibnr, ibnr, 0.5, &origin.origin);
        }
        assert_close(development.total.latest, 34_358_090.0, 1e-6, "GenIns latest");
        assert_close(development.total.ultimate, 53_038_945.61, 0.005, "GenIns ultimate");
        assert_close(development.total.ibnr, 18_680_855.61, 0.005, "GenIns IBNR");
    }

    #[test]
    fn mw2008_reproduces_merz_wuthrich_2008() {
        // ChainLadder dataset MW2008: Merz & Wüthrich, CAS E-Forum Fall 2008.
        let rows: [&[f64]; 9] = [
            &[2202584., 3210449., 3468122., 3545070., 3621627., 3644636., 3669012., 3674511., 3678633.],
            &[2350650., 3553023., 3783846., 3840067., 3865187., 3878744., 3898281., 3902425.],
            &[2321885., 3424190., 3700876., 3798198., 3854755., 3878993., 3898825.],
            &[2171487., 3165274., 3395841., 3466453., 3515703., 3548422.],
            &[2140328., 3157079., 3399262., 3500520., 3585812.],
            &[2290664., 3338197., 3550332., 3641036.],
            &[2148216., 3219775., 3428335.],
            &[2143728., 3158581.],
            &[2144738.],
        ];
        let development = develop(&triangle("MW2008", &TEN_ORIGINS[..9], 1, &rows)).unwrap();
        // ChainLadder CDR help page: CDR(MackChainLadder(MW2008, est.sigma = "Mack")), IBNR column.
        let ibnrs = [0.0, 4377.670, 9347.477, 28392.406, 51444.021, 111811.123, 187084.178, 411864.225, 1433505.008];
        for (origin, ibnr) in development.origins.iter().zip(ibnrs) {
            assert_close(origin.ibnr, ibnr, 0.0005, &origin.origin);
        }
        assert_close(development.total.latest, 30_986_807.0, 1e-6, "MW2008 latest");
        assert_close(development.total.ibnr, 2_237_826.107, 0.0005, "MW2008 IBNR");
    }

    #[test]
    fn mw2014_with_ages_from_zero_reproduces_merz_wuthrich_2014() {
        // ChainLadder dataset MW2014 (17 × 17, development ages 0..16): Merz & Wüthrich (2014).
        let rows: [&[f64]; 17] = [
            &[
                13109., 20355., 21337., 22043., 22401., 22658., 22997., 23158., 23492., 23664., 23699., 23904., 23960.,
                23992., 23994., 24001., 24002.,
            ],
            &[
                14457., 22038., 22627., 23114., 23238., 23312., 23440., 23490., 23964., 23976., 24048., 24111., 24252.,
                24538., 24540., 24550.,
            ],
            &[
                16075., 22672., 23753., 24052., 24206., 24757., 24786., 24807., 24823., 24888., 24986., 25401., 25681.,
                25705., 25732.,
            ],
            &[
                15682., 23464., 24465., 25052., 25529., 25708., 25752., 25770., 25835., 26075., 26082., 26146., 26150.,
                26167.,
            ],
            &[16551., 23706., 24627., 25573., 26046., 26115., 26283., 26481., 26701., 26718., 26724., 26728., 26735.],
            &[15439., 23796., 24866., 25317., 26139., 26154., 26175., 26205., 26764., 26818., 26836., 26959.],
            &[14629., 21645., 22826., 23599., 24992., 25434., 25476., 25549., 25604., 25709., 25723.],
            &[17585., 26288., 27623., 27939., 28335., 28638., 28715., 28759., 29525., 30302.],
            &[17419., 25941., 27066., 27761., 28043., 28477., 28721., 28878., 28948.],
            &[16665., 25370., 26909., 27611., 27729., 27861., 29830., 29844.],
            &[15471., 23745., 25117., 26378., 26971., 27396., 27480.],
            &[15103., 23393., 26809., 27691., 28061., 29183.],
            &[14540., 22642., 23571., 24127., 24210.],
            &[14590., 22336., 23440., 24029.],
            &[13967., 21515., 22603.],
            &[12930., 20111.],
            &[12539.],
        ];
        let origins: Vec<String> = (1..=17).map(|i| i.to_string()).collect();
        let origin_refs: Vec<&str> = origins.iter().map(String::as_str).collect();
        let development = develop(&triangle("MW2014", &origin_refs, 0, &rows)).unwrap();
        assert_eq!(development.factors[0].from_age, 0);
        assert_eq!(development.factors.last().unwrap().to_age, 16);
        // ChainLadder CDR help page: CDR(MackChainLadder(MW2014, est.sigma = "Mack")), IBNR column.
        let ibnrs = [
            0.0,
            1.022874,
            10.085643,
            21.187574,
            117.662565,
            223.279748,
            361.808180,
            469.408830,
            653.504225,
            1008.763182,
            1011.859648,
            1406.702133,
            1492.903495,
            1917.636398,
            2458.152208,
            3384.341045,
            9596.552341,
        ];
        for (origin, ibnr) in development.origins.iter().zip(ibnrs) {
            assert_close(origin.ibnr, ibnr, 1e-6, &origin.origin);
        }
        assert_close(development.total.ibnr, 24_134.870088, 1e-6, "MW2014 IBNR");
    }

    #[test]
    fn mortgage_with_tail_reproduces_mack_1999() {
        // ChainLadder dataset Mortgage (Mack 1999), MackChainLadder(Mortgage, tail = 1.05) example.
        let rows: [&[f64]; 9] = [
            &[58046., 127970., 476599., 1027692., 1360489., 1647310., 1819179., 1906852., 1950105.],
            &[24492., 141767., 984288., 2142656., 2961978., 3683940., 4048898., 4115760.],
            &[32848., 274682., 1522637., 3203427., 4445927., 5158781., 5342585.],
            &[21439., 529828., 2900301., 4999019., 6460112., 6853904.],
            &[40397., 763394., 2920745., 4989572., 5648563.],
            &[90748., 951994., 4210640., 5866482.],
            &[62096., 868480., 1954797.],
            &[24983., 284441.],
            &[13121.],
        ];
        let mortgage = triangle("Mortgage", &TEN_ORIGINS[..9], 1, &rows);
        let development = develop_with_tail(&mortgage, None, 1.05).unwrap();
        let ultimates = [
            2_047_610.,
            4_419_573.,
            5_888_041.,
            8_072_571.,
            7_577_086.,
            10_040_732.,
            5_714_195.,
            3_402_595.,
            1_742_908.,
        ];
        for (origin, ultimate) in development.origins.iter().zip(ultimates) {
            assert_close(origin.ultimate, ultimate, 0.5, &origin.origin);
        }
        assert_close(development.origins[0].cdf, 1.05, 1e-15, "tail on the last age");
        assert_eq!(development.tail_factor, 1.05);
        assert_close(development.total.latest, 32_029_758.0, 1e-6, "Mortgage latest");
        assert_close(development.total.ultimate, 48_905_312.55, 0.005, "Mortgage ultimate");
        assert_close(development.total.ibnr, 16_875_554.55, 0.005, "Mortgage IBNR");
    }

    #[test]
    fn invalid_tail_is_rejected() {
        let small = triangle("T", &["1", "2"], 1, &[&[1., 2.], &[1.]]);
        for tail in [0.99, f64::NAN, f64::INFINITY] {
            assert!(matches!(develop_with_tail(&small, None, tail), Err(TriangleError::InvalidTail { .. })));
        }
    }

    #[test]
    fn all_zero_triangle_develops_to_zero() {
        let zeros = triangle("Z", &["2019", "2020", "2021", "2022"], 1, &[&[0.; 4], &[0.; 3], &[0.; 2], &[0.]]);
        let development = develop(&zeros).unwrap();
        assert_all_finite(&development);
        for factor in &development.factors {
            assert_eq!((factor.factor, factor.observed), (1.0, true), "0 → 0 is an observed 1.0");
        }
        for origin in &development.origins {
            assert_eq!((origin.ultimate, origin.ibnr), (0.0, 0.0));
        }
        assert_eq!(development.total, Totals { latest: 0.0, ultimate: 0.0, ibnr: 0.0 });
    }

    #[test]
    fn zero_row_and_zero_column_give_zero_ultimates() {
        // 2020 is a dealer with no loss yet; the last column is zero for every origin reaching it.
        let cells = [
            ("2019", 1, 100.0),
            ("2019", 2, 150.0),
            ("2019", 3, 0.0),
            ("2020", 1, 0.0),
            ("2020", 2, 0.0),
            ("2020", 3, 0.0),
            ("2021", 1, 80.0),
            ("2021", 2, 90.0),
            ("2022", 1, 0.0),
        ];
        let development = develop(&Triangle::from_cells("dealer", cells).unwrap()).unwrap();
        assert_all_finite(&development);
        assert_eq!(development.factors[0].factor, 240.0 / 180.0);
        assert_eq!((development.factors[1].factor, development.factors[1].observed), (0.0, true));
        let by_origin: Vec<(&str, f64)> = development.origins.iter().map(|o| (o.origin.as_str(), o.ultimate)).collect();
        assert_eq!(by_origin, [("2019", 0.0), ("2020", 0.0), ("2021", 0.0), ("2022", 0.0)]);
    }

    #[test]
    fn growth_from_a_zero_base_is_flagged_not_divided() {
        // Nothing reported at age 0 anywhere, then losses at age 1: Σ C(i,0) = 0 < Σ C(i,1).
        let zero_base = triangle("Q", &["1", "2", "3"], 0, &[&[0., 50., 60.], &[0., 40.], &[0.]]);
        let development = develop(&zero_base).unwrap();
        assert_all_finite(&development);
        assert_eq!(development.factors[0], AgeToAge { from_age: 0, to_age: 1, factor: 1.0, observed: false });
        assert!(development.factors[1].observed);
        assert_eq!(development.origins[2].ultimate, 0.0);
        assert_eq!(development.origins[1].cdf, 60.0 / 50.0);
    }

    #[test]
    fn a_step_without_any_origin_observing_both_ages_is_flagged() {
        // "b" starts at age 2 (a leading gap is allowed); no origin has both ages 1 and 2.
        let cells = [("a", 1, 10.0), ("b", 2, 20.0), ("b", 3, 30.0)];
        let development = develop(&Triangle::from_cells("gap", cells).unwrap()).unwrap();
        assert_eq!(development.factors[0], AgeToAge { from_age: 1, to_age: 2, factor: 1.0, observed: false });
        assert_eq!(development.origins[0].cdf, 1.5);
        assert_all_finite(&development);
    }

    #[test]
    fn negative_values_are_data() {
        let salvage = triangle("S", &["1", "2"], 1, &[&[100., 90.], &[-10.]]);
        let development = develop(&salvage).unwrap();
        assert_eq!(development.factors[0].factor, 0.9);
        assert_eq!(development.origins[1].ultimate, -9.0);
    }

    #[test]
    fn develop_with_uses_the_given_factors() {
        let thin = triangle("dealer", &["1", "2", "3"], 1, &[&[10., 30., 33.], &[20., 50.], &[5.]]);
        let peer = [
            AgeToAge { from_age: 1, to_age: 2, factor: 2.0, observed: true },
            AgeToAge { from_age: 2, to_age: 3, factor: 1.5, observed: true },
        ];
        let development = develop_with(&thin, &peer).unwrap();
        assert_eq!(development.factors, peer);
        let ultimates: Vec<f64> = development.origins.iter().map(|o| o.ultimate).collect();
        assert_eq!(ultimates, [33.0, 75.0, 15.0]);
        assert_eq!(development.total.ibnr, 0.0 + 25.0 + 10.0);
    }

    #[test]
    fn develop_with_own_factors_matches_develop() {
        let raa = triangle("RAA", &RAA_ORIGINS, 1, &RAA);
        let own = develop(&raa).unwrap();
        assert_eq!(develop_with(&raa, &own.factors).unwrap(), own);
    }

    #[test]
    fn develop_with_carries_a_young_triangle_to_the_end_of_the_pattern() {
        let peer = develop(&triangle("GenIns", &TEN_ORIGINS, 1, &GENINS)).unwrap();
        let young = triangle("new dealer", &["2023", "2024"], 1, &[&[100., 300.], &[50.]]);
        let development = develop_with(&young, &peer.factors).unwrap();
        assert_eq!(development.factors, peer.factors, "the age 1→2 step, then 2→3 … 9→10");
        let expected_cdf_age_2: f64 = peer.factors[1..].iter().map(|f| f.factor).product();
        assert_close(development.origins[0].cdf, expected_cdf_age_2, 1e-12, "cdf at age 2");
        assert_close(development.origins[1].cdf, peer.origins[9].cdf, 1e-12, "cdf at age 1");
    }

    #[test]
    fn develop_with_bridges_an_absent_age_column() {
        // No origin of this triangle has age 3, so its columns step 2 → 4.
        let cells = [("1", 1, 10.0), ("1", 2, 20.0), ("1", 4, 30.0), ("2", 1, 5.0)];
        let pattern = [
            AgeToAge { from_age: 1, to_age: 2, factor: 2.0, observed: true },
            AgeToAge { from_age: 2, to_age: 3, factor: 1.25, observed: false },
            AgeToAge { from_age: 3, to_age: 4, factor: 1.2, observed: true },
        ];
        let development = develop_with(&Triangle::from_cells("T", cells).unwrap(), &pattern).unwrap();
        assert_eq!(development.factors[1], AgeToAge { from_age: 2, to_age: 4, factor: 1.5, observed: false });
        assert_eq!(development.origins[1].ultimate, 5.0 * 2.0 * 1.5);
    }

    #[test]
    fn develop_with_a_missing_factor_names_the_ages() {
        let thin = triangle("dealer", &["1", "2", "3"], 1, &[&[10., 30., 33.], &[20., 50.], &[5.]]);
        let only_first = [AgeToAge { from_age: 1, to_age: 2, factor: 2.0, observed: true }];
        let error = develop_with(&thin, &only_first).unwrap_err();
        assert_eq!(error, TriangleError::MissingFactor { triangle: "dealer".into(), from_age: 2, to_age: 3 });
        assert_eq!(error.to_string(), "triangle \"dealer\": no factor given from age 2 to age 3");

        // A gap after the last age would silently stop development short: also an error.
        let gapped = [
            AgeToAge { from_age: 1, to_age: 2, factor: 2.0, observed: true },
            AgeToAge { from_age: 2, to_age: 3, factor: 1.5, observed: true },
            AgeToAge { from_age: 5, to_age: 6, factor: 1.1, observed: true },
        ];
        assert_eq!(
            develop_with(&thin, &gapped).unwrap_err(),
            TriangleError::MissingFactor { triangle: "dealer".into(), from_age: 3, to_age: 5 }
        );
    }

    #[test]
    fn develop_with_rejects_bad_or_conflicting_factors() {
        let thin = triangle("dealer", &["1", "2"], 1, &[&[10., 30.], &[20.]]);
        let nan = [AgeToAge { from_age: 1, to_age: 2, factor: f64::NAN, observed: true }];
        assert!(matches!(develop_with(&thin, &nan), Err(TriangleError::InvalidFactor { .. })));
        let backwards = [AgeToAge { from_age: 2, to_age: 1, factor: 1.0, observed: true }];
        assert!(matches!(develop_with(&thin, &backwards), Err(TriangleError::InvalidFactor { .. })));
        let twice = [
            AgeToAge { from_age: 1, to_age: 2, factor: 2.0, observed: true },
            AgeToAge { from_age: 1, to_age: 2, factor: 3.0, observed: true },
        ];
        assert_eq!(
            develop_with(&thin, &twice).unwrap_err(),
            TriangleError::ConflictingFactors { triangle: "dealer".into(), from_age: 1 }
        );
    }

    #[test]
    fn single_origin_triangle() {
        let one = triangle("one", &["2024"], 1, &[&[100., 150., 165.]]);
        let development = develop(&one).unwrap();
        let factors: Vec<f64> = development.factors.iter().map(|f| f.factor).collect();
        assert_eq!(factors, [1.5, 1.1]);
        let origin = &development.origins[0];
        assert_eq!((origin.latest_age, origin.latest, origin.cdf, origin.ibnr), (3, 165.0, 1.0, 0.0));
    }

    #[test]
    fn single_age_triangle() {
        let cells = [("2023", 12, 7.0), ("2024", 12, 9.0)];
        let development = develop(&Triangle::from_cells("one age", cells).unwrap()).unwrap();
        assert!(development.factors.is_empty());
        for origin in &development.origins {
            assert_eq!((origin.latest_age, origin.cdf, origin.ibnr), (12, 1.0, 0.0));
        }
        assert_eq!(development.total, Totals { latest: 16.0, ultimate: 16.0, ibnr: 0.0 });
    }

    #[test]
    fn invalid_triangles_are_rejected_with_names() {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let hole = Triangle::new("T", strings(&["a"]), vec![1, 2, 3], vec![Some(1.0), None, Some(2.0)]);
        assert_eq!(hole.unwrap_err(), TriangleError::HoleInRow { triangle: "T".into(), origin: "a".into(), age: 2 });
        let nan = Triangle::new("T", strings(&["a"]), vec![1], vec![Some(f64::NAN)]);
        assert!(matches!(nan, Err(TriangleError::NonFiniteValue { age: 1, .. })));
        let empty_row = Triangle::new("T", strings(&["a", "b"]), vec![1], vec![Some(1.0), None]);
        assert_eq!(empty_row.unwrap_err(), TriangleError::EmptyOrigin { triangle: "T".into(), origin: "b".into() });
        let shape = Triangle::new("T", strings(&["a"]), vec![1, 2], vec![Some(1.0)]);
        assert!(matches!(shape, Err(TriangleError::ShapeMismatch { .. })));
        let unsorted = Triangle::new("T", strings(&["a"]), vec![2, 1], vec![Some(1.0), None]);
        assert!(matches!(unsorted, Err(TriangleError::AgesNotAscending { previous: 2, age: 1, .. })));
        let twice = Triangle::new("T", strings(&["a", "a"]), vec![1], vec![Some(1.0), Some(2.0)]);
        assert!(matches!(twice, Err(TriangleError::DuplicateOrigin { .. })));
        assert!(matches!(Triangle::new("T", vec![], vec![], vec![]), Err(TriangleError::Empty { .. })));
        assert!(matches!(
            Triangle::from_cells("T", Vec::<(String, u32, f64)>::new()),
            Err(TriangleError::Empty { .. })
        ));
        let scattered = (0..10_000u32).map(|i| (i.to_string(), i, 1.0));
        assert!(matches!(Triangle::from_cells("T", scattered), Err(TriangleError::TooLarge { .. })));
        let duplicate = Triangle::from_cells("T", [("a", 1, 1.0), ("a", 1, 2.0)]);
        assert_eq!(
            duplicate.unwrap_err(),
            TriangleError::DuplicateCell { triangle: "T".into(), origin: "a".into(), age: 1 }
        );
        let row_hole = Triangle::from_cells("T", [("a", 1, 1.0), ("a", 3, 2.0), ("b", 2, 5.0)]);
        assert!(matches!(row_hole, Err(TriangleError::HoleInRow { age: 2, .. })));
    }

    #[test]
    fn from_cells_sorts_origins_numerically_or_lexicographically() {
        let numeric = Triangle::from_cells("N", [("10", 1, 1.0), ("9", 1, 1.0), ("100", 1, 1.0)]).unwrap();
        assert_eq!(numeric.origins(), ["9", "10", "100"]);
        let quarters =
            Triangle::from_cells("Q", [("2019Q2", 1, 1.0), ("2019Q10", 1, 1.0), ("2019Q1", 1, 1.0)]).unwrap();
        assert_eq!(quarters.origins(), ["2019Q1", "2019Q10", "2019Q2"]);
        assert_eq!(quarters.get(0, 0), Some(1.0));
        assert_eq!(quarters.get(0, 1), None);
        assert_eq!(quarters.get(usize::MAX, 0), None);
    }

    #[test]
    fn overflow_is_an_error_not_infinity() {
        let huge = triangle("H", &["1", "2"], 1, &[&[1.0, f64::MAX], &[f64::MAX]]);
        assert_eq!(develop(&huge).unwrap_err(), TriangleError::Overflow { triangle: "H".into() });
    }
}
