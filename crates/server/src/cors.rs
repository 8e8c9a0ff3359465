//! Cross-origin requests from browsers: which origins may read answers
//! (`-cors` / `--cors`), and the answer to a preflight.

use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
};

/// Which origins may read the server's answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// Every origin (`*`, DynamoDB Local's default).
    #[default]
    Any,
    /// Only these origins (compared without regard to ASCII case), each
    /// e.g. `https://app.example.com`.
    Only(Vec<String>),
}

/// How long a browser may cache a preflight's answer: DynamoDB Local's
/// twenty days.
const MAX_AGE: &str = "1728000";

/// Answer headers a browser script may read: the request id the SDKs
/// report and the checksum they verify.
const EXPOSED: &str = "x-amzn-RequestId,x-amz-crc32";

impl Cors {
    /// Parses DynamoDB Local's `-cors` value: `*`, or origins separated by
    /// commas. Empty entries are refused.
    pub fn parse(list: &str) -> Result<Cors, String> {
        if list.trim() == "*" {
            return Ok(Cors::Any);
        }
        let mut origins = Vec::new();
        for origin in list.split(',') {
            let origin = origin.trim();
            if origin.is_empty() || origin == "*" || HeaderValue::from_str(origin).is_err() {
                return Err(format!(
                    "`{list}` is not `*` or a comma-separated list of origins"
                ));
            }
            origins.push(origin.to_owned());
        }
        Ok(Cors::Only(origins))
    }

    /// The `Access-Control-Allow-Origin` value for a request from these
    /// headers' `Origin`; `None` when it has none or it is not allowed.
    pub(crate) fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(ORIGIN)?;
        match self {
            Cors::Any => Some(HeaderValue::from_static("*")),
            Cors::Only(list) => {
                let asked = origin.as_bytes();
                list.iter()
                    .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(asked))
                    .then(|| origin.clone())
            }
        }
    }
}

/// Adds the CORS headers of an answer to a request from an allowed origin.
pub(crate) fn decorate(out: &mut HeaderMap, allowed: HeaderValue) {
    out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    out.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
}

/// A preflight's own headers: whatever method and headers were asked for
/// are allowed (the origin is decided by [`Cors::allowed_origin`]).
pub(crate) fn preflight_headers(request: &HeaderMap, out: &mut HeaderMap) {
    let echo = |out: &mut HeaderMap, from: HeaderName, to: HeaderName| {
        if let Some(value) = request.get(from) {
            out.insert(to, value.clone());
        }
    };
    echo(
        out,
        ACCESS_CONTROL_REQUEST_HEADERS,
        ACCESS_CONTROL_ALLOW_HEADERS,
    );
    echo(
        out,
        ACCESS_CONTROL_REQUEST_METHOD,
        ACCESS_CONTROL_ALLOW_METHODS,
    );
    out.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        headers
    }

    #[test]
    fn allow_lists() {
        assert_eq!(Cors::parse("*").unwrap(), Cors::Any);
        let cors = Cors::parse("http://a.com, https://B.example").unwrap();
        assert_eq!(
            cors.allowed_origin(&from("https://b.example")).unwrap(),
            "https://b.example"
        );
        assert_eq!(
            cors.allowed_origin(&from("http://a.com")).unwrap(),
            "http://a.com"
        );
        assert!(cors.allowed_origin(&from("http://c.com")).is_none());
        assert!(cors.allowed_origin(&HeaderMap::new()).is_none());
        assert_eq!(
            Cors::Any.allowed_origin(&from("http://c.com")).unwrap(),
            "*"
        );
        for bad in ["", "a,,b", "a,*", " , "] {
            assert!(Cors::parse(bad).is_err(), "{bad:?}");
        }
    }
}
