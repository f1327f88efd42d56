//! Timestamp conversions shared by inputs, parsers and sinks. Times travel
//! as Unix nanoseconds (`i64`), like OTLP's `time_unix_nano`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

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
    fn round_trip_ms() {
        let ns = parse_rfc3339("2026-03-04T21:33:40.007Z").unwrap();
        assert_eq!(format_rfc3339_ms(ns), "2026-03-04T21:33:40.007Z");
        assert_eq!(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc_ns(1970, 1, 1, 0, 0, 1, 5), Some(1_000_000_005));
        assert_eq!(utc_ns(2023, 2, 30, 0, 0, 0, 0), None);
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
