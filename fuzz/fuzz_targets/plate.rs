//! Any text as a number plate: never a panic; an accepted plate normalises to itself with the same province.
#![no_main]

use autochannel::domain::underwriting::identity::normalize_plate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(plate) = normalize_plate(&text) {
        let again = normalize_plate(&plate.text).expect("an accepted plate is accepted again");
        assert_eq!(again.text, plate.text);
        assert_eq!(again.province, plate.province);
        assert_eq!(again.new_energy, plate.new_energy);
    }
});
