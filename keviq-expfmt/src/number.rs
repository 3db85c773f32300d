//! Numbers as both formats write them: the grammar of Go's `strconv.ParseFloat` (as
//! the Prometheus reference parser uses it, without hex floats or `_`), which is also
//! that of the OpenMetrics ABNF.
//!
//! Short decimals, all ryu and integer output included, take an exact fast path
//! (Clinger's); the rest goes to the standard library's correctly rounded parser.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NumError {
    /// Not a number of the grammar.
    Invalid,
    /// A finite number beyond `f64` (or `i64`) range.
    OutOfRange,
}

/// Powers of ten that `f64` holds exactly.
pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Integers up to this are exact in `f64`.
pub(super) const MAX_EXACT: u64 = 1 << 53;

/// Parses a float. `special` also accepts `Inf`/`Infinity` (with an optional sign)
/// and `NaN` (without), case-insensitively.
pub(super) fn parse_f64(text: &str, special: bool) -> Result<f64, NumError> {
    let s = text.as_bytes();
    let (negative, body) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    match body.first() {
        Some(c) if c.is_ascii_digit() || *c == b'.' => {}
        Some(_) if special => {
            if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
                return Ok(if negative {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                });
            }
            if body.len() == s.len() && body.eq_ignore_ascii_case(b"nan") {
                return Ok(f64::NAN);
            }
            return Err(NumError::Invalid);
        }
        _ => return Err(NumError::Invalid),
    }

    // The integer and fraction digit runs.
    let int_end = digits_end(body, 0);
    let (frac_start, frac_end) = if body.get(int_end) == Some(&b'.') {
        (int_end + 1, digits_end(body, int_end + 1))
    } else {
        (int_end, int_end)
    };
    let mut i = frac_end;
    let digits = int_end > 0 || frac_end > frac_start;
    let int_digits = body.get(..int_end).unwrap_or(&[]);
    let frac_digits = body.get(frac_start..frac_end).unwrap_or(&[]);
    // Up to 19 digits fit in a `u64`, exactly.
    let exact = int_digits.len() + frac_digits.len() <= 19;
    let mut mantissa = 0u64;
    let mut exponent: i64 = 0;
    if exact {
        for &c in int_digits {
            mantissa = mantissa * 10 + u64::from(c - b'0');
        }
        for &c in frac_digits {
            mantissa = mantissa * 10 + u64::from(c - b'0');
        }
        exponent = -(frac_digits.len() as i64);
    }
    if !digits {
        return Err(NumError::Invalid);
    }
    if matches!(body.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative_exp = match body.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i64 = 0;
        while let Some(d) = body.get(i).and_then(|c| digit(*c)) {
            // Saturate: such exponents go to the slow path, which handles them.
            if e < 1_000_000 {
                e = e * 10 + d as i64;
            }
            i += 1;
        }
        if i == start {
            return Err(NumError::Invalid);
        }
        exponent += if negative_exp { -e } else { e };
    }
    if i != body.len() {
        return Err(NumError::Invalid);
    }

    let fast = if !exact {
        None
    } else if mantissa == 0 {
        Some(0.0)
    } else if exponent == 0 {
        // `u64 as f64` rounds to nearest, ties to even: exact parsing.
        Some(mantissa as f64)
    } else if mantissa <= MAX_EXACT {
        let m = mantissa as f64;
        // One correctly rounded operation on exact operands is correctly rounded.
        match (exponent >= 0, POW10.get(exponent.unsigned_abs() as usize)) {
            (true, Some(p)) => Some(m * p),
            (false, Some(p)) => Some(m / p),
            (_, None) => None,
        }
    } else {
        None
    };
    let value = match fast {
        Some(v) if negative => -v,
        Some(v) => v,
        // The grammar checked above is a subset of what `f64::from_str` accepts.
        None => text.parse::<f64>().map_err(|_| NumError::Invalid)?,
    };
    if value.is_infinite() {
        return Err(NumError::OutOfRange);
    }
    Ok(value)
}

