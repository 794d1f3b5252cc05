//! Any text as a VIN: never a panic; an accepted VIN is 17 allowed characters and normalises to itself.
#![no_main]

use autochannel::domain::underwriting::identity::normalize_vin;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(vin) = normalize_vin(&text) {
        assert_eq!(vin.chars().count(), 17);
        assert!(vin.chars().all(|c| c.is_ascii_alphanumeric() && !matches!(c, 'I' | 'O' | 'Q')));
        assert_eq!(normalize_vin(&vin).as_deref(), Ok(vin.as_str()));
    }
});
