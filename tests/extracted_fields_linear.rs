//! Extracted fields (a subscription filter pattern with fields gives every
//! event some) follow their event id into its record in time linear in the
//! events. Each record looked its fields up by scanning every event's
//! fields, so a 16,000-event payload made ~2.6·10^8 id compares.
//!
//! Not a timed assertion on a figure: the payload is processed at n and 8n
//! events and the larger must cost at most 32× the smaller (best of three
//! runs of the thread's own CPU time), which a linear stage meets (~8×) and
//! a quadratic one (64×) cannot.

use crate::common;

fn payload(events: usize) -> Vec<u8> {
    let messages: Vec<String> = (0..events)
        .map(|i| {
            format!("2025-11-25 07:50:00 UTC:10.0.0.1(5432):app@db:[{i}]:LOG:  connection received")
        })
        .collect();
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    let mut doc = common::subscription_doc("/aws/rds/instance/db1/postgresql", &refs);
    for (i, e) in doc["logEvents"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        e["extractedFields"] = serde_json::json!({ "n": i.to_string() });
    }
    common::awslogs_event(&doc)
}

#[test]
fn extracted_fields_follow_their_events_in_linear_time() {
    let small = payload(2_000);
    let large = payload(16_000);
    // Every record carries its own event's field, and only that.
    let out = common::process(&small);
    assert_eq!(out.records.len(), 2_000);
    for (i, r) in out.records.iter().enumerate() {
        let n = format!("{}n", rdsf_core::record::keys::CW_EXTRACTED_FIELDS_PREFIX);
        assert_eq!(
            r.attributes.get_str(&n),
            Some(i.to_string().as_str()),
            "record {i}"
        );
    }
    common::assert_linear(
        "extracted fields",
        &|| {
            std::hint::black_box(common::process(&small));
        },
        &|| {
            std::hint::black_box(common::process(&large));
        },
    );
}