/// Parses a decimal `i64` with an optional sign, as Go's `strconv.ParseInt(s, 10, 64)`.
pub(super) fn parse_i64(s: &[u8]) -> Result<i64, NumError> {
    let (negative, body) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if body.is_empty() {
        return Err(NumError::Invalid);
    }
    let mut magnitude = 0u64;
    let mut overflow = false;
    for &c in body {
        let d = digit(c).ok_or(NumError::Invalid)?;
        match magnitude.checked_mul(10).and_then(|m| m.checked_add(d)) {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
    }
    let value = if overflow {
        None
    } else if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    value.ok_or(NumError::OutOfRange)
}

/// The end of the run of ASCII digits from `i`.
#[inline(always)]
fn digits_end(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

#[inline(always)]
fn digit(c: u8) -> Option<u64> {
    let d = c.wrapping_sub(b'0');
    (d < 10).then_some(d as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Result<f64, NumError> {
        parse_f64(s, true)
    }

    #[test]
    fn accepts_the_grammar() {
        for (text, want) in [
            ("0", 0.0),
            ("-0", -0.0),
            ("+5", 5.0),
            ("0042", 42.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("-.5e1", -5.0),
            ("1e3", 1000.0),
            ("1E+3", 1000.0),
            ("1.5e-3", 0.0015),
            ("2.5", 2.5),
            ("0.1", 0.1),
            ("1e21", 1e21),
            ("1e-7", 1e-7),
            ("1.7976931348623157e308", f64::MAX),
            ("5e-324", 5e-324),
            ("1e-400", 0.0),
            ("18446744073709551615", 18446744073709551615.0),
            ("9223372036854775807", 9223372036854775807.0),
            ("123456789012345678901234567890", 1.2345678901234568e29),
            ("0.000000000000000000000000000001", 1e-30),
            ("1605281325.0", 1605281325.0),
            ("4.20072246e+06", 4.20072246e+06),
        ] {
            let got = f(text).unwrap_or(f64::NAN);
            assert_eq!(got.to_bits(), want.to_bits(), "{text}");
        }
        for inf in ["+Inf", "inf", "INF", "Infinity", "+infinity"] {
            assert_eq!(f(inf), Ok(f64::INFINITY), "{inf}");
        }
        for inf in ["-Inf", "-inf", "-Infinity"] {
            assert_eq!(f(inf), Ok(f64::NEG_INFINITY), "{inf}");
        }
        for nan in ["NaN", "nan", "NAN"] {
            assert!(f(nan).is_ok_and(f64::is_nan), "{nan}");
        }
    }

    #[test]
    fn rejects_the_rest() {
        for text in [
            "",
            "+",
            "-",
            ".",
            "e5",
            ".e5",
            "1e",
            "1e+",
            "1.2.3",
            "1,5",
            "0x10",
            "0x1p-2",
            "1_000",
            " 1",
            "1 ",
            "+NaN",
            "-nan",
            "Infinit",
            "infinityy",
            "in",
            "--1",
            "+-1",
            "1e5.5",
            "١",
        ] {
            assert_eq!(f(text), Err(NumError::Invalid), "{text:?}");
        }
        assert_eq!(f("1e309"), Err(NumError::OutOfRange));
        assert_eq!(f("-1e400"), Err(NumError::OutOfRange));
        assert_eq!(parse_f64("+Inf", false), Err(NumError::Invalid));
        assert_eq!(parse_f64("NaN", false), Err(NumError::Invalid));
    }

    #[test]
    fn matches_std_on_many_values() {
        // xorshift64*: deterministic, no dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        for round in 0..200_000 {
            let bits = next();
            let v = match round % 4 {
                0 => f64::from_bits(bits),
                1 => (bits >> 11) as f64 / 1e6,
                2 => (bits % 100_000) as f64 / 1000.0,
                _ => (bits as i64) as f64,
            };
            if !v.is_finite() {
                continue;
            }
            let mut ryu = ryu::Buffer::new();
            for text in [
                ryu.format_finite(v).to_owned(),
                format!("{v}"),
                format!("{v:e}"),
                format!("{v:.3}"),
            ] {
                let want: f64 = text.parse().unwrap_or(f64::NAN);
                let got = f(&text).unwrap_or(f64::NAN);
                assert_eq!(got.to_bits(), want.to_bits(), "{text}");
            }
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"0"), Ok(0));
        assert_eq!(parse_i64(b"+17"), Ok(17));
        assert_eq!(parse_i64(b"-3982045"), Ok(-3982045));
        assert_eq!(parse_i64(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), Err(NumError::OutOfRange));
        assert_eq!(
            parse_i64(b"99999999999999999999999"),
            Err(NumError::OutOfRange)
        );
        for bad in ["", "-", "1.0", "1e3", "12a", " 1"] {
            assert_eq!(parse_i64(bad.as_bytes()), Err(NumError::Invalid), "{bad}");
        }
    }
}
