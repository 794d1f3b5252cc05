//! Money and rates. Amounts are `Decimal` in code and integer fen in storage;
//! rates and factors are `Decimal` in code and integer millionths in storage.
//! Nothing here passes through floating point.

use rust_decimal::{Decimal, RoundingStrategy};

/// Rates and factors are stored as integer millionths (0.006 → 6000).
pub const RATE_SCALE: u32 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("an amount has at most 2 decimal places (fen)")]
    TooPrecise,
    #[error("a rate has at most 6 decimal places")]
    RateTooPrecise,
    #[error("the amount is out of range")]
    OutOfRange,
    #[error("the amount must not be negative")]
    Negative,
}

/// An amount in CNY as integer fen, refusing anything finer than a fen.
pub fn to_fen(amount: Decimal) -> Result<i64, MoneyError> {
    scaled_integer(amount, 2)
        .ok_or_else(|| if amount.normalize().scale() > 2 { MoneyError::TooPrecise } else { MoneyError::OutOfRange })
}

/// Like [`to_fen`], for amounts that cannot be negative (limits, premiums).
pub fn to_fen_non_negative(amount: Decimal) -> Result<i64, MoneyError> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(MoneyError::Negative);
    }
    to_fen(amount)
}

/// Integer fen back to an amount with exactly two decimal places.
pub fn from_fen(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// Half-up rounding to the fen, the rule for every computed amount.
pub fn round_to_fen(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A rate or factor as integer millionths.
pub fn rate_to_micros(rate: Decimal) -> Result<i64, MoneyError> {
    scaled_integer(rate, RATE_SCALE).ok_or_else(|| {
        if rate.normalize().scale() > RATE_SCALE { MoneyError::RateTooPrecise } else { MoneyError::OutOfRange }
    })
}

/// Integer millionths back to a rate.
pub fn rate_from_micros(micros: i64) -> Decimal {
    Decimal::new(micros, RATE_SCALE).normalize()
}

fn scaled_integer(value: Decimal, scale: u32) -> Option<i64> {
    if value.normalize().scale() > scale {
        return None;
    }
    let factor = Decimal::from(10i64.pow(scale));
    let scaled = value.checked_mul(factor)?.trunc();
    i64::try_from(scaled.mantissa() / 10i128.pow(scaled.scale())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    #[test]
    fn largest_amount_round_trips_through_fen() {
        let amount = dec("9999999999999999.99");
        let fen = to_fen(amount).expect("fits");
        assert_eq!(fen, 999_999_999_999_999_999);
        assert_eq!(from_fen(fen), amount);
    }

    #[test]
    fn ten_fen_is_exact() {
        assert_eq!(to_fen(dec("0.10")), Ok(10));
        assert_eq!(to_fen(dec("0.1")), Ok(10));
        assert_eq!(from_fen(10).to_string(), "0.10");
    }

    #[test]
    fn fractions_of_a_fen_are_refused() {
        assert_eq!(to_fen(dec("1.005")), Err(MoneyError::TooPrecise));
        assert_eq!(to_fen(dec("1.0050")), Err(MoneyError::TooPrecise));
        assert_eq!(to_fen(dec("1.0000")), Ok(100));
    }

    #[test]
    fn amounts_beyond_i64_fen_are_refused() {
        assert_eq!(to_fen(dec("99999999999999999999")), Err(MoneyError::OutOfRange));
    }

    #[test]
    fn negative_amounts_can_be_refused() {
        assert_eq!(to_fen_non_negative(dec("-0.01")), Err(MoneyError::Negative));
        assert_eq!(to_fen(dec("-0.01")), Ok(-1));
    }

    #[test]
    fn rounding_is_half_up_at_the_fen() {
        assert_eq!(round_to_fen(dec("1.005")), dec("1.01"));
        assert_eq!(round_to_fen(dec("1.0049")), dec("1.00"));
        assert_eq!(round_to_fen(dec("-1.005")), dec("-1.01"));
    }

    #[test]
    fn rates_round_trip_through_millionths() {
        assert_eq!(rate_to_micros(dec("0.006")), Ok(6_000));
        assert_eq!(rate_from_micros(6_000), dec("0.006"));
        assert_eq!(rate_to_micros(dec("1.35")), Ok(1_350_000));
        assert_eq!(rate_to_micros(dec("0.0000001")), Err(MoneyError::RateTooPrecise));
    }
}
