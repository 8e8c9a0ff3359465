//! AWS's SigV4 test suite (`aws-signing-test-suite/v4`, from
//! `awslabs/aws-c-auth`) against the verifier: for every case, the
//! canonical request we build equals AWS's, and the signed request AWS
//! publishes (header and presigned forms) verifies at the case's time.
//!
//! The suite is not copied into this repository: it ships inside the
//! `aws-sigv4` crate (Apache-2.0), a dev-dependency, and is read from that
//! crate's source in the cargo registry, found with `cargo metadata`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use openddb_auth::sigv4::{AuthErrorKind, Request, Verifier};
use openddb_auth::{KeyRecord, Principal, StaticKeys};

/// Cases the verifier does not follow, and why.
const NOT_FOLLOWED: [(&str, &str); 1] = [(
    "get-space-normalized",
    "its request path is already encoded (`%20`) and the case expects it \
     encoded once; every service but S3 encodes the path as it arrived \
     again (`%2520`), as double-url-encode shows (smithy-rs skips this case too)",
)];

/// The suite inside the `aws-sigv4` crate's source in the cargo registry
/// (a dev-dependency, so a build of this test has downloaded it): the
/// version the workspace's `Cargo.lock` names, under `$CARGO_HOME`. Found
/// without `cargo metadata`, which wants every platform's packages (and so
/// the network) even `--offline`.
fn suite() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).expect("read Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|entry| entry.contains("\nname = \"aws-sigv4\"\n"))
        .and_then(|entry| {
            entry
                .lines()
                .find_map(|line| line.strip_prefix("version = \""))
                .map(|v| v.trim_end_matches('"').to_owned())
        })
        .expect("aws-sigv4 in Cargo.lock");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let registry = cargo_home.join("registry/src");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("read {}: {e}", registry.display()))
        .flatten()
        .map(|index| {
            index
                .path()
                .join(format!("aws-sigv4-{version}/aws-signing-test-suite/v4"))
        })
        .filter(|dir| dir.is_dir())
        .collect();
    dirs.into_iter()
        .next()
        .expect("the aws-sigv4 crate's source, with aws-signing-test-suite/v4, in the registry")
}

/// A request as written in the suite's `.txt` files.
#[derive(Debug)]
struct Parsed {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Parsed {
    fn read(file: &Path) -> Parsed {
        let text = std::fs::read_to_string(file).unwrap().replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let request_line = lines.next().unwrap();
        let (method, rest) = request_line.split_once(' ').unwrap();
        let target = rest.strip_suffix(" HTTP/1.1").unwrap();
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (target.to_owned(), None),
        };
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // An obsolete folded line continues the previous value.
                let last = headers.last_mut().unwrap();
                last.1.push(b' ');
                last.1.extend_from_slice(line.trim().as_bytes());
            } else {
                let (name, value) = line.split_once(':').unwrap();
                headers.push((name.to_owned(), value.as_bytes().to_vec()));
            }
        }
        Parsed {
            method: method.to_owned(),
            path,
            query,
            headers,
            body: body.trim_end_matches('\n').as_bytes().to_vec(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&Request<'_>) -> T) -> T {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        f(&Request {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &headers,
        })
    }
}

fn keys(context: &serde_json::Value) -> StaticKeys {
    let credentials = &context["credentials"];
    StaticKeys(vec![KeyRecord {
        access_key_id: credentials["access_key_id"].as_str().unwrap().into(),
        secret: credentials["secret_access_key"].as_str().unwrap().into(),
        session_token: credentials["token"].as_str().map(str::to_owned),
        expires: None,
        principal: std::sync::Arc::new(Principal {
            account_id: "111122223333".into(),
            arn: "arn:aws:iam::111122223333:user/example".into(),
            user_name: "example".into(),
            user_id: "AIDAEXAMPLE".into(),
            tags: BTreeMap::new(),
            policies: Vec::new(),
        }),
    }])
}

