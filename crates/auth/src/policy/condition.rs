//! Condition operators and how one condition is decided against the
//! request's context keys, with IAM's rules for absent keys, `…IfExists`,
//! and the `ForAllValues:`/`ForAnyValue:` set qualifiers.

use std::borrow::Cow;
use std::net::IpAddr;

use super::pattern::{arn_match, wildcard_match, Template};
use super::time::parse_date_millis;

/// The comparison of an operator, without negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    ArnLike,
    Null,
}

/// A condition operator: a comparison and whether it is negated
/// (`StringNotEquals` is `StringEquals` negated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub comparison: Comparison,
    pub negated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    /// A bare operator.
    Single,
    ForAllValues,
    ForAnyValue,
}

impl Operator {
    fn named(name: &str) -> Option<Operator> {
        use Comparison::*;
        let (comparison, negated) = match name {
            "StringEquals" => (StringEquals, false),
            "StringNotEquals" => (StringEquals, true),
            "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
            "StringLike" => (StringLike, false),
            "StringNotLike" => (StringLike, true),
            "NumericEquals" => (NumericEquals, false),
            "NumericNotEquals" => (NumericEquals, true),
            "NumericLessThan" => (NumericLessThan, false),
            "NumericLessThanEquals" => (NumericLessThanEquals, false),
            "NumericGreaterThan" => (NumericGreaterThan, false),
            "NumericGreaterThanEquals" => (NumericGreaterThanEquals, false),
            "DateEquals" => (DateEquals, false),
            "DateNotEquals" => (DateEquals, true),
            "DateLessThan" => (DateLessThan, false),
            "DateLessThanEquals" => (DateLessThanEquals, false),
            "DateGreaterThan" => (DateGreaterThan, false),
            "DateGreaterThanEquals" => (DateGreaterThanEquals, false),
            "Bool" => (Bool, false),
            "BinaryEquals" => (BinaryEquals, false),
            "IpAddress" => (IpAddress, false),
            "NotIpAddress" => (IpAddress, true),
            // IAM documents ArnEquals and ArnLike as the same comparison.
            "ArnEquals" | "ArnLike" => (ArnLike, false),
            "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
            "Null" => (Null, false),
            _ => return None,
        };
        Some(Operator {
            comparison,
            negated,
        })
    }

    /// Reads `[ForAllValues:|ForAnyValue:]Operator[IfExists]`. Operator
    /// names are case-sensitive, as IAM's element names are. `Null` takes
    /// neither a qualifier nor `IfExists`.
    pub fn parse_full(name: &str) -> Option<(Qualifier, Operator, bool)> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Qualifier::ForAllValues, r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Qualifier::ForAnyValue, r)
        } else {
            (Qualifier::Single, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let op = Operator::named(base)?;
        if op.comparison == Comparison::Null && (if_exists || qualifier != Qualifier::Single) {
            return None;
        }
        Some((qualifier, op, if_exists))
    }

    /// Whether policy variables are replaced in this operator's values
    /// (IAM: string and ARN operators).
    pub fn takes_variables(self) -> bool {
        matches!(
            self.comparison,
            Comparison::StringEquals
                | Comparison::StringEqualsIgnoreCase
                | Comparison::StringLike
                | Comparison::ArnLike
        )
    }
}

/// One key of one operator: `"StringEquals": {"aws:username": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub qualifier: Qualifier,
    pub operator: Operator,
    pub if_exists: bool,
    /// The operator as written (for printing).
    pub op_name: String,
    /// Lower-cased: condition keys match without regard to case.
    pub key: String,
    pub key_raw: String,
    pub values: Vec<Template>,
}

impl Condition {
    /// Decides the condition. `lookup` answers a lower-cased key with its
    /// values in the request; a key with no values is absent.
    pub fn holds<'a>(&self, lookup: &impl Fn(&str) -> Option<&'a [String]>) -> bool {
        let request = lookup(&self.key).filter(|v| !v.is_empty());
        let comparison = self.operator.comparison;
        if comparison == Comparison::Null {
            // "true": the key must be absent; "false": present.
            return self.values.iter().any(|v| {
                if v.raw.eq_ignore_ascii_case("true") {
                    request.is_none()
                } else if v.raw.eq_ignore_ascii_case("false") {
                    request.is_some()
                } else {
                    false
                }
            });
        }
        let negated = self.operator.negated;
        let Some(values) = request else {
            return match self.qualifier {
                // IAM: a negated operator is true when the key is absent (a
                // Deny on `StringNotEquals aws:SourceVpce` denies requests
                // that come from no endpoint); a positive one is false
                // unless `IfExists`.
                Qualifier::Single => self.if_exists || negated,
                // ForAllValues over no values is true: why a grant on
                // dynamodb:LeadingKeys needs the key computed for every
                // request (or a `Null` check beside it).
                Qualifier::ForAllValues => true,
                Qualifier::ForAnyValue => self.if_exists,
            };
        };
        // Policy values with variables resolved; a value whose variable has
        // no value in the request matches nothing.
        match comparison {
            Comparison::StringLike => self.over_values(
                values,
                |t| t.pattern(lookup),
                |p, v| wildcard_match(p, v, false),
            ),
            Comparison::ArnLike => self.over_values(values, |t| t.pattern(lookup), arn_match),
            _ => self.over_values(values, |t| t.text(lookup), |p, v| compare(comparison, v, p)),
        }
    }

    /// The qualifier applied to the request's `values`, each compared with
    /// the policy's values as `resolve` gives them.
    fn over_values<'t, P: ToOwned + ?Sized + 't>(
        &'t self,
        values: &[String],
        resolve: impl Fn(&'t Template) -> Option<Cow<'t, P>>,
        matches: impl Fn(&P, &str) -> bool,
    ) -> bool {
        if self.values.iter().all(Template::is_fixed) {
            // Nothing to expand: the policy's values are read in place.
            self.qualify(values, |v| {
                self.values
                    .iter()
                    .filter_map(&resolve)
                    .any(|p| matches(&p, v))
            })
        } else {
            // Expanded once, not once per request value.
            let policy: Vec<Cow<'t, P>> = self.values.iter().filter_map(&resolve).collect();
            self.qualify(values, |v| policy.iter().any(|p| matches(p, v)))
        }
    }

    fn qualify(&self, values: &[String], matches: impl Fn(&str) -> bool) -> bool {
        let negated = self.operator.negated;
        match self.qualifier {
            // A single-valued operator on several values: true if any value
            // matches; negated, if none does.
            Qualifier::Single => values.iter().any(|v| matches(v)) != negated,
            Qualifier::ForAllValues => values.iter().all(|v| matches(v) != negated),
            Qualifier::ForAnyValue => values.iter().any(|v| matches(v) != negated),
        }
    }
}

