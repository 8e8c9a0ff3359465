//! Wildcard patterns (`*`, `?`) and the policy-variable templates they are
//! written in: `Resource`, string and ARN condition values.
//!
//! A template is parsed once with the policy; at evaluation its variables
//! are replaced by the request's values, whose characters are always
//! literal (`${*}` is a literal `*`, never a wildcard).

/// One character of an expanded pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatChar {
    Lit(char),
    /// `*`: any run of characters, empty included.
    Any,
    /// `?`: exactly one character.
    One,
}

/// A piece of a template: text as written, or a policy variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// `${key}` or `${key, 'default'}`; `key` lower-cased.
    Var {
        key: String,
        default: Option<String>,
    },
    /// `${*}`, `${?}`, `${$}`: the character itself, literally.
    Escaped(char),
}

/// A string that may hold policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pub pieces: Vec<Piece>,
    /// The text as written in the policy.
    pub raw: String,
}

impl Template {
    /// Parses `raw`; with `variables` false (a 2008-10-17 policy) the whole
    /// text is literal.
    pub fn parse(raw: &str, variables: bool) -> Template {
        let mut pieces = Vec::new();
        if !variables {
            pieces.push(Piece::Text(raw.to_string()));
            return Template {
                pieces,
                raw: raw.to_string(),
            };
        }
        let mut text = String::new();
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                break;
            };
            text.push_str(&rest[..start]);
            let body = &after[..end];
            let piece = match body {
                "*" => Some(Piece::Escaped('*')),
                "?" => Some(Piece::Escaped('?')),
                "$" => Some(Piece::Escaped('$')),
                _ => parse_variable(body),
            };
            match piece {
                Some(p) => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(p);
                }
                // Not a variable IAM knows the shape of: kept as text.
                None => {
                    text.push_str("${");
                    text.push_str(body);
                    text.push('}');
                }
            }
            rest = &after[end + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Template {
            pieces,
            raw: raw.to_string(),
        }
    }

    /// The literal text outside variables (for shape checks such as the
    /// colons of an ARN).
    pub fn literal_text(&self) -> String {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    #[cfg(test)]
    pub fn has_variables(&self) -> bool {
        self.pieces.iter().any(|p| !matches!(p, Piece::Text(_)))
    }

    /// The pattern with variables replaced; `None` when a variable has no
    /// single value in the request and no default (the pattern then matches
    /// nothing).
    pub fn expand<'a>(
        &self,
        lookup: &impl Fn(&str) -> Option<&'a [String]>,
        wildcards: bool,
    ) -> Option<Vec<PatChar>> {
        let mut out = Vec::with_capacity(self.raw.len());
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.extend(t.chars().map(|c| match c {
                    '*' if wildcards => PatChar::Any,
                    '?' if wildcards => PatChar::One,
                    c => PatChar::Lit(c),
                })),
                Piece::Escaped(c) => out.push(PatChar::Lit(*c)),
                Piece::Var { key, default } => {
                    // Multivalued keys cannot be variables: only a key with
                    // exactly one value resolves.
                    let value = match lookup(key) {
                        Some([one]) => one.as_str(),
                        _ => default.as_deref()?,
                    };
                    out.extend(value.chars().map(PatChar::Lit));
                }
            }
        }
        Some(out)
    }
}

/// `key` or `key, 'default'` (IAM's syntax for a default value).
fn parse_variable(body: &str) -> Option<Piece> {
    let (key, default) = match body.split_once(',') {
        None => (body.trim(), None),
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(d.to_string()))
        }
    };
    if key.is_empty() || key.contains(['$', '{', '\'']) {
        return None;
    }
    Some(Piece::Var {
        key: key.to_ascii_lowercase(),
        default,
    })
}

