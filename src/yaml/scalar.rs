//! How the YAML 1.2 core schema reads a scalar: the rules `serde_yaml` applies, which gave amlgen
//! its values before the event stream that records positions built them too. A property test
//! holds the two to the same answers.
//!
//! A plain scalar is typed by its text (null, boolean, integer, float, else text); `!!bool`,
//! `!!int`, `!!float` and `!!null` demand their type whatever the quoting; a quoted or block
//! scalar, and any other tag, is text.

use serde_json::Value;

/// The value of a plain scalar without a tag.
pub(super) fn plain(text: &str) -> Value {
    typed(text).unwrap_or_else(|| Value::String(text.to_owned()))
}

/// The value YAML reads a plain, untagged scalar as when that is not text: null, a boolean or
/// a number (`.inf` and `.nan`, which JSON cannot hold, as their YAML spelling).
pub(super) fn typed(text: &str) -> Option<Value> {
    if text.is_empty() || null(text) {
        Some(Value::Null)
    } else if let Some(flag) = boolean(text) {
        Some(Value::Bool(flag))
    } else if let Some(int) = integer(text) {
        Some(int)
    } else if leading_zero_digits(text) {
        None
    } else {
        float(text).map(number)
    }
}

/// The value of a scalar tagged `!!<suffix>` (a core-schema tag), or, when its text is not of
/// that type, what the tag expects.
pub(super) fn tagged(suffix: &str, text: &str) -> Result<Value, &'static str> {
    match suffix {
        "bool" => boolean(text).map(Value::Bool).ok_or("true or false"),
        "int" => integer(text).ok_or("an integer"),
        "float" => float(text).map(number).ok_or("a number"),
        "null" => null(text)
            .then_some(Value::Null)
            .ok_or("null (`null` or `~`)"),
        _ => Ok(Value::String(text.to_owned())),
    }
}

fn null(text: &str) -> bool {
    matches!(text, "null" | "Null" | "NULL" | "~")
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A decimal, `0x`, `0o` or `0b` integer with an optional sign, within 64 bits. (`serde_yaml`
/// fails on wider integers; here a decimal one is then read as a float and another as text,
/// which the schema refuses where a count belongs.)
fn integer(text: &str) -> Option<Value> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = [("0x", 16), ("0o", 8), ("0b", 2)]
        .into_iter()
        .find_map(|(prefix, radix)| Some((radix, digits.strip_prefix(prefix)?)))
        .unwrap_or((10, digits));
    // `from_str_radix` would take a second sign; YAML reads `007` as text.
    if digits.starts_with(['+', '-']) || (radix == 10 && leading_zero_digits(digits)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if !negative {
        return Some(Value::from(magnitude));
    }
    0i64.checked_sub_unsigned(magnitude).map(Value::from)
}

/// Digits after a leading zero (`007`, `-01`): text in YAML 1.2, not a number.
fn leading_zero_digits(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits[1..].bytes().all(|b| b.is_ascii_digit())
}

/// `.inf`, `-.inf`, `.nan` in their three spellings, or a finite decimal float.
fn float(text: &str) -> Option<f64> {
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    match (unsigned, text) {
        (".inf" | ".Inf" | ".INF", _) => Some(f64::INFINITY),
        (_, "-.inf" | "-.Inf" | "-.INF") => Some(f64::NEG_INFINITY),
        (_, ".nan" | ".NaN" | ".NAN") => Some(f64::NAN),
        _ => unsigned.parse::<f64>().ok().filter(|f| f.is_finite()),
    }
}

/// A float as JSON; NaN and the infinities, which JSON cannot hold, as YAML spells them.
fn number(float: f64) -> Value {
    serde_json::Number::from_f64(float).map_or_else(
        || {
            Value::String(match float {
                f if f.is_nan() => ".nan".into(),
                f if f > 0.0 => ".inf".into(),
                _ => "-.inf".into(),
            })
        },
        Value::Number,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `serde_yaml`'s reading of `scalar` as a mapping's value, as JSON; `None` where it fails
    /// (integers wider than 64 bits, a tagged scalar of another type).
    fn serde_yaml_reads(scalar: &str) -> Option<Value> {
        let document = serde_yaml::from_str::<serde_yaml::Value>(&format!("v: {scalar}")).ok()?;
        match document.get("v")?.clone() {
            serde_yaml::Value::Null => Some(Value::Null),
            serde_yaml::Value::Bool(flag) => Some(Value::Bool(flag)),
            serde_yaml::Value::String(text) => Some(Value::String(text)),
            serde_yaml::Value::Number(n) => Some(match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Value::from(u),
                (_, Some(i), _) => Value::from(i),
                (_, _, Some(f)) => number(f),
                _ => unreachable!("a YAML number is an integer or a float"),
            }),
            _ => None,
        }
    }

    /// Text that YAML could read as any type: signs, prefixes, dots, exponents, special words.
    const SCALAR: &str = "[-+]{0,2}(0[xob])?[0-9a-fA-FxobeE._+-]{0,6}|[-+]?0[0-9]{0,3}|[.]?(inf|Inf|INF|nan|NaN|NAN|null|Null|NULL|true|True|TRUE|false|False|FALSE|~|yes|no)";

    proptest::proptest! {
        #[test]
        fn plain_scalars_read_as_serde_yaml_reads_them(text in SCALAR) {
            if let Some(theirs) = serde_yaml_reads(&text) {
                proptest::prop_assert_eq!(plain(&text), theirs, "{}", text);
            }
        }

        #[test]
        fn tagged_scalars_read_as_serde_yaml_reads_them(
            text in SCALAR,
            tag in "int|float|bool|null|str",
        ) {
            let theirs = serde_yaml_reads(&format!("!!{tag} '{text}'"));
            proptest::prop_assert_eq!(tagged(&tag, &text).ok(), theirs, "!!{} {}", tag, text);
        }
    }

    #[test]
    fn scalars_read_by_the_core_schema() {
        let cases = [
            ("", Value::Null),
            ("~", Value::Null),
            ("True", Value::Bool(true)),
            ("0x1F", Value::from(31)),
            ("-0o17", Value::from(-15)),
            ("+0b101", Value::from(5)),
            ("-9223372036854775808", Value::from(i64::MIN)),
            ("18446744073709551615", Value::from(u64::MAX)),
            ("1.50", serde_json::json!(1.5)),
            ("1e3", serde_json::json!(1000.0)),
            (".inf", Value::from(".inf")),
            ("-.Inf", Value::from("-.inf")),
            (".NaN", Value::from(".nan")),
            ("007", Value::from("007")),
            ("0x", Value::from("0x")),
            ("1_000", Value::from("1_000")),
            ("inf", Value::from("inf")),
            ("yes", Value::from("yes")),
            ("10.0.0.0/24", Value::from("10.0.0.0/24")),
        ];
        for (text, value) in cases {
            assert_eq!(plain(text), value, "{text}");
        }
        // Wider than 64 bits: a float, which the schema refuses where a count belongs.
        assert_eq!(
            plain("18446744073709551616"),
            serde_json::json!(1.8446744073709552e19)
        );
        assert_eq!(tagged("int", "12"), Ok(Value::from(12)));
        assert_eq!(tagged("float", "007"), Ok(serde_json::json!(7.0)));
        assert_eq!(tagged("bool", "yes"), Err("true or false"));
        assert_eq!(tagged("null", ""), Err("null (`null` or `~`)"));
        assert_eq!(tagged("str", "5"), Ok(Value::from("5")));
    }
}
