//! The `iam-rs` crate's corpus (tests/vectors/iam-rs, MIT) run through
//! openddb's policy language: every policy parses and prints back, every
//! request vector gets its expected decision, every ARN matches itself.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use openddb_auth::policy::{evaluate, ContextKeys, Decision, Policy, Request};
use openddb_auth::Principal;
use serde_json::Value;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/iam-rs")
}

fn json_files(dir: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(corpus().join(dir))
        .expect("corpus directory")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).expect("readable"))
        })
        .collect();
    out.sort();
    out
}

fn principal_from_arn(arn: &str) -> Principal {
    let account = arn.split(':').nth(4).unwrap_or_default().to_string();
    let name = arn.rsplit('/').next().unwrap_or_default().to_string();
    Principal {
        account_id: account,
        arn: arn.to_string(),
        user_name: name,
        user_id: "AIDAEXAMPLE".into(),
        tags: BTreeMap::new(),
        policies: vec![],
    }
}

#[test]
fn every_corpus_policy_parses_and_prints_back() {
    let files = json_files("policies");
    assert!(files.len() >= 60, "corpus has {} policies", files.len());
    for (name, text) in files {
        let policy = Policy::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let printed = policy.to_canonical_json();
        let again = Policy::parse(&printed).unwrap_or_else(|e| panic!("{name} printed: {e}"));
        assert_eq!(again.to_canonical_json(), printed, "{name}");
    }
}

#[test]
fn every_request_vector_gets_its_decision() {
    let files = json_files("requests");
    assert!(!files.is_empty());
    for (name, text) in files {
        let v: Value = serde_json::from_str(&text).expect("vector JSON");
        let policy = Arc::new(Policy::parse(&v["policy"].to_string()).expect("vector policy"));
        let request = &v["request"];
        let arn = request["Principal"]["AWS"].as_str().expect("principal ARN");
        let mut principal = principal_from_arn(arn);
        let mut context = ContextKeys::new();
        if let Some(keys) = request["Context"].as_object() {
            for (k, v) in keys {
                // iam-rs has no principal object: its vectors give the
                // principal's tags as context keys. Here they are the
                // principal's (the evaluator takes them from nowhere else).
                if let Some(tag) = k.strip_prefix("aws:PrincipalTag/") {
                    principal.tags.insert(tag.to_string(), scalar(v));
                    continue;
                }
                let values = match v {
                    Value::Array(list) => list.iter().map(scalar).collect(),
                    other => vec![scalar(other)],
                };
                context.set(k, values);
            }
        }
        let req = Request {
            principal: &principal,
            action: request["Action"].as_str().expect("action"),
            resource: request["Resource"].as_str().expect("resource"),
            context: &context,
        };
        let want = match v["result"].as_str().expect("result") {
            "Allow" => Decision::Allow,
            "Deny" => Decision::ExplicitDeny,
            "NotApplicable" => Decision::ImplicitDeny,
            other => panic!("{name}: unknown result {other}"),
        };
        let got = evaluate(&[policy], None, &principal.account_id, &req);
        assert_eq!(got, want, "{name}");
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn every_corpus_arn_matches_itself_and_its_service_wildcard() {
    let arns: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("arns.json")).unwrap())
            .unwrap();
    assert!(arns.len() > 50);
    let principal = principal_from_arn("arn:aws:iam::123456789012:user/tester");
    let context = ContextKeys::new();
    for arn in arns {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let wildcard = format!("arn:{}:{}:*:*:*", parts[1], parts[2]);
        let other_service = format!("arn:{}:not-{}:*:*:*", parts[1], parts[2]);
        for (pattern, want) in [
            (arn.as_str(), Decision::Allow),
            (wildcard.as_str(), Decision::Allow),
            (other_service.as_str(), Decision::ImplicitDeny),
        ] {
            let doc = serde_json::json!({
                "Version": "2012-10-17",
                "Statement": {"Effect": "Allow", "Action": "*", "Resource": pattern}
            });
            let policy = Arc::new(Policy::parse(&doc.to_string()).unwrap());
            let req = Request {
                principal: &principal,
                action: "svc:Act",
                resource: &arn,
                context: &context,
            };
            let got = evaluate(&[policy], None, "123456789012", &req);
            assert_eq!(got, want, "{pattern} vs {arn}");
        }
    }
}
