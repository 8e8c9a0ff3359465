//! Checks of names, paths, tags and policy documents against IAM's
//! patterns and quotas (IAM User Guide, "IAM and AWS STS quotas"; IAM API
//! Reference, `CreateUser`, `Tag`, `CreatePolicy`).

use std::collections::BTreeMap;

use super::error::{ErrorCode, StoreError};

/// Most characters of a user name.
pub const MAX_USER_NAME: usize = 64;
/// Most characters of a path.
pub const MAX_PATH: usize = 512;
/// Most characters of a policy name.
pub const MAX_POLICY_NAME: usize = 128;
/// Most tags on one user.
pub const MAX_TAGS_PER_USER: usize = 50;
/// Most characters of a tag key and of a tag value.
pub const MAX_TAG_KEY: usize = 128;
pub const MAX_TAG_VALUE: usize = 256;
/// Most non-whitespace characters of a managed policy document (IAM does
/// not count white space).
pub const MAX_POLICY_SIZE: usize = 6_144;
/// Most characters of a `PolicyDocument` parameter, white space included.
pub const MAX_POLICY_DOCUMENT: usize = 131_072;
/// Access keys one user may have (`AccessKeysPerUserQuota`).
pub const MAX_KEYS_PER_USER: usize = 2;
/// Managed policies attached to one user (`AttachedPoliciesPerUserQuota`).
pub const MAX_POLICIES_PER_USER: usize = 10;
/// Temporary credentials' lifetime for an IAM user (GetSessionToken):
/// 15 minutes to 36 hours, 12 hours by default.
pub const MIN_SESSION_SECONDS: u64 = 900;
pub const MAX_SESSION_SECONDS: u64 = 129_600;
pub const DEFAULT_SESSION_SECONDS: u64 = 43_200;

const NAME_PATTERN: &str = r"[\w+=,.@-]+";

fn constraint(value: &str, member: &str, what: &str) -> StoreError {
    StoreError::invalid(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
         constraint: {what}"
    ))
}