/// `2015-08-30T12:36:00Z` as a system time.
fn time(rfc3339: &str) -> SystemTime {
    let b = rfc3339.as_bytes();
    let n = |r: std::ops::Range<usize>| rfc3339[r].parse::<i64>().unwrap();
    assert_eq!((b[4], b[10], b[19]), (b'-', b'T', b'Z'), "{rfc3339}");
    // Days from 1970-01-01 to the date, by counting (the suite's dates are
    // 2015 and 2021: a loop is clear and fast enough).
    let (year, month, day) = (n(0..4), n(5..7), n(8..10));
    let leap = |y: i64| y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let mut days = (1970..year)
        .map(|y| if leap(y) { 366 } else { 365 })
        .sum::<i64>();
    let lengths = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += lengths[..(month as usize - 1)].iter().sum::<i64>() + day - 1;
    let seconds = days * 86_400 + n(11..13) * 3_600 + n(14..16) * 60 + n(17..19);
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.try_into().unwrap())
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .replace("\r\n", "\n")
        .trim_end()
        .to_owned()
}

#[test]
fn every_case_canonicalizes_and_verifies() {
    let suite = suite();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&suite)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("context.json").is_file())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 35,
        "only {} cases in {}",
        cases.len(),
        suite.display()
    );
    let mut checked = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        if NOT_FOLLOWED.iter().any(|(skip, _)| *skip == name) {
            continue;
        }
        let context: serde_json::Value = serde_json::from_str(&read(case, "context.json")).unwrap();
        let service = context["service"].as_str().unwrap().to_owned();
        let verifier = if context["normalize"] == true {
            Verifier::new(service, 16)
        } else {
            Verifier::new(service, 16).without_path_normalization()
        };
        let now = time(context["timestamp"].as_str().unwrap());
        let keys = keys(&context);
        for form in ["header", "query"] {
            let signed = Parsed::read(&case.join(format!("{form}-signed-request.txt")));
            // The suite's requests carry no body but the x-www-form ones.
            let body = Parsed::read(&case.join("request.txt")).body;
            let token_signed = context["omit_session_token"] != true;
            let canonical = signed
                .with(|r| verifier.canonical_request(r, &body, token_signed))
                .unwrap_or_else(|e| panic!("{name} {form}: {e}"));
            assert_eq!(
                canonical,
                read(case, &format!("{form}-canonical-request.txt")),
                "{name} {form}: canonical request"
            );
            signed
                .with(|r| verifier.verify(r, &body, now, &keys))
                .unwrap_or_else(|e| panic!("{name} {form}: {e}"));
            // The published signature, changed in its last digit, fails.
            let signature = read(case, &format!("{form}-signature.txt"));
            let mut forged = Parsed::read(&case.join(format!("{form}-signed-request.txt")));
            let last = signature.chars().last().unwrap();
            let other = if last == '0' { '1' } else { '0' };
            let forged_signature = format!("{}{other}", &signature[..signature.len() - 1]);
            for (_, value) in &mut forged.headers {
                let text = String::from_utf8(value.clone()).unwrap();
                *value = text.replace(&signature, &forged_signature).into_bytes();
            }
            forged.query = forged
                .query
                .map(|q| q.replace(&signature, &forged_signature));
            let err = forged
                .with(|r| verifier.verify(r, &body, now, &keys))
                .expect_err(name);
            assert_eq!(err.kind, AuthErrorKind::InvalidSignature, "{name} {form}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * (cases.len() - NOT_FOLLOWED.len()));
}

/// The two cases without a context: the double encoding of paths that
/// every service but S3 applies.
#[test]
fn paths_are_encoded_twice() {
    let suite = suite();
    for name in ["double-url-encode", "double-encode-path"] {
        let case = suite.join(name);
        let request = Parsed::read(&case.join("request.txt"));
        let canonical = request
            .with(|r| {
                // Only the path matters here; the request has no signature.
                let mut headers: Vec<(&str, &[u8])> = r.headers.to_vec();
                headers.push((
                    "authorization",
                    b"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
                ));
                let r = Request {
                    headers: &headers,
                    ..*r
                };
                Verifier::new("service", 0).canonical_request(&r, b"", true)
            })
            .unwrap();
        let expected = read(&case, "header-canonical-request.txt");
        assert_eq!(
            canonical.lines().nth(1),
            expected.lines().nth(1),
            "{name}: canonical path"
        );
    }
}
