//! The identifiers a quote is keyed on — the VIN (车架号), the plate (车牌), the resident ID
//! (居民身份证号) and the mobile number — checked and normalised as a sales assistant types them
//! into the quote form. A typo here prices the wrong car or the wrong person, and is hard to
//! unwind once a policy is issued, so each value is refused early with a stable `code` (the
//! pages translate by code) and a short English message saying what to fix.
//!
//! Standard library only. Input is handled by `char`, never by byte offset, so no input panics.
//! Full-width characters typed in a Chinese input method's full-width mode (`Ｂ１２３`) are read as
//! their ASCII forms.

use std::fmt;

/// Why a value is refused: a stable machine code and an English message saying what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for Invalid {
    /// Shows the message followed by the code, e.g. for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Invalid {}

/// Builds an [`Invalid`] from a code and a message.
fn invalid(code: &'static str, message: impl Into<String>) -> Invalid {
    Invalid { code, message: message.into() }
}

/// Reads a full-width form (U+FF01..U+FF5E, and the ideographic space) as its ASCII character.
fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Folds full-width forms, uppercases ASCII letters and trims surrounding whitespace.
fn prepare(input: &str) -> String {
    let folded: String = input.chars().map(fold_width).map(|c| c.to_ascii_uppercase()).collect();
    folded.trim().to_string()
}

// ---------------------------------------------------------------------------------------------
// VIN
// ---------------------------------------------------------------------------------------------

/// Position weights for the VIN check digit (ISO 3779 / GB 16735); the 9th position weighs 0.
const VIN_WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// The number a VIN character stands for in the check-digit sum; `None` for anything a VIN cannot hold.
fn vin_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        'A' | 'J' => Some(1),
        'B' | 'K' | 'S' => Some(2),
        'C' | 'L' | 'T' => Some(3),
        'D' | 'M' | 'U' => Some(4),
        'E' | 'N' | 'V' => Some(5),
        'F' | 'W' => Some(6),
        'G' | 'P' | 'X' => Some(7),
        'H' | 'Y' => Some(8),
        'R' | 'Z' => Some(9),
        _ => None,
    }
}

/// The check digit (9th character) a 17-character VIN should carry: sum of value × weight, mod 11, 10 as 'X'.
fn vin_check_char(vin: &[char]) -> Option<char> {
    let mut sum = 0;
    for (&c, &weight) in vin.iter().zip(VIN_WEIGHTS.iter()) {
        sum += vin_value(c)? * weight;
    }
    match sum % 11 {
        10 => Some('X'),
        r => char::from_digit(r, 10),
    }
}

/// A VIN with its 9th character replaced by the right check digit, for generated data;
/// `None` unless given 17 valid VIN characters.
pub fn with_vin_check_digit(vin: &str) -> Option<String> {
    let mut chars: Vec<char> = vin.chars().collect();
    if chars.len() != 17 {
        return None;
    }
    let check = vin_check_char(&chars)?;
    *chars.get_mut(8)? = check;
    Some(chars.into_iter().collect())
}

/// Trims, uppercases and validates a VIN: 17 letters and digits, no I/O/Q, a correct check digit.
pub fn normalize_vin(input: &str) -> Result<String, Invalid> {
    let vin: [char; 17] = match prepare(input).chars().collect::<Vec<char>>().try_into() {
        Ok(vin) => vin,
        Err(chars) => {
            let message = if chars.is_empty() {
                "Enter the 17-character VIN.".to_string()
            } else {
                format!("A VIN has exactly 17 characters; this one has {}.", chars.len())
            };
            return Err(invalid("vin_length", message));
        }
    };
    for (index, &c) in vin.iter().enumerate() {
        let position = index + 1;
        match c {
            'I' | 'O' | 'Q' => {
                let hint = if c == 'I' { "1" } else { "0" };
                return Err(invalid(
                    "vin_letters",
                    format!(
                        "A VIN never contains the letters I, O or Q; character {position} is {c:?} (did you mean {hint}?)."
                    ),
                ));
            }
            _ if !c.is_ascii_alphanumeric() => {
                return Err(invalid(
                    "vin_letters",
                    format!("A VIN has only letters and digits; character {position} is {c:?}."),
                ));
            }
            _ => {}
        }
    }
    let expected = vin_check_char(&vin)
        .ok_or_else(|| invalid("vin_letters", "A VIN has only letters and digits, never I, O or Q."))?;
    let actual = vin[8];
    if actual != expected {
        return Err(invalid(
            "vin_check_digit",
            format!(
                "The VIN's check digit (9th character) should be '{expected}' but is '{actual}'; check the VIN for a typo."
            ),
        ));
    }
    Ok(vin.into_iter().collect())
}

