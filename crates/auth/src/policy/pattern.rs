//! Wildcard patterns (`*`, `?`) and the policy-variable templates they are
//! written in: `Resource`, string and ARN condition values.
//!
//! A template is parsed once with the policy; at evaluation its variables
//! are replaced by the request's values, whose characters are always
//! literal (`${*}` is a literal `*`, never a wildcard). A template
//! without variables is expanded once, when parsed.

use std::borrow::Cow;

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
    /// Without variables: the pattern and the text, the same for every
    /// request.
    fixed: Option<Fixed>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fixed {
    pattern: Vec<PatChar>,
    text: String,
}

impl Template {
    /// Parses `raw`; with `variables` false (a 2008-10-17 policy) the whole
    /// text is literal.
    pub fn parse(raw: &str, variables: bool) -> Template {
        let mut pieces = Vec::new();
        if !variables {
            pieces.push(Piece::Text(raw.to_string()));
            return Template::new(pieces, raw);
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
        Template::new(pieces, raw)
    }

    fn new(pieces: Vec<Piece>, raw: &str) -> Template {
        let mut t = Template {
            pieces,
            raw: raw.to_string(),
            fixed: None,
        };
        let none = |_: &str| -> Option<&[String]> { None };
        if !t.pieces.iter().any(|p| matches!(p, Piece::Var { .. })) {
            if let (Some(pattern), Some(text)) = (t.expand(&none, true), t.expand_text(&none)) {
                t.fixed = Some(Fixed { pattern, text });
            }
        }
        t
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

    /// The pattern, wildcards active, with variables replaced; `None`
    /// when a variable has no single value in the request and no default
    /// (the pattern then matches nothing).
    pub fn pattern<'a>(
        &self,
        lookup: &impl Fn(&str) -> Option<&'a [String]>,
    ) -> Option<Cow<'_, [PatChar]>> {
        match &self.fixed {
            Some(f) => Some(Cow::Borrowed(&f.pattern)),
            None => self.expand(lookup, true).map(Cow::Owned),
        }
    }

    /// The text with variables replaced and escapes read (`${*}` is `*`),
    /// for the operators without wildcards; `None` as for [`Self::pattern`].
    pub fn text<'a>(&self, lookup: &impl Fn(&str) -> Option<&'a [String]>) -> Option<Cow<'_, str>> {
        match &self.fixed {
            Some(f) => Some(Cow::Borrowed(&f.text)),
            None => self.expand_text(lookup).map(Cow::Owned),
        }
    }

    /// Whether the template has no variable: the same for every request.
    pub fn is_fixed(&self) -> bool {
        self.fixed.is_some()
    }

    fn expand<'a>(
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
                    out.extend(resolve(key, default, lookup)?.chars().map(PatChar::Lit))
                }
            }
        }
        Some(out)
    }

    fn expand_text<'a>(&self, lookup: &impl Fn(&str) -> Option<&'a [String]>) -> Option<String> {
        let mut out = String::with_capacity(self.raw.len());
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Escaped(c) => out.push(*c),
                Piece::Var { key, default } => out.push_str(resolve(key, default, lookup)?),
            }
        }
        Some(out)
    }
}