fn check_length(value: &str, member: &str, min: usize, max: usize) -> Result<(), StoreError> {
    let n = value.chars().count();
    if n < min {
        return Err(constraint(
            value,
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(constraint(
            value,
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// `[\w+=,.@-]+`, with `\w` as ASCII letters, digits and `_`.
fn check_name(value: &str, member: &str, max: usize) -> Result<(), StoreError> {
    check_length(value, member, 1, max)?;
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !ok {
        return Err(constraint(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
        ));
    }
    Ok(())
}

pub fn user_name(name: &str) -> Result<(), StoreError> {
    check_name(name, "userName", MAX_USER_NAME)
}

pub fn policy_name(name: &str) -> Result<(), StoreError> {
    check_name(name, "policyName", MAX_POLICY_NAME)
}

/// `/` or `/…/` with printable ASCII between.
pub fn path(path: &str) -> Result<(), StoreError> {
    check_length(path, "path", 1, MAX_PATH)?;
    let ok = path == "/"
        || (path.len() >= 3
            && path.starts_with('/')
            && path.ends_with('/')
            && path.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    if !ok {
        return Err(constraint(
            path,
            "path",
            r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
        ));
    }
    Ok(())
}

/// A 12-digit account id.
pub fn account_id(id: &str) -> Result<(), StoreError> {
    if !crate::is_account_id(id) {
        return Err(constraint(
            id,
            "accountId",
            "Member must be a 12-digit account id",
        ));
    }
    Ok(())
}

/// An account alias: 3 to 63 lower-case letters, digits and single hyphens,
/// not starting or ending with a hyphen, not a 12-digit number.
pub fn alias(alias: &str) -> Result<(), StoreError> {
    check_length(alias, "accountAlias", 3, 63)?;
    let b = alias.as_bytes();
    let ok = b
        .iter()
        .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !alias.contains("--")
        && !crate::is_account_id(alias);
    if !ok {
        return Err(constraint(
            alias,
            "accountAlias",
            "Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$ \
             and must not be a 12-digit number",
        ));
    }
    Ok(())
}

/// `\p{Z}`: Unicode space separators.
fn is_space_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`
fn is_tag_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || is_space_separator(c) || "_.:/=+-@".contains(c)
}

pub fn tag_key(key: &str) -> Result<(), StoreError> {
    check_length(key, "tags.member.key", 1, MAX_TAG_KEY)?;
    if !key.chars().all(is_tag_char) {
        return Err(constraint(
            key,
            "tags.member.key",
            r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+",
        ));
    }
    if key.len() >= 4 && key[..4].eq_ignore_ascii_case("aws:") {
        return Err(StoreError::invalid(format!(
            "Tag key '{key}' uses the reserved prefix 'aws:'"
        )));
    }
    Ok(())
}

pub fn tag_value(value: &str) -> Result<(), StoreError> {
    check_length(value, "tags.member.value", 0, MAX_TAG_VALUE)?;
    if !value.chars().all(is_tag_char) {
        return Err(constraint(
            value,
            "tags.member.value",
            r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*",
        ));
    }
    Ok(())
}

/// Tags for one request: each valid, no key twice (keys compared without
/// regard to case, as IAM keeps one tag per key whatever its case).
pub fn tags(tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    for (key, value) in tags {
        tag_key(key)?;
        tag_value(value)?;
        if !seen.insert(key.to_lowercase()) {
            return Err(StoreError::invalid(format!(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive. \
                 ('{key}')"
            )));
        }
    }
    if tags.len() > MAX_TAGS_PER_USER {
        return Err(StoreError::new(
            ErrorCode::LimitExceeded,
            format!("The number of tags has reached the maximum limit of {MAX_TAGS_PER_USER}."),
        ));
    }
    Ok(())
}

fn malformed(message: impl Into<String>) -> StoreError {
    StoreError::new(ErrorCode::MalformedPolicyDocument, message)
}

/// A policy document as IAM takes it at put time: only the characters IAM
/// allows, at most 6,144 characters not counting white space, JSON, an
/// object with a known `Version` and a `Statement` that is a statement or a
/// non-empty list of them. Whether each statement means anything is the
/// policy evaluator's to say.
pub fn policy_document(document: &str) -> Result<(), StoreError> {
    let length = document.chars().count();
    if length == 0 {
        return Err(constraint(
            "",
            "policyDocument",
            "Member must have length greater than or equal to 1",
        ));
    }
    if length > MAX_POLICY_DOCUMENT {
        return Err(StoreError::invalid(format!(
            "1 validation error detected: Value at 'policyDocument' failed to satisfy \
             constraint: Member must have length less than or equal to {MAX_POLICY_DOCUMENT}"
        )));
    }
    if let Some(c) = document
        .chars()
        .find(|&c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(malformed(format!(
            "Policy document contains the character U+{:04X}, outside what IAM accepts \
             (tab, line feed, carriage return, U+0020 to U+00FF)",
            u32::from(c)
        )));
    }
    let counted = document.chars().filter(|c| !c.is_whitespace()).count();
    if counted > MAX_POLICY_SIZE {
        return Err(StoreError::new(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed quota for PolicySize: {MAX_POLICY_SIZE}"),
        ));
    }
    // serde_json stops at 128 levels of nesting, so a hostile document
    // cannot recurse deep.
    let value: serde_json::Value =
        serde_json::from_str(document).map_err(|_| malformed("Syntax errors in policy."))?;
    let Some(object) = value.as_object() else {
        return Err(malformed("Syntax errors in policy."));
    };
    match object.get("Version") {
        Some(serde_json::Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
        Some(_) => {
            return Err(malformed(
                "The policy's Version must be \"2012-10-17\" (or the legacy \"2008-10-17\")",
            ))
        }
        None => return Err(malformed("The policy has no Version (use \"2012-10-17\")")),
    }
    let statements: Vec<&serde_json::Value> = match object.get("Statement") {
        Some(serde_json::Value::Array(list)) if !list.is_empty() => list.iter().collect(),
        Some(s @ serde_json::Value::Object(_)) => vec![s],
        Some(_) => {
            return Err(malformed(
                "The policy's Statement must be a statement or a non-empty list of statements",
            ))
        }
        None => return Err(malformed("The policy has no Statement")),
    };
    if statements.iter().any(|s| !s.is_object()) {
        return Err(malformed(
            "Each statement of the policy must be a JSON object",
        ));
    }
    if statements
        .iter()
        .any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some())
    {
        return Err(malformed("Policy document should not specify a principal."));
    }
    Ok(())
}

/// A lifetime such as `3600`, `900s`, `90m`, `1h` or `1h30m`, within the
/// bounds of IAM users' temporary credentials.
pub fn session_duration(text: &str) -> Result<u64, StoreError> {
    let bad = || {
        StoreError::invalid(format!(
            "'{text}' is not a duration: use seconds (3600) or units such as 900s, 90m, 1h, 1h30m"
        ))
    };
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.trim().chars() {
        if let Some(d) = c.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(d)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
        let n = number.take().ok_or_else(bad)?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
    }
    if let Some(n) = number {
        total = total.checked_add(n).ok_or_else(bad)?;
    } else if text.trim().is_empty() {
        return Err(bad());
    }
    session_seconds(total)
}

/// A lifetime in seconds within 900 to 129,600.
pub fn session_seconds(seconds: u64) -> Result<u64, StoreError> {
    if !(MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&seconds) {
        return Err(StoreError::invalid(format!(
            "1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to \
             satisfy constraint: Member must be between {MIN_SESSION_SECONDS} and \
             {MAX_SESSION_SECONDS} seconds (15 minutes to 36 hours)"
        )));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_iams_pattern_and_lengths() {
        assert!(user_name("alice").is_ok());
        assert!(user_name("a+b=c,d.e@f_g-h").is_ok());
        assert!(user_name(&"a".repeat(64)).is_ok());
        for bad in ["", "with space", "slash/", "ü", &"a".repeat(65)] {
            let err = user_name(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::ValidationError, "{bad:?}");
        }
        assert!(policy_name(&"p".repeat(128)).is_ok());
        assert!(policy_name(&"p".repeat(129)).is_err());
    }

    #[test]
    fn paths_start_and_end_with_a_slash() {
        for ok in ["/", "/division/", "/a/b/"] {
            assert!(path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "//",
            "a/",
            "/a",
            "/a b/",
            &format!("/{}/", "x".repeat(511)),
        ] {
            assert!(path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aliases() {
        assert!(alias("my-team-1").is_ok());
        for bad in [
            "ab",
            "-ab",
            "ab-",
            "a--b",
            "Upper",
            "123456789012",
            &"a".repeat(64),
        ] {
            assert!(alias(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_are_checked_and_keys_unique_without_case() {
        let mut t = BTreeMap::new();
        t.insert("team".to_string(), "blue green".to_string());
        t.insert("Cost:Center".to_string(), String::new());
        assert!(tags(&t).is_ok());
        t.insert("TEAM".to_string(), "x".to_string());
        assert!(tags(&t).is_err());
        assert!(tag_key("aws:foo").is_err());
        assert!(tag_key("bad*").is_err());
        assert!(tag_value(&"v".repeat(257)).is_err());
        let many: BTreeMap<_, _> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(tags(&many).unwrap_err().code, ErrorCode::LimitExceeded);
    }

    #[test]
    fn policy_documents() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}"#;
        assert!(policy_document(ok).is_ok());
        let single =
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#;
        assert!(policy_document(single).is_ok());
        for (doc, code) in [
            ("not json", ErrorCode::MalformedPolicyDocument),
            ("[]", ErrorCode::MalformedPolicyDocument),
            (r#"{"Statement":[]}"#, ErrorCode::MalformedPolicyDocument),
            (
                r#"{"Version":"2012-10-17"}"#,
                ErrorCode::MalformedPolicyDocument,
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[]}"#,
                ErrorCode::MalformedPolicyDocument,
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[1]}"#,
                ErrorCode::MalformedPolicyDocument,
            ),
            (
                r#"{"Version":"2020-01-01","Statement":{}}"#,
                ErrorCode::MalformedPolicyDocument,
            ),
            (
                r#"{"Version":"2012-10-17","Statement":{"Principal":"*"}}"#,
                ErrorCode::MalformedPolicyDocument,
            ),
            (
                "{\"Version\":\"2012-10-17\",\"Statement\":{\"Sid\":\"\u{263a}\"}}",
                ErrorCode::MalformedPolicyDocument,
            ),
            ("", ErrorCode::ValidationError),
        ] {
            assert_eq!(policy_document(doc).unwrap_err().code, code, "{doc}");
        }
        // White space does not count towards the 6,144 characters.
        let pad = |n: usize| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Sid":"{}"}}}}"#,
                "a".repeat(n)
            )
        };
        let base = pad(0).len();
        let at_limit = pad(MAX_POLICY_SIZE - base);
        assert!(policy_document(&at_limit).is_ok());
        let spaced = at_limit.replace(':', " :  ");
        assert!(policy_document(&spaced).is_ok());
        let over = pad(MAX_POLICY_SIZE - base + 1);
        assert_eq!(
            policy_document(&over).unwrap_err().code,
            ErrorCode::LimitExceeded
        );
        // Deep nesting is refused, not recursed into.
        let deep = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Sid":{}1{}}}}}"#,
            "[".repeat(2000),
            "]".repeat(2000)
        );
        assert!(policy_document(&deep).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(session_duration("1h").unwrap(), 3600);
        assert_eq!(session_duration("1h30m").unwrap(), 5400);
        assert_eq!(session_duration("900").unwrap(), 900);
        assert_eq!(session_duration("900s").unwrap(), 900);
        assert_eq!(session_duration("36h").unwrap(), 129_600);
        for bad in [
            "",
            "h",
            "1d",
            "899",
            "37h",
            "1h-",
            "99999999999999999999999h",
            "1.5h",
        ] {
            assert!(session_duration(bad).is_err(), "{bad}");
        }
    }
}
