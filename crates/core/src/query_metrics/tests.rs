use std::sync::Arc;

use super::*;
use crate::record::{Attributes, PlainKey, Record};
use crate::severity::Severity;

/// 2024-06-10 06:13:00 UTC, a minute boundary.
const MINUTE: i64 = 1_717_999_980 * 1_000_000_000;
const S: i64 = 1_000_000_000;

fn resource(id: &str) -> Resource {
    let mut r = Attributes::new();
    r.insert(keys::RDS_SOURCE_IDENTIFIER, id);
    Arc::new(r)
}

fn record(at_ns: i64, attrs: &[(PlainKey, Value)]) -> Record {
    let mut attributes = Attributes::new();
    for (k, v) in attrs {
        attributes.insert(*k, v.clone());
    }
    Record {
        timestamp_ns: at_ns,
        observed_timestamp_ns: 0,
        severity: Severity::info(),
        body: String::new(),
        attributes,
        id: String::new(),
    }
}

fn query(at_ns: i64, id: &str, duration_ms: Option<f64>) -> Record {
    let mut attrs = vec![
        (keys::DB_QUERY_FINGERPRINT_ID, Value::from(id)),
        (
            keys::DB_QUERY_FINGERPRINT,
            Value::from(format!("select {id}")),
        ),
    ];
    if let Some(d) = duration_ms {
        attrs.push((keys::DB_QUERY_DURATION_MS, Value::Double(d)));
    }
    record(at_ns, &attrs)
}

fn find<'a>(
    points: &'a [MetricPoint],
    name: &str,
    id: &str,
    start: i64,
) -> Option<&'a MetricPoint> {
    points.iter().find(|p| {
        p.name == name
            && p.start_time_ns == Some(start)
            && p.attributes.get_str(keys::DB_QUERY_FINGERPRINT_ID) == Some(id)
    })
}

fn int(p: &MetricPoint) -> i64 {
    match p.kind {
        Kind::Sum {
            value: Number::Int(v),
            monotonic: true,
            temporality: Temporality::Delta,
        } => v,
        ref other => panic!("{}: {other:?}", p.name),
    }
}

fn count_of(points: &[MetricPoint], id: &str, start: i64) -> Option<i64> {
    find(points, names::QUERY_COUNT, id, start).map(int)
}

#[test]
fn a_minute_is_the_database_time_s_minute_start_inclusive() {
    let db = resource("db-1");
    let mut agg = Aggregator::new();
    for at in [
        MINUTE,
        MINUTE + 59 * S,
        MINUTE + 60 * S - 1,
        MINUTE + 60 * S,
        MINUTE - 1,
    ] {
        agg.observe(&db, &query(at, "A", Some(1.0)));
    }
    let points = agg.points(10);
    assert_eq!(count_of(&points, "A", MINUTE - 60 * S), Some(1));
    assert_eq!(count_of(&points, "A", MINUTE), Some(3));
    assert_eq!(count_of(&points, "A", MINUTE + 60 * S), Some(1));
    let p = find(&points, names::QUERY_COUNT, "A", MINUTE).unwrap();
    assert_eq!(p.time_ns, MINUTE + 60 * S, "a delta point ends its minute");
    assert_eq!(p.unit, "{query}");
    assert_eq!(
        p.attributes.get_str(keys::DB_QUERY_FINGERPRINT),
        Some("select A")
    );
    assert!(Arc::ptr_eq(&p.resource, &db));
    // Before 1970 the minute still floors (div_euclid, not truncation).
    let mut agg = Aggregator::new();
    agg.observe(&db, &query(-1, "A", None));
    assert_eq!(count_of(&agg.points(1), "A", -60 * S), Some(1));
}

