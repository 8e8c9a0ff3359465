//! `openddb-bench sigv4`: the CPU cost of verifying one request's SigV4
//! signature, in-process and single-threaded, as `--auth sigv4` pays it per
//! request: a GetItem of about 200 bytes with the headers the Rust SDK
//! sends and signs, verified with the day's signing key cached (one HMAC
//! over the string to sign) and, for comparison, with no cache (the key
//! derived each time: four HMACs more). The figure is the thread's CPU
//! time per verification; wall time is printed beside it.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clap::Args;
use openddb_auth::sigv4::{Request, Signer, Verifier};
use openddb_auth::{KeyRecord, Principal, StaticKeys};

use crate::procfs;

const KEY: &str = "AKIAOPENDDBBENCH0001";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[derive(Args)]
pub struct Sigv4Args {
    /// Measured rounds (the report gives their median and spread).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Verifications per round.
    #[arg(long, default_value_t = 200_000)]
    iterations: u32,
    /// Size of the GetItem body in bytes (at least 64).
    #[arg(long, default_value_t = 200)]
    body_bytes: usize,
}

/// A GetItem body of exactly `size` bytes (the key is padded).
fn body(size: usize) -> Vec<u8> {
    let frame = |key: &str| {
        format!(
            r#"{{"TableName":"bench-table","Key":{{"pk":{{"S":"{key}"}}}},"ConsistentRead":false,"ReturnConsumedCapacity":"NONE"}}"#
        )
    };
    let pad = size.saturating_sub(frame("").len());
    frame(&"k".repeat(pad)).into_bytes()
}

pub fn run(args: Sigv4Args) -> Result<(), String> {
    if !(3..=100).contains(&args.rounds) {
        return Err("--rounds must be in 3..=100".into());
    }
    if !(1_000..=10_000_000).contains(&args.iterations) {
        return Err("--iterations must be in 1000..=10000000".into());
    }
    if !(64..=1 << 20).contains(&args.body_bytes) {
        return Err("--body-bytes must be in 64..=1048576".into());
    }
    let body = body(args.body_bytes);
    let now = SystemTime::now();
    let amz_date = Signer::amz_date(now);
    let length = body.len().to_string();
    // What the Rust SDK signs for a DynamoDB call (all but user-agent).
    let mut headers: Vec<(&str, &[u8])> = vec![
        ("host", b"127.0.0.1:8000"),
        ("content-type", b"application/x-amz-json-1.0"),
        ("x-amz-target", b"DynamoDB_20120810.GetItem"),
        (
            "x-amz-user-agent",
            b"aws-sdk-rust/1.3.9 api/dynamodb/1.136.0 os/linux lang/rust/1.91.0",
        ),
        (
            "amz-sdk-invocation-id",
            b"5d4fb9ba-6c67-4f8a-9d4c-2b9f0e0a9c11",
        ),
        ("amz-sdk-request", b"attempt=1; max=1"),
        ("content-length", length.as_bytes()),
        ("x-amz-date", amz_date.as_bytes()),
    ];
    let signer = Signer::new(KEY, SECRET, "us-east-1", "dynamodb");
    let signature = signer.sign(
        &Request {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
        },
        &body,
        &amz_date,
    );
    headers.push((
        "user-agent",
        b"aws-sdk-rust/1.3.9 os/linux lang/rust/1.91.0",
    ));
    headers.push(("authorization", signature.authorization.as_bytes()));
    let request = Request {
        method: "POST",
        path: "/",
        query: None,
        headers: &headers,
    };
    let keys = StaticKeys(vec![KeyRecord {
        access_key_id: KEY.into(),
        secret: SECRET.into(),
        session_token: None,
        expires: None,
        principal: Arc::new(Principal {
            account_id: "111122223333".into(),
            arn: "arn:aws:iam::111122223333:user/bench".into(),
            user_name: "bench".into(),
            user_id: "AIDABENCH".into(),
            tags: BTreeMap::new(),
            policies: Vec::new(),
        }),
    }]);

    let cached = Verifier::dynamodb();
    let uncached = Verifier::new("dynamodb", 0);
    for verifier in [&cached, &uncached] {
        verifier
            .verify(&request, &body, now, &keys)
            .map_err(|e| format!("the benchmark's own request does not verify: {e}"))?;
    }
    let load = procfs::load_average()
        .map(|[one, five, fifteen]| format!("{one:.2} {five:.2} {fifteen:.2}"))
        .unwrap_or_else(|| "unknown".into());
    println!(
        "SigV4 verification of a {}-byte GetItem, {} rounds of {} (load average before: {load})",
        body.len(),
        args.rounds,
        args.iterations
    );
    for (label, verifier, iterations) in [
        ("cached signing key", &cached, args.iterations),
        (
            "no cache (key derived)",
            &uncached,
            (args.iterations / 4).max(1_000),
        ),
    ] {
        let mut cpu = Vec::with_capacity(args.rounds);
        let mut wall = Vec::with_capacity(args.rounds);
        for _ in 0..args.rounds {
            let started = Instant::now();
            let cpu_before = thread_cpu()?;
            for _ in 0..iterations {
                let verified = verifier.verify(black_box(&request), black_box(&body), now, &keys);
                black_box(verified.is_ok());
            }
            cpu.push(micros_each(thread_cpu()? - cpu_before, iterations));
            wall.push(micros_each(started.elapsed(), iterations));
        }
        println!("  {label}:");
        for (what, rounds) in [("CPU", &mut cpu), ("wall", &mut wall)] {
            rounds.sort_by(f64::total_cmp);
            let median = rounds[rounds.len() / 2];
            let (min, max) = (rounds[0], rounds[rounds.len() - 1]);
            let all: Vec<String> = rounds.iter().map(|r| format!("{r:.3}")).collect();
            println!(
                "    {what:<4} median {median:.3} µs/verify, spread {min:.3}–{max:.3} ({:+.1} %/{:+.1} %), rounds [{}]",
                (min / median - 1.0) * 100.0,
                (max / median - 1.0) * 100.0,
                all.join(", ")
            );
        }
    }
    Ok(())
}

fn micros_each(elapsed: Duration, iterations: u32) -> f64 {
    elapsed.as_secs_f64() * 1e6 / f64::from(iterations)
}

/// CPU time this thread has run (`/proc/thread-self/schedstat`, the
/// scheduler's own nanosecond account): on a shared machine the wall clock
/// also counts the time other processes had the CPU.
fn thread_cpu() -> Result<Duration, String> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .map_err(|e| format!("/proc/thread-self/schedstat: {e}"))?;
    text.split_ascii_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .map(Duration::from_nanos)
        .ok_or_else(|| format!("/proc/thread-self/schedstat: unreadable `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_asked_size_and_are_json() {
        for size in [64, 200, 1_000] {
            let b = body(size);
            assert_eq!(b.len(), size.max(body(0).len()));
            serde_json::from_slice::<serde_json::Value>(&b).unwrap();
        }
    }
}
