//! Dates as IAM's Date operators read them (ISO 8601 or epoch seconds),
//! and `aws:CurrentTime` as IAM writes it.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::calendar::{civil_from_days, days_from_civil, days_in_month};

/// Milliseconds since the epoch of an ISO 8601 date (`2026-01-31`,
/// `2026-01-31T12:00:00Z`, with fractions and `±hh:mm` offsets) or of
/// an epoch time in seconds.
pub(crate) fn parse_date_millis(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok()?.checked_mul(1000);
    }
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let mut millis = days * 86_400_000;
    let rest = &b[10..];
    if rest.is_empty() {
        return Some(millis);
    }
    if rest[0] != b'T' && rest[0] != b't' || rest.len() < 9 || rest[3] != b':' || rest[6] != b':' {
        return None;
    }
    let (h, m, sec) = (
        digits(&rest[1..3])?,
        digits(&rest[4..6])?,
        digits(&rest[7..9])?,
    );
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    millis += (h * 3600 + m * 60 + sec) * 1000;
    let mut rest = &rest[9..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let mut ms = 0i64;
        for (i, d) in frac[..n.min(3)].iter().enumerate() {
            ms += i64::from(d - b'0') * [100, 10, 1][i];
        }
        millis += ms;
        rest = &frac[n..];
    }
    match rest {
        b"" | b"Z" | b"z" => Some(millis),
        [sign @ (b'+' | b'-'), hh @ ..] if hh.len() == 5 && hh[2] == b':' => {
            let offset = (digits(&hh[0..2])? * 60 + digits(&hh[3..5])?) * 60_000;
            Some(if *sign == b'+' {
                millis - offset
            } else {
                millis + offset
            })
        }
        _ => None,
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// `aws:CurrentTime` and `aws:EpochTime` for now.
pub(crate) fn now() -> (String, String) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    (iso8601(secs), secs.to_string())
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn iso8601(epoch_seconds: i64) -> String {
    let (y, m, d) = civil_from_days(epoch_seconds.div_euclid(86_400));
    let s = epoch_seconds.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_iam_writes_them() {
        assert_eq!(parse_date_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date_millis("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_date_millis("86400"), Some(86_400_000));
        assert_eq!(
            parse_date_millis("2020-02-29T12:30:00.250Z"),
            Some(1_582_979_400_250)
        );
        assert_eq!(
            parse_date_millis("2020-02-29T14:30:00+02:00"),
            parse_date_millis("2020-02-29T12:30:00Z")
        );
        for bad in [
            "2019-02-29",
            "2020-13-01",
            "2020-01-01T25:00:00Z",
            "yesterday",
            "",
            "2020-01-01T00:00:00Q",
        ] {
            assert_eq!(parse_date_millis(bad), None, "{bad}");
        }
    }

    #[test]
    fn current_time_round_trips() {
        for secs in [0i64, 951_782_400, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_date_millis(&iso8601(secs)), Some(secs * 1000));
        }
        assert_eq!(iso8601(1_582_979_400), "2020-02-29T12:30:00Z");
    }
}
