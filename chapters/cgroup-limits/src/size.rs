//! Sizes as Docker writes them: `64m`, `1g`, `512k`, `1048576`.
//!
//! `docker run -m` takes a number with an optional unit, `b`, `k`, `m`, `g`
//! (and `t`, `p`), in either case, optionally followed by `b` or `ib`
//! (`64mb`, `64MiB`); every unit is a power of 1024, and a fraction is
//! allowed (`1.5g`). The cgroup files want plain bytes, so the runtime turns
//! the text into a number before anything is created, and back into words
//! (`64 MiB`) when it reports. Introduced in chapter 2.

/// The units, in order: `k` is 1024, `m` 1024², and so on.
const UNITS: [char; 5] = ['k', 'm', 'g', 't', 'p'];

/// Parses a size like Docker's `-m`: `64m` is 67108864 bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let invalid =
        || format!("invalid size {text:?}: use a number of bytes with an optional unit b, k, m or g (e.g. 64m, 1g)");
    let digits_end = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let multiplier = unit_multiplier(unit).ok_or_else(invalid)?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return Err(invalid());
    }
    let too_large = || format!("invalid size {text:?}: too large");
    let whole: u128 = whole.parse().map_err(|_| too_large())?;
    // The fraction is scaled exactly: 1.5g is 1610612736, not a rounded float.
    let scale = 10u128.checked_pow(fraction.len() as u32).ok_or_else(too_large)?;
    let fraction: u128 = if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| too_large())? };
    let bytes = whole * multiplier + fraction * multiplier / scale;
    u64::try_from(bytes).ok().filter(|bytes| *bytes <= i64::MAX as u64).ok_or_else(too_large)
}

/// How many bytes one unit is, for the text after the number (`""`, `"m"`, `" MiB"`).
fn unit_multiplier(unit: &str) -> Option<u128> {
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let mut chars = unit.chars();
    let (power, rest) = match chars.next() {
        None => return Some(1),
        Some('b') => (0, chars.as_str()),
        Some(letter) => (UNITS.iter().position(|u| *u == letter)? + 1, chars.as_str()),
    };
    let suffix_ok = if power == 0 { rest.is_empty() } else { matches!(rest, "" | "b" | "ib") };
    suffix_ok.then(|| 1024u128.pow(power as u32))
}

/// A size in words, in the largest unit that divides it: `64 MiB`, `1.50 GiB`, `4097 bytes`.
pub fn format_size(bytes: u64) -> String {
    const NAMES: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = None;
    for (power, name) in NAMES.iter().enumerate() {
        let size = 1024u64.pow(power as u32 + 1);
        if bytes >= size {
            unit = Some((size, *name));
        }
    }
    match unit {
        None => format!("{bytes} bytes"),
        Some((size, name)) if bytes.is_multiple_of(size) => format!("{} {name}", bytes / size),
        Some((size, name)) => format!("{:.2} {name}", bytes as f64 / size as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_units_are_powers_of_1024_in_either_case() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("512k"), Ok(512 * 1024));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("64mb"), Ok(64 << 20));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("100b"), Ok(100));
    }

    #[test]
    fn fractions_are_exact() {
        assert_eq!(parse_size("1.5g"), Ok(1_610_612_736));
        assert_eq!(parse_size("0.5k"), Ok(512));
    }

    #[test]
    fn malformed_sizes_say_what_is_accepted() {
        for bad in ["12Q", "", "m", "-1", "1.", ".5m", "1.2.3m", "64 m b", "64bb", "1kk"] {
            let err = parse_size(bad).unwrap_err();
            assert!(err.contains("use a number of bytes with an optional unit"), "{bad:?}: {err}");
        }
        assert!(parse_size("99999999999p").unwrap_err().contains("too large"));
    }

    #[test]
    fn sizes_read_back_in_words() {
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(1 << 30), "1 GiB");
        assert_eq!(format_size(1_610_612_736), "1.50 GiB");
        assert_eq!(format_size(1000), "1000 bytes");
    }
}
