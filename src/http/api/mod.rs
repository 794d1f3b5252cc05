//! JSON handlers under `/api/v1`, one file per area: parse, call the store, respond.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod claims;
pub mod commission;
pub mod dealers;
pub mod feedback;
pub mod health;
pub mod monitoring;
pub mod openapi;
pub mod underwriting;
pub mod users;

/// Sorts table rows by a figure some rows lack: rows without it go last either way, ties and gaps by `tie`.
pub fn sort_gaps_last<T, K: PartialOrd>(
    rows: &mut [T],
    key: impl Fn(&T) -> Option<K>,
    descending: bool,
    tie: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    use std::cmp::Ordering;
    rows.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => {
            let order = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
            if descending { order.reverse() } else { order }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => tie(a, b),
    });
}
