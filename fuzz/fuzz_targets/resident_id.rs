//! Any text as a resident ID: never a panic; an accepted ID is 18 characters with a real birth date and
//! normalises to itself.
#![no_main]

use autochannel::domain::underwriting::identity::normalize_resident_id;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = normalize_resident_id(&text) {
        assert_eq!(id.text.chars().count(), 18);
        assert!(chrono::NaiveDate::from_ymd_opt(id.birth_year, id.birth_month, id.birth_day).is_some());
        assert_eq!(normalize_resident_id(&id.text).map(|again| again.text), Ok(id.text.clone()));
    }
});
