//! The soak's table: created fresh with a GSI, a NEW_AND_OLD_IMAGES stream
//! and Time to Live, loaded with every key of the key space and the hot
//! items; and the checks read from it once the load has stopped.

use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::task::JoinSet;

use super::mix::{self, Space, GSI, TABLE, TTL_ATTRIBUTE};
use crate::client::Conn;
use crate::dataset;
use crate::streams::STREAM_SPECIFICATION;
use crate::target::Target;
use crate::wire;

/// Connections loading the table.
const LOAD_CONNECTIONS: u64 = 4;
/// Items per BatchWriteItem when loading.
const BATCH: u64 = 25;

fn create_body() -> String {
    format!(
        r#"{{"TableName":"{TABLE}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"sk","AttributeType":"S"}},{{"AttributeName":"g","AttributeType":"S"}},{{"AttributeName":"gs","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"sk","KeyType":"RANGE"}}],"GlobalSecondaryIndexes":[{{"IndexName":"{GSI}","KeySchema":[{{"AttributeName":"g","KeyType":"HASH"}},{{"AttributeName":"gs","KeyType":"RANGE"}}],"Projection":{{"ProjectionType":"ALL"}}}}],"BillingMode":"PAY_PER_REQUEST",{STREAM_SPECIFICATION}}}"#
    )
}

fn fail(target: &Target, what: &str, reply: &crate::client::Reply) -> String {
    format!(
        "{}: {what} answered {}",
        target.name,
        wire::reply_text(reply)
    )
}

/// Deletes the soak table if it exists, creates it, turns Time to Live on
/// and loads every regular key (no TTL) and the hot items with
/// BatchWriteItem. Returns how long loading took.
pub async fn prepare(target: &Target, space: &Space) -> Result<Duration, String> {
    let mut conn = Conn::open(target).await?;
    let name = Bytes::from(format!(r#"{{"TableName":"{TABLE}"}}"#));
    let deleted = conn.call("DeleteTable", name.clone()).await?;
    if deleted.ok() {
        dataset::wait_for(target, &mut conn, TABLE, |r| !r.ok(), "the old table to go").await?;
    } else if !deleted.error_kind().ends_with("ResourceNotFoundException") {
        return Err(fail(target, "DeleteTable", &deleted));
    }
    let created = conn.call("CreateTable", Bytes::from(create_body())).await?;
    if !created.ok() {
        return Err(fail(target, "CreateTable", &created));
    }
    dataset::wait_for(
        target,
        &mut conn,
        TABLE,
        dataset::all_active,
        "the table and its index to become ACTIVE",
    )
    .await?;
    let ttl = format!(
        r#"{{"TableName":"{TABLE}","TimeToLiveSpecification":{{"Enabled":true,"AttributeName":"{TTL_ATTRIBUTE}"}}}}"#
    );
    let reply = conn.call("UpdateTimeToLive", Bytes::from(ttl)).await?;
    if !reply.ok() {
        return Err(fail(target, "UpdateTimeToLive", &reply));
    }
    let started = Instant::now();
    let mut set = JoinSet::new();
    let batches = space.keys.div_ceil(BATCH);
    for worker in 0..LOAD_CONNECTIONS {
        let target = target.clone();
        let space = space.clone();
        set.spawn(async move {
            let mut conn = Conn::open(&target).await?;
            let mut batch = worker;
            while batch < batches {
                let from = batch * BATCH;
                let to = (from + BATCH).min(space.keys);
                let body = batch_body((from..to).map(|k| {
                    let mut s = String::new();
                    mix::push_item(&mut s, k, 0, None);
                    s
                }));
                dataset::write_batch(&target, &mut conn, body).await?;
                batch += LOAD_CONNECTIONS;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(joined) = set.join_next().await {
        joined.map_err(|e| format!("load task: {e}"))??;
    }
    let hot: Vec<u64> = (0..space.hot).collect();
    for chunk in hot.chunks(BATCH as usize) {
        let body = batch_body(chunk.iter().map(|&n| {
            let mut s = String::new();
            mix::push_hot_item(&mut s, n);
            s
        }));
        dataset::write_batch(target, &mut conn, body).await?;
    }
    Ok(started.elapsed())
}

fn batch_body(items: impl Iterator<Item = String>) -> Bytes {
    let puts: Vec<String> = items
        .map(|item| format!(r#"{{"PutRequest":{{"Item":{item}}}}}"#))
        .collect();
    Bytes::from(format!(
        r#"{{"RequestItems":{{"{TABLE}":[{}]}}}}"#,
        puts.join(",")
    ))
}

/// The sum of the hot items' counters, read consistently.
pub async fn hot_sum(target: &Target, space: &Space) -> Result<u64, String> {
    let mut conn = Conn::open(target).await?;
    let mut sum = 0;
    let mut seen = 0;
    let mut body = mix::hot_items_body(space);
    for _ in 0..100 {
        let reply = conn.call("BatchGetItem", body).await?;
        if !reply.ok() {
            return Err(fail(target, "BatchGetItem of the hot items", &reply));
        }
        let v = reply.json();
        for item in v["Responses"][TABLE].as_array().into_iter().flatten() {
            let c = item["c"]["N"].as_str().and_then(|n| n.parse::<u64>().ok());
            sum +=
                c.ok_or_else(|| format!("{}: hot item without a counter: {item}", target.name))?;
            seen += 1;
        }
        match v["UnprocessedKeys"].as_object() {
            Some(left) if !left.is_empty() => {
                body = Bytes::from(format!(r#"{{"RequestItems":{}}}"#, v["UnprocessedKeys"]));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => break,
        }
    }
    if seen != space.hot {
        return Err(format!(
            "{}: {seen} of the {} hot items found",
            target.name, space.hot
        ));
    }
    Ok(sum)
}

/// Items in the table, counted with a `Select: COUNT` scan.
pub async fn count_items(target: &Target) -> Result<u64, String> {
    let mut conn = Conn::open(target).await?;
    let mut total = 0;
    let mut start: Option<String> = None;
    loop {
        let body = match &start {
            None => format!(r#"{{"TableName":"{TABLE}","Select":"COUNT"}}"#),
            Some(key) => {
                format!(r#"{{"TableName":"{TABLE}","Select":"COUNT","ExclusiveStartKey":{key}}}"#)
            }
        };
        let reply = conn.call("Scan", Bytes::from(body)).await?;
        if !reply.ok() {
            return Err(fail(target, "Scan (COUNT)", &reply));
        }
        total += wire::count(&reply.body)
            .ok_or_else(|| fail(target, "Scan (COUNT) without Count", &reply))?;
        start = wire::last_evaluated_key(&reply.body);
        if start.is_none() {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json() {
        let v: serde_json::Value = serde_json::from_str(&create_body()).unwrap();
        assert_eq!(v["GlobalSecondaryIndexes"][0]["IndexName"], GSI);
        assert_eq!(
            v["StreamSpecification"]["StreamViewType"],
            "NEW_AND_OLD_IMAGES"
        );
        let body = batch_body((0..3).map(|k| {
            let mut s = String::new();
            mix::push_item(&mut s, k, 0, None);
            s
        }));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["RequestItems"][TABLE].as_array().unwrap().len(), 3);
    }
}