/// One request value against one policy value, for the operators without
/// wildcards (`policy` is the value's text, variables replaced).
fn compare(comparison: Comparison, value: &str, policy: &str) -> bool {
    use Comparison::*;
    match comparison {
        StringEquals | BinaryEquals => policy == value,
        StringEqualsIgnoreCase => {
            if policy.is_ascii() && value.is_ascii() {
                policy.eq_ignore_ascii_case(value)
            } else {
                policy.to_lowercase() == value.to_lowercase()
            }
        }
        Bool => policy.eq_ignore_ascii_case(value),
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            let (Some(v), Some(p)) = (parse_number(value), parse_number(policy)) else {
                return false;
            };
            ordered(comparison, v.partial_cmp(&p))
        }
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            let (Some(v), Some(p)) = (parse_date_millis(value), parse_date_millis(policy)) else {
                return false;
            };
            ordered(comparison, Some(v.cmp(&p)))
        }
        IpAddress => ip_in(value, policy),
        // Decided with patterns (`Condition::holds`), or not compared.
        StringLike | ArnLike | Null => false,
    }
}

fn ordered(comparison: Comparison, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    use Comparison::*;
    let Some(ord) = ord else { return false };
    match comparison {
        NumericEquals | DateEquals => ord == Equal,
        NumericLessThan | DateLessThan => ord == Less,
        NumericLessThanEquals | DateLessThanEquals => ord != Greater,
        NumericGreaterThan | DateGreaterThan => ord == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    // Plain decimal notation only: no "inf", "NaN" or hex.
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
    if !ok {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Whether IP address `value` is in `cidr` (`203.0.113.0/24`, `2001:db8::/32`,
/// or one address).
fn ip_in(value: &str, cidr: &str) -> bool {
    let Ok(ip) = value.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => match b.parse::<u32>() {
            Ok(b) => (n, Some(b)),
            Err(_) => return false,
        },
        None => (cidr, None),
    };
    let Ok(net) = net.trim().parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32);
            bits <= 32 && prefix_eq(u32::from(a) as u128, u32::from(n) as u128, bits, 32)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128);
            bits <= 128 && prefix_eq(u128::from(a), u128::from(n), bits, 128)
        }
        _ => false,
    }
}

fn prefix_eq(a: u128, b: u128, bits: u32, width: u32) -> bool {
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        let (q, op, e) = Operator::parse_full("ForAllValues:StringLikeIfExists").unwrap();
        assert_eq!(q, Qualifier::ForAllValues);
        assert_eq!(op.comparison, Comparison::StringLike);
        assert!(e && !op.negated);
        assert!(Operator::parse_full("NullIfExists").is_none());
        assert!(Operator::parse_full("ForAnyValue:Null").is_none());
        assert!(Operator::parse_full("stringequals").is_none());
        assert!(Operator::parse_full("StringEqualz").is_none());
        assert!(Operator::parse_full("ForSomeValues:StringEquals").is_none());
    }

    #[test]
    fn ip_ranges() {
        assert!(ip_in("203.0.113.7", "203.0.113.0/24"));
        assert!(!ip_in("203.0.114.7", "203.0.113.0/24"));
        assert!(ip_in("10.1.2.3", "0.0.0.0/0"));
        assert!(ip_in("10.1.2.3", "10.1.2.3"));
        assert!(!ip_in("10.1.2.3", "10.1.2.3/33"));
        assert!(ip_in("2001:db8::1", "2001:db8::/32"));
        assert!(!ip_in("2001:db9::1", "2001:db8::/32"));
        assert!(!ip_in("10.1.2.3", "2001:db8::/32"));
        assert!(!ip_in("nonsense", "10.0.0.0/8"));
    }

    #[test]
    fn numbers_are_plain_decimals() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1e999"), None);
        assert_eq!(parse_number(""), None);
    }
}