// ---------------------------------------------------------------------------------------------
// Plate
// ---------------------------------------------------------------------------------------------

/// The one-character province abbreviations that begin a mainland plate.
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// A vehicle plate, normalised without separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plate {
    pub text: String,
    pub province: char,
    pub new_energy: bool,
}

/// Whether `c` is a letter (A–Z except I and O) or digit allowed after the province on a plate.
fn is_plate_char(c: char) -> bool {
    c.is_ascii_digit() || (c.is_ascii_uppercase() && c != 'I' && c != 'O')
}

/// Whether `c` may separate the city letter from the rest ("粤B·12345", "粤B 12345").
fn is_plate_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '·' | '•' | '・' | '‧' | '.' | '-')
}

/// Validates a plate: province abbreviation, city letter, then 5 characters, or 6 with D/F first or last (new energy).
pub fn normalize_plate(input: &str) -> Result<Plate, Invalid> {
    const EXAMPLE: &str = "e.g. 粤B12345, or 粤BD12345 for a new-energy plate";
    let prepared = prepare(input);
    let mut chars = prepared.chars();
    let Some(province) = chars.next() else {
        return Err(invalid("plate_format", format!("Enter the plate number, {EXAMPLE}.")));
    };
    if !PROVINCES.contains(province) {
        return Err(invalid(
            "plate_province",
            format!("A plate starts with a province abbreviation such as 粤 or 京; {province:?} is not one."),
        ));
    }
    let city = chars.next();
    let Some(city) = city.filter(|&c| c.is_ascii_uppercase() && c != 'I' && c != 'O') else {
        return Err(invalid(
            "plate_format",
            format!("After the province comes the city letter (A–Z, not I or O), {EXAMPLE}."),
        ));
    };
    let serial: Vec<char> = chars.as_str().trim_start_matches(is_plate_separator).chars().collect();
    if let Some(&bad) = serial.iter().find(|&&c| !is_plate_char(c)) {
        return Err(invalid(
            "plate_format",
            format!("After the city letter a plate has only digits and letters other than I and O; remove {bad:?}."),
        ));
    }
    let new_energy = match serial.len() {
        5 => false,
        6 if matches!(serial.first(), Some('D' | 'F')) || matches!(serial.last(), Some('D' | 'F')) => true,
        6 => {
            return Err(invalid(
                "plate_format",
                "A plate with 6 characters after the city letter is a new-energy plate and starts or ends with D or F.",
            ));
        }
        n => {
            return Err(invalid(
                "plate_format",
                format!(
                    "After the city letter a plate has 5 characters, or 6 for a new-energy plate; this one has {n}."
                ),
            ));
        }
    };
    let mut text = String::with_capacity(2 + serial.len() + 3);
    text.push(province);
    text.push(city);
    text.extend(serial);
    Ok(Plate { text, province, new_energy })
}

// ---------------------------------------------------------------------------------------------
// Resident ID
// ---------------------------------------------------------------------------------------------

/// Position weights for the resident ID check character (ISO 7064 MOD 11-2, GB 11643).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each value of the weighted sum mod 11.
const ID_CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// An 18-character mainland resident ID number, with the birth date and sex it encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentId {
    pub text: String,
    pub birth_year: i32,
    pub birth_month: u32,
    pub birth_day: u32,
    pub male: bool,
}

impl ResidentId {
    /// The number for display: first 6 and last 4 characters kept, the 8 between starred ("440305********123X").
    pub fn masked(&self) -> String {
        let count = self.text.chars().count();
        if count < 10 {
            return "*".repeat(count);
        }
        self.text.chars().enumerate().map(|(i, c)| if i < 6 || i >= count - 4 { c } else { '*' }).collect()
    }
}

/// The 17 leading digits of a resident ID completed with their check character, for generated data.
pub fn with_id_check_character(first_17: &str) -> Option<String> {
    let digits: Vec<u32> = first_17.chars().map(|c| c.to_digit(10)).collect::<Option<_>>()?;
    if digits.len() != 17 {
        return None;
    }
    let sum: u32 = digits.iter().zip(ID_WEIGHTS.iter()).map(|(d, w)| d * w).sum();
    let check = ID_CHECK_CHARS.get((sum % 11) as usize)?;
    Some(format!("{first_17}{check}"))
}

/// Whether `year` is a Gregorian leap year.
fn is_leap_year(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Whether year-month-day is a real calendar date with the year in 1900..=2100.
fn is_real_birth_date(year: u32, month: u32, day: u32) -> bool {
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2100).contains(&year) && (1..=days_in_month).contains(&day)
}

/// Reads a run of decimal digits as one number.
fn digits_value(digits: &[u32]) -> u32 {
    digits.iter().fold(0, |acc, &d| acc * 10 + d)
}

