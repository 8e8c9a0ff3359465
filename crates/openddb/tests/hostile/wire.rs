//! A deliberately small HTTP/1.1 client over raw sockets: the adversarial
//! tests need to send bytes no well-behaved client would (truncated heads,
//! duplicated headers, lying lengths, invalid UTF-8), so they build every
//! request by hand and parse the answer themselves.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// How long a test waits for any one answer before it counts as none.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// A well-formed SigV4 `Authorization` header (openddb does not verify
/// signatures unless asked to, but DynamoDB's shape checks apply).
pub const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIDHOSTILE/20261207/us-east-1/dynamodb/aws4_request, \
    SignedHeaders=host;x-amz-date;x-amz-target, \
    Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The error name after `#` in `__type`, if the body is a DynamoDB error.
    pub fn error_type(&self) -> Option<String> {
        let json = self.json();
        let t = json.get("__type")?.as_str()?;
        Some(t.rsplit('#').next().unwrap_or(t).to_owned())
    }

    /// The error message (`message` or `Message`), without the
    /// `1 validation error detected: ` envelope some answers carry.
    pub fn message(&self) -> String {
        let json = self.json();
        let m = json
            .get("message")
            .or_else(|| json.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        m.strip_prefix("1 validation error detected: ")
            .unwrap_or(m)
            .to_owned()
    }

    /// A one-line description for assertion messages.
    pub fn brief(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let body: String = body.chars().take(300).collect();
        format!("HTTP {} {body}", self.status)
    }
}

/// The bytes of a DynamoDB API request for `operation` with `body`, plus
/// `extra` headers.
pub fn request(operation: &str, body: &[u8], extra: &[(&str, &str)]) -> Vec<u8> {
    let prefix = if matches!(
        operation,
        "ListStreams" | "DescribeStream" | "GetShardIterator" | "GetRecords"
    ) {
        "DynamoDBStreams_20120810"
    } else {
        "DynamoDB_20120810"
    };
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: {prefix}.{operation}\r\n\
         X-Amz-Date: 20261207T120000Z\r\n\
         Authorization: {AUTHORIZATION}\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    /// Bytes read past the end of the last answer.
    pending: Vec<u8>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
        stream.set_write_timeout(Some(ANSWER_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            pending: Vec::new(),
        })
    }

    /// Writes raw bytes.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Half-closes the connection: the server sees the end of the request
    /// stream but can still answer.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.stream.shutdown(std::net::Shutdown::Write)
    }

    /// Sends an API request and reads its answer.
    pub fn call(&mut self, operation: &str, body: &[u8]) -> io::Result<Reply> {
        self.write(&request(operation, body, &[]))?;
        self.read_reply()
    }

    /// Whether the server has closed the connection (a read sees the end of
    /// the stream or a reset), waiting at most `within`.
    pub fn closed_by_server(&mut self, within: Duration) -> bool {
        let _ = self.stream.set_read_timeout(Some(within));
        let mut byte = [0u8; 1];
        loop {
            match self.stream.read(&mut byte) {
                Ok(0) => return true,
                Ok(_) => continue, // an answer (e.g. 408) before the close
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return !matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    )
                }
            }
        }
    }

    /// Reads one answer: the head, then a body framed by `Content-Length`,
    /// by chunks, or by the end of the stream.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let head_end = loop {
            if let Some(i) = find(&self.pending, b"\r\n\r\n") {
                break i;
            }
            if !self.fill()? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before an answer",
                ));
            }
        };
        let head = String::from_utf8_lossy(&self.pending[..head_end]).into_owned();
        self.pending.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, status_line.to_owned()))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let body = if let Some(len) = header("content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "content-length"))?;
            self.take(len)?
        } else if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            self.chunked()?
        } else {
            while self.fill()? {}
            std::mem::take(&mut self.pending)
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn fill(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn take(&mut self, len: usize) -> io::Result<Vec<u8>> {
        while self.pending.len() < len {
            if !self.fill()? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "body cut short",
                ));
            }
        }
        Ok(self.pending.drain(..len).collect())
    }

    fn chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.pending, b"\r\n") {
                    break i;
                }
                if !self.fill()? {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "chunk"));
                }
            };
            let size_text = String::from_utf8_lossy(&self.pending[..line_end]).into_owned();
            self.pending.drain(..line_end + 2);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk size"))?;
            let chunk = self.take(size + 2)?;
            if size == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sends raw bytes on a new connection and reads one answer.
pub fn exchange(addr: SocketAddr, bytes: &[u8]) -> io::Result<Reply> {
    let mut conn = Conn::open(addr)?;
    conn.write(bytes)?;
    conn.read_reply()
}

/// Sends one API request on a new connection; a transport failure fails the
/// test (every hostile input must get an answer).
pub fn call(addr: SocketAddr, operation: &str, body: &[u8]) -> Reply {
    exchange(addr, &request(operation, body, &[]))
        .unwrap_or_else(|e| panic!("{operation}: no answer from the server: {e}"))
}