/// Whether `text` matches `pattern` (`*` any run, `?` one character).
/// Linear backtracking to the last `*`: no input makes it exponential.
pub(crate) fn wildcard_match(pattern: &[PatChar], text: &[char], fold_case: bool) -> bool {
    let eq = |a: char, b: char| {
        if fold_case {
            a == b || a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(PatChar::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(PatChar::One) => {
                p += 1;
                t += 1;
            }
            Some(PatChar::Lit(c)) if eq(*c, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..]
        .iter()
        .all(|c| *c == PatChar::Any)
}

/// Whether an ARN matches an ARN pattern: each of the six colon-separated
/// parts (the last may itself hold colons) is matched on its own, so a
/// wildcard never reaches across a part. A pattern of a lone `*` matches
/// every resource.
pub(crate) fn arn_match(pattern: &[PatChar], arn: &str) -> bool {
    if pattern == [PatChar::Any] {
        return true;
    }
    let Some(pattern_parts) = split_pattern_arn(pattern) else {
        return false;
    };
    let arn_parts: Vec<&str> = arn.splitn(6, ':').collect();
    if arn_parts.len() != 6 {
        return false;
    }
    pattern_parts.iter().zip(arn_parts).all(|(p, a)| {
        let chars: Vec<char> = a.chars().collect();
        wildcard_match(p, &chars, false)
    })
}

fn split_pattern_arn(pattern: &[PatChar]) -> Option<Vec<&[PatChar]>> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    for (i, c) in pattern.iter().enumerate() {
        if parts.len() == 5 {
            break;
        }
        if *c == PatChar::Lit(':') {
            parts.push(&pattern[start..i]);
            start = i + 1;
        }
    }
    if parts.len() != 5 {
        return None;
    }
    parts.push(&pattern[start..]);
    Some(parts)
}

/// A pattern without variables, wildcards active.
pub(crate) fn compile(text: &str) -> Vec<PatChar> {
    text.chars()
        .map(|c| match c {
            '*' => PatChar::Any,
            '?' => PatChar::One,
            c => PatChar::Lit(c),
        })
        .collect()
}

/// The pattern read back as text, wildcards as their characters.
pub(crate) fn to_text(pattern: &[PatChar]) -> String {
    pattern
        .iter()
        .map(|c| match c {
            PatChar::Lit(c) => *c,
            PatChar::Any => '*',
            PatChar::One => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        wildcard_match(&compile(p), &t.chars().collect::<Vec<_>>(), false)
    }

    #[test]
    fn wildcards_match_as_iam_documents() {
        for (p, t, want) in [
            ("*", "", true),
            ("*", "anything", true),
            ("a*", "a", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbbd", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("?", "", false),
            ("*a*b*c*", "xaxbxcx", true),
            ("*a*b*c*", "xaxcxbx", false),
            ("GetItem", "getitem", false),
            ("", "", true),
            ("", "x", false),
        ] {
            assert_eq!(m(p, t), want, "{p:?} ~ {t:?}");
        }
    }

    #[test]
    fn a_pathological_pattern_stays_linear() {
        let p = "*a".repeat(2000) + "b";
        let t = "a".repeat(5000);
        assert!(!m(&p, &t));
    }

    #[test]
    fn arn_wildcards_stay_inside_their_part() {
        let t = "arn:aws:dynamodb:us-east-1:123456789012:table/T/index/I";
        for (p, want) in [
            ("*", true),
            ("arn:aws:dynamodb:*:*:table/T", false),
            ("arn:aws:dynamodb:*:*:table/T/*", true),
            ("arn:aws:dynamodb:*:*:*", true),
            ("arn:aws:dynamodb:us-east-?:123456789012:table/*", true),
            // A `*` in the region part cannot eat the account part.
            ("arn:aws:dynamodb:*:table/T/index/I", false),
            ("arn:aws:*:table/T/index/I", false),
            ("arn:aws:dynamodb:*:999999999999:*", false),
            ("ARN:aws:dynamodb:*:*:*", false),
        ] {
            assert_eq!(arn_match(&compile(p), t), want, "{p}");
        }
        assert!(!arn_match(&compile("arn:aws:dynamodb:*:*:*"), "not-an-arn"));
    }

    #[test]
    fn templates_keep_escapes_literal() {
        let t = Template::parse("a${*}b${aws:username}c${?}${$}", true);
        let vals = vec!["x*".to_string()];
        let lookup = |k: &str| (k == "aws:username").then_some(vals.as_slice());
        let p = t.expand(&lookup, true).unwrap();
        assert_eq!(to_text(&p), "a*bx*c?$");
        assert!(p.iter().all(|c| matches!(c, PatChar::Lit(_))));
    }

    #[test]
    fn unresolved_variables_use_the_default_or_match_nothing() {
        let none = |_: &str| -> Option<&[String]> { None };
        let t = Template::parse("u/${aws:username, 'guest'}", true);
        assert_eq!(to_text(&t.expand(&none, true).unwrap()), "u/guest");
        let t = Template::parse("u/${aws:PrincipalTag/team}", true);
        assert!(t.expand(&none, true).is_none());
        // Two values: a multivalued key is no variable.
        let two = vec!["a".to_string(), "b".to_string()];
        let lookup = |_: &str| Some(two.as_slice());
        assert!(t.expand(&lookup, true).is_none());
    }

    #[test]
    fn version_2008_policies_have_no_variables() {
        let t = Template::parse("u/${aws:username}", false);
        let none = |_: &str| -> Option<&[String]> { None };
        assert_eq!(
            to_text(&t.expand(&none, false).unwrap()),
            "u/${aws:username}"
        );
    }

    #[test]
    fn malformed_variables_stay_text() {
        let t = Template::parse("a${b", true);
        assert!(!t.has_variables());
        let t = Template::parse("a${x, default}", true);
        assert!(!t.has_variables());
        assert_eq!(t.literal_text(), "a${x, default}");
    }
}
