//! DynamoDB's Number: an exact decimal of at most 38 significant digits whose
//! magnitude lies between 1E-130 and 9.99…E+125, with DynamoDB's parsing
//! rules, error wording, canonical text form and exact arithmetic.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::error::DynamoError;

/// Most significant digits a Number may carry.
pub const MAX_SIGNIFICANT_DIGITS: usize = 38;
/// Largest decimal exponent of the leading digit (9.99…E+125).
pub const MAX_ADJUSTED_EXPONENT: i32 = 125;
/// Smallest decimal exponent of the leading digit (1E-130).
pub const MIN_ADJUSTED_EXPONENT: i32 = -130;

/// 10^n for n in 0..=38, all of which fit a u128.
const POW10: [u128; 39] = {
    let mut table = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// A DynamoDB number: `(-1)^negative × coefficient × 10^exponent`.
///
/// Always canonical, so derived equality and hashing are by value: zero is
/// `(false, 0, 0)`, otherwise the coefficient has no trailing zeros, at most
/// 38 digits, and the leading digit's exponent is within DynamoDB's range.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    coefficient: u128,
    exponent: i32,
}

/// Why a string or a computation is not a DynamoDB number. `Display` gives
/// DynamoDB's message for it (without the `1 validation error detected: `
/// envelope some operations wrap around it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// The text is not a decimal number; carries the text as sent.
    NotANumber(String),
    /// More than 38 significant digits.
    TooManyDigits,
    /// Magnitude above 9.99…E+125. DynamoDB also reports an arithmetic
    /// result that would need more than 38 digits this way.
    Overflow,
    /// Non-zero magnitude below 1E-130.
    Underflow,
}

impl NumberError {
    /// DynamoDB's wording, without the offending text that `Display` appends
    /// to [`NumberError::NotANumber`].
    pub fn message(&self) -> &'static str {
        match self {
            NumberError::NotANumber(_) => "The parameter cannot be converted to a numeric value",
            NumberError::TooManyDigits => {
                "Attempting to store more than 38 significant digits in a Number"
            }
            NumberError::Overflow => {
                "Number overflow. Attempting to store a number with magnitude larger than supported range"
            }
            NumberError::Underflow => {
                "Number underflow. Attempting to store a number with magnitude smaller than supported range"
            }
        }
    }
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // DynamoDB keeps the colon and space even for an empty string.
            NumberError::NotANumber(text) => write!(f, "{}: {}", self.message(), text),
            _ => f.write_str(self.message()),
        }
    }
}

impl std::error::Error for NumberError {}

impl From<NumberError> for DynamoError {
    fn from(err: NumberError) -> Self {
        DynamoError::validation(err.to_string())
    }
}

fn digit_count(c: u128) -> u32 {
    if c == 0 {
        1
    } else {
        c.ilog10() + 1
    }
}

/// Moves trailing zeros of a non-zero coefficient into the exponent.
fn strip_trailing_zeros(mut c: u128, mut e: i64) -> (u128, i64) {
    while c != 0 && c / 10 * 10 == c {
        c /= 10;
        e += 1;
    }
    (c, e)
}

/// Checks the range of a non-zero value given its leading digit's exponent.
fn check_range(adjusted: i64) -> Result<(), NumberError> {
    if adjusted > MAX_ADJUSTED_EXPONENT as i64 {
        Err(NumberError::Overflow)
    } else if adjusted < MIN_ADJUSTED_EXPONENT as i64 {
        Err(NumberError::Underflow)
    } else {
        Ok(())
    }
}

impl Number {
    pub const ZERO: Number = Number {
        negative: false,
        coefficient: 0,
        exponent: 0,
    };

