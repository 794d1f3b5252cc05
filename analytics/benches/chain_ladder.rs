//! Chain ladder at portfolio scale: 2,000 dealer triangles of 20 × 20 quarters developed to ultimate.
//! `cargo bench -p analytics --bench chain_ladder`

use analytics::chain_ladder::{Triangle, develop};
use criterion::{Criterion, criterion_group, criterion_main};

/// Deterministic cumulative triangles: each origin grows by a factor that shrinks with age.
fn triangles(count: usize, size: usize) -> Vec<Triangle> {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..count)
        .map(|t| {
            let origins: Vec<String> = (0..size).map(|o| format!("Q{o}")).collect();
            let ages: Vec<u32> = (1..=size as u32).collect();
            let mut cells = Vec::with_capacity(size * size);
            for o in 0..size {
                let mut value = 10_000.0 + 90_000.0 * next();
                for a in 0..size {
                    if a < size - o {
                        cells.push(Some(value));
                        value *= 1.0 + 0.5 * next() / (a as f64 + 1.0);
                    } else {
                        cells.push(None);
                    }
                }
            }
            Triangle::new(format!("dealer-{t}"), origins, ages, cells).expect("a valid triangle")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let all = triangles(2_000, 20);
    c.bench_function("develop 2000 triangles of 20x20", |b| {
        b.iter(|| {
            let mut ibnr = 0.0;
            for triangle in &all {
                ibnr += develop(triangle).expect("develops").total.ibnr;
            }
            std::hint::black_box(ibnr)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