/// A variable's value: the request's, if the key has exactly one
/// (multivalued keys cannot be variables), else the default.
fn resolve<'t, 'a: 't>(
    key: &str,
    default: &'t Option<String>,
    lookup: &impl Fn(&str) -> Option<&'a [String]>,
) -> Option<&'t str> {
    match lookup(key) {
        Some([one]) => Some(one.as_str()),
        _ => default.as_deref(),
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
/// With `fold_ascii`, the text's ASCII letters are lower-cased first (the
/// pattern is lower-case already). Linear backtracking to the last `*`: no
/// input makes it exponential.
pub(crate) fn wildcard_match(pattern: &[PatChar], text: &str, fold_ascii: bool) -> bool {
    if pattern == [PatChar::Any] {
        // An ARN part written `*`: no need to walk the text.
        return true;
    }
    // `t` and the star's restart point are byte offsets into `text`, always
    // on a character boundary.
    let bytes = text.as_bytes();
    // The character at `t` and its width; ASCII without decoding.
    let at = |t: usize| -> Option<(char, usize)> {
        match bytes.get(t) {
            None => None,
            Some(b) if b.is_ascii() => Some((char::from(*b), 1)),
            Some(_) => text[t..].chars().next().map(|c| (c, c.len_utf8())),
        }
    };
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some((c, width)) = at(t) {
        let folded = if fold_ascii {
            c.to_ascii_lowercase()
        } else {
            c
        };
        match pattern.get(p) {
            Some(PatChar::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(PatChar::One) => {
                p += 1;
                t += width;
            }
            Some(PatChar::Lit(l)) if *l == folded => {
                p += 1;
                t += width;
            }
            _ => match star {
                Some((sp, st)) => {
                    let next = st + at(st).map_or(1, |(_, w)| w);
                    p = sp + 1;
                    t = next;
                    star = Some((sp, next));
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
    let mut arn_parts = arn.splitn(6, ':');
    let mut parts: [&str; 6] = [""; 6];
    for part in parts.iter_mut() {
        match arn_parts.next() {
            Some(a) => *part = a,
            None => return false,
        }
    }
    pattern_parts
        .iter()
        .zip(parts)
        .all(|(p, a)| wildcard_match(p, a, false))
}

fn split_pattern_arn(pattern: &[PatChar]) -> Option<[&[PatChar]; 6]> {
    let mut parts: [&[PatChar]; 6] = [&[]; 6];
    let (mut found, mut start) = (0usize, 0usize);
    for (i, c) in pattern.iter().enumerate() {
        if found == 5 {
            break;
        }
        if *c == PatChar::Lit(':') {
            parts[found] = &pattern[start..i];
            found += 1;
            start = i + 1;
        }
    }
    if found != 5 {
        return None;
    }
    parts[5] = &pattern[start..];
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
#[cfg(test)]
fn to_text(pattern: &[PatChar]) -> String {
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
        wildcard_match(&compile(p), t, false)
    }

    /// The matcher as it was: over a vector of characters.
    fn reference_match(pattern: &[PatChar], text: &[char]) -> bool {
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
                Some(PatChar::Lit(c)) if *c == text[t] => {
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
            // Characters, not bytes: `?` is one character of any width.
            ("?", "é", true),
            ("a?c", "a€c", true),
            ("*é", "ééé", true),
            ("*€?", "x€€y", true),
            ("*€?", "x€€", true),
            ("*€?", "x€", false),
        ] {
            assert_eq!(m(p, t), want, "{p:?} ~ {t:?}");
        }
    }

    #[test]
    fn folding_lowers_only_the_texts_ascii_letters() {
        let p = compile("dynamodb:getitem");
        assert!(wildcard_match(&p, "dynamodb:GetItem", true));
        assert!(!wildcard_match(&p, "dynamodb:GetItem", false));
        assert!(wildcard_match(
            &compile("dynamodb:get*"),
            "DYNAMODB:GETITEM",
            true
        ));
        // The pattern is lower-case already: an upper-case letter in it
        // matches nothing when folding.
        assert!(!wildcard_match(
            &compile("dynamodb:GetItem"),
            "dynamodb:GetItem",
            true
        ));
        assert!(!wildcard_match(&compile("é"), "É", true));
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
        assert!(!arn_match(
            &compile("arn:aws:dynamodb:*:*:*"),
            "arn:aws:dynamodb:r:a"
        ));
        assert!(arn_match(
            &compile("arn:aws:dynamodb:*:*:*"),
            "arn:aws:dynamodb:r:a:"
        ));
        assert!(!arn_match(
            &compile("arn:aws:dynamodb:*:*"),
            "arn:aws:dynamodb:r:a:t"
        ));
    }

    proptest::proptest! {
        #[test]
        fn matches_as_the_character_vector_matcher_did(
            pattern in "[a?*é€]{0,8}",
            text in "[abé€]{0,10}",
        ) {
            let p = compile(&pattern);
            let chars: Vec<char> = text.chars().collect();
            proptest::prop_assert_eq!(wildcard_match(&p, &text, false), reference_match(&p, &chars));
        }

        #[test]
        fn a_templates_text_is_its_pattern_read_back(
            raw in "[a:*?$/{}]{0,6}(\\$\\{(\\*|\\?|\\$|aws:username|k:m, 'd\\*')\\})?[a:*?$/{}]{0,6}",
            value in "[a*?]{0,3}",
            variables in proptest::bool::ANY,
        ) {
            let t = Template::parse(&raw, variables);
            let vals = vec![value];
            let lookup = |k: &str| (k == "aws:username").then_some(vals.as_slice());
            let (pattern, text) = (t.pattern(&lookup), t.text(&lookup));
            proptest::prop_assert_eq!(pattern.map(|p| to_text(&p)), text.map(|t| t.into_owned()));
            proptest::prop_assert_eq!(t.pattern(&lookup).map(Cow::into_owned), t.expand(&lookup, true));
        }
    }

    #[test]
    fn templates_without_variables_are_expanded_once() {
        let none = |_: &str| -> Option<&[String]> { None };
        let t = Template::parse("arn:aws:dynamodb:*:1:table/T${*}", true);
        assert!(t.is_fixed());
        assert!(matches!(t.pattern(&none), Some(Cow::Borrowed(_))));
        assert!(matches!(
            t.text(&none),
            Some(Cow::Borrowed("arn:aws:dynamodb:*:1:table/T*"))
        ));
        let p = t.pattern(&none).unwrap();
        assert_eq!(p[17], PatChar::Any);
        assert_eq!(p.last(), Some(&PatChar::Lit('*')));
        let t = Template::parse("table/${aws:username}", true);
        assert!(!t.is_fixed());
        let vals = vec!["bob".to_string()];
        let lookup = |k: &str| (k == "aws:username").then_some(vals.as_slice());
        assert!(matches!(t.text(&lookup), Some(Cow::Owned(s)) if s == "table/bob"));
        // A 2008-10-17 template is text only, so always fixed.
        assert!(Template::parse("table/${aws:username}", false).is_fixed());
    }

    #[test]
    fn templates_keep_escapes_literal() {
        let t = Template::parse("a${*}b${aws:username}c${?}${$}", true);
        let vals = vec!["x*".to_string()];
        let lookup = |k: &str| (k == "aws:username").then_some(vals.as_slice());
        let p = t.pattern(&lookup).unwrap();
        assert_eq!(to_text(&p), "a*bx*c?$");
        assert!(p.iter().all(|c| matches!(c, PatChar::Lit(_))));
        assert_eq!(t.text(&lookup).as_deref(), Some("a*bx*c?$"));
    }

    #[test]
    fn unresolved_variables_use_the_default_or_match_nothing() {
        let none = |_: &str| -> Option<&[String]> { None };
        let t = Template::parse("u/${aws:username, 'guest'}", true);
        assert_eq!(to_text(&t.pattern(&none).unwrap()), "u/guest");
        assert_eq!(t.text(&none).as_deref(), Some("u/guest"));
        let t = Template::parse("u/${aws:PrincipalTag/team}", true);
        assert!(t.pattern(&none).is_none());
        assert!(t.text(&none).is_none());
        // Two values: a multivalued key is no variable.
        let two = vec!["a".to_string(), "b".to_string()];
        let lookup = |_: &str| Some(two.as_slice());
        assert!(t.pattern(&lookup).is_none());
        assert!(t.text(&lookup).is_none());
    }

    #[test]
    fn version_2008_policies_have_no_variables() {
        let t = Template::parse("u/${aws:username}", false);
        let none = |_: &str| -> Option<&[String]> { None };
        assert_eq!(t.text(&none).as_deref(), Some("u/${aws:username}"));
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
