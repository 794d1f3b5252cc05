//! Any bytes as a triangle file for `analytics chain-ladder`: never a panic; every triangle read develops
//! (or is refused with an error), and a development never yields NaN.
#![no_main]

use analytics::{chain_ladder, triangle_io};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(triangles) = triangle_io::read_triangles_csv(data) {
        for triangle in &triangles {
            if let Ok(development) = chain_ladder::develop(triangle) {
                for factor in &development.factors {
                    assert!(!factor.factor.is_nan());
                }
            }
        }
    }
});
