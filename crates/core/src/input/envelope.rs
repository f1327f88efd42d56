//! Every envelope a Lambda event can arrive in, tried in order: the input
//! stage's registry. A new input is its decoder module plus one line in
//! [`ENVELOPES`]; an event no envelope claims is refused naming them all.
//!
//! (Two shapes also have a fast path in [`super::open`] that reads them
//! without building a `serde_json::Value`: CloudWatch's `awslogs` when it
//! is the first key, and Kinesis batches. Their entries here are what any
//! other spelling of the same event goes through.)

use serde_json::{Map, Value};

use super::{cloudtrail, decode_awslogs, decode_records, eventbridge};
use super::{Content, Decoded, EventKind, InputError, Origin, Unit};

/// One kind of event the handler accepts.
pub struct Envelope {
    /// How the refusal of an unknown event names it.
    pub name: &'static str,
    /// Whether the event's top-level object is this envelope. Claiming
    /// decides: the decode may still fail, naming what is wrong.
    pub claims: fn(&Map<String, Value>) -> bool,
    /// Decodes a claimed event (`limit`: bound on decompressed bytes).
    pub decode: fn(Value, usize) -> Result<Decoded, InputError>,
}

/// The envelopes, in the order they are tried (CloudTrail before
/// EventBridge: both are EventBridge-shaped, CloudTrail's is the narrower).
pub const ENVELOPES: &[Envelope] = &[
    Envelope {
        name: "awslogs (CloudWatch Logs)",
        claims: |m| m.contains_key("awslogs"),
        decode: awslogs,
    },
    Envelope {
        name: "Records (Kinesis)",
        claims: |m| m.contains_key("Records"),
        decode: |v, limit| decode_records(&v["Records"], limit),
    },
    Envelope {
        name: "a CloudTrail CreateLogGroup call",
        claims: |m| {
            cloudtrail::is_cloudtrail_logs_call(
                m.get("source").and_then(Value::as_str),
                m.get("detail-type").and_then(Value::as_str),
            )
        },
        decode: |v, _| {
            Ok(whole(
                EventKind::CloudTrail,
                cloudtrail::decode(v).map(Content::LogGroupCreated),
            ))
        },
    },
    Envelope {
        name: "an aws.rds EventBridge event",
        claims: |m| m.contains_key("source") && m.contains_key("detail-type"),
        decode: rds_event,
    },
];

/// A one-unit result.
fn whole(kind: EventKind, content: Result<Content, InputError>) -> Decoded {
    Decoded {
        kind,
        units: vec![Unit {
            origin: Origin::Whole,
            content,
        }],
    }
}

fn awslogs(v: Value, limit: usize) -> Result<Decoded, InputError> {
    let data = v["awslogs"]
        .get("data")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            InputError::UnknownShape("awslogs without a string `data` field".to_owned())
        })?;
    Ok(decode_awslogs(data, limit))
}

fn rds_event(v: Value, _limit: usize) -> Result<Decoded, InputError> {
    if v["source"].as_str() != Some("aws.rds") {
        return Err(InputError::UnknownShape(format!(
            "EventBridge event from source {} (detail-type {}); only aws.rds is handled",
            v["source"], v["detail-type"]
        )));
    }
    let content = eventbridge::decode(v).map(|e| Content::RdsEvent(Box::new(e)));
    Ok(whole(EventKind::EventBridge, content))
}

/// What an event no envelope claims is told it should have been.
pub fn expected() -> String {
    let names: Vec<&str> = ENVELOPES.iter().map(|e| e.name).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed_by(event: Value) -> Vec<&'static str> {
        let Value::Object(m) = event else { panic!() };
        ENVELOPES
            .iter()
            .filter(|e| (e.claims)(&m))
            .map(|e| e.name)
            .collect()
    }

    #[test]
    fn each_shape_is_claimed_by_its_envelope_first() {
        use serde_json::json;
        let first = |v| claimed_by(v)[0];
        assert_eq!(first(json!({"awslogs": {"data": ""}})), ENVELOPES[0].name);
        assert_eq!(first(json!({"Records": []})), ENVELOPES[1].name);
        let trail = json!({"source": "aws.logs", "detail-type": "AWS API Call via CloudTrail"});
        assert_eq!(first(trail), ENVELOPES[2].name);
        let rds = json!({"source": "aws.rds", "detail-type": "RDS DB Instance Event"});
        assert_eq!(claimed_by(rds), [ENVELOPES[3].name]);
        assert!(claimed_by(json!({"hello": 1})).is_empty());
    }

    #[test]
    fn an_unclaimed_event_is_told_every_envelope() {
        let e = super::super::decode(br#"{"hello": 1}"#, 1 << 20)
            .unwrap_err()
            .to_string();
        for envelope in ENVELOPES {
            assert!(e.contains(envelope.name), "{e}");
        }
        assert!(e.contains("[hello]"), "{e}");
    }
}
