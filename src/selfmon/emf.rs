//! CloudWatch embedded metric format: one JSON line per dimension value, on
//! stdout, which Lambda puts in the function's log group, where CloudWatch
//! extracts the metrics (no API call, no extra permission).
//!
//! A line holds every metric of one split value (the function's own, one
//! sink's, one failure reason's, one log type's), each listed in a
//! `CloudWatchMetrics` directive with its dimension sets; a split counter
//! with `rollup` is also published under the function alone, so an alarm
//! can sum every reason without metric math.

use std::io::Write;

use serde_json::{json, Map, Value as Json};

use super::{Split, Tally, Value};

/// The dimension every line carries.
pub const FUNCTION: &str = "Function";

/// What one line is for: the function alone, or one split value.
type LineKey<'a> = Option<(Split, &'a str)>;

/// The EMF lines for `tally` (each one JSON object, no newline).
pub fn lines(tally: &Tally, namespace: &str, function: &str, timestamp_ms: i64) -> Vec<String> {
    let values = tally.values();
    let mut groups: Vec<(LineKey, Vec<&Value>)> = Vec::new();
    for v in &values {
        let key = v.def.split.zip(v.split.as_deref());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(v),
            None => groups.push((key, vec![v])),
        }
    }
    groups
        .into_iter()
        .map(|(key, members)| line(key, &members, namespace, function, timestamp_ms))
        .collect()
}

fn line(
    key: LineKey,
    members: &[&Value],
    namespace: &str,
    function: &str,
    timestamp_ms: i64,
) -> String {
    let mut root = Map::new();
    root.insert(FUNCTION.into(), function.into());
    let mut directives = Vec::new();
    for rollup in [false, true] {
        let metrics: Vec<Json> = members
            .iter()
            .filter(|v| v.def.rollup == rollup)
            .map(|v| json!({"Name": v.def.emf, "Unit": v.def.emf_unit}))
            .collect();
        if metrics.is_empty() {
            continue;
        }
        let dimensions = match key {
            None => json!([[FUNCTION]]),
            Some((split, _)) if rollup => json!([[FUNCTION], [FUNCTION, split.dimension()]]),
            Some((split, _)) => json!([[FUNCTION, split.dimension()]]),
        };
        directives.push(json!({
            "Namespace": namespace,
            "Dimensions": dimensions,
            "Metrics": metrics,
        }));
    }
    if let Some((split, value)) = key {
        root.insert(split.dimension().into(), value.into());
    }
    for v in members {
        root.insert(v.def.emf.into(), number(v.value));
    }
    root.insert(
        "_aws".into(),
        json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}),
    );
    Json::Object(root).to_string()
}

/// Whole values as integers (`3`, not `3.0`).
fn number(v: f64) -> Json {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Json::from(v as i64)
    } else {
        Json::from(v)
    }
}

/// Writes `lines` to stdout as whole lines, under stdout's lock and in one
/// write, so no sink's line can land inside one (the stdout sink writes its
/// batches under the same lock).
pub fn write_stdout(lines: &[String]) -> std::io::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut text = lines.join("\n");
    text.push('\n');
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdsf_core::process::SinkStats;

    #[test]
    fn each_split_value_gets_a_line_with_its_dimensions() {
        let mut t = Tally {
            events_in: 3,
            lag_ms: Some(1500),
            ..Tally::default()
        };
        t.failed.insert("sink_unavailable".into(), 2);
        t.sinks.insert(
            "otlp".into(),
            SinkStats {
                records_delivered: 3,
                retries: 1,
                ..SinkStats::default()
            },
        );
        let lines: Vec<Json> = lines(&t, "Ns", "fn", 1_700_000_000_000)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        let main = &lines[0];
        assert_eq!(main["Function"], "fn");
        assert_eq!(main["EventsIn"], 3);
        assert_eq!(main["Lag"], 1500);
        assert_eq!(main["_aws"]["Timestamp"], 1_700_000_000_000i64);
        let d = &main["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(d["Namespace"], "Ns");
        assert_eq!(d["Dimensions"], json!([["Function"]]));
        assert!(d["Metrics"]
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "Lag", "Unit": "Milliseconds"})));
        let sink = lines.iter().find(|l| l["Sink"] == "otlp").unwrap();
        assert_eq!(sink["RecordsDelivered"], 3);
        let directives = sink["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives[0]["Dimensions"], json!([["Function", "Sink"]]));
        assert_eq!(
            directives[1]["Dimensions"],
            json!([["Function"], ["Function", "Sink"]])
        );
        assert_eq!(
            directives[1]["Metrics"],
            json!([{"Name": "Retries", "Unit": "Count"}])
        );
        let reason = lines
            .iter()
            .find(|l| l["Reason"] == "sink_unavailable")
            .unwrap();
        assert_eq!(reason["Failed"], 2);
        // Every member a directive names is on the line (the spec's rule).
        for l in &lines {
            for d in l["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
                for m in d["Metrics"].as_array().unwrap() {
                    assert!(l.get(m["Name"].as_str().unwrap()).is_some(), "{l}");
                }
                for set in d["Dimensions"].as_array().unwrap() {
                    for dim in set.as_array().unwrap() {
                        assert!(l[dim.as_str().unwrap()].is_string(), "{l}");
                    }
                }
            }
        }
    }
}
