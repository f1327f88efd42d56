//! Kinesis Data Streams events whose records carry CloudWatch Logs
//! subscription documents (base64 of gzip of JSON): the high-volume path.

use std::borrow::Cow;

use serde::Deserialize;

use super::cloudwatch::{self, LogDocument};
use super::{gzip, Content, InputError, Origin, Unit};

/// Decodes one Kinesis record's data: gzip (as CloudWatch writes it) or,
/// leniently, plain JSON.
pub fn decode_record_data(
    sequence_number: &str,
    data: &str,
    limit: usize,
) -> Result<Vec<LogDocument>, InputError> {
    let what = format!("Kinesis record {sequence_number}");
    let json = gzip::record_text(&what, data, limit)?;
    cloudwatch::parse_documents(&what, &json)
}

/// A Kinesis event's records, borrowed from the body (no `serde_json::Value`
/// copy of up to 6 MB of base64): what [`crate::pipeline::Pipeline::run`]
/// reads a batch from, record by record.
#[derive(Debug, Deserialize)]
struct KinesisEventRef<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<KinesisRecordRef<'a>>,
}

/// One Kinesis record, its strings borrowed where JSON escapes allow.
#[derive(Debug, Deserialize)]
pub struct KinesisRecordRef<'a> {
    #[serde(borrow)]
    kinesis: KinesisPayloadRef<'a>,
    #[serde(rename = "eventID", borrow, default)]
    event_id: Cow<'a, str>,
    /// Any JSON: only a string other than `aws:kinesis` disqualifies.
    #[serde(rename = "eventSource", default)]
    event_source: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KinesisPayloadRef<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
    #[serde(borrow, default)]
    sequence_number: Cow<'a, str>,
}

impl KinesisRecordRef<'_> {
    /// The record decoded into a unit of the invocation, failures named by
    /// its sequence number. One place for [`super::decode`] and the
    /// pipeline's record-group path.
    pub fn unit(&self, limit: usize) -> Unit {
        let seq = self.sequence_number();
        Unit {
            origin: Origin::KinesisRecord {
                sequence_number: seq.to_owned(),
            },
            content: decode_record_data(seq, self.data(), limit).map(Content::Logs),
        }
    }

    /// The id a failure is reported under: the sequence number, else the
    /// event id (as [`super::decode`] names a Kinesis unit).
    pub fn sequence_number(&self) -> &str {
        if self.kinesis.sequence_number.is_empty() {
            &self.event_id
        } else {
            &self.kinesis.sequence_number
        }
    }

    /// The record's data: base64 of gzip of a CloudWatch Logs document.
    pub fn data(&self) -> &str {
        &self.kinesis.data
    }
}

/// A Kinesis record whose envelope cannot be read (no `kinesis` object, a
/// `data` that is no string, …): a unit of its own that fails, named by its
/// sequence number when one is readable, else its event id, else its
/// position — so the rest of the batch is still delivered. Lambda treats an
/// item identifier it does not know as a failure of the whole batch, which
/// is the safe side when no sequence number can be read.
pub fn malformed_unit(index: usize, record: &serde_json::Value) -> Unit {
    use serde_json::Value;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let kinesis = record.get("kinesis");
    let sequence_number = text(kinesis.and_then(|k| k.get("sequenceNumber")))
        .filter(|s| !s.is_empty())
        .or_else(|| text(record.get("eventID")).filter(|s| !s.is_empty()))
        .unwrap_or_default();
    // Said from the structure, never by echoing a value (it may hold data).
    let detail = match (record, kinesis, kinesis.and_then(|k| k.get("data"))) {
        (Value::Object(_), None, _) => "no `kinesis` object".to_owned(),
        (Value::Object(_), Some(k), _) if !k.is_object() => "`kinesis` is not an object".to_owned(),
        (Value::Object(_), Some(_), None) => "no `kinesis.data`".to_owned(),
        (Value::Object(_), Some(_), Some(d)) if !d.is_string() => {
            "`kinesis.data` is not a string".to_owned()
        }
        (Value::Object(_), _, _) => "a field has the wrong type".to_owned(),
        _ => "the record is not a JSON object".to_owned(),
    };
    let what = if sequence_number.is_empty() {
        format!("Kinesis record #{index} (no sequence number)")
    } else {
        format!("Kinesis record {sequence_number}")
    };
    Unit {
        origin: Origin::KinesisRecord { sequence_number },
        content: Err(InputError::KinesisRecord { what, detail }),
    }
}

