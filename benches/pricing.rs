//! Pricing one quote in process, with the default tables and every coverage chosen.
//! Run: `cargo bench --bench pricing`.

use autochannel::domain::underwriting::rating::{
    self, AccidentHistory, CoverageChoice, PricingInput, RatingTables, Vehicle,
};
use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use std::hint::black_box;

fn every_coverage() -> PricingInput {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    PricingInput {
        vehicle: Vehicle {
            first_registration: date(2024, 3, 15),
            new_car_price: Decimal::new(20_000_000, 2),
            seats: 5,
        },
        start_date: date(2026, 11, 23),
        accident_history: AccidentHistory::ClaimFree1Year,
        ncd_level: -1,
        pricing_coefficient: Decimal::new(95, 2),
        coverages: CoverageChoice {
            compulsory: true,
            vehicle_damage: true,
            third_party_limit: Some(Decimal::from(1_000_000)),
            driver_limit: Some(Decimal::from(10_000)),
            passenger_limit: Some(Decimal::from(10_000)),
            riders: vec!["wheel".into(), "medical_extra".into(), "repair_period".into()],
            vehicle_damage_sum_insured: None,
        },
    }
}

fn pricing(c: &mut Criterion) {
    let tables = RatingTables::defaults();
    let input = every_coverage();
    c.bench_function("price a quote with every coverage", |b| {
        b.iter(|| rating::price(black_box(&tables), black_box(&input)))
    });
}

criterion_group!(benches, pricing);
criterion_main!(benches);