    /// Parses DynamoDB's number syntax: optional `+`/`-`, digits with an
    /// optional decimal point (`.5` and `5.` are numbers), optional exponent
    /// `e`/`E` with optional sign. No whitespace, `NaN`, `Infinity` or hex.
    ///
    /// Leading and trailing zeros do not count as significant. Zero is
    /// range-checked by the exponent it is written with (`0e126` overflows,
    /// as DynamoDB does). An exponent beyond a 64-bit integer is not a number.
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        let bad = || NumberError::NotANumber(s.to_string());
        let b = s.as_bytes();
        let mut i = 0;
        let negative = match b.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_digits = &b[int_start..i];
        let mut frac_digits: &[u8] = &[];
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let frac_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            frac_digits = &b[frac_start..i];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(bad());
        }
        let mut exp: i128 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let exp_negative = match b.get(i) {
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
            let exp_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                exp = exp * 10 + (b[i] - b'0') as i128;
                if exp > i64::MAX as i128 + 1 {
                    return Err(bad());
                }
                i += 1;
            }
            if i == exp_start {
                return Err(bad());
            }
            if exp_negative {
                exp = -exp;
            }
            if exp > i64::MAX as i128 || exp < i64::MIN as i128 {
                return Err(bad());
            }
        }
        if i != b.len() {
            return Err(bad());
        }

        let exp = exp as i64;
        let int_len = int_digits.len() as i64;
        let frac_len = frac_digits.len() as i64;
        let digit = |k: usize| -> u8 {
            if k < int_digits.len() {
                int_digits[k] - b'0'
            } else {
                frac_digits[k - int_digits.len()] - b'0'
            }
        };
        let total = int_digits.len() + frac_digits.len();
        let first = (0..total).find(|&k| digit(k) != 0);
        let Some(first) = first else {
            // Zero: BigDecimal-style, its exponent is what it was written with.
            check_range(exp.saturating_sub(frac_len))?;
            return Ok(Number::ZERO);
        };
        let last = (0..total).rev().find(|&k| digit(k) != 0).unwrap_or(first);
        // Exponent of the digit at index k of int_digits ++ frac_digits.
        let pos = |k: usize| (int_len - 1 - k as i64).saturating_add(exp);
        check_range(pos(first))?;
        let significant = last - first + 1;
        if significant > MAX_SIGNIFICANT_DIGITS {
            return Err(NumberError::TooManyDigits);
        }
        let mut coefficient: u128 = 0;
        for k in first..=last {
            coefficient = coefficient * 10 + digit(k) as u128;
        }
        Ok(Number {
            negative,
            coefficient,
            exponent: pos(last) as i32,
        })
    }

    /// Builds `(-1)^negative × coefficient × 10^exponent`, normalising
    /// trailing zeros, and checks digits and range as `parse` does.
    pub fn from_parts(
        negative: bool,
        coefficient: u128,
        exponent: i32,
    ) -> Result<Number, NumberError> {
        if coefficient == 0 {
            return Ok(Number::ZERO);
        }
        let (c, e) = strip_trailing_zeros(coefficient, exponent as i64);
        let digits = digit_count(c) as i64;
        check_range(e + digits - 1)?;
        if digits as usize > MAX_SIGNIFICANT_DIGITS {
            return Err(NumberError::TooManyDigits);
        }
        Ok(Number {
            negative,
            coefficient: c,
            exponent: e as i32,
        })
    }

    pub fn from_i64(v: i64) -> Number {
        // At most 19 digits and exponent < 19: always within range.
        if v == 0 {
            return Number::ZERO;
        }
        let (c, e) = strip_trailing_zeros(v.unsigned_abs() as u128, 0);
        Number {
            negative: v < 0,
            coefficient: c,
            exponent: e as i32,
        }
    }

    /// The value as an `i64` if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        if self.coefficient == 0 {
            return Some(0);
        }
        if self.exponent < 0 || self.exponent > 18 {
            return None;
        }
        let magnitude = self
            .coefficient
            .checked_mul(POW10[self.exponent as usize])?;
        if self.negative {
            if magnitude <= i64::MAX as u128 + 1 {
                Some((magnitude as i128).wrapping_neg() as i64)
            } else {
                None
            }
        } else {
            i64::try_from(magnitude).ok()
        }
    }

    /// Nearest `f64` (correctly rounded by the standard library's parser).
    pub fn to_f64(&self) -> f64 {
        let text = format!(
            "{}{}e{}",
            if self.negative { "-" } else { "" },
            self.coefficient,
            self.exponent
        );
        text.parse().unwrap_or(f64::NAN)
    }

    pub fn is_zero(&self) -> bool {
        self.coefficient == 0
    }

    /// True for values below zero (zero itself is never negative).
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Number of significant digits; zero counts as one digit.
    pub fn significant_digits(&self) -> usize {
        digit_count(self.coefficient) as usize
    }

    /// Exponent of the least significant digit: the value is
    /// `coefficient() × 10^exponent()` with its sign. Zero has exponent 0.
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// Significant digits as an integer, without trailing zeros (0 for zero).
    pub fn coefficient(&self) -> u128 {
        self.coefficient
    }

    /// Exponent of the leading digit, as in scientific notation (0 for zero);
    /// within -130..=125 for every Number.
    pub fn adjusted_exponent(&self) -> i32 {
        self.exponent + digit_count(self.coefficient) as i32 - 1
    }

    /// Exact sum. A result needing more than 38 significant digits or above
    /// the range is [`NumberError::Overflow`] (DynamoDB's wording for both);
    /// a non-zero result below 1E-130 is [`NumberError::Underflow`].
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(*other);
        }
        if other.is_zero() {
            return Ok(*self);
        }
        let (hi, lo) = if self.exponent >= other.exponent {
            (self, other)
        } else {
            (other, self)
        };
        let shift = (hi.exponent - lo.exponent) as usize;
        // lo's last digit is non-zero and sits below every digit of hi, so the
        // result keeps it; with a gap of 39 or more the result spans > 38 digits.
        if shift > MAX_SIGNIFICANT_DIGITS {
            return Err(NumberError::Overflow);
        }
        let mut a = Digits::from_coefficient(hi.coefficient, shift);
        let b = Digits::from_coefficient(lo.coefficient, 0);
        let negative;
        if hi.negative == lo.negative {
            a.add(&b);
            negative = hi.negative;
        } else {
            match a.cmp_magnitude(&b) {
                Ordering::Equal => return Ok(Number::ZERO),
                Ordering::Greater => {
                    a.sub(&b);
                    negative = hi.negative;
                }
                Ordering::Less => {
                    let mut b = b;
                    b.sub(&a);
                    a = b;
                    negative = lo.negative;
                }
            }
        }
        a.into_number(negative, lo.exponent as i64)
    }

    /// Exact difference, with the errors of [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&-*other)
    }

    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        self.adjusted_exponent()
            .cmp(&other.adjusted_exponent())
            .then_with(|| {
                // Align both coefficients to 38 digits; both stay below 10^38.
                let a = self.coefficient * POW10[38 - digit_count(self.coefficient) as usize];
                let b = other.coefficient * POW10[38 - digit_count(other.coefficient) as usize];
                a.cmp(&b)
            })
    }
}