/// The records of a Kinesis event, when `bytes` is one (`Records` first, as
/// Lambda sends it, every record from `aws:kinesis` with string `data`);
/// `None` otherwise, and [`super::decode`]'s general path names what is wrong.
pub fn records(bytes: &[u8]) -> Option<Vec<KinesisRecordRef<'_>>> {
    let text = bytes.trim_ascii_start().strip_prefix(b"{")?;
    if !text.trim_ascii_start().starts_with(b"\"Records\"") {
        return None;
    }
    let event: KinesisEventRef = serde_json::from_slice(bytes).ok()?;
    let all_kinesis = event.records.iter().all(|r| {
        r.event_source
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .is_none_or(|s| s == "aws:kinesis")
    });
    all_kinesis.then_some(event.records)
}

/// How a Kinesis batch is taken in: small records in groups whose inflated
/// size (each gzip trailer's ISIZE, a hint only; plain JSON counts at its
/// base64 size) stays within the stream threshold, so memory follows the
/// threshold and not the batch; a record that alone inflates past it on its
/// own, streamed. In batch order.
pub enum Step<'r, 'a> {
    Group(Vec<&'r KinesisRecordRef<'a>>),
    /// Opened only when its turn comes ([`super::stream::open_gzip`]), so
    /// the batch's big records are not all held decoded at once.
    Big(&'r KinesisRecordRef<'a>),
}

/// The steps for `records` within `limits`.
pub fn plan<'r, 'a>(
    records: &'r [KinesisRecordRef<'a>],
    limits: super::Limits,
) -> Vec<Step<'r, 'a>> {
    let mut steps = Vec::new();
    let mut group: Vec<&KinesisRecordRef<'_>> = Vec::new();
    let mut group_bytes = 0;
    for record in records {
        let hint = super::gzip::isize_hint_b64(record.data());
        if hint.is_some_and(|n| n as usize > limits.stream_threshold) {
            if !group.is_empty() {
                steps.push(Step::Group(std::mem::take(&mut group)));
            }
            group_bytes = 0;
            steps.push(Step::Big(record));
            continue;
        }
        // Plain-JSON records (no gzip trailer) count at their base64 size.
        let inflated = hint.map_or(record.data().len(), |n| n as usize);
        if !group.is_empty() && group_bytes + inflated > limits.stream_threshold {
            steps.push(Step::Group(std::mem::take(&mut group)));
            group_bytes = 0;
        }
        group.push(record);
        group_bytes += inflated;
    }
    if !group.is_empty() {
        steps.push(Step::Group(group));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_takes_only_kinesis_events_and_leaves_the_rest_to_decode() {
        let ok = br#"{"Records":[{"kinesis":{"data":"eA==","sequenceNumber":""},"eventID":"shard:1","eventSource":"aws:kinesis"},{"kinesis":{"data":"eQ==","sequenceNumber":"7"},"eventSource":5}]}"#;
        let found = records(ok).expect("a Kinesis event");
        let seqs: Vec<&str> = found.iter().map(|r| r.sequence_number()).collect();
        assert_eq!(seqs, ["shard:1", "7"]);
        assert_eq!(found[1].data(), "eQ==");
        for other in [
            &br#"{"Records":[{"eventSource":"aws:sqs","body":"x"}]}"#[..],
            br#"{"Records":[{"kinesis":{"data":"eA=="},"eventSource":"aws:sqs"}]}"#,
            br#"{"x":1,"Records":[{"kinesis":{"data":"eA=="}}]}"#,
            br#"{"Records":[{"kinesis":{"data":5}}]}"#,
            b"not json",
        ] {
            assert!(
                records(other).is_none(),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }
}
