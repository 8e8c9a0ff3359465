//! The canonical request and the string to sign, as the AWS SigV4 spec
//! builds them for services other than S3 (AWS General Reference, "Create a
//! canonical request"): the path normalized and URI-encoded (again), the
//! query parameters decoded, strictly re-encoded and sorted, each signed
//! header's values trimmed, their inner whitespace collapsed and repeated
//! headers joined by commas in arrival order, and the SHA-256 of the body
//! bytes as they arrived.
//!
//! Both are written into a [`Sink`]: a hasher on the request path, so no
//! buffer is built, or a `Vec<u8>` when a test wants to read them.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use super::parse::hex;
use super::Request;

/// Where canonical text goes: bytes appended in order.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// How a request's path becomes canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PathRules {
    /// Remove `.` and `..` segments and empty segments (every service but
    /// S3).
    pub normalize: bool,
}

/// Which query parameters a request signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryRule {
    /// All of them (the `Authorization` header form).
    All,
    /// A presigned request: all but its `X-Amz-Signature`, and but its
    /// `X-Amz-Security-Token` when the client added the token after signing
    /// (the AWS SDKs' "exclude session token" mode, which some services
    /// require).
    Presigned { token_signed: bool },
}

/// Writes the canonical request of `request` with the signed headers
/// `signed` (lowercase, sorted) and the payload hash `payload_hash` (hex).
pub(crate) fn canonical_request(
    out: &mut impl Sink,
    request: &Request<'_>,
    rule: QueryRule,
    rules: PathRules,
    signed: &SignedHeaders<'_>,
    payload_hash: &[u8; 64],
) {
    out.put(request.method.as_bytes());
    out.put(b"\n");
    canonical_path(out, request.path, rules);
    out.put(b"\n");
    canonical_query(out, request.query.unwrap_or_default(), rule);
    out.put(b"\n");
    for name in signed.names() {
        out.put(name.as_bytes());
        out.put(b":");
        let mut first = true;
        for value in request.header_values(name) {
            if !first {
                out.put(b",");
            }
            first = false;
            put_header_value(out, value);
        }
        out.put(b"\n");
    }
    out.put(b"\n");
    let mut first = true;
    for name in signed.names() {
        if !first {
            out.put(b";");
        }
        first = false;
        out.put(name.as_bytes());
    }
    out.put(b"\n");
    out.put(payload_hash);
}

/// The hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> [u8; 64] {
    hex_of(&Sha256::digest(bytes))
}

/// Lowercase hex of a 32-byte digest.
pub(crate) fn hex_of(digest: &[u8]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, byte) in digest.iter().take(32).enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0x0f)];
    }
    out
}

/// The signed header names, lowercase and sorted as the canonical request
/// lists them. Borrowed when the client already sent them that way (every
/// AWS SDK does), so the common case allocates nothing.
#[derive(Debug)]
pub(crate) struct SignedHeaders<'a>(Cow<'a, str>);

impl<'a> SignedHeaders<'a> {
    pub fn new(list: Cow<'a, str>) -> SignedHeaders<'a> {
        // One pass over the bytes: lowercase, and each name not before the
        // previous one.
        let mut canonical = true;
        let mut previous: &[u8] = &[];
        for name in list.as_bytes().split(|&b| b == b';') {
            if name.iter().any(u8::is_ascii_uppercase) || name < previous {
                canonical = false;
                break;
            }
            previous = name;
        }
        if canonical {
            return SignedHeaders(list);
        }
        let lower = list.to_ascii_lowercase();
        let mut names: Vec<&str> = lower.split(';').collect();
        names.sort_unstable();
        SignedHeaders(Cow::Owned(names.join(";")))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        // Split on the byte: `str::split(char)` costs a searcher per name.
        self.0
            .as_bytes()
            .split(|&b| b == b';')
            // Cut at an ASCII byte, so every piece is a str.
            .map(|n| std::str::from_utf8(n).unwrap_or_default())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0
            .as_bytes()
            .split(|&b| b == b';')
            .any(|n| n == name.as_bytes())
    }
}

/// A header value with leading and trailing whitespace removed and every
/// inner run of whitespace written as one space (the AWS SDKs collapse any
/// whitespace, tabs included).
fn put_header_value(out: &mut impl Sink, value: &[u8]) {
    let value = value.trim_ascii();
    let mut rest = value;
    while let Some(at) = rest.iter().position(u8::is_ascii_whitespace) {
        out.put(&rest[..at]);
        out.put(b" ");
        let after = &rest[at..];
        let skip = after
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(after.len());
        rest = &after[skip..];
    }
    out.put(rest);
}

/// The path, normalized if the rules say so, with every byte but the
/// unreserved ones and `/` percent-encoded: for services other than S3 the
/// path as it arrived (already encoded once) is encoded again.
fn canonical_path(out: &mut impl Sink, path: &str, rules: PathRules) {
    let path = if rules.normalize {
        normalize_path(path)
    } else if path.is_empty() {
        Cow::Borrowed("/")
    } else {
        Cow::Borrowed(path)
    };
    encode(out, path.as_bytes(), true);
}

/// RFC 3986 section 5.2.4 dot-segment removal, with empty segments dropped
/// too (`//a//` is `/a/`); a path ending in `/`, `/.` or `/..` keeps its
/// trailing slash.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.starts_with('/') && !path.contains("//") && !path.contains('.') {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let trailing = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if trailing || segments.is_empty() {
        out.push('/');
    }
    Cow::Owned(out)
}

