//! IAM policy documents (PutResourcePolicy's `Policy`, identity policies):
//! the parser never panics; a policy it accepts prints canonically as a
//! document that parses back to the same print; evaluating it never panics.
#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use openddb_auth::policy::{evaluate, ContextKeys, Policy, Request};
use openddb_auth::Principal;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse(src) else {
        return;
    };
    let printed = policy.to_canonical_json();
    match Policy::parse(&printed) {
        Ok(again) => assert_eq!(again.to_canonical_json(), printed, "{src:?}"),
        Err(e) => panic!("{src:?} printed as {printed:?}, which does not parse: {e}"),
    }
    let principal = Principal {
        account_id: "111111111111".into(),
        arn: "arn:aws:iam::111111111111:user/fuzz".into(),
        user_name: "fuzz".into(),
        user_id: "AIDAFUZZ".into(),
        tags: BTreeMap::from([("team".to_string(), "a".to_string())]),
        policies: vec![],
    };
    let mut context = ContextKeys::new();
    context.set("dynamodb:LeadingKeys", vec!["a".into(), "b*".into()]);
    context.set_single("aws:SourceIp", "10.0.0.1");
    let policy = Arc::new(policy);
    let request = Request {
        principal: &principal,
        action: "dynamodb:GetItem",
        resource: "arn:aws:dynamodb:us-east-1:111111111111:table/T/index/I",
        context: &context,
    };
    let _ = evaluate(std::slice::from_ref(&policy), Some(&policy), "222222222222", &request);
});