/// Little-endian decimal digits, wide enough for a 38-digit coefficient
/// shifted by 38 places plus a carry.
struct Digits([u8; 80]);

impl Digits {
    fn from_coefficient(mut c: u128, shift: usize) -> Digits {
        let mut d = [0u8; 80];
        let mut i = shift;
        while c > 0 {
            d[i] = (c % 10) as u8;
            c /= 10;
            i += 1;
        }
        Digits(d)
    }

    fn add(&mut self, other: &Digits) {
        let mut carry = 0;
        for i in 0..self.0.len() {
            let s = self.0[i] + other.0[i] + carry;
            self.0[i] = s % 10;
            carry = s / 10;
        }
    }

    /// `self -= other`, requiring `self >= other`.
    fn sub(&mut self, other: &Digits) {
        let mut borrow = 0i8;
        for i in 0..self.0.len() {
            let mut s = self.0[i] as i8 - other.0[i] as i8 - borrow;
            borrow = 0;
            if s < 0 {
                s += 10;
                borrow = 1;
            }
            self.0[i] = s as u8;
        }
    }

    fn cmp_magnitude(&self, other: &Digits) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }

    fn into_number(self, negative: bool, exponent: i64) -> Result<Number, NumberError> {
        let Some(top) = self.0.iter().rposition(|&d| d != 0) else {
            return Ok(Number::ZERO);
        };
        let bottom = self.0.iter().position(|&d| d != 0).unwrap_or(top);
        check_range(exponent + top as i64)?;
        if top - bottom + 1 > MAX_SIGNIFICANT_DIGITS {
            return Err(NumberError::Overflow);
        }
        let mut coefficient = 0u128;
        for &d in self.0[bottom..=top].iter().rev() {
            coefficient = coefficient * 10 + d as u128;
        }
        Ok(Number {
            negative,
            coefficient,
            exponent: (exponent + bottom as i64) as i32,
        })
    }
}

impl std::ops::Neg for Number {
    type Output = Number;

