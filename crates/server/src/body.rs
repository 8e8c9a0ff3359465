//! Reading request bodies within DynamoDB's 16 MiB limit, and undoing
//! `Content-Encoding: gzip` within the same limit.

use std::io::Read;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// DynamoDB rejects request bodies larger than this (16 MiB) with a bare 413.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// Compressed bodies larger than this are inflated on the blocking pool so a
/// big upload does not stall the other requests of its worker thread.
const INLINE_INFLATE_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over [`MAX_REQUEST_BYTES`], before or after decompression.
    TooLarge,
    /// The client went away or broke the framing mid-body.
    Io,
    /// `Content-Encoding: gzip` but not a gzip stream.
    Corrupt,
}

/// Reads the whole body, failing as soon as it passes `limit` bytes. A body
/// that arrives in one frame (the common case) is returned without copying.
pub(crate) async fn read(
    mut body: Incoming,
    content_length: Option<u64>,
    limit: usize,
) -> Result<Bytes, BodyError> {
    if content_length.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| BodyError::Io)?.into_data() else {
            continue; // trailers
        };
        if data.is_empty() {
            continue;
        }
        let so_far = joined
            .as_ref()
            .map_or_else(|| first.as_ref().map_or(0, Bytes::len), BytesMut::len);
        if so_far + data.len() > limit {
            return Err(BodyError::TooLarge);
        }
        if let Some(buf) = joined.as_mut() {
            buf.extend_from_slice(&data);
        } else if let Some(head) = first.take() {
            let hint = content_length.map_or(0, |len| len as usize);
            let mut buf = BytesMut::with_capacity(hint.max(head.len() + data.len()));
            buf.extend_from_slice(&head);
            buf.extend_from_slice(&data);
            joined = Some(buf);
        } else {
            first = Some(data);
        }
    }
    Ok(match joined {
        Some(buf) => buf.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// Inflates a gzip body, failing once the output passes `limit` bytes.
pub(crate) async fn gunzip(compressed: Bytes, limit: usize) -> Result<Bytes, BodyError> {
    if compressed.len() <= INLINE_INFLATE_BYTES {
        return gunzip_blocking(&compressed, limit);
    }
    tokio::task::spawn_blocking(move || gunzip_blocking(&compressed, limit))
        .await
        .unwrap_or(Err(BodyError::Io))
}

fn gunzip_blocking(compressed: &[u8], limit: usize) -> Result<Bytes, BodyError> {
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(limit));
    flate2::read::MultiGzDecoder::new(compressed)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| BodyError::Corrupt)?;
    if out.len() > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        Bytes::from(encoder.finish().unwrap())
    }

    #[test]
    fn gunzip_round_trips_and_limits() {
        let body = gzip(b"{\"TableName\":\"t\"}");
        assert_eq!(
            &gunzip_blocking(&body, 100).unwrap()[..],
            b"{\"TableName\":\"t\"}"
        );
        assert!(matches!(
            gunzip_blocking(&body, 16),
            Err(BodyError::TooLarge)
        ));
        assert!(gunzip_blocking(&body, 17).is_ok());
        assert!(matches!(
            gunzip_blocking(b"not gzip", 100),
            Err(BodyError::Corrupt)
        ));
        assert!(matches!(
            gunzip_blocking(&body[..body.len() - 3], 100),
            Err(BodyError::Corrupt)
        ));
    }
}