/// The query's parameters, each name and value decoded then re-encoded
/// strictly, sorted by name then value and joined by `&`, but for the
/// parameters a presigned request does not sign ([`QueryRule`]).
fn canonical_query(out: &mut impl Sink, query: &str, rule: QueryRule) {
    if query.is_empty() {
        return;
    }
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (reencode(name), reencode(value))
        })
        .filter(|(name, _)| match rule {
            QueryRule::All => true,
            QueryRule::Presigned { token_signed } => {
                name != b"X-Amz-Signature" && (token_signed || name != b"X-Amz-Security-Token")
            }
        })
        .collect();
    pairs.sort_unstable();
    let mut first = true;
    for (name, value) in &pairs {
        if !first {
            out.put(b"&");
        }
        first = false;
        out.put(name);
        out.put(b"=");
        out.put(value);
    }
}

/// Decodes `%XX` (an invalid escape stays as it is; `+` is a plus) and
/// encodes the result strictly.
fn reencode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                decoded.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    let mut encoded = Vec::with_capacity(decoded.len() * 3);
    encode(&mut encoded, &decoded, false);
    encoded
}

/// URI-encodes `bytes`: unreserved characters (`A-Z a-z 0-9 - . _ ~`) as
/// they are, `/` too when `keep_slash`, everything else `%XX` in uppercase.
fn encode(out: &mut impl Sink, bytes: &[u8], keep_slash: bool) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let plain = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/');
        if !plain {
            out.put(&bytes[start..i]);
            out.put(&[
                b'%',
                DIGITS[usize::from(b >> 4)],
                DIGITS[usize::from(b & 0x0f)],
            ]);
            start = i + 1;
        }
    }
    out.put(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(raw: &str, normalize: bool) -> String {
        let mut out = Vec::new();
        canonical_path(&mut out, raw, PathRules { normalize });
        String::from_utf8(out).unwrap()
    }

    fn query(raw: &str, rule: QueryRule) -> String {
        let mut out = Vec::new();
        canonical_query(&mut out, raw, rule);
        String::from_utf8(out).unwrap()
    }

    fn header(raw: &[u8]) -> String {
        let mut out = Vec::new();
        put_header_value(&mut out, raw);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn paths() {
        for (raw, normalized, as_is) in [
            ("/", "/", "/"),
            ("", "/", "/"),
            ("//example//", "/example/", "//example//"),
            ("/example/..", "/", "/example/.."),
            ("/example1/example2/../..", "/", "/example1/example2/../.."),
            ("/./", "/", "/./"),
            ("/./example", "/example", "/./example"),
            ("/a/b/.", "/a/b/", "/a/b/."),
            ("/../../a", "/a", "/../../a"),
            ("/example space/", "/example%20space/", "/example%20space/"),
            ("/a%3Db", "/a%253Db", "/a%253Db"),
            ("/@", "/%40", "/%40"),
            ("/ሴ", "/%E1%88%B4", "/%E1%88%B4"),
        ] {
            assert_eq!(path(raw, true), normalized, "{raw:?} normalized");
            assert_eq!(path(raw, false), as_is, "{raw:?} as is");
        }
    }

    #[test]
    fn queries() {
        assert_eq!(query("", QueryRule::All), "");
        assert_eq!(query("b=2&a=1&a=0", QueryRule::All), "a=0&a=1&b=2");
        assert_eq!(query("Param1=value1", QueryRule::All), "Param1=value1");
        assert_eq!(query("Param1", QueryRule::All), "Param1=");
        assert_eq!(query("a=%2f&&b=x+y", QueryRule::All), "a=%2F&b=x%2By");
        assert_eq!(query("a=%zz%", QueryRule::All), "a=%25zz%25");
        assert_eq!(
            query("X-Amz-Signature=abc&X-Amz-Date=1", QueryRule::All),
            "X-Amz-Date=1&X-Amz-Signature=abc"
        );
        let presigned = QueryRule::Presigned { token_signed: true };
        assert_eq!(
            query("X-Amz-Signature=abc&X-Amz-Date=1", presigned),
            "X-Amz-Date=1"
        );
        assert_eq!(
            query("X-Amz-Security-Token=t&X-Amz-Date=1", presigned),
            "X-Amz-Date=1&X-Amz-Security-Token=t"
        );
        let after = QueryRule::Presigned {
            token_signed: false,
        };
        assert_eq!(
            query("X-Amz-Security-Token=t&X-Amz-Date=1", after),
            "X-Amz-Date=1"
        );
        // Sorted by the encoded names' bytes: uppercase before lowercase.
        assert_eq!(query("b=1&B=2", QueryRule::All), "B=2&b=1");
    }

    #[test]
    fn header_values() {
        assert_eq!(header(b"  value1  "), "value1");
        assert_eq!(header(b"\"a   b   c\""), "\"a b c\"");
        assert_eq!(header(b"a\t \tb"), "a b");
        assert_eq!(header(b""), "");
        assert_eq!(header(b"   "), "");
    }

    #[test]
    fn signed_headers_are_lowercased_and_sorted() {
        let signed = SignedHeaders::new(Cow::Borrowed("host;x-amz-date"));
        assert!(matches!(signed.0, Cow::Borrowed(_)));
        let signed = SignedHeaders::new(Cow::Borrowed("X-Amz-Date;Host"));
        assert_eq!(signed.names().collect::<Vec<_>>(), ["host", "x-amz-date"]);
        assert!(signed.contains("host"));
        assert!(!signed.contains("x-amz-target"));
    }
}
