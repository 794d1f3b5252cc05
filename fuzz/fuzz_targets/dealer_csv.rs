//! Any bytes as a dealer import file: never a panic; either every row is accepted or problems are named
//! with a line and a field.
#![no_main]

use autochannel::domain::dealers::parse_import;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_import(data) {
        Ok(rows) => {
            for row in rows {
                assert!(row.line >= 2, "data rows start after the header");
                assert!(!row.facts.code.is_empty());
            }
        }
        Err(problems) => assert!(!problems.is_empty()),
    }
});
