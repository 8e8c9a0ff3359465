//! SigV4: any request head — Authorization header, dates, query, path,
//! signed headers — and body never panics the verifier or the shape checks,
//! and nothing made up verifies.
#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use openddb_auth::sigv4::{check_shape, Request, Verifier};
use openddb_auth::{KeyRecord, Principal, StaticKeys};

fuzz_target!(|data: &[u8]| {
    // Parts separated by 0xff: authorization, x-amz-date, query, path,
    // another header's value, body.
    let mut parts = data.split(|&b| b == 0xff);
    let mut next = || parts.next().unwrap_or_default();
    let (auth, date, query, path, other, body) = (next(), next(), next(), next(), next(), next());
    let query = String::from_utf8_lossy(query);
    let path = String::from_utf8_lossy(path);
    let headers: [(&str, &[u8]); 5] = [
        ("host", b"localhost:8000"),
        ("authorization", auth),
        ("x-amz-date", date),
        ("x-amz-target", other),
        ("X-Amz-Security-Token", other),
    ];
    let request = Request {
        method: "POST",
        path: &path,
        query: (!query.is_empty()).then_some(&*query),
        headers: &headers,
    };
    let keys = StaticKeys(vec![KeyRecord {
        access_key_id: "AKIDEXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
        expires: None,
        principal: Arc::new(Principal {
            account_id: "111122223333".into(),
            arn: "arn:aws:iam::111122223333:user/fuzz".into(),
            user_name: "fuzz".into(),
            user_id: "AIDAFUZZ".into(),
            tags: BTreeMap::new(),
            policies: Vec::new(),
        }),
    }]);
    // 2015-08-30T12:36:00Z, the AWS test suite's moment.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    let _ = check_shape(&request, "dynamodb");
    let verified = Verifier::new("dynamodb", 4).verify(&request, body, now, &keys);
    // Forging a signature for a secret the input never saw is not possible.
    assert!(verified.is_err(), "a made-up request verified: {request:?}");
});
