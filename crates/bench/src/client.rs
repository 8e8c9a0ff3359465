//! A minimal DynamoDB wire-protocol client: one persistent HTTP/1.1
//! keep-alive connection, AWS JSON 1.0 bodies and a SigV4 `Authorization`
//! header: a static, well-formed one, or with `--sign` a real signature of
//! each request.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use openddb_auth::sigv4::{self, Signer};
use tokio::net::TcpStream;

use crate::target::Target;

/// A syntactically valid SigV4 header for a fixed credential scope. The
/// servers benchmarked here accept any well-formed signature.
pub(crate) const AUTHORIZATION_VALUE: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIDBENCH/20260101/us-east-1/dynamodb/aws4_request, \
    SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
    Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub(crate) const AMZ_DATE: &str = "20260101T000000Z";
pub(crate) const CONTENT_TYPE_VALUE: &str = "application/x-amz-json-1.0";

/// How long one request may take before the connection is abandoned.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The answer to one request.
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response body (AWS JSON 1.0).
    pub body: Bytes,
}

impl Reply {
    /// `true` for HTTP 200.
    pub fn ok(&self) -> bool {
        self.status == StatusCode::OK
    }

    /// A short description of an error reply: the status and DynamoDB's
    /// `__type` (without its namespace prefix) when present.
    pub fn error_kind(&self) -> String {
        let kind = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("__type").and_then(|t| t.as_str()).map(str::to_owned))
            .map(|t| t.rsplit('#').next().unwrap_or_default().to_owned())
            .unwrap_or_else(|| "(no __type)".to_owned());
        format!("{} {kind}", self.status.as_u16())
    }

    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A reply as a server could give it, for the tests of what reads replies.
#[cfg(test)]
pub fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status: StatusCode::from_u16(status).unwrap(),
        body: Bytes::from(body.to_owned()),
    }
}

/// The operations of the DynamoDB Streams API (`DynamoDBStreams_20120810`,
/// served on the same endpoint); their names occur in no other API.
const STREAMS_OPERATIONS: [&str; 4] = [
    "DescribeStream",
    "GetRecords",
    "GetShardIterator",
    "ListStreams",
];

/// The `X-Amz-Target` value of `op`, static for the operations used on hot
/// paths.
fn amz_target(op: &str) -> HeaderValue {
    match op {
        "PutItem" => HeaderValue::from_static("DynamoDB_20120810.PutItem"),
        "GetItem" => HeaderValue::from_static("DynamoDB_20120810.GetItem"),
        "UpdateItem" => HeaderValue::from_static("DynamoDB_20120810.UpdateItem"),
        "ExecuteStatement" => HeaderValue::from_static("DynamoDB_20120810.ExecuteStatement"),
        "GetRecords" => HeaderValue::from_static("DynamoDBStreams_20120810.GetRecords"),
        _ => {
            let api = if STREAMS_OPERATIONS.contains(&op) {
                "DynamoDBStreams_20120810"
            } else {
                "DynamoDB_20120810"
            };
            HeaderValue::from_str(&format!("{api}.{op}"))
                .unwrap_or_else(|_| HeaderValue::from_static("DynamoDB_20120810.Invalid"))
        }
    }
}

/// One keep-alive connection to a target.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
    signer: Option<Arc<Signer>>,
}

impl Conn {
    /// Opens a TCP connection (with `TCP_NODELAY`) and performs the HTTP/1.1
    /// handshake; the connection task runs on the current runtime.
    pub async fn open(target: &Target) -> Result<Conn, String> {
        let stream = TcpStream::connect(target.addr)
            .await
            .map_err(|e| format!("{}: connect {}: {e}", target.name, target.addr))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("{}: TCP_NODELAY: {e}", target.name))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("{}: HTTP handshake: {e}", target.name))?;
        tokio::spawn(async move {
            // Ends when the peer closes or the sender is dropped.
            let _ = connection.await;
        });
        let host = HeaderValue::from_str(&target.host_header)
            .map_err(|e| format!("{}: bad Host header: {e}", target.name))?;
        Ok(Conn {
            sender,
            host,
            signer: target.signer.clone(),
        })
    }

    /// Sends `body` as operation `op` (e.g. `PutItem`, or `GetRecords` of
    /// the Streams API) and reads the full
    /// answer. Transport failures and time-outs are returned as `Err`; the
    /// connection should then be reopened.
    pub async fn call(&mut self, op: &str, body: Bytes) -> Result<Reply, String> {
        let target = amz_target(op);
        let (amz_date, authorization) = match &self.signer {
            None => (
                HeaderValue::from_static(AMZ_DATE),
                HeaderValue::from_static(AUTHORIZATION_VALUE),
            ),
            Some(signer) => {
                let amz_date = Signer::amz_date(SystemTime::now());
                let headers: [(&str, &[u8]); 4] = [
                    ("content-type", CONTENT_TYPE_VALUE.as_bytes()),
                    ("host", self.host.as_bytes()),
                    ("x-amz-date", amz_date.as_bytes()),
                    ("x-amz-target", target.as_bytes()),
                ];
                let request = sigv4::Request {
                    method: "POST",
                    path: "/",
                    query: None,
                    headers: &headers,
                };
                let signature = signer.sign(&request, &body, &amz_date);
                (
                    HeaderValue::from_str(&amz_date).map_err(|e| e.to_string())?,
                    HeaderValue::from_str(&signature.authorization).map_err(|e| e.to_string())?,
                )
            }
        };
        let request = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, CONTENT_TYPE_VALUE)
            .header("x-amz-target", target)
            .header("x-amz-date", amz_date)
            .header(AUTHORIZATION, authorization)
            .body(Full::new(body))
            .map_err(|e| format!("building request: {e}"))?;
        let exchange = async {
            self.sender
                .ready()
                .await
                .map_err(|e| format!("connection not ready: {e}"))?;
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("reading response body: {e}"))?
                .to_bytes();
            Ok(Reply { status, body })
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {REQUEST_TIMEOUT:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_operations_have_their_own_target() {
        assert_eq!(amz_target("PutItem"), "DynamoDB_20120810.PutItem");
        assert_eq!(
            amz_target("DescribeTable"),
            "DynamoDB_20120810.DescribeTable"
        );
        assert_eq!(
            amz_target("GetRecords"),
            "DynamoDBStreams_20120810.GetRecords"
        );
        assert_eq!(
            amz_target("GetShardIterator"),
            "DynamoDBStreams_20120810.GetShardIterator"
        );
        assert_eq!(
            amz_target("DescribeStream"),
            "DynamoDBStreams_20120810.DescribeStream"
        );
    }
}