    fn neg(self) -> Number {
        Number {
            negative: !self.negative && self.coefficient != 0,
            ..self
        }
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| -> i8 {
            if n.coefficient == 0 {
                0
            } else if n.negative {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => match sign(self) {
                0 => Ordering::Equal,
                1 => self.cmp_magnitude(other),
                _ => other.cmp_magnitude(self),
            },
            unequal => unequal,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// DynamoDB's canonical text: plain decimal notation, never an exponent,
/// no leading or trailing zeros, no `-0` (`1E2` → `100`, `1.0E-5` → `0.00001`).
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.coefficient == 0 {
            return f.write_str("0");
        }
        let mut buf = String::with_capacity(48);
        if self.negative {
            buf.push('-');
        }
        let digits = self.coefficient.to_string();
        if self.exponent >= 0 {
            buf.push_str(&digits);
            buf.extend(std::iter::repeat_n('0', self.exponent as usize));
        } else {
            let frac = (-self.exponent) as usize;
            if frac < digits.len() {
                let (int_part, frac_part) = digits.split_at(digits.len() - frac);
                buf.push_str(int_part);
                buf.push('.');
                buf.push_str(frac_part);
            } else {
                buf.push_str("0.");
                buf.extend(std::iter::repeat_n('0', frac - digits.len()));
                buf.push_str(&digits);
            }
        }
        f.pad(&buf)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl FromStr for Number {
    type Err = NumberError;

    fn from_str(s: &str) -> Result<Number, NumberError> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Number {
        Number::from_i64(v)
    }
}

/// Serialises as DynamoDB's canonical string (numbers travel as strings).
impl serde::Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn canonical_text() {
        let cases = [
            ("1.50", "1.5"),
            ("0100", "100"),
            ("-0", "0"),
            ("+0.000", "0"),
            ("1e2", "100"),
            ("1.0E-5", "0.00001"),
            ("1.5E2", "150"),
            ("0042.1200", "42.12"),
            ("3.1400", "3.14"),
            ("00042", "42"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-.5e1", "-5"),
            ("+3", "3"),
            ("1e+5", "100000"),
            ("-17.4E37", "-174000000000000000000000000000000000000"),
            (
                "12345678901234567890123456789012345678",
                "12345678901234567890123456789012345678",
            ),
            ("0e125", "0"),
            ("1e-10", "0.0000000001"),
            ("1e10", "10000000000"),
        ];
        for (input, want) in cases {
            assert_eq!(n(input).to_string(), want, "{input}");
        }
        let big = n("1E125").to_string();
        assert_eq!(big.len(), 126);
        assert!(big.starts_with('1') && big[1..].bytes().all(|b| b == b'0'));
        let tiny = n("1E-130").to_string();
        assert_eq!(tiny, format!("0.{}1", "0".repeat(129)));
        let max = n("9.9999999999999999999999999999999999999E+125").to_string();
        assert_eq!(max, format!("{}{}", "9".repeat(38), "0".repeat(88)));
    }

    #[test]
    fn parse_errors() {
        let nan = |s: &str| Err(NumberError::NotANumber(s.to_string()));
        let cases: Vec<(&str, Result<Number, NumberError>)> = vec![
            ("abc", nan("abc")),
            ("", nan("")),
            (" 1", nan(" 1")),
            ("1 ", nan("1 ")),
            ("1.2.3", nan("1.2.3")),
            ("0x10", nan("0x10")),
            ("1e", nan("1e")),
            ("1e+", nan("1e+")),
            (".", nan(".")),
            ("-", nan("-")),
            ("+-1", nan("+-1")),
            ("e5", nan("e5")),
            ("NaN", nan("NaN")),
            ("Infinity", nan("Infinity")),
            ("-Infinity", nan("-Infinity")),
            ("1e9223372036854775808", nan("1e9223372036854775808")),
            (
                "1e99999999999999999999999",
                nan("1e99999999999999999999999"),
            ),
            ("1e126", Err(NumberError::Overflow)),
            ("-1e126", Err(NumberError::Overflow)),
            ("11e125", Err(NumberError::Overflow)),
            ("1e2147483647", Err(NumberError::Overflow)),
            ("1e2147483648", Err(NumberError::Overflow)),
            ("1e99999999999", Err(NumberError::Overflow)),
            ("1e9223372036854775807", Err(NumberError::Overflow)),
            ("1e-131", Err(NumberError::Underflow)),
            ("0.9e-130", Err(NumberError::Underflow)),
            ("-1e-131", Err(NumberError::Underflow)),
            ("1e-2147483648", Err(NumberError::Underflow)),
            ("1e-99999999999", Err(NumberError::Underflow)),
            ("0e126", Err(NumberError::Overflow)),
            ("0e-131", Err(NumberError::Underflow)),
            (
                "123456789012345678901234567890123456789",
                Err(NumberError::TooManyDigits),
            ),
            (
                "-1.23456789012345678901234567890123456789",
                Err(NumberError::TooManyDigits),
            ),
            (
                "1234567890123456789012345678901234567890",
                Err(NumberError::TooManyDigits),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Number::parse(input), want, "{input}");
        }
        // Trailing and leading zeros are not significant.
        assert!(Number::parse("00012345678901234567890123456789012345678000").is_ok());
        assert!(Number::parse("1.5e-130").is_ok());
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            NumberError::NotANumber("abc".into()).to_string(),
            "The parameter cannot be converted to a numeric value: abc"
        );
        assert_eq!(
            NumberError::NotANumber(String::new()).to_string(),
            "The parameter cannot be converted to a numeric value: "
        );
        let e: DynamoError = NumberError::Overflow.into();
        assert_eq!(e.kind, crate::ErrorKind::ValidationException);
        assert_eq!(
            e.message,
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        );
    }

    #[test]
    fn ordering_and_equality() {
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("-0"), n("0"));
        let ascending = [
            "-9.9999999999999999999999999999999999999E+125",
            "-1e10",
            "-100",
            "-99.5",
            "-1",
            "-0.5",
            "-1e-130",
            "0",
            "1e-130",
            "0.001",
            "0.0011",
            "0.5",
            "1",
            "1.05",
            "1.5",
            "2",
            "10",
            "99999999999999999999999999999999999999",
            "1e38",
            "9.9999999999999999999999999999999999999E+125",
        ];
        for w in ascending.windows(2) {
            assert!(n(w[0]) < n(w[1]), "{} < {}", w[0], w[1]);
            assert!(n(w[1]) > n(w[0]));
        }
    }

    #[test]
    fn arithmetic() {
        let add = |a: &str, b: &str| n(a).checked_add(&n(b)).map(|r| r.to_string());
        let sub = |a: &str, b: &str| n(a).checked_sub(&n(b)).map(|r| r.to_string());
        assert_eq!(
            add("1", "10000000000000000000000"),
            Ok("10000000000000000000001".into())
        );
        assert_eq!(
            sub("10000000000000000000000", "1"),
            Ok("9999999999999999999999".into())
        );
        assert_eq!(add("0.1", "0.2"), Ok("0.3".into()));
        assert_eq!(add("1.5", "-1.5"), Ok("0".into()));
        assert_eq!(add("-3", "1"), Ok("-2".into()));
        assert_eq!(sub("1", "3"), Ok("-2".into()));
        assert_eq!(add("0", "-7"), Ok("-7".into()));
        assert_eq!(add("999", "1"), Ok("1000".into()));
        assert_eq!(
            add("99999999999999999999999999999999999999", "1"),
            Ok("100000000000000000000000000000000000000".into())
        );
        assert_eq!(add("9e125", "9e125"), Err(NumberError::Overflow));
        assert_eq!(sub("9e125", "-9e125"), Err(NumberError::Overflow));
        // DynamoDB reports a result needing > 38 digits as an overflow.
        assert_eq!(add("1e50", "1"), Err(NumberError::Overflow));
        assert_eq!(sub("1e50", "1"), Err(NumberError::Overflow));
        assert_eq!(add("1e125", "1e-130"), Err(NumberError::Overflow));
        assert_eq!(add("1e37", "1"), Ok(format!("1{}1", "0".repeat(36))));
        assert_eq!(sub("1.5e-130", "1.4e-130"), Err(NumberError::Underflow));
        assert_eq!(
            sub("1e-129", "1e-130"),
            Ok(format!("0.{}9", "0".repeat(129)))
        );
    }

    #[test]
    fn integers_and_floats() {
        for v in [
            0,
            1,
            -1,
            10,
            -100,
            123456789,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ] {
            let x = Number::from_i64(v);
            assert_eq!(x.as_i64(), Some(v));
            assert_eq!(x.to_string(), v.to_string());
        }
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("1e19").as_i64(), None);
        assert_eq!(n("9223372036854775808").as_i64(), None);
        assert_eq!(n("1e18").as_i64(), Some(1_000_000_000_000_000_000));
        assert_eq!(n("1.5").to_f64(), 1.5);
        assert_eq!(n("-2.5e-3").to_f64(), -0.0025);
        assert_eq!(n("1e125").to_f64(), 1e125);
    }

    #[test]
    fn accessors() {
        let x = n("-123.4500");
        assert!(x.is_negative());
        assert_eq!(x.coefficient(), 12345);
        assert_eq!(x.exponent(), -2);
        assert_eq!(x.significant_digits(), 5);
        assert_eq!(x.adjusted_exponent(), 2);
        assert!(!n("-0").is_negative());
        assert!(n("0.000").is_zero());
        assert_eq!(Number::ZERO.significant_digits(), 1);
        assert_eq!(Number::from_parts(false, 1500, -3).unwrap(), n("1.5"));
        assert_eq!(Number::from_parts(true, 0, 7).unwrap(), Number::ZERO);
        assert_eq!(
            Number::from_parts(false, 1, 126),
            Err(NumberError::Overflow)
        );
    }
}
