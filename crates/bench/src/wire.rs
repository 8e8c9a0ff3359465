//! Cheap looks into DynamoDB answers. A Scan page is over a megabyte of
//! JSON, a GetRecords answer of 1 000 records half of one; parsing all of
//! it per answer would cost the load generator more CPU than some servers
//! spend producing it, so the top-level members this tool needs (`Count`,
//! `LastEvaluatedKey`, `NextShardIterator`) are looked for where they must
//! be: outside the `Items` or `Records` array, i.e. near the start or the
//! end of the body.

use crate::client::Reply;

/// How far from each end of a body the top-level members are looked for
/// before the whole body is searched.
const EDGE: usize = 4096;

/// Position of the first occurrence of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while from + needle.len() <= haystack.len() {
        let i = from
            + haystack[from..=haystack.len() - needle.len()]
                .iter()
                .position(|&b| b == first)?;
        if haystack[i + 1..].starts_with(rest) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// Finds the top-level member `"name":` followed by a byte accepted by
/// `starts_value`, first in the head and the tail of the body, then
/// anywhere; returns the position of its value.
fn member(body: &[u8], name: &[u8], starts_value: impl Fn(u8) -> bool) -> Option<usize> {
    let matches = |from: usize, to: usize| {
        let mut at = from;
        while let Some(i) = find(&body[at..to], name) {
            let value = at + i + name.len();
            if body.get(value).is_some_and(|&b| starts_value(b)) {
                return Some(value);
            }
            at += i + 1;
        }
        None
    };
    let head = body.len().min(EDGE);
    let tail = body.len().saturating_sub(EDGE).max(head);
    matches(0, head)
        .or_else(|| matches(tail, body.len()))
        .or_else(|| matches(0, body.len()))
}

/// The top-level `Count` of a Query or Scan answer.
pub fn count(body: &[u8]) -> Option<u64> {
    let at = member(body, b"\"Count\":", |b| b.is_ascii_digit())?;
    let digits = body[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&body[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// The `LastEvaluatedKey` of a Query or Scan answer, re-serialised, or
/// `None` on the last page.
pub fn last_evaluated_key(body: &[u8]) -> Option<String> {
    let at = member(body, b"\"LastEvaluatedKey\":", |b| b == b'{')?;
    let key = serde_json::Deserializer::from_slice(&body[at..])
        .into_iter::<serde_json::Value>()
        .next()?
        .ok()?;
    Some(key.to_string())
}

/// The top-level string member `name` (e.g. `NextShardIterator`), or `None`
/// when it is missing or not a string.
pub fn string_member(body: &[u8], name: &str) -> Option<String> {
    let quoted = format!("\"{name}\":");
    let at = member(body, quoted.as_bytes(), |b| b == b'"')?;
    serde_json::Deserializer::from_slice(&body[at..])
        .into_iter::<String>()
        .next()?
        .ok()
}

/// How many times `needle` occurs in `haystack` (without overlaps).
pub fn occurrences(haystack: &[u8], needle: &[u8]) -> u64 {
    let (mut n, mut from) = (0, 0);
    while let Some(i) = find(&haystack[from..], needle) {
        n += 1;
        from += i + needle.len().max(1);
    }
    n
}

/// The start of an answer, for error reports.
pub fn reply_text(reply: &Reply) -> String {
    let text = String::from_utf8_lossy(&reply.body);
    let cut: String = text.chars().take(300).collect();
    format!("HTTP {}: {cut}", reply.status.as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds() {
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(find(b"", b"a"), None);
        assert_eq!(find(b"aaa", b"aa"), Some(0));
    }

    #[test]
    fn count_and_key_at_either_end() {
        let filler = format!(
            r#"[{{"Count":{{"N":"7"}},"x":{{"S":"{}"}}}}]"#,
            "y".repeat(10_000)
        );
        let tail = format!(
            r#"{{"Items":{filler},"Count":5,"ScannedCount":5,"LastEvaluatedKey":{{"pk":{{"S":"k1"}}}}}}"#
        );
        assert_eq!(count(tail.as_bytes()), Some(5));
        assert_eq!(
            last_evaluated_key(tail.as_bytes()).as_deref(),
            Some(r#"{"pk":{"S":"k1"}}"#)
        );
        let head = format!(r#"{{"Count":12,"ScannedCount":12,"Items":{filler}}}"#);
        assert_eq!(count(head.as_bytes()), Some(12));
        assert_eq!(last_evaluated_key(head.as_bytes()), None);
        assert_eq!(count(br#"{"Count":0,"Items":[]}"#), Some(0));
    }

    #[test]
    fn string_members_and_occurrences() {
        let body = br#"{"Records":[{"eventID":"1","dynamodb":{"NewImage":{"NextShardIterator":{"S":"no"}}}},{"eventID":"2"}],"NextShardIterator":"a|b/c=="}"#;
        assert_eq!(
            string_member(body, "NextShardIterator").as_deref(),
            Some("a|b/c==")
        );
        assert_eq!(occurrences(body, br#""eventID":"#), 2);
        assert_eq!(
            string_member(
                br#"{"Records":[],"NextShardIterator":null}"#,
                "NextShardIterator"
            ),
            None
        );
        assert_eq!(
            string_member(br#"{"Records":[]}"#, "NextShardIterator"),
            None
        );
        assert_eq!(occurrences(b"aaaa", b"aa"), 2);
        assert_eq!(occurrences(b"", b"a"), 0);
    }
}
