//! What `--auth iam` adds to a request inside the engine: GetItem and
//! PutItem through `Database::dispatch` on an in-memory database, with no
//! authorizer (`--auth off`/`sigv4`) and with the server's
//! `PolicyAuthorizer` deciding over a typical identity policy (three
//! statements, one with a `dynamodb:LeadingKeys` condition). Interleaved
//! rounds on one thread; prints the median µs per request of each and the
//! difference.
//!
//! `cargo run --release -p openddb-engine --example authz_cost -- [rounds] [requests]`

use std::sync::Arc;
use std::time::Instant;

use openddb_auth::Principal;
use openddb_engine::{Database, PolicyAuthorizer, RequestContext};
use serde_json::json;

const ACCOUNT: &str = "111111111111";

fn policy() -> String {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Items", "Effect": "Allow",
         "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
         "Resource": ["arn:aws:dynamodb:*:111111111111:table/bench",
                      "arn:aws:dynamodb:*:111111111111:table/bench/index/*"],
         "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["user-*"]}}},
        {"Sid": "Tables", "Effect": "Allow", "Action": ["dynamodb:Describe*", "dynamodb:List*"],
         "Resource": "*"},
        {"Sid": "NoDrop", "Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}
    ]})
    .to_string()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let requests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(rounds, requests));
}

async fn run(rounds: usize, requests: usize) {
    let db = Database::in_memory();
    let off = RequestContext {
        account_id: ACCOUNT.into(),
        ..RequestContext::default()
    };
    let iam = RequestContext {
        principal: Some(Arc::new(Principal {
            account_id: ACCOUNT.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/bench"),
            user_name: "bench".into(),
            user_id: "AIDABENCH".into(),
            tags: Default::default(),
            policies: vec![policy().into()],
        })),
        authorizer: Some(Arc::new(PolicyAuthorizer::new())),
        ..off.clone()
    };
    let create = json!({
        "TableName": "bench",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    });
    db.dispatch(&off, "CreateTable", create.to_string().as_bytes())
        .await
        .unwrap();
    let put = |i: usize| {
        json!({"TableName": "bench", "Item": {"pk": {"S": format!("user-{}", i % 1000)}, "v": {"N": "1"}}})
            .to_string()
    };
    let get = |i: usize| {
        json!({"TableName": "bench", "Key": {"pk": {"S": format!("user-{}", i % 1000)}}})
            .to_string()
    };
    let bodies: Vec<(String, String)> = (0..requests).map(|i| (put(i), get(i))).collect();
    for (p, _) in bodies.iter().take(1000) {
        db.dispatch(&iam, "PutItem", p.as_bytes()).await.unwrap();
    }
    let mut results: Vec<(&str, &str, Vec<f64>)> = vec![
        ("GetItem", "off", vec![]),
        ("GetItem", "iam", vec![]),
        ("PutItem", "off", vec![]),
        ("PutItem", "iam", vec![]),
    ];
    for _ in 0..rounds {
        for (op, mode, times) in results.iter_mut() {
            let ctx = if *mode == "iam" { &iam } else { &off };
            let start = Instant::now();
            for (p, g) in &bodies {
                let body = if *op == "GetItem" { g } else { p };
                db.dispatch(ctx, op, body.as_bytes()).await.unwrap();
            }
            times.push(start.elapsed().as_secs_f64() * 1e6 / requests as f64);
        }
    }
    println!("{rounds} interleaved rounds of {requests} requests, one thread, in memory");
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for pair in results.chunks(2) {
        let (op, _, off_t) = &pair[0];
        let (_, _, iam_t) = &pair[1];
        let (a, b) = (median(off_t), median(iam_t));
        let spread = |v: &[f64]| {
            let lo = v.iter().cloned().fold(f64::MAX, f64::min);
            let hi = v.iter().cloned().fold(0.0, f64::max);
            format!("{lo:.2}–{hi:.2}")
        };
        println!(
            "{op}: off {a:.2} µs (spread {}), iam {b:.2} µs (spread {}), iam adds {:.2} µs ({:+.0} %)",
            spread(off_t),
            spread(iam_t),
            b - a,
            (b / a - 1.0) * 100.0
        );
    }
}
