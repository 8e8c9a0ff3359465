//! The multi-item write workloads: `BatchWriteItem` of 25 puts and a
//! four-action `TransactWriteItems`, their request bodies and how their
//! answers are read (unprocessed items, cancellations by conflict).

use std::fmt::Write as _;

use crate::client::Reply;
use crate::wire;
use crate::workload::{push_item, push_key, Rng, TABLE};

/// Puts per `BatchWriteItem` (DynamoDB's maximum).
pub const BATCH_PUTS: usize = 25;
/// Actions per `TransactWriteItems`.
pub const TRANSACT_ACTIONS: usize = 4;

/// Fills `keys` with `n` distinct item numbers below `items` (`n` ≤
/// `items`), so that no request writes the same item twice, which DynamoDB
/// rejects in both operations.
pub fn draw_distinct(rng: &mut Rng, items: u64, n: usize, keys: &mut Vec<u64>) {
    keys.clear();
    debug_assert!(n as u64 <= items);
    while keys.len() < n {
        let k = rng.below(items);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
}

/// `BatchWriteItem` of one `PutRequest` per key, each item shaped as the
/// `put` workload's.
pub fn batch_body(s: &mut String, keys: &[u64], seq: u64) {
    let _ = write!(s, r#"{{"RequestItems":{{"{TABLE}":["#);
    for (i, &key) in keys.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(r#"{"PutRequest":{"Item":"#);
        push_item(s, key, seq);
        s.push_str("}}");
    }
    s.push_str("]}}");
}

/// `TransactWriteItems` on four distinct keys, the shape of a small
/// business transaction (write two records, bump a counter, check that a
/// parent exists):
///
/// - `keys[0]`, `keys[1]`: `Put` of a `put`-shaped item;
/// - `keys[2]`: `Update SET #c = if_not_exists(#c, :z) + :one, #t = :t`;
/// - `keys[3]`: `ConditionCheck attribute_exists(pk)`. Every key below
///   `--items` is pre-loaded and never deleted, so the condition holds and
///   a `ConditionalCheckFailed` cancellation is an error.
///
/// Keys are uniform over the `--items` key space, so two requests share an
/// item with probability about 4 × 4 / items: with the default 10 000
/// items and 32 connections, a request overlaps one of the 31 others in
/// flight about 1 − (1 − 0.0016)³¹ ≈ 5 % of the time. That bounds the
/// `TransactionConflict` cancellations from above (only requests the server
/// handles at the same moment can conflict): rare, but possible.
pub fn transact_body(s: &mut String, keys: &[u64], seq: u64) {
    debug_assert_eq!(keys.len(), TRANSACT_ACTIONS);
    s.push_str(r#"{"TransactItems":["#);
    for &key in &keys[..2] {
        let _ = write!(s, r#"{{"Put":{{"TableName":"{TABLE}","Item":"#);
        push_item(s, key, seq);
        s.push_str("}},");
    }
    let _ = write!(
        s,
        r#"{{"Update":{{"TableName":"{TABLE}","Key":{{"pk":{{"S":""#
    );
    push_key(s, keys[2]);
    let _ = write!(
        s,
        r##""}}}},"UpdateExpression":"SET #c = if_not_exists(#c, :z) + :one, #t = :t","ExpressionAttributeNames":{{"#c":"c","#t":"t"}},"ExpressionAttributeValues":{{":z":{{"N":"0"}},":one":{{"N":"1"}},":t":{{"S":"u{seq:016}"}}}}}}}},"##
    );
    let _ = write!(
        s,
        r#"{{"ConditionCheck":{{"TableName":"{TABLE}","Key":{{"pk":{{"S":""#
    );
    push_key(s, keys[3]);
    s.push_str(r#""}},"ConditionExpression":"attribute_exists(pk)"}}]}"#);
}

/// The number of requests left in the `UnprocessedItems` of a 200
/// `BatchWriteItem` answer (0 for `{}`), or `None` when the member is
/// missing or not a map of lists.
pub fn unprocessed_items(body: &[u8]) -> Option<u64> {
    if wire::find(body, b"\"UnprocessedItems\":{}").is_some() {
        return Some(0);
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let tables = v.get("UnprocessedItems")?.as_object()?;
    tables
        .values()
        .map(|requests| requests.as_array().map(|r| r.len() as u64))
        .sum()
}

/// The cancellation reason codes of a `TransactionCanceledException`:
/// `CancellationReasons[].Code`, or, when a server leaves that member out,
/// the bracketed list DynamoDB puts at the end of the message
/// (`... specific reasons [None, TransactionConflict]`).
pub fn cancellation_codes(reply: &Reply) -> Vec<String> {
    let v = reply.json();
    if let Some(reasons) = v.get("CancellationReasons").and_then(|r| r.as_array()) {
        return reasons
            .iter()
            .map(|r| r["Code"].as_str().unwrap_or("None").to_owned())
            .collect();
    }
    let message = v
        .get("Message")
        .or_else(|| v.get("message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default();
    match (message.rfind('['), message.rfind(']')) {
        (Some(open), Some(close)) if open < close => message[open + 1..close]
            .split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `codes` cancel a transaction only because another transaction
/// held one of its items: at least one `TransactionConflict`, every other
/// action `None`.
pub fn only_conflicts(codes: &[String]) -> bool {
    codes.iter().any(|c| c == "TransactionConflict")
        && codes
            .iter()
            .all(|c| c == "TransactionConflict" || c == "None")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::reply;

    #[test]
    fn distinct_keys() {
        let mut rng = Rng::new(3);
        let mut keys = Vec::new();
        for _ in 0..100 {
            draw_distinct(&mut rng, 25, 25, &mut keys);
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..25).collect::<Vec<u64>>());
        }
        draw_distinct(&mut rng, 10_000, 4, &mut keys);
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn batch_and_transaction_bodies() {
        let mut s = String::new();
        let keys: Vec<u64> = (100..125).collect();
        batch_body(&mut s, &keys, 9);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        let puts = v["RequestItems"][TABLE].as_array().unwrap();
        assert_eq!(puts.len(), BATCH_PUTS);
        assert_eq!(puts[24]["PutRequest"]["Item"]["pk"]["S"], "k000000124");

        let mut s = String::new();
        transact_body(&mut s, &[1, 2, 3, 4], 9);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        let actions = v["TransactItems"].as_array().unwrap();
        assert_eq!(actions.len(), TRANSACT_ACTIONS);
        assert_eq!(actions[0]["Put"]["Item"]["pk"]["S"], "k000000001");
        assert_eq!(actions[1]["Put"]["Item"]["pk"]["S"], "k000000002");
        assert_eq!(actions[2]["Update"]["Key"]["pk"]["S"], "k000000003");
        assert_eq!(
            actions[2]["Update"]["UpdateExpression"],
            "SET #c = if_not_exists(#c, :z) + :one, #t = :t"
        );
        assert_eq!(actions[3]["ConditionCheck"]["Key"]["pk"]["S"], "k000000004");
        assert_eq!(
            actions[3]["ConditionCheck"]["ConditionExpression"],
            "attribute_exists(pk)"
        );
    }

    #[test]
    fn unprocessed() {
        assert_eq!(unprocessed_items(br#"{"UnprocessedItems":{}}"#), Some(0));
        assert_eq!(
            unprocessed_items(br#"{ "UnprocessedItems" : { } }"#),
            Some(0)
        );
        assert_eq!(
            unprocessed_items(
                br#"{"UnprocessedItems":{"bench":[{"PutRequest":{}},{"PutRequest":{}}],"x":[{"DeleteRequest":{}}]}}"#
            ),
            Some(3)
        );
        assert_eq!(unprocessed_items(b"{}"), None);
        assert_eq!(unprocessed_items(br#"{"UnprocessedItems":[]}"#), None);
    }

    #[test]
    fn conflicts_from_reasons_or_message() {
        let r = reply(
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"},{"Code":"None"}],"Message":"Transaction cancelled"}"#,
        );
        assert!(only_conflicts(&cancellation_codes(&r)));
        let r = reply(
            400,
            r#"{"__type":"TransactionCanceledException","message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict, None, None]"}"#,
        );
        assert_eq!(
            cancellation_codes(&r),
            ["None", "TransactionConflict", "None", "None"]
        );
        assert!(only_conflicts(&cancellation_codes(&r)));
        let r = reply(
            400,
            r#"{"__type":"TransactionCanceledException","CancellationReasons":[{"Code":"TransactionConflict"},{"Code":"ConditionalCheckFailed"}]}"#,
        );
        assert!(!only_conflicts(&cancellation_codes(&r)));
        assert!(!only_conflicts(&[]));
    }
}
