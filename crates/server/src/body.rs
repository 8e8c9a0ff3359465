//! Reading request bodies within DynamoDB's 16 MiB limit, a time limit and
//! the server's body budget, and undoing `Content-Encoding: gzip` within the
//! same limits.

use std::io::Read;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Instant;

use crate::limits::{Admission, Reservation};

/// DynamoDB rejects request bodies larger than this (16 MiB) with a bare 413.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// Compressed bodies larger than this are inflated on the blocking pool so a
/// big upload does not stall the other requests of its worker thread. Deflate
/// expands at most about 1,032 to 1, so an inline body inflates to at most
/// about 1 MiB (a millisecond of work); 64 KiB of zeros, once the bound, made
/// the full 16 MiB on the worker.
const INLINE_INFLATE_BYTES: usize = 1024;

/// How much inflated output is taken from the body budget at a time.
const INFLATE_STEP: usize = 64 * 1024;

#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over [`MAX_REQUEST_BYTES`], before or after decompression.
    TooLarge,
    /// The client went away or broke the framing mid-body.
    Io,
    /// `Content-Encoding: gzip` but not a gzip stream.
    Corrupt,
    /// The server's body budget has no room for it.
    Throttled,
    /// It did not arrive before its deadline.
    TimedOut,
}

/// A request body read into memory, and the share of the body budget it
/// holds until dropped.
pub(crate) struct Held {
    pub bytes: Bytes,
    pub reservation: Reservation,
}

/// Reads the whole body by `deadline`, failing as soon as it passes `limit`
/// bytes. The body budget holds what the body's buffer holds, taken before
/// the buffer grows: a body on its way holds about what has arrived (at
/// most twice that), not what it declares, so bodies that are declared and
/// then not sent cannot take the budget from the requests that are. A body
/// that arrives in one frame (the common case) is returned without copying.
pub(crate) async fn read(
    body: Incoming,
    content_length: Option<u64>,
    limit: usize,
    admission: &Admission,
    deadline: Instant,
) -> Result<Held, BodyError> {
    if content_length.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let declared = content_length.map_or(0, |len| len as usize);
    let reservation = admission.body(0).ok_or(BodyError::Throttled)?;
    tokio::time::timeout_at(deadline, read_frames(body, declared, limit, reservation))
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

async fn read_frames(
    mut body: Incoming,
    declared: usize,
    limit: usize,
    mut reservation: Reservation,
) -> Result<Held, BodyError> {
    let mut first: Option<Bytes> = None;
    let mut joined: Option<Vec<u8>> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| BodyError::Io)?.into_data() else {
            continue; // trailers
        };
        if data.is_empty() {
            continue;
        }
        let so_far = joined
            .as_ref()
            .map_or_else(|| first.as_ref().map_or(0, Bytes::len), Vec::len);
        let total = so_far + data.len();
        if total > limit {
            return Err(BodyError::TooLarge);
        }
        // The buffer doubles (so a large body is copied about twice in all)
        // up to the declared length, which hyper holds a body to; only a
        // chunked body that declared a length too (which hyper ignores) can
        // pass it, and then it doubles up to the limit.
        let most = if total <= declared { declared } else { limit };
        // Near a full budget it takes what is free, if the bytes in hand
        // fit, so that a body that fits the budget is never refused for
        // the doubling.
        if let Some(buf) = joined.as_mut() {
            if total > buf.capacity() {
                let capacity = reservation
                    .grow_within(total, total.max(2 * buf.capacity()).min(most))
                    .ok_or(BodyError::Throttled)?;
                buf.reserve_exact(capacity - buf.len());
            }
            buf.extend_from_slice(&data);
        } else if let Some(head) = first.take() {
            let capacity = reservation
                .grow_within(total, (2 * total).min(most))
                .ok_or(BodyError::Throttled)?;
            let mut buf = Vec::with_capacity(capacity);
            buf.extend_from_slice(&head);
            buf.extend_from_slice(&data);
            joined = Some(buf);
        } else {
            if !reservation.grow_to(data.len()) {
                return Err(BodyError::Throttled);
            }
            first = Some(data);
        }
    }
    let bytes = match joined {
        Some(buf) => Bytes::from(buf),
        None => first.unwrap_or_default(),
    };
    Ok(Held { bytes, reservation })
}

