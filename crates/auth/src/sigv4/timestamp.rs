//! SigV4's timestamps: ISO 8601 "basic format" in UTC (`20150830T123600Z`),
//! read into seconds since the Unix epoch and written back, with no date
//! library (the conversion is the proleptic Gregorian one, days from civil).

use std::time::SystemTime;

use crate::calendar::{civil_from_days, days_from_civil, days_in_month};

/// A moment in whole seconds since 1970-01-01T00:00:00Z (negative before).
pub(crate) type Seconds = i64;

/// Reads `YYYYMMDD'T'HHMMSS'Z'`; any other shape, or a date or time that
/// does not exist (February 30th, 24:00:00), is `None`.
pub(crate) fn parse(text: &[u8]) -> Option<Seconds> {
    let [y0, y1, y2, y3, mo0, mo1, d0, d1, b'T', h0, h1, mi0, mi1, s0, s1, b'Z'] = *text else {
        return None;
    };
    let year = number(&[y0, y1, y2, y3])?;
    let month = number(&[mo0, mo1])?;
    let day = number(&[d0, d1])?;
    let hour = number(&[h0, h1])?;
    let minute = number(&[mi0, mi1])?;
    let second = number(&[s0, s1])?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// `YYYYMMDD'T'HHMMSS'Z'` for `at` (years past 9999 are written in full).
pub(crate) fn format(at: Seconds) -> String {
    let days = at.div_euclid(86_400);
    let in_day = at.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        in_day / 3_600,
        in_day % 3_600 / 60,
        in_day % 60
    )
}

/// `now` in whole seconds (truncated towards the past).
pub(crate) fn seconds(now: SystemTime) -> Seconds {
    match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            if before.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    }
}

fn number(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    #[test]
    fn reads_known_moments() {
        assert_eq!(parse(b"19700101T000000Z"), Some(0));
        assert_eq!(parse(b"20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse(b"20000229T235959Z"), Some(951_868_799));
        assert_eq!(parse(b"19691231T235959Z"), Some(-1));
        assert_eq!(parse(b"30200101T010101Z"), Some(33_134_749_261));
    }

    #[test]
    fn refuses_what_is_not_a_basic_format_moment() {
        for bad in [
            &b""[..],
            b"201",
            b"20150830T123600",
            b"20150830T123600z",
            b"2015-08-30T12:36:00Z",
            b"20150830 123600Z",
            b"20150230T000000Z",
            b"19000229T000000Z",
            b"20151301T000000Z",
            b"20150800T000000Z",
            b"20150830T240000Z",
            b"20150830T236000Z",
            b"20150830T235960Z",
            b"2015083OT123600Z",
            b"+0150830T123600Z",
            b"20150830T123600Z ",
        ] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn whole_seconds_of_a_system_time() {
        let epoch = SystemTime::UNIX_EPOCH;
        assert_eq!(seconds(epoch + Duration::from_millis(1_999)), 1);
        assert_eq!(seconds(epoch - Duration::from_millis(1)), -1);
        assert_eq!(seconds(epoch - Duration::from_secs(2)), -2);
    }

    proptest! {
        #[test]
        fn format_and_parse_round_trip(at in -62_135_596_800i64..253_402_300_799) {
            let text = format(at);
            prop_assert_eq!(parse(text.as_bytes()), Some(at), "{}", text);
        }
    }
}
