//! Underwriting: the identifiers a quote is keyed on, rating and the policy lifecycle.

pub mod identity;