/// Validates an 18-character resident ID: 17 digits and a digit or X, a real birth date, a correct check character.
pub fn normalize_resident_id(input: &str) -> Result<ResidentId, Invalid> {
    let chars: [char; 18] = match prepare(input).chars().collect::<Vec<char>>().try_into() {
        Ok(chars) => chars,
        Err(chars) => {
            let message = match chars.len() {
                0 => "Enter the 18-character resident ID number.".to_string(),
                15 => "Old 15-digit ID numbers are not accepted; enter the 18-character number on the current card."
                    .to_string(),
                n => format!("A resident ID number has 18 characters; this one has {n}."),
            };
            return Err(invalid("id_length", message));
        }
    };
    let mut digits = [0u32; 17];
    for (index, (slot, &c)) in digits.iter_mut().zip(chars.iter()).enumerate() {
        match c.to_digit(10).filter(|_| c.is_ascii_digit()) {
            Some(d) => *slot = d,
            None => {
                return Err(invalid(
                    "id_format",
                    format!("The first 17 characters of a resident ID are digits; character {} is {c:?}.", index + 1),
                ));
            }
        }
    }
    let last = chars[17];
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(invalid(
            "id_format",
            format!("The last character of a resident ID is a digit or X; it is {last:?}."),
        ));
    }
    let (year, month, day) =
        (digits_value(&digits[6..10]), digits_value(&digits[10..12]), digits_value(&digits[12..14]));
    if !is_real_birth_date(year, month, day) {
        return Err(invalid(
            "id_birth_date",
            format!(
                "Characters 7 to 14 of a resident ID are the birth date, and {year:04}-{month:02}-{day:02} is not a real date (years 1900 to 2100)."
            ),
        ));
    }
    let sum: u32 = digits.iter().zip(ID_WEIGHTS.iter()).map(|(d, w)| d * w).sum();
    let expected = ID_CHECK_CHARS.get((sum % 11) as usize).copied().unwrap_or('?');
    if last != expected {
        return Err(invalid(
            "id_check_digit",
            format!(
                "The last character of this resident ID should be '{expected}' but is '{last}'; check the number for a typo."
            ),
        ));
    }
    Ok(ResidentId {
        text: chars.into_iter().collect(),
        birth_year: year as i32,
        birth_month: month,
        birth_day: day,
        male: digits[16] % 2 == 1,
    })
}

// ---------------------------------------------------------------------------------------------
// Mobile
// ---------------------------------------------------------------------------------------------

/// Validates a mainland mobile number (11 digits, 1 then 3–9), dropping "+86"/"86", spaces and hyphens.
pub fn normalize_mobile(input: &str) -> Result<String, Invalid> {
    const EXPECTED: &str = "A mobile number has 11 digits starting with 13 to 19, e.g. 13812345678";
    let compact: String = input.chars().map(fold_width).filter(|&c| !c.is_whitespace() && c != '-').collect();
    let number = match compact.strip_prefix("+86") {
        Some(rest) => rest,
        None => compact.strip_prefix("86").filter(|rest| rest.len() == 11).unwrap_or(&compact),
    };
    if number.is_empty() {
        return Err(invalid(
            "mobile_format",
            "Enter the mobile number: 11 digits starting with 13 to 19, e.g. 13812345678.",
        ));
    }
    if let Some(bad) = number.chars().find(|c| !c.is_ascii_digit()) {
        return Err(invalid("mobile_format", format!("{EXPECTED}; remove {bad:?}.")));
    }
    let count = number.len();
    if count != 11 {
        return Err(invalid("mobile_format", format!("{EXPECTED}; this one has {count} digits.")));
    }
    let mut leading = number.chars();
    if leading.next() != Some('1') || !matches!(leading.next(), Some('3'..='9')) {
        return Err(invalid("mobile_format", format!("{EXPECTED}.")));
    }
    Ok(number.to_string())
}

/// A mobile number for display, "138****5678"; anything that is not a valid mobile is starred out entirely.
pub fn mask_mobile(mobile: &str) -> String {
    match normalize_mobile(mobile) {
        Ok(number) => number.chars().enumerate().map(|(i, c)| if (3..7).contains(&i) { '*' } else { c }).collect(),
        Err(_) => "*".repeat(mobile.trim().chars().count()),
    }
}

#[cfg(test)]
mod completion_tests {
    use super::*;

