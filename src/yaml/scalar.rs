//! How the YAML 1.2 core schema reads a scalar (YAML 1.2.2, section 10.3.2), as the
//! yaml-language-server that the spec's modeline points editors at reads it: `010` is 10, `0o17`
//! is 15, `0x1F` is 31, and `0b101`, `-0x1F` and `yes` are text. A property test holds these
//! rules to the specification's own regular expressions.
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
        "null" => (text.is_empty() || null(text))
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

/// An integer as the core schema writes one, within 64 bits: decimal digits with an optional
/// sign (`[-+]?[0-9]+`, leading zeros allowed), or unsigned `0o` octal or `0x` hexadecimal.
/// A wider decimal integer is read as a float, and a wider octal or hexadecimal one as text:
/// the schema refuses both where a count belongs.
fn integer(text: &str) -> Option<Value> {
    let (radix, digits) = [("0x", 16), ("0o", 8)]
        .into_iter()
        .find_map(|(prefix, radix)| Some((radix, text.strip_prefix(prefix)?)))
        .unwrap_or((10, text));
    let (negative, digits) = match digits.as_bytes().first() {
        Some(b'-') if radix == 10 => (true, &digits[1..]),
        Some(b'+') if radix == 10 => (false, &digits[1..]),
        _ => (false, digits),
    };
    // `from_str_radix` would also take a sign of its own.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if !negative {
        return Some(Value::from(magnitude));
    }
    0i64.checked_sub_unsigned(magnitude).map(Value::from)
}

/// A float as the core schema writes one: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`,
/// `.inf` with an optional sign or `.nan`, each special in its three spellings.
fn float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    match (unsigned, text) {
        (_, ".nan" | ".NaN" | ".NAN") => return Some(f64::NAN),
        (".inf" | ".Inf" | ".INF", _) if text.starts_with('-') => return Some(f64::NEG_INFINITY),
        (".inf" | ".Inf" | ".INF", _) => return Some(f64::INFINITY),
        _ => {}
    }
    let (mantissa, exponent) = unsigned
        .split_once(['e', 'E'])
        .map_or((unsigned, None), |(m, e)| (m, Some(e)));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            (digits(whole) && (fraction.is_empty() || digits(fraction)))
                || (whole.is_empty() && digits(fraction))
        }
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    text.parse().ok()
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

    /// The core schema's tag resolution as YAML 1.2.2 (section 10.3.2) writes it, regular
    /// expression by regular expression: the tag of plain `text` and its value; `None` for an
    /// integer wider than 64 bits, which JSON cannot hold.
    fn core_schema_reads(text: &str) -> Option<(&'static str, Value)> {
        let matches = |pattern: &str| {
            regex::Regex::new(&format!("^(?:{pattern})$"))
                .unwrap()
                .is_match(text)
        };
        let int = |digits: &str, radix| u64::from_str_radix(digits, radix).ok().map(Value::from);
        Some(if matches("null|Null|NULL|~|") {
            ("null", Value::Null)
        } else if matches("true|True|TRUE|false|False|FALSE") {
            ("bool", Value::Bool(text.to_lowercase() == "true"))
        } else if matches("[-+]?[0-9]+") {
            let value = text.parse::<i64>().ok().map(Value::from);
            (
                "int",
                value.or_else(|| int(text.trim_start_matches('+'), 10))?,
            )
        } else if matches("0o[0-7]+") {
            ("int", int(&text[2..], 8)?)
        } else if matches("0x[0-9a-fA-F]+") {
            ("int", int(&text[2..], 16)?)
        } else if matches(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?") {
            ("float", number(text.parse().unwrap()))
        } else if matches(r"[-+]?(\.inf|\.Inf|\.INF)") {
            let negative = text.starts_with('-');
            (
                "float",
                number(if negative {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }),
            )
        } else if matches(r"\.nan|\.NaN|\.NAN") {
            ("float", number(f64::NAN))
        } else {
            ("str", Value::String(text.to_owned()))
        })
    }

    /// Text that YAML could read as any type: signs, prefixes, dots, exponents, special words.
    const SCALAR: &str = "[-+]{0,2}(0[xob])?[0-9a-fA-FxobeE._+-]{0,6}|[-+]?0[0-9]{0,3}|[-+]?[.]?(inf|Inf|INF|nan|NaN|NAN|null|Null|NULL|true|True|TRUE|false|False|FALSE|~|yes|no)";

    proptest::proptest! {
        #[test]
        fn plain_scalars_read_as_the_core_schema_resolves_them(text in SCALAR) {
            if let Some((_, value)) = core_schema_reads(&text) {
                proptest::prop_assert_eq!(plain(&text), value, "{}", text);
            }
        }

        /// A tag demands its type: the text must be one the core schema resolves to it (an
        /// integer's text is a float's too, as the float expression takes every integer).
        #[test]
        fn tagged_scalars_take_only_text_of_their_type(
            text in SCALAR,
            tag in "int|float|bool|null|str",
        ) {
            let Some((resolved, value)) = core_schema_reads(&text) else {
                return Ok(());
            };
            let expected = match (tag.as_str(), resolved) {
                ("str", _) => Some(Value::String(text.clone())),
                ("null", "null") => Some(Value::Null),
                ("float", "int") if !text.starts_with("0x") && !text.starts_with("0o") => {
                    Some(number(text.parse().unwrap()))
                }
                (tag, resolved) if tag == resolved => Some(value),
                _ => None,
            };
            proptest::prop_assert_eq!(tagged(&tag, &text).ok(), expected, "!!{} {}", tag, text);
        }
    }

    #[test]
    fn scalars_read_by_the_core_schema() {
        let cases = [
            ("", Value::Null),
            ("~", Value::Null),
            ("True", Value::Bool(true)),
            ("0x1F", Value::from(31)),
            ("0o17", Value::from(15)),
            ("-0o17", Value::from("-0o17")),
            ("-0x1F", Value::from("-0x1F")),
            ("0b101", Value::from("0b101")),
            ("010", Value::from(10)),
            ("-007", Value::from(-7)),
            ("007.5", serde_json::json!(7.5)),
            ("1.", serde_json::json!(1.0)),
            (".5", serde_json::json!(0.5)),
            ("1e999", Value::from(".inf")),
            ("-9223372036854775808", Value::from(i64::MIN)),
            ("18446744073709551615", Value::from(u64::MAX)),
            ("1.50", serde_json::json!(1.5)),
            ("1e3", serde_json::json!(1000.0)),
            (".inf", Value::from(".inf")),
            ("-.Inf", Value::from("-.inf")),
            (".NaN", Value::from(".nan")),
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
        assert_eq!(tagged("null", ""), Ok(Value::Null));
        assert_eq!(tagged("null", "x"), Err("null (`null` or `~`)"));
        assert_eq!(tagged("str", "5"), Ok(Value::from("5")));
    }
}