#[test]
fn the_top_n_keep_their_series_and_other_carries_the_rest() {
    let db = resource("db-1");
    let db2 = resource("db-2");
    let mut agg = Aggregator::new();
    // Over the batch: C 5, B 4 (3 in the first minute), A 2, D 1; ties of
    // count are broken by total duration.
    let plan: [(&str, i64, f64); 12] = [
        ("C", 0, 1.0),
        ("C", 0, 1.0),
        ("C", 1, 1.0),
        ("C", 1, 1.0),
        ("C", 1, 1.0),
        ("B", 0, 2.0),
        ("B", 0, 2.0),
        ("B", 0, 2.0),
        ("B", 1, 2.0),
        ("A", 0, 4.0),
        ("A", 1, 4.0),
        ("D", 1, 9.0),
    ];
    for (id, minute, ms) in plan {
        agg.observe(&db, &query(MINUTE + minute * 60 * S + S, id, Some(ms)));
    }
    // Another resource ranks on its own: its one fingerprint is kept.
    agg.observe(&db2, &query(MINUTE, "D", Some(1.0)));
    let points = agg.points(2);
    let ids: std::collections::BTreeSet<&str> = points
        .iter()
        .filter(|p| Arc::ptr_eq(&p.resource, &db))
        .filter_map(|p| p.attributes.get_str(keys::DB_QUERY_FINGERPRINT_ID))
        .collect();
    assert_eq!(ids, ["B", "C", OTHER].into_iter().collect());
    assert_eq!(count_of(&points, "C", MINUTE), Some(2));
    assert_eq!(count_of(&points, "B", MINUTE), Some(3));
    assert_eq!(count_of(&points, OTHER, MINUTE), Some(1), "A");
    assert_eq!(
        count_of(&points, OTHER, MINUTE + 60 * S),
        Some(2),
        "A and D"
    );
    let other = find(&points, names::QUERY_DURATION, OTHER, MINUTE + 60 * S).unwrap();
    match &other.kind {
        Kind::Histogram {
            count,
            sum,
            min,
            max,
            ..
        } => {
            assert_eq!((*count, *min, *max), (2, Some(0.004), Some(0.009)));
            assert!((sum - 0.013).abs() < 1e-12);
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(other.attributes.get_str(keys::DB_QUERY_FINGERPRINT), None);
    // Totals still match the input.
    let total: i64 = points
        .iter()
        .filter(|p| p.name == names::QUERY_COUNT && Arc::ptr_eq(&p.resource, &db))
        .map(int)
        .sum();
    assert_eq!(total, 12);
    assert!(points.iter().any(|p| Arc::ptr_eq(&p.resource, &db2)
        && p.attributes.get_str(keys::DB_QUERY_FINGERPRINT_ID) == Some("D")));

    // 0 keeps none; ties of count and duration fall to the smaller id.
    let mut agg = Aggregator::new();
    agg.observe(&db, &query(MINUTE, "Y", Some(1.0)));
    agg.observe(&db, &query(MINUTE, "X", Some(1.0)));
    assert_eq!(count_of(&agg.points(0), OTHER, MINUTE), Some(2));
    let mut agg = Aggregator::new();
    agg.observe(&db, &query(MINUTE, "Y", Some(1.0)));
    agg.observe(&db, &query(MINUTE, "X", Some(1.0)));
    let points = agg.points(1);
    assert_eq!(count_of(&points, "X", MINUTE), Some(1));
    assert_eq!(count_of(&points, OTHER, MINUTE), Some(1));
}

#[test]
fn equal_resources_in_other_arcs_are_one_series() {
    let mut agg = Aggregator::new();
    agg.observe(&resource("db-1"), &query(MINUTE, "A", None));
    agg.observe(&resource("db-1"), &query(MINUTE, "A", None));
    assert_eq!(count_of(&agg.points(5), "A", MINUTE), Some(2));
}

#[test]
fn durations_fill_buckets_with_inclusive_upper_bounds() {
    let mut h = Histogram::default();
    // ms: 0 → first bucket; 1 ms = bound 0 → first; just above → second;
    // 300 s = last bound → its bucket; above it → the overflow bucket.
    for s in [0.0, 0.001, 0.0010001, 0.5, 300.0, 300.5, 1e9] {
        assert!(h.observe(s));
    }
    let Kind::Histogram {
        count,
        bounds,
        bucket_counts,
        min,
        max,
        ..
    } = h.kind()
    else {
        unreachable!()
    };
    assert_eq!(count, 7);
    assert_eq!(bounds, DURATION_BOUNDS_S.to_vec());
    assert_eq!(bucket_counts.len(), bounds.len() + 1);
    let mut want = vec![0u64; bounds.len() + 1];
    want[0] = 2;
    want[1] = 1;
    want[5] = 1;
    want[11] = 1;
    want[12] = 2;
    assert_eq!(bucket_counts, want);
    assert_eq!((min, max), (Some(0.0), Some(1e9)));
}

#[test]
fn bad_or_missing_durations_count_the_query_but_stay_out_of_the_histogram() {
    let db = resource("db-1");
    let mut agg = Aggregator::new();
    agg.observe(&db, &query(MINUTE, "A", Some(-5.0)));
    agg.observe(&db, &query(MINUTE, "A", Some(f64::NAN)));
    agg.observe(&db, &query(MINUTE, "A", Some(f64::INFINITY)));
    agg.observe(&db, &query(MINUTE, "A", None));
    let mut text = query(MINUTE, "A", None);
    text.attributes.insert(keys::DB_QUERY_DURATION_MS, "12 ms");
    agg.observe(&db, &text);
    agg.observe(&db, &query(MINUTE, "B", None));
    assert_eq!(agg.bad_durations, 4);
    let points = agg.points(10);
    assert_eq!(count_of(&points, "A", MINUTE), Some(5));
    assert!(find(&points, names::QUERY_DURATION, "A", MINUTE).is_none());
    agg = Aggregator::new();
    agg.observe(&db, &query(MINUTE, "A", Some(2000.0)));
    agg.observe(&db, &query(MINUTE, "A", Some(-1.0)));
    let points = agg.points(10);
    let h = find(&points, names::QUERY_DURATION, "A", MINUTE).unwrap();
    assert_eq!(h.unit, "s");
    assert!(matches!(h.kind, Kind::Histogram { count: 1, sum, .. } if sum == 2.0));
    // A record without fingerprint is no query.
    let mut agg = Aggregator::new();
    agg.observe(
        &db,
        &record(MINUTE, &[(keys::DB_QUERY_DURATION_MS, Value::Double(3.0))]),
    );
    assert!(agg.is_empty());
    assert!(agg.points(10).is_empty());
}

#[test]
fn slow_log_rows_and_lock_time_are_summed() {
    let db = resource("db-1");
    let mut agg = Aggregator::new();
    for (sent, examined, lock_ms) in [(1i64, 10i64, 0.5f64), (2, 20, 1.5)] {
        let mut r = query(MINUTE, "A", Some(10.0));
        r.attributes.insert(keys::MYSQL_ROWS_SENT, sent);
        r.attributes.insert(keys::MYSQL_ROWS_EXAMINED, examined);
        r.attributes.insert(keys::MYSQL_LOCK_TIME_MS, lock_ms);
        agg.observe(&db, &r);
    }
    agg.observe(&db, &query(MINUTE, "B", Some(1.0)));
    let points = agg.points(10);
    assert_eq!(
        int(find(&points, names::QUERY_ROWS_SENT, "A", MINUTE).unwrap()),
        3
    );
    assert_eq!(
        int(find(&points, names::QUERY_ROWS_EXAMINED, "A", MINUTE).unwrap()),
        30
    );
    let lock = find(&points, names::QUERY_LOCK_TIME, "A", MINUTE).unwrap();
    assert!(
        matches!(lock.kind, Kind::Sum { value: Number::Double(v), .. } if (v - 0.002).abs() < 1e-12)
    );
    // PostgreSQL statements carry none of them: no such points.
    assert!(find(&points, names::QUERY_ROWS_SENT, "B", MINUTE).is_none());
    assert!(find(&points, names::QUERY_LOCK_TIME, "B", MINUTE).is_none());
}

#[test]
fn errors_by_code_and_band_with_codes_bounded() {
    let db = resource("db-1");
    let mut agg = Aggregator::new();
    let err = |code: Option<&str>, sev: Severity| {
        let mut r = record(MINUTE, &[]);
        if let Some(c) = code {
            r.attributes.insert(keys::DB_RESPONSE_STATUS_CODE, c);
        }
        r.severity = sev;
        r
    };
    let error = || Severity::new_static("ERROR", severity::ERROR);
    for _ in 0..3 {
        agg.observe(&db, &err(Some("23505"), error()));
    }
    agg.observe(&db, &err(Some("42P01"), error()));
    agg.observe(
        &db,
        &err(
            Some("57P01"),
            Severity::new_static("FATAL", severity::FATAL),
        ),
    );
    agg.observe(&db, &err(None, error()));
    // Not errors: a warning with a code, a note.
    agg.observe(
        &db,
        &err(
            Some("01000"),
            Severity::new_static("WARNING", severity::WARN),
        ),
    );
    agg.observe(&db, &err(None, Severity::info()));
    // A failed audit operation is one, at its INFO level.
    let mut audit = record(
        MINUTE,
        &[(keys::MYSQL_AUDIT_OPERATION, Value::from("QUERY"))],
    );
    audit.attributes.insert(keys::MYSQL_AUDIT_RETCODE, 1146i64);
    audit
        .attributes
        .insert(keys::DB_RESPONSE_STATUS_CODE, "1146");
    agg.observe(&db, &audit);
    let points = agg.points(1);
    let errors: Vec<(Option<&str>, &str, i64)> = points
        .iter()
        .filter(|p| p.name == names::LOG_ERRORS)
        .map(|p| {
            (
                p.attributes.get_str(keys::DB_RESPONSE_STATUS_CODE),
                p.attributes.get_str(keys::RDS_LOG_SEVERITY).unwrap(),
                int(p),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (None, "ERROR", 1),
            (Some("23505"), "ERROR", 3),
            (Some(OTHER), "ERROR", 1),
            (Some(OTHER), "FATAL", 1),
            (Some(OTHER), "INFO", 1),
        ]
    );
}

#[test]
fn connections_auth_failures_and_disconnections() {
    let db = resource("db-1");
    let mut agg = Aggregator::new();
    let pg = |event: &str| {
        record(
            MINUTE,
            &[
                (keys::PARSER, Value::from("postgresql")),
                (keys::PG_EVENT, Value::from(event)),
            ],
        )
    };
    agg.observe(&db, &pg("connection_received"));
    agg.observe(&db, &pg("connection_authorized"));
    agg.observe(&db, &pg("disconnection"));
    let mut failed = record(MINUTE, &[(keys::PARSER, Value::from("postgresql"))]);
    failed.severity = Severity::new_static("FATAL", severity::FATAL);
    failed.body = "FATAL:  password authentication failed for user \"app\"".to_owned();
    agg.observe(&db, &failed);
    let audit = |op: &str, rc: i64| {
        record(
            MINUTE,
            &[
                (keys::MYSQL_AUDIT_OPERATION, Value::from(op)),
                (keys::MYSQL_AUDIT_RETCODE, Value::Int(rc)),
            ],
        )
    };
    agg.observe(&db, &audit("CONNECT", 0));
    agg.observe(&db, &audit("FAILED_CONNECT", 1045));
    agg.observe(&db, &audit("CONNECT", 1045));
    agg.observe(&db, &audit("DISCONNECT", 0));
    let general = |command: &str, body: &str| {
        let mut r = record(
            MINUTE,
            &[
                (keys::PARSER, Value::from("mysql_general")),
                (keys::MYSQL_COMMAND, Value::from(command)),
            ],
        );
        r.body = body.to_owned();
        r
    };
    agg.observe(&db, &general("Connect", "7 Connect\tweb@127.0.0.1 on shop"));
    agg.observe(
        &db,
        &general(
            "Connect",
            "8 Connect\tAccess denied for user 'x'@'h' (using password: YES)",
        ),
    );
    agg.observe(&db, &general("Quit", "7 Quit"));
    agg.observe(&db, &general("Query", "7 Query\tselect 1"));
    let mut sqlserver = record(
        MINUTE,
        &[(keys::DB_RESPONSE_STATUS_CODE, Value::from("18456"))],
    );
    sqlserver.severity = Severity::new_static("Error", severity::ERROR);
    agg.observe(&db, &sqlserver);
    let points = agg.points(10);
    let got: BTreeMap<&str, i64> = points
        .iter()
        .filter(|p| p.name == names::CONNECTION_EVENTS)
        .map(|p| {
            (
                p.attributes.get_str(keys::RDS_CONNECTION_EVENT).unwrap(),
                int(p),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("auth_failure", 5), ("connect", 3), ("disconnect", 3)]
            .into_iter()
            .collect()
    );
}

#[test]
fn checkpoint_and_autovacuum_durations() {
    let db = resource("db-1");
    let mut agg = Aggregator::new();
    let pg = |event: &str, key: PlainKey, s: f64| {
        record(
            MINUTE,
            &[
                (keys::PG_EVENT, Value::from(event)),
                (key, Value::Double(s)),
            ],
        )
    };
    agg.observe(
        &db,
        &pg("checkpoint_complete", keys::PG_CHECKPOINT_TOTAL_S, 40.9),
    );
    agg.observe(
        &db,
        &pg("checkpoint_complete", keys::PG_CHECKPOINT_TOTAL_S, 0.2),
    );
    agg.observe(
        &db,
        &pg("restartpoint_complete", keys::PG_CHECKPOINT_TOTAL_S, 1.0),
    );
    agg.observe(&db, &pg("autovacuum", keys::PG_ELAPSED_S, 0.07));
    agg.observe(&db, &pg("autoanalyze", keys::PG_ELAPSED_S, 0.0));
    // Starting a checkpoint has no duration; a bad one is left out.
    agg.observe(
        &db,
        &pg("checkpoint_starting", keys::PG_CHECKPOINT_TOTAL_S, 3.0),
    );
    agg.observe(&db, &pg("autovacuum", keys::PG_ELAPSED_S, -1.0));
    let points = agg.points(10);
    let got: Vec<(&str, &str, u64, f64)> = points
        .iter()
        .filter_map(|p| match p.kind {
            Kind::Histogram { count, max, .. } => Some((
                p.name.as_str(),
                p.attributes.get_str(keys::PG_EVENT).unwrap(),
                count,
                max.unwrap(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        [
            (names::AUTOVACUUM_DURATION, "autoanalyze", 1, 0.0),
            (names::AUTOVACUUM_DURATION, "autovacuum", 1, 0.07),
            (names::CHECKPOINT_DURATION, "checkpoint_complete", 2, 40.9),
            (names::CHECKPOINT_DURATION, "restartpoint_complete", 1, 1.0),
        ]
    );
}

#[test]
fn a_long_fingerprint_is_cut_at_a_character_boundary() {
    let db = resource("db-1");
    let mut agg = Aggregator::new();
    let long = format!("select '{}'", "é".repeat(300));
    agg.observe(
        &db,
        &record(
            MINUTE,
            &[
                (keys::DB_QUERY_FINGERPRINT_ID, Value::from("A")),
                (keys::DB_QUERY_FINGERPRINT, Value::from(long.as_str())),
            ],
        ),
    );
    let points = agg.points(1);
    let text = points[0]
        .attributes
        .get_str(keys::DB_QUERY_FINGERPRINT)
        .unwrap();
    assert!(text.len() <= MAX_FINGERPRINT_TEXT && text.len() >= MAX_FINGERPRINT_TEXT - 1);
    assert!(long.starts_with(text));
}

#[test]
fn past_the_tracking_bound_new_fingerprints_go_to_other() {
    let db = resource("db-1");
    let mut agg = Aggregator::new();
    for i in 0..MAX_TRACKED {
        agg.observe(&db, &query(MINUTE, &format!("F{i}"), None));
    }
    // A tracked one still counts as itself; new ones are `other` at once.
    agg.observe(&db, &query(MINUTE, "F0", Some(1.0)));
    agg.observe(&db, &query(MINUTE, "NEW1", Some(2.0)));
    agg.observe(&db, &query(MINUTE, "NEW2", None));
    agg.observe(&db, &query(MINUTE + 60 * S, "NEW1", None));
    assert_eq!(agg.queries.len(), MAX_TRACKED);
    let points = agg.points(1);
    assert_eq!(count_of(&points, "F0", MINUTE), Some(2));
    assert_eq!(
        count_of(&points, OTHER, MINUTE),
        Some((MAX_TRACKED - 1 + 2) as i64)
    );
    assert_eq!(count_of(&points, OTHER, MINUTE + 60 * S), Some(1));
    let total: i64 = points
        .iter()
        .filter(|p| p.name == names::QUERY_COUNT)
        .map(int)
        .sum();
    assert_eq!(total, MAX_TRACKED as i64 + 4);
    assert!(points
        .iter()
        .all(|p| p.attributes.get_str(keys::DB_QUERY_FINGERPRINT_ID) != Some("NEW1")));
}

/// A batch of many log groups (an account-level subscription through
/// Kinesis) stays linear: resources were found by scanning every earlier
/// one, and points sorted by scanning for their resource — quadratic in
/// the number of log groups. 8× the groups must cost at most 32× (best of
/// three, this thread's CPU time), which a quadratic step (64×) cannot
/// meet. Each group is a fresh `Arc` of distinct content, and every second
/// one a second `Arc` of the previous content, which must land in the same
/// series.
#[test]
fn many_log_groups_cost_linear_time() {
    let run = |groups: usize| {
        let resources: Vec<Resource> = (0..groups)
            .map(|i| resource(&format!("db-{}", i / 2)))
            .collect();
        let records = [query(MINUTE, "A", Some(1.0))];
        let started = cpu_time::ThreadTime::now();
        let mut agg = Aggregator::new();
        for r in &resources {
            agg.observe_all(r, &records);
        }
        let points = agg.points(20);
        let spent = started.elapsed();
        let counts: Vec<_> = points
            .iter()
            .filter(|p| p.name == names::QUERY_COUNT)
            .collect();
        assert_eq!(counts.len(), groups / 2);
        assert!(counts.iter().all(|p| int(p) == 2));
        spent
    };
    let best = |groups| (0..3).map(|_| run(groups)).min().unwrap();
    let (small, large) = (best(2_000), best(16_000));
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-9);
    println!("query metrics: 2,000 groups {small:?}, 16,000 groups {large:?}, ratio {ratio:.1}");
    assert!(ratio < 32.0, "8x the log groups cost {ratio:.1}x the time");
}