    #[test]
    fn completed_identifiers_validate() {
        let vin = with_vin_check_digit("LSVAU2180N2183294").expect("17 characters");
        assert_eq!(vin, "LSVAU218XN2183294");
        assert!(normalize_vin(&vin).is_ok());
        let id = with_id_check_character("11010519491231002").expect("17 digits");
        assert_eq!(id, "11010519491231002X");
        assert!(normalize_resident_id(&id).is_ok());
        assert_eq!(with_vin_check_digit("SHORT"), None);
        assert_eq!(with_id_check_character("1101051949123100A"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // --- helpers, written independently of the code under test -------------------------------

    /// VIN check digit via the table-position trick: value = index in this string mod 10.
    fn vin_check(vin17: &str) -> char {
        const TABLE: &str = "0123456789.ABCDEFGH..JKLMN.P.R..STUVWXYZ";
        let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
        let sum: usize = vin17.chars().zip(weights).map(|(c, w)| (TABLE.find(c).unwrap() % 10) * w).sum();
        if sum % 11 == 10 { 'X' } else { char::from_digit((sum % 11) as u32, 10).unwrap() }
    }

    /// Puts the right check digit into the 9th position of a 17-character VIN.
    fn with_vin_check(vin17: &str) -> String {
        let mut chars: Vec<char> = vin17.chars().collect();
        chars[8] = vin_check(vin17);
        chars.into_iter().collect()
    }

    /// Appends the MOD 11-2 check character to 17 digits; weights are 2^(17-i) mod 11.
    fn with_id_check(first17: &str) -> String {
        let sum: u32 =
            first17.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap() * (2u32.pow(17 - i as u32) % 11)).sum();
        let value = (12 - sum % 11) % 11;
        let check = if value == 10 { 'X' } else { char::from_digit(value, 10).unwrap() };
        format!("{first17}{check}")
    }

    /// Replaces the character at `index` (by char).
    fn replace_at(s: &str, index: usize, with: char) -> String {
        s.chars().enumerate().map(|(i, c)| if i == index { with } else { c }).collect()
    }

    fn code<T: std::fmt::Debug>(result: Result<T, Invalid>) -> &'static str {
        result.unwrap_err().code
    }

    // --- VIN -----------------------------------------------------------------------------------

    #[test]
    fn classic_valid_vin_is_accepted() {
        assert_eq!(normalize_vin("1M8GDM9AXKP042788").unwrap(), "1M8GDM9AXKP042788");
    }

    #[test]
    fn test_helper_agrees_with_known_vins() {
        assert_eq!(vin_check("1M8GDM9AXKP042788"), 'X');
        assert_eq!(vin_check("11111111111111111"), '1');
    }

    #[test]
    fn all_ones_vin_is_accepted() {
        assert!(normalize_vin("11111111111111111").is_ok());
    }

    #[test]
    fn vin_is_trimmed_and_uppercased() {
        assert_eq!(normalize_vin("  1m8gdm9axkp042788\t\n").unwrap(), "1M8GDM9AXKP042788");
    }

    #[test]
    fn full_width_vin_is_read_as_ascii() {
        assert_eq!(normalize_vin("１Ｍ８ＧＤＭ９ＡＸＫＰ０４２７８８").unwrap(), "1M8GDM9AXKP042788");
    }

    #[test]
    fn chinese_vin_with_computed_check_digit_is_accepted() {
        let vin = with_vin_check("LSVAU2180N2183294");
        assert_eq!(vin, "LSVAU218XN2183294");
        assert_eq!(normalize_vin(&vin).unwrap(), vin);
        let other = with_vin_check("LFV2A21K0A3000001");
        assert_eq!(normalize_vin(&other.to_lowercase()).unwrap(), other);
    }

    #[test]
    fn chinese_vin_with_wrong_check_digit_names_the_expected_digit() {
        let err = normalize_vin("LSVAU2180N2183294").unwrap_err();
        assert_eq!(err.code, "vin_check_digit");
        assert!(err.message.contains("'X'"), "{}", err.message);
    }

    #[test]
    fn vin_with_one_altered_character_fails_the_check_digit() {
        let vin = with_vin_check("LSVAU2180N2183294");
        let altered = replace_at(&vin, 11, '4'); // ...N218... -> ...N248...
        assert_ne!(altered, vin);
        let err = normalize_vin(&altered).unwrap_err();
        assert_eq!(err.code, "vin_check_digit");
        assert!(err.message.contains(&format!("'{}'", vin_check(&altered))), "{}", err.message);
    }

    #[test]
    fn vin_check_digit_catches_every_single_digit_substitution() {
        let vin = "11111111111111111";
        for position in (0..17).filter(|&p| p != 8) {
            for digit in ['0', '2', '3', '4', '5', '6', '7', '8', '9'] {
                let altered = replace_at(vin, position, digit);
                assert_eq!(code(normalize_vin(&altered)), "vin_check_digit", "{altered}");
            }
        }
    }

    #[test]
    fn vin_with_wrong_check_digit_x_names_x() {
        let err = normalize_vin("1M8GDM9A5KP042788").unwrap_err();
        assert_eq!(err.code, "vin_check_digit");
        assert!(err.message.contains("'X'") && err.message.contains("'5'"), "{}", err.message);
    }

    #[test]
    fn vin_with_letter_o_is_refused() {
        let err = normalize_vin("1M8GDM9AXKP0427O8").unwrap_err();
        assert_eq!(err.code, "vin_letters");
        assert!(err.message.contains("16"), "{}", err.message);
    }

    #[test]
    fn vin_with_lowercase_o_is_refused() {
        assert_eq!(code(normalize_vin("1m8gdm9axkpo42788")), "vin_letters");
    }

    #[test]
    fn vin_with_letter_i_is_refused() {
        assert_eq!(code(normalize_vin("IM8GDM9AXKP042788")), "vin_letters");
    }

    #[test]
    fn vin_with_letter_q_is_refused() {
        assert_eq!(code(normalize_vin("1M8GDM9AXKPQ42788")), "vin_letters");
    }

    #[test]
    fn vin_with_punctuation_is_refused() {
        assert_eq!(code(normalize_vin("1M8GDM9AX-P042788")), "vin_letters");
    }

    #[test]
    fn vin_with_a_chinese_character_is_refused_without_panicking() {
        assert_eq!(code(normalize_vin("1M8GDM9A粤KP042788")), "vin_letters");
        assert_eq!(code(normalize_vin("粤M8GDM9AXKP04278京")), "vin_letters");
    }

    #[test]
    fn vin_of_16_characters_is_refused() {
        let err = normalize_vin("1M8GDM9AXKP04278").unwrap_err();
        assert_eq!(err.code, "vin_length");
        assert!(err.message.contains("16"), "{}", err.message);
    }

    #[test]
    fn vin_of_18_characters_is_refused() {
        assert_eq!(code(normalize_vin("1M8GDM9AXKP0427888")), "vin_length");
    }

    #[test]
    fn vin_with_inner_space_is_refused_on_length() {
        assert_eq!(code(normalize_vin("1M8GDM9AX KP042788")), "vin_length");
    }

    #[test]
    fn empty_or_blank_vin_is_refused() {
        assert_eq!(code(normalize_vin("")), "vin_length");
        assert_eq!(code(normalize_vin("   ")), "vin_length");
        assert_eq!(code(normalize_vin("\u{3000}")), "vin_length");
    }

    #[test]
    fn very_long_vin_is_refused_on_length() {
        assert_eq!(code(normalize_vin(&"A".repeat(100_000))), "vin_length");
    }

    #[test]
    fn seventeen_multibyte_characters_are_refused_as_letters() {
        assert_eq!(code(normalize_vin(&"粤".repeat(17))), "vin_letters");
    }

    // --- Plate ---------------------------------------------------------------------------------

    fn plate(input: &str) -> Plate {
        normalize_plate(input).unwrap_or_else(|e| panic!("{input} refused: {e}"))
    }

    #[test]
    fn ordinary_plate_is_accepted() {
        assert_eq!(plate("粤B12345"), Plate { text: "粤B12345".into(), province: '粤', new_energy: false });
    }

    #[test]
    fn ordinary_plate_with_letters_in_serial_is_accepted() {
        assert_eq!(plate("京A8X9Y7"), Plate { text: "京A8X9Y7".into(), province: '京', new_energy: false });
    }

    #[test]
    fn new_energy_plate_with_d_first_is_accepted() {
        assert_eq!(plate("沪AD12345"), Plate { text: "沪AD12345".into(), province: '沪', new_energy: true });
    }

    #[test]
    fn new_energy_plate_with_f_first_is_accepted() {
        assert_eq!(plate("粤BF12345"), Plate { text: "粤BF12345".into(), province: '粤', new_energy: true });
    }

    #[test]
    fn new_energy_plate_with_d_last_is_accepted() {
        assert_eq!(plate("苏E12345D"), Plate { text: "苏E12345D".into(), province: '苏', new_energy: true });
    }

    #[test]
    fn five_character_serial_starting_with_d_is_ordinary() {
        assert!(!plate("粤BD1234").new_energy);
    }

    #[test]
    fn plate_with_middle_dot_is_normalised() {
        assert_eq!(plate("粤B·12345").text, "粤B12345");
        assert_eq!(plate("粤B•12345").text, "粤B12345");
    }

    #[test]
    fn plate_with_space_is_normalised() {
        assert_eq!(plate("粤B 12345").text, "粤B12345");
        assert_eq!(plate("  粤B\u{3000}12345 ").text, "粤B12345");
    }

    #[test]
    fn lowercase_plate_is_uppercased() {
        assert_eq!(plate("粤b12345").text, "粤B12345");
        assert_eq!(plate("沪ad12345"), Plate { text: "沪AD12345".into(), province: '沪', new_energy: true });
        assert_eq!(plate("京a8x9y7").text, "京A8X9Y7");
    }

    #[test]
    fn full_width_plate_is_read_as_ascii() {
        assert_eq!(plate("粤Ｂ１２３４５").text, "粤B12345");
    }

    #[test]
    fn every_province_is_accepted() {
        for province in PROVINCES.chars() {
            assert_eq!(plate(&format!("{province}A12345")).province, province);
        }
        assert_eq!(PROVINCES.chars().count(), 31);
    }

    #[test]
    fn plate_without_city_letter_is_refused() {
        assert_eq!(code(normalize_plate("粤12345")), "plate_format");
    }

    #[test]
    fn plate_with_unknown_province_is_refused() {
        assert_eq!(code(normalize_plate("XXB12345")), "plate_province");
        assert_eq!(code(normalize_plate("港B12345")), "plate_province");
    }

    #[test]
    fn plate_with_letter_i_in_serial_is_refused() {
        assert_eq!(code(normalize_plate("粤BI2345")), "plate_format");
    }

    #[test]
    fn plate_with_letter_o_in_serial_is_refused() {
        assert_eq!(code(normalize_plate("粤B1O345")), "plate_format");
    }

    #[test]
    fn plate_with_city_letter_i_or_o_is_refused() {
        assert_eq!(code(normalize_plate("粤I12345")), "plate_format");
        assert_eq!(code(normalize_plate("粤O12345")), "plate_format");
    }

    #[test]
    fn short_plate_is_refused() {
        assert_eq!(code(normalize_plate("粤B1234")), "plate_format");
    }

    #[test]
    fn long_plate_is_refused() {
        assert_eq!(code(normalize_plate("粤B1234567")), "plate_format");
    }

    #[test]
    fn six_character_serial_without_d_or_f_is_refused() {
        assert_eq!(code(normalize_plate("粤B123456")), "plate_format");
    }

    #[test]
    fn six_character_serial_with_d_only_in_the_middle_is_refused() {
        assert_eq!(code(normalize_plate("粤B12D345")), "plate_format");
    }

    #[test]
    fn plate_with_separator_inside_serial_is_refused() {
        assert_eq!(code(normalize_plate("粤B12 345")), "plate_format");
        assert_eq!(code(normalize_plate("粤B·123·45")), "plate_format");
    }

    #[test]
    fn plate_with_chinese_character_in_serial_is_refused_without_panicking() {
        assert_eq!(code(normalize_plate("粤B12粤45")), "plate_format");
        assert_eq!(code(normalize_plate("粤B1234学")), "plate_format");
        assert_eq!(code(normalize_plate("粤粤12345")), "plate_format");
    }

    #[test]
    fn empty_or_province_only_plate_is_refused() {
        assert_eq!(code(normalize_plate("")), "plate_format");
        assert_eq!(code(normalize_plate("  ")), "plate_format");
        assert_eq!(code(normalize_plate("粤")), "plate_format");
        assert_eq!(code(normalize_plate("粤B")), "plate_format");
    }

    #[test]
    fn very_long_plate_is_refused() {
        assert_eq!(code(normalize_plate(&format!("粤B{}", "1".repeat(100_000)))), "plate_format");
    }

    // --- Resident ID ---------------------------------------------------------------------------

    #[test]
    fn test_helper_agrees_with_the_standard_example() {
        assert_eq!(with_id_check("11010519491231002"), "11010519491231002X");
    }

    #[test]
    fn standard_example_resident_id_is_accepted() {
        let id = normalize_resident_id("11010519491231002X").unwrap();
        assert_eq!(
            id,
            ResidentId {
                text: "11010519491231002X".into(),
                birth_year: 1949,
                birth_month: 12,
                birth_day: 31,
                male: false,
            }
        );
    }

    #[test]
    fn resident_id_with_lowercase_x_is_normalised() {
        assert_eq!(normalize_resident_id(" 11010519491231002x ").unwrap().text, "11010519491231002X");
    }

    #[test]
    fn full_width_resident_id_is_read_as_ascii() {
        assert_eq!(normalize_resident_id("１１０１０５１９４９１２３１００２ｘ").unwrap().text, "11010519491231002X");
    }

    #[test]
    fn resident_id_born_on_leap_day_2000_is_accepted() {
        let text = with_id_check("44030520000229123");
        let id = normalize_resident_id(&text).unwrap();
        assert_eq!((id.birth_year, id.birth_month, id.birth_day), (2000, 2, 29));
        assert!(id.male);
        assert_eq!(id.text, text);
    }

    #[test]
    fn resident_id_with_odd_17th_digit_is_male_and_even_is_female() {
        assert!(normalize_resident_id(&with_id_check("11010519800101001")).unwrap().male);
        assert!(!normalize_resident_id(&with_id_check("11010519800101002")).unwrap().male);
        assert!(!normalize_resident_id(&with_id_check("11010519800101000")).unwrap().male);
        assert!(normalize_resident_id(&with_id_check("11010519800101009")).unwrap().male);
    }

    #[test]
    fn resident_id_born_on_feb_29_1990_is_refused() {
        assert_eq!(code(normalize_resident_id(&with_id_check("44030519900229123"))), "id_birth_date");
    }

    #[test]
    fn resident_id_born_on_feb_29_1900_or_2100_is_refused() {
        assert_eq!(code(normalize_resident_id(&with_id_check("44030519000229123"))), "id_birth_date");
        assert_eq!(code(normalize_resident_id(&with_id_check("44030521000229123"))), "id_birth_date");
        assert!(normalize_resident_id(&with_id_check("44030519960229123")).is_ok());
    }

    #[test]
    fn resident_id_with_impossible_month_or_day_is_refused() {
        for date in ["19901301", "19900001", "19900100", "19900132", "19900431", "19900230"] {
            let id = with_id_check(&format!("440305{date}123"));
            assert_eq!(code(normalize_resident_id(&id)), "id_birth_date", "{id}");
        }
    }

    #[test]
    fn resident_id_year_outside_1900_to_2100_is_refused() {
        assert_eq!(code(normalize_resident_id(&with_id_check("44030518991231123"))), "id_birth_date");
        assert_eq!(code(normalize_resident_id(&with_id_check("44030521010101123"))), "id_birth_date");
        assert!(normalize_resident_id(&with_id_check("44030519000101123")).is_ok());
        assert!(normalize_resident_id(&with_id_check("44030521001231123")).is_ok());
    }

    #[test]
    fn resident_id_with_wrong_check_digit_names_the_expected_character() {
        let err = normalize_resident_id("110105194912310021").unwrap_err();
        assert_eq!(err.code, "id_check_digit");
        assert!(err.message.contains("'X'"), "{}", err.message);
    }

    #[test]
    fn resident_id_with_one_altered_digit_fails_the_check() {
        let valid = with_id_check("44030520000229123");
        let altered = replace_at(&valid, 3, '4');
        assert_ne!(altered, valid);
        let err = normalize_resident_id(&altered).unwrap_err();
        assert_eq!(err.code, "id_check_digit");
        let expected = with_id_check(&altered.chars().take(17).collect::<String>()).chars().last().unwrap();
        assert!(err.message.contains(&format!("'{expected}'")), "{}", err.message);
    }

    #[test]
    fn fifteen_digit_resident_id_is_refused_on_length() {
        assert_eq!(code(normalize_resident_id("110105491231002")), "id_length");
    }

    #[test]
    fn resident_id_of_wrong_length_is_refused() {
        assert_eq!(code(normalize_resident_id("")), "id_length");
        assert_eq!(code(normalize_resident_id("11010519491231002")), "id_length");
        assert_eq!(code(normalize_resident_id("11010519491231002X1")), "id_length");
        assert_eq!(code(normalize_resident_id(&"1".repeat(100_000))), "id_length");
    }

    #[test]
    fn resident_id_with_letter_in_body_is_refused() {
        assert_eq!(code(normalize_resident_id("1101051949123100X2")), "id_format");
        assert_eq!(code(normalize_resident_id("A1010519491231002X")), "id_format");
    }

    #[test]
    fn resident_id_ending_in_other_letter_is_refused() {
        assert_eq!(code(normalize_resident_id("11010519491231002Y")), "id_format");
    }

    #[test]
    fn resident_id_with_chinese_character_is_refused_without_panicking() {
        assert_eq!(code(normalize_resident_id("1101051949123100粤X")), "id_format");
        assert_eq!(code(normalize_resident_id("11010519491231002粤")), "id_format");
    }

    #[test]
    fn resident_id_with_non_ascii_digits_is_refused() {
        // Arabic-Indic digit one; `char::to_digit` would not read it, but make sure it is refused.
        assert_eq!(code(normalize_resident_id("\u{0661}1010519491231002X")), "id_format");
    }

    #[test]
    fn resident_id_is_masked_keeping_first_six_and_last_four() {
        let id = normalize_resident_id("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "110105********002X");
        let id = normalize_resident_id(&with_id_check("44030520000229123")).unwrap();
        assert_eq!(id.masked(), format!("440305********123{}", id.text.chars().last().unwrap()));
    }

    #[test]
    fn masking_a_hand_built_short_id_does_not_panic() {
        let id = ResidentId { text: "12345".into(), birth_year: 2000, birth_month: 1, birth_day: 1, male: true };
        assert_eq!(id.masked(), "*****");
    }

    // --- Mobile --------------------------------------------------------------------------------

    #[test]
    fn plain_mobile_is_accepted() {
        assert_eq!(normalize_mobile("13812345678").unwrap(), "13812345678");
        assert_eq!(normalize_mobile("19912345678").unwrap(), "19912345678");
    }

    #[test]
    fn mobile_with_country_code_spaces_and_hyphens_is_normalised() {
        for input in [
            "+86 138 1234 5678",
            "+8613812345678",
            "8613812345678",
            "86-138-1234-5678",
            " 138-1234-5678 ",
            "+86-13812345678",
        ] {
            assert_eq!(normalize_mobile(input).unwrap(), "13812345678", "{input}");
        }
    }

    #[test]
    fn full_width_mobile_is_read_as_ascii() {
        assert_eq!(normalize_mobile("＋８６ １３８１２３４５６７８").unwrap(), "13812345678");
    }

    #[test]
    fn mobile_with_second_digit_below_3_is_refused() {
        assert_eq!(code(normalize_mobile("12812345678")), "mobile_format");
        assert_eq!(code(normalize_mobile("10812345678")), "mobile_format");
    }

    #[test]
    fn mobile_not_starting_with_1_is_refused() {
        assert_eq!(code(normalize_mobile("23812345678")), "mobile_format");
    }

    #[test]
    fn mobile_of_wrong_length_is_refused() {
        assert_eq!(code(normalize_mobile("1381234567")), "mobile_format");
        assert_eq!(code(normalize_mobile("138123456789")), "mobile_format");
        assert_eq!(code(normalize_mobile("861381234567")), "mobile_format");
        assert_eq!(code(normalize_mobile(&"1".repeat(100_000))), "mobile_format");
    }

    #[test]
    fn mobile_with_letters_or_other_prefix_is_refused() {
        assert_eq!(code(normalize_mobile("138l2345678")), "mobile_format");
        assert_eq!(code(normalize_mobile("+85213812345678")), "mobile_format");
        assert_eq!(code(normalize_mobile("138粤2345678")), "mobile_format");
    }

    #[test]
    fn empty_mobile_or_bare_country_code_is_refused() {
        assert_eq!(code(normalize_mobile("")), "mobile_format");
        assert_eq!(code(normalize_mobile(" - ")), "mobile_format");
        assert_eq!(code(normalize_mobile("+86")), "mobile_format");
    }

    #[test]
    fn mobile_is_masked_keeping_first_three_and_last_four() {
        assert_eq!(mask_mobile("13812345678"), "138****5678");
        assert_eq!(mask_mobile("+86 138-1234-5678"), "138****5678");
    }

    #[test]
    fn invalid_mobile_is_starred_out_entirely() {
        assert_eq!(mask_mobile("12345"), "*****");
        assert_eq!(mask_mobile("粤粤"), "**");
        assert_eq!(mask_mobile(""), "");
    }

    // --- All -----------------------------------------------------------------------------------

    #[test]
    fn hostile_inputs_never_panic_and_give_documented_codes() {
        let codes = [
            "vin_length",
            "vin_letters",
            "vin_check_digit",
            "plate_province",
            "plate_format",
            "id_length",
            "id_format",
            "id_birth_date",
            "id_check_digit",
            "mobile_format",
        ];
        let long = "粤".repeat(50_000);
        let inputs = [
            "",
            " ",
            "\0",
            "粤",
            "e\u{301}",
            "🚗🚗🚗🚗🚗🚗🚗🚗🚗🚗🚗🚗🚗🚗🚗🚗🚗",
            "粤B·",
            "·",
            "+",
            "86",
            "\u{FEFF}13812345678",
            "\u{FF5F}\u{FF00}\u{FFFF}",
            &long,
        ];
        for input in inputs {
            for result in [
                normalize_vin(input).map(|_| ()),
                normalize_plate(input).map(|_| ()),
                normalize_resident_id(input).map(|_| ()),
                normalize_mobile(input).map(|_| ()),
            ] {
                let err = result.unwrap_err();
                assert!(codes.contains(&err.code), "{}", err.code);
                assert!(!err.message.is_empty());
            }
            let _ = mask_mobile(input);
        }
    }

    #[test]
    fn invalid_displays_message_and_code() {
        let err = normalize_vin("").unwrap_err();
        assert_eq!(err.to_string(), format!("{} (vin_length)", err.message));
    }
}