/// Reads the body by `deadline` without keeping it, for answers that depend
/// only on its length: how many bytes it had, failing past `limit`.
pub(crate) async fn drain(
    mut body: Incoming,
    content_length: Option<u64>,
    limit: usize,
    deadline: Instant,
) -> Result<usize, BodyError> {
    if content_length.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let count = async {
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.map_err(|_| BodyError::Io)?.into_data() {
                total += data.len();
                if total > limit {
                    return Err(BodyError::TooLarge);
                }
            }
        }
        Ok(total)
    };
    tokio::time::timeout_at(deadline, count)
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

/// Inflates a gzip body, failing once the output passes `limit` bytes or
/// the body budget. The compressed bytes are given back afterwards; the
/// inflated ones stay held.
pub(crate) async fn gunzip(held: Held, limit: usize) -> Result<Held, BodyError> {
    if held.bytes.len() <= INLINE_INFLATE_BYTES {
        return gunzip_blocking(held, limit);
    }
    tokio::task::spawn_blocking(move || gunzip_blocking(held, limit))
        .await
        .unwrap_or(Err(BodyError::Io))
}

fn gunzip_blocking(held: Held, limit: usize) -> Result<Held, BodyError> {
    let Held {
        bytes: compressed,
        mut reservation,
    } = held;
    let mut out = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(&compressed[..]).take(limit as u64 + 1);
    // Inflated in steps, each taken from the budget as it lands, so a small
    // body that inflates to 16 MiB is refused once the budget runs out, not
    // after.
    loop {
        let read = (&mut decoder)
            .take(INFLATE_STEP as u64)
            .read_to_end(&mut out)
            .map_err(|_| BodyError::Corrupt)?;
        if out.len() > limit {
            return Err(BodyError::TooLarge);
        }
        if !reservation.grow(read) {
            return Err(BodyError::Throttled);
        }
        if read < INFLATE_STEP {
            break;
        }
    }
    drop(compressed);
    reservation.shrink_to(out.len());
    Ok(Held {
        bytes: Bytes::from(out),
        reservation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        Bytes::from(encoder.finish().unwrap())
    }

    fn held(admission: &Admission, bytes: &[u8]) -> Held {
        Held {
            bytes: Bytes::copy_from_slice(bytes),
            reservation: admission.body(bytes.len()).expect("room"),
        }
    }

    fn inflate(body: &[u8], limit: usize) -> Result<Bytes, BodyError> {
        let admission = Admission::new(Limits::default());
        gunzip_blocking(held(&admission, body), limit).map(|held| held.bytes)
    }

    #[test]
    fn gunzip_round_trips_and_limits() {
        let body = gzip(b"{\"TableName\":\"t\"}");
        assert_eq!(&inflate(&body, 100).unwrap()[..], b"{\"TableName\":\"t\"}");
        assert!(matches!(inflate(&body, 16), Err(BodyError::TooLarge)));
        assert!(inflate(&body, 17).is_ok());
        assert!(matches!(inflate(b"not gzip", 100), Err(BodyError::Corrupt)));
        assert!(matches!(
            inflate(&body[..body.len() - 3], 100),
            Err(BodyError::Corrupt)
        ));
        // Across several steps.
        let big: Vec<u8> = (0..3 * INFLATE_STEP + 5).map(|i| (i % 251) as u8).collect();
        assert_eq!(&inflate(&gzip(&big), big.len()).unwrap()[..], &big[..]);
        assert!(matches!(
            inflate(&gzip(&big), big.len() - 1),
            Err(BodyError::TooLarge)
        ));
    }

    #[test]
    fn inflated_bytes_come_from_the_budget() {
        let plain = vec![b' '; 4 * INFLATE_STEP];
        let body = gzip(&plain);
        // Room for the compressed body and two steps of output: refused.
        let admission = Admission::new(Limits {
            body_budget: body.len() + 2 * INFLATE_STEP,
            ..Limits::default()
        });
        assert!(matches!(
            gunzip_blocking(held(&admission, &body), MAX_REQUEST_BYTES),
            Err(BodyError::Throttled)
        ));
        // Everything was given back, and with room for all of it, it
        // inflates and holds just the inflated size.
        let admission = Admission::new(Limits {
            body_budget: body.len() + plain.len(),
            ..Limits::default()
        });
        let inflated = gunzip_blocking(held(&admission, &body), MAX_REQUEST_BYTES).unwrap();
        assert_eq!(inflated.bytes.len(), plain.len());
        assert!(
            admission.body(body.len()).is_some(),
            "compressed bytes given back"
        );
        assert!(admission.body(body.len() + 1).is_none());
    }
}
