//! Timestamp conversions shared by inputs, parsers and sinks. Times travel
//! as Unix nanoseconds (`i64`), like OTLP's `time_unix_nano`.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// How far a saturated [`instant_after`] lies: further than any deadline
/// or wait this program has, and well inside what `Instant` can hold.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `Instant::now() + d` without the panic `+` gives on overflow. Durations
/// come from settings (`u64` milliseconds), servers (`Retry-After`) and the
/// Lambda deadline header, so any of them may be absurd; past
/// [`FAR_FUTURE`] they all mean "never".
pub fn instant_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d.min(FAR_FUTURE)).unwrap_or(now)
}

/// RFC 3339, UTC, milliseconds: `2024-01-01T00:00:05.123Z`.
pub fn format_rfc3339_ms(ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 time (`2026-03-04T21:33:40.007Z`, any offset).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()?
        .timestamp_nanos_opt()
}

/// Unix ns of a civil date-time taken as UTC; `None` for impossible dates.
pub fn utc_ns(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    nanos: u32,
) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let dt: NaiveDateTime = date.and_hms_nano_opt(hour, min, sec, nanos)?;
    dt.and_utc().timestamp_nanos_opt()
}

/// Unix ms → ns, saturating instead of overflowing on absurd inputs.
pub fn ms_to_ns(ms: i64) -> i64 {
    ms.saturating_mul(1_000_000)
}

/// The current time in Unix ns.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_after_saturates_instead_of_panicking() {
        // `Instant::now() + Duration::MAX` panics; a setting or header may say it.
        let far = instant_after(Duration::MAX);
        assert!(far > Instant::now() + Duration::from_secs(365 * 24 * 3600));
        assert!(instant_after(Duration::from_millis(u64::MAX)) >= far - Duration::from_secs(1));
        let soon = instant_after(Duration::from_millis(5));
        assert!(soon <= Instant::now() + Duration::from_millis(5));
    }

    #[test]
    fn round_trip_ms() {
        let ns = parse_rfc3339("2026-03-04T21:33:40.007Z").unwrap();
        assert_eq!(format_rfc3339_ms(ns), "2026-03-04T21:33:40.007Z");
        assert_eq!(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc_ns(1970, 1, 1, 0, 0, 1, 5), Some(1_000_000_005));
        assert_eq!(utc_ns(2023, 2, 30, 0, 0, 0, 0), None);
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
