//! Query metrics from the logs (`RDSF_METRICS=queries`), end to end: the
//! MariaDB slow log of the corpus (shared set when present, else the in-repo
//! excerpt) as CloudWatch payloads → processing → metric points, whose
//! per-fingerprint counts, summed over the minutes, must equal the classes
//! `pt-query-digest` (run here, on the very log the payloads were made from)
//! finds, and whose durations, rows and lock times must equal its sums and
//! maxima. Then the bound: with a small top N the `other` series carries the
//! rest and the totals still match.

use crate::delivery_support;
use crate::golib_tagcount::{self, same};
use crate::mysql_corpus;
use crate::mysql_support::{corpus_dir, fixtures_dir, split_restart_merges};

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use rds_forwarder::pipeline::Pipeline;
use rdsf_core::metric::{Kind, MetricPoint, Number};
use rdsf_core::query_metrics::{names, OTHER};
use rdsf_core::record::keys;
use rdsf_core::sql::fingerprint_id;
use serde_json::Value as Json;

fn slow_log_path() -> PathBuf {
    match corpus_dir() {
        Some(c) => c.join("raw/mariadb-slow.log"),
        None => fixtures_dir().join("mariadb-slow.log"),
    }
}

/// pt-query-digest's classes of the slow log, run now: fingerprint → class.
fn pt_query_digest() -> BTreeMap<String, Json> {
    let out = std::process::Command::new("pt-query-digest")
        .args(["--limit", "100%:100000", "--output", "json"])
        .arg(slow_log_path())
        .output()
        .expect("pt-query-digest runs (percona-toolkit; scripts/deps/parse-mysql.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Json = serde_json::from_slice(&out.stdout).expect("pt JSON");
    v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["fingerprint"].as_str().unwrap().to_owned(), c.clone()))
        .collect()
}

/// With a fixed region: other tests of this binary set `AWS_REGION`, which
/// the resource (and so the WhaTap tags) would otherwise follow.
fn pipeline(top: usize) -> Pipeline {
    delivery_support::build(&[
        "--region",
        "us-east-1",
        "--metrics",
        "queries",
        "--query-metrics-top",
        &top.to_string(),
    ])
    .0
}

/// Every payload of the slow log, one batch each: the points of each batch.
fn batches(top: usize) -> Vec<Vec<MetricPoint>> {
    let source = mysql_corpus::load("slowquery");
    let pipeline = pipeline(top);
    source
        .payloads
        .iter()
        .map(|payload| {
            let processed = pipeline.process(payload, 0);
            assert!(processed.failures.is_empty(), "{:?}", processed.failures);
            processed.metrics
        })
        .collect()
}

fn int(p: &MetricPoint) -> i64 {
    match p.kind {
        Kind::Sum {
            value: Number::Int(v),
            ..
        } => v,
        ref k => panic!("{}: {k:?}", p.name),
    }
}

fn double(p: &MetricPoint) -> f64 {
    match p.kind {
        Kind::Sum {
            value: Number::Double(v),
            ..
        } => v,
        ref k => panic!("{}: {k:?}", p.name),
    }
}

fn id_of(p: &MetricPoint) -> &str {
    p.attributes
        .get_str(keys::DB_QUERY_FINGERPRINT_ID)
        .expect("a query point names its fingerprint id")
}

/// A pt metric (`"0.035637"`) as a number.
fn pt_number(class: &Json, metric: &str, stat: &str) -> f64 {
    class["metrics"][metric][stat]
        .as_str()
        .unwrap_or_else(|| panic!("{metric}.{stat} in {class}"))
        .parse()
        .unwrap()
}

/// Per fingerprint id over every batch and minute: (count, duration count,
/// duration sum, duration max, rows sent, rows examined, lock time).
#[derive(Debug, Default)]
struct Totals {
    count: i64,
    timed: u64,
    seconds: f64,
    max: f64,
    sent: i64,
    examined: i64,
    lock_s: f64,
}

fn totals(batches: &[Vec<MetricPoint>]) -> BTreeMap<String, Totals> {
    let mut t: BTreeMap<String, Totals> = BTreeMap::new();
    for p in batches.iter().flatten() {
        if !p.name.starts_with("aws.rds.query.") {
            continue;
        }
        let e = t.entry(id_of(p).to_owned()).or_default();
        match p.name.as_str() {
            names::QUERY_COUNT => e.count += int(p),
            names::QUERY_ROWS_SENT => e.sent += int(p),
            names::QUERY_ROWS_EXAMINED => e.examined += int(p),
            names::QUERY_LOCK_TIME => e.lock_s += double(p),
            names::QUERY_DURATION => match &p.kind {
                Kind::Histogram {
                    count,
                    sum,
                    max,
                    bucket_counts,
                    ..
                } => {
                    assert_eq!(bucket_counts.iter().sum::<u64>(), *count);
                    e.timed += count;
                    e.seconds += sum;
                    e.max = e.max.max(max.unwrap());
                }
                k => panic!("{k:?}"),
            },
            other => panic!("unexpected {other}"),
        }
    }
    t
}

fn close(a: f64, b: f64, what: &str) {
    // pt prints six decimals; ours are sums of the same microseconds.
    assert!(
        (a - b).abs() <= 1e-6 * b.abs().max(1.0),
        "{what}: ours {a} pt-query-digest {b}"
    );
}

#[test]
fn slow_log_counts_per_fingerprint_equal_pt_query_digest() {
    let classes = pt_query_digest();
    let mut expected: BTreeMap<String, usize> = classes
        .iter()
        .map(|(fp, c)| (fp.clone(), c["query_count"].as_u64().unwrap() as usize))
        .collect();
    // The one known difference (see mysql_corpus): pt merges the two entries
    // around the restart header into one odd class; we keep both. Their
    // classes' sums are not comparable, their counts are.
    let halves = split_restart_merges(&mut expected);
    assert_eq!(halves.len(), 1, "one class spans the restart header");
    let split: BTreeSet<String> = halves
        .iter()
        .flat_map(|(a, b)| [fingerprint_id(a), fingerprint_id(b)])
        .collect();
    let expected_ids: BTreeMap<String, usize> = expected
        .iter()
        .map(|(fp, n)| (fingerprint_id(fp), *n))
        .collect();

    let batches = batches(1000);
    let ours = totals(&batches);
    let our_counts: BTreeMap<String, usize> = ours
        .iter()
        .map(|(id, t)| (id.clone(), t.count as usize))
        .collect();
    assert!(
        !our_counts.contains_key(OTHER),
        "no class is left out at N = 1000"
    );
    assert_eq!(our_counts, expected_ids, "per-fingerprint counts");

    let mut compared = 0;
    for (fp, class) in &classes {
        let id = fingerprint_id(fp);
        if split.contains(&id) || fp.contains("started with:") {
            continue;
        }
        let t = &ours[&id];
        let n = class["query_count"].as_u64().unwrap();
        assert_eq!(t.timed, n, "{fp}: every slow-log entry has a duration");
        close(
            t.seconds,
            pt_number(class, "Query_time", "sum"),
            &format!("{fp} Query_time sum"),
        );
        close(
            t.max,
            pt_number(class, "Query_time", "max"),
            &format!("{fp} Query_time max"),
        );
        close(
            t.lock_s,
            pt_number(class, "Lock_time", "sum"),
            &format!("{fp} Lock_time sum"),
        );
        assert_eq!(
            t.sent as f64,
            pt_number(class, "Rows_sent", "sum"),
            "{fp} Rows_sent"
        );
        assert_eq!(
            t.examined as f64,
            pt_number(class, "Rows_examined", "sum"),
            "{fp} Rows_examined"
        );
        compared += 1;
    }
    let points: usize = batches.iter().map(Vec::len).sum();
    let minutes: BTreeSet<i64> = batches
        .iter()
        .flatten()
        .filter_map(|p| p.start_time_ns)
        .collect();
    println!(
        "query metrics vs pt-query-digest on {}: {} fingerprints, {} entries, counts equal; sums/max equal for {compared} \
         classes; {points} points in {} batches over {} minutes",
        slow_log_path().display(),
        our_counts.len(),
        our_counts.values().sum::<usize>(),
        batches.len(),
        minutes.len()
    );
    assert!(compared + 3 >= classes.len());
}

#[test]
fn a_small_bound_keeps_the_top_fingerprints_and_other_carries_the_rest() {
    const TOP: usize = 3;
    let all = batches(1000);
    let bounded = batches(TOP);
    assert_eq!(all.len(), bounded.len());
    let mut had_other = 0;
    for (b, (full, small)) in all.iter().zip(&bounded).enumerate() {
        // Per minute and id, in this batch.
        let counts = |points: &[MetricPoint]| -> BTreeMap<(i64, String), i64> {
            let mut m = BTreeMap::new();
            for p in points.iter().filter(|p| p.name == names::QUERY_COUNT) {
                *m.entry((p.start_time_ns.unwrap(), id_of(p).to_owned()))
                    .or_default() += int(p);
            }
            m
        };
        let (full, small) = (counts(full), counts(small));
        let kept: BTreeSet<&str> = small
            .keys()
            .map(|(_, id)| id.as_str())
            .filter(|id| *id != OTHER)
            .collect();
        assert!(kept.len() <= TOP, "batch {b}: {kept:?}");
        // The kept ones are the batch's most frequent.
        let mut per_id: BTreeMap<&str, i64> = BTreeMap::new();
        for ((_, id), n) in &full {
            *per_id.entry(id).or_default() += n;
        }
        let least_kept = kept.iter().map(|id| per_id[id]).min().unwrap_or(i64::MAX);
        for (id, n) in &per_id {
            if !kept.contains(id) {
                assert!(
                    *n <= least_kept,
                    "batch {b}: {id} ({n}) left out of {kept:?}"
                );
            }
        }
        // Kept series are unchanged; `other` is the sum of the rest, minute by minute.
        let mut rest: BTreeMap<i64, i64> = BTreeMap::new();
        for ((minute, id), n) in &full {
            if kept.contains(id.as_str()) {
                assert_eq!(small.get(&(*minute, id.clone())), Some(n), "batch {b} {id}");
            } else {
                *rest.entry(*minute).or_default() += n;
            }
        }
        let others: BTreeMap<i64, i64> = small
            .iter()
            .filter(|((_, id), _)| id == OTHER)
            .map(|((m, _), n)| (*m, *n))
            .collect();
        assert_eq!(others, rest, "batch {b}: other per minute");
        had_other += usize::from(!others.is_empty());
    }
    assert!(had_other > 0, "the bound was reached at least once");
    let total = |batches: &[Vec<MetricPoint>]| -> i64 {
        batches
            .iter()
            .flatten()
            .filter(|p| p.name == names::QUERY_COUNT)
            .map(int)
            .sum()
    };
    assert_eq!(total(&bounded), total(&all));
    let series = |batches: &[Vec<MetricPoint>]| batches.iter().map(Vec::len).sum::<usize>();
    println!(
        "top {TOP}: {} points (every fingerprint: {}); {had_other} of {} batches had an `other` series; {} queries either way",
        series(&bounded),
        series(&all),
        all.len(),
        total(&all)
    );
}

#[test]
fn query_metrics_are_off_by_default_and_leave_records_unchanged() {
    let source = mysql_corpus::load("slowquery");
    let default = delivery_support::build(&["--region", "us-east-1"]).0;
    let on = pipeline(20);
    let payload = &source.payloads[0];
    let plain = default.process(payload, 0);
    let with = on.process(payload, 0);
    assert!(plain.metrics.is_empty(), "no points unless asked");
    assert!(!with.metrics.is_empty());
    assert_eq!(
        plain.records, with.records,
        "records are the same either way"
    );
    assert!(with
        .metrics
        .iter()
        .all(|p| p.resource == *with.records.resource_of(0)));
}

/// The in-repo corpus payloads (slow, audit, general logs; the PostgreSQL
/// subset with its errors, checkpoints and autovacuum): every family of
/// query metric shows in them.
fn mixed_payloads() -> Vec<Vec<u8>> {
    let dir = delivery_support::manifest_dir();
    let root = dir.join("tests/data/corpus/payloads");
    let mut out =
        vec![std::fs::read(dir.join("tests/data/parse/pg/postgresql-subset.json")).unwrap()];
    for folder in ["maria-slowquery", "maria-audit", "maria-general"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        out.extend(files.iter().map(|f| std::fs::read(f).unwrap()));
    }
    out
}

/// A point as the Python receiver shows it, from our side.
fn as_received(p: &MetricPoint) -> (String, Json) {
    use crate::otlp_decoder::typed_attributes;
    use serde_json::json;
    let times = (p.start_time_ns.unwrap().to_string(), p.time_ns.to_string());
    let attrs = typed_attributes(&p.attributes);
    let value = match &p.kind {
        Kind::Sum {
            value: Number::Int(v),
            ..
        } => json!({ "i": v.to_string() }),
        Kind::Sum {
            value: Number::Double(v),
            ..
        } => json!({ "d": v }),
        Kind::Histogram {
            count,
            sum,
            min,
            max,
            bounds,
            bucket_counts,
            ..
        } => json!({
            "count": count.to_string(), "sum": sum, "min": min, "max": max,
            "explicit_bounds": bounds,
            "bucket_counts": bucket_counts.iter().map(u64::to_string).collect::<Vec<_>>(),
        }),
        k => panic!("{k:?}"),
    };
    let group = typed_attributes(&p.resource)
        .into_iter()
        .find(|kv| kv[0] == keys::AWS_LOG_GROUP_NAMES.as_str())
        .expect("a log group");
    let key = format!(
        "{} {} {} {} {}",
        group[1],
        p.name,
        times.0,
        times.1,
        json!(attrs)
    );
    (key, value)
}

#[tokio::test]
async fn query_points_are_decoded_by_the_official_otlp_package() {
    use crate::otlp_decoder::{typed_attributes, Receiver};
    use std::time::{Duration, Instant};
    for protocol in ["http/protobuf", "http/json"] {
        let receiver = Receiver::start();
        let endpoint = format!("http://127.0.0.1:{}", receiver.port);
        let (pipeline, sinks) = delivery_support::build(&[
            "--otlp-endpoint",
            &endpoint,
            "--otlp-protocol",
            protocol,
            "--metrics",
            "queries",
        ]);
        let (mut points, mut families, mut seen_requests) = (0, BTreeSet::new(), 0);
        for payload in mixed_payloads() {
            // One payload at a time: two batches may each send a point of one
            // minute and fingerprint (deltas), so they are compared apart.
            let processed = pipeline.process(&payload, 0);
            let mut expected: BTreeMap<String, Json> = BTreeMap::new();
            let mut resources = Vec::new();
            for p in &processed.metrics {
                let (key, value) = as_received(p);
                assert!(
                    expected.insert(key.clone(), value).is_none(),
                    "one point per key: {key}"
                );
                resources.push(typed_attributes(&p.resource));
                families.insert(p.name.clone());
            }
            let outcome = pipeline
                .run(&payload, &sinks, Instant::now() + Duration::from_secs(30))
                .await;
            assert!(!outcome.stats.failed(), "{:?}", outcome.failures);
            assert_eq!(outcome.stats.metric_points, processed.metrics.len());
            assert_eq!(
                outcome.stats.metric_points_delivered,
                processed.metrics.len()
            );

            let requests = receiver.requests();
            let mut got: BTreeMap<String, Json> = BTreeMap::new();
            for req in &requests[seen_requests..] {
                assert!(
                    req.get("error").is_none(),
                    "the official decoder refused: {req}"
                );
                let Some(rms) = req["resource_metrics"].as_array() else {
                    continue;
                };
                for rm in rms {
                    let resource = rm["resource"].as_array().unwrap();
                    assert!(
                        resources.iter().any(|r| resource.starts_with(r)),
                        "a resource we sent: {resource:?}"
                    );
                    let group = resource
                        .iter()
                        .find(|kv| kv[0] == keys::AWS_LOG_GROUP_NAMES.as_str())
                        .expect("a log group");
                    for m in rm["metrics"].as_array().unwrap() {
                        let name = m["name"].as_str().unwrap();
                        match m["type"].as_str().unwrap() {
                            "sum" => {
                                assert_eq!(m["monotonic"], true, "{name}");
                                assert_eq!(m["temporality"], 1, "{name}: delta");
                            }
                            "histogram" => assert_eq!(m["temporality"], 1, "{name}: delta"),
                            other => panic!("{name}: {other}"),
                        }
                        assert!(!m["unit"].as_str().unwrap().is_empty(), "{name} has a unit");
                        for p in m["points"].as_array().unwrap() {
                            let key = format!(
                                "{} {name} {} {} {}",
                                group[1],
                                p["start_time_unix_nano"].as_str().unwrap(),
                                p["time_unix_nano"].as_str().unwrap(),
                                p["attributes"]
                            );
                            let value = match p.get("value") {
                                Some(v) => v.clone(),
                                None => serde_json::json!({
                                    "count": p["count"], "sum": p["sum"], "min": p["min"], "max": p["max"],
                                    "explicit_bounds": p["explicit_bounds"], "bucket_counts": p["bucket_counts"],
                                }),
                            };
                            assert!(got.insert(key.clone(), value).is_none(), "{key} twice");
                        }
                    }
                }
            }
            seen_requests = requests.len();
            assert_eq!(
                got.len(),
                expected.len(),
                "{protocol}: every point arrived once"
            );
            for (key, want) in &expected {
                let have = got
                    .get(key)
                    .unwrap_or_else(|| panic!("{protocol}: {key} missing"));
                assert!(
                    same(have, want),
                    "{protocol}: {key}: got {have} want {want}"
                );
            }
            points += got.len();
        }
        for name in [
            names::QUERY_COUNT,
            names::QUERY_DURATION,
            names::QUERY_ROWS_SENT,
            names::QUERY_ROWS_EXAMINED,
            names::QUERY_LOCK_TIME,
            names::LOG_ERRORS,
            names::CONNECTION_EVENTS,
            names::CHECKPOINT_DURATION,
            names::AUTOVACUUM_DURATION,
        ] {
            assert!(
                families.contains(name),
                "the corpus shows {name}: {families:?}"
            );
        }
        println!(
            "{protocol}: {} query-metric points of {} metrics decoded by opentelemetry-proto",
            points,
            families.len()
        );
    }
}

/// Where the golib-made frames of query-metric packs are kept, and how they
/// were made: `tests/data/whatap/vectors/tagcount-query/README.md`.
fn golib_cases_path() -> PathBuf {
    delivery_support::manifest_dir().join("tests/data/whatap/vectors/tagcount-query/cases.json")
}

/// The query-metric packs of the in-repo payloads, with top 3: each named,
/// as the golib generator's input, and our frame.
fn query_packs() -> Vec<(String, Json, String)> {
    let mapping = golib_tagcount::mapping();
    let pipeline = pipeline(3);
    let mut out = Vec::new();
    for payload in mixed_payloads() {
        let points = pipeline.process(&payload, 0).metrics;
        for mut pack in mapping.metric_packs(&points) {
            let name = format!("query_pack_{:02}", out.len());
            let input = golib_tagcount::generator_input(&pack);
            out.push((name, input, golib_tagcount::frame_hex(&mapping, &mut pack)));
        }
    }
    out
}

/// Our TagCountPacks of query metrics, byte for byte what golib's own
/// `TagCountPack.Write` and `OneWayTcpClient` send for the same input (the
/// frames were captured from golib on a loopback socket). With
/// `RDSF_WRITE_QUERY_VECTOR_INPUT=<file>` it writes the generator's input
/// instead (and fails, so a run that only writes cannot pass).
#[test]
fn query_metric_packs_match_golib_frames_byte_for_byte() {
    let packs = query_packs();
    golib_tagcount::check_against_golib(
        &golib_cases_path(),
        "RDSF_WRITE_QUERY_VECTOR_INPUT",
        &packs,
    );
    let categories: BTreeSet<&str> = packs
        .iter()
        .map(|(_, input, _)| input["category"].as_str().unwrap())
        .collect();
    assert_eq!(
        categories,
        BTreeSet::from([
            "rds_connection",
            "rds_error",
            "rds_maintenance",
            "rds_query"
        ]),
        "every log-derived family"
    );
    println!(
        "{} query-metric TagCountPacks equal golib's frames byte for byte ({categories:?})",
        packs.len()
    );
}

/// A payload streamed in chunks of a few events gives the points the whole
/// path gives: the document's sums follow it across chunks and go out once,
/// with its last chunk (a minute split across chunks is one point).
#[test]
fn streamed_payloads_give_the_same_points_as_whole_ones() {
    use rds_forwarder::pipeline::StreamOptions;
    use rdsf_core::input::stream::ChunkLimits;
    let mut payloads = mixed_payloads();
    payloads.push(mysql_corpus::load("slowquery").payloads.swap_remove(0));
    let whole = pipeline(5);
    let streamed = pipeline(5).with_stream_options(StreamOptions {
        threshold_bytes: 0,
        chunk: ChunkLimits {
            events: 7,
            bytes: usize::MAX,
        },
        ..StreamOptions::default()
    });
    let mut compared = 0;
    for payload in &payloads {
        let a = whole.process(payload, 0);
        let b = streamed
            .process_streamed(payload, 0)
            .expect("streamed with a zero threshold");
        assert_eq!(a.records.len(), b.records.len());
        assert!(!a.metrics.is_empty());
        assert_eq!(a.metrics, b.metrics, "same points, same order");
        compared += a.metrics.len();
    }
    println!(
        "streamed = whole: {compared} points over {} payloads",
        payloads.len()
    );
}

/// On the PostgreSQL log (shared corpus when present, else the in-repo
/// excerpt), which spans several minutes: each count point is the number of
/// records of its fingerprint whose own timestamp falls in its minute, and
/// the errors and connection events are the records' too.
#[test]
fn postgresql_counts_per_minute_equal_the_records() {
    let source = mysql_corpus::load("pg");
    let pipeline = pipeline(1000);
    let (mut from_records, mut from_points) = (BTreeMap::new(), BTreeMap::new());
    let (mut errors, mut error_points) = (0i64, 0i64);
    for payload in &source.payloads {
        let out = pipeline.process(payload, 0);
        for r in out.records.iter() {
            let minute = r.timestamp_ns.div_euclid(60_000_000_000) * 60_000_000_000;
            if let Some(id) = r.attributes.get_str(keys::DB_QUERY_FINGERPRINT_ID) {
                *from_records.entry((minute, id.to_owned())).or_insert(0i64) += 1;
            }
            errors += i64::from(r.severity.number >= 17);
        }
        for p in &out.metrics {
            match p.name.as_str() {
                names::QUERY_COUNT => {
                    *from_points
                        .entry((p.start_time_ns.unwrap(), id_of(p).to_owned()))
                        .or_insert(0i64) += int(p);
                    assert_eq!(p.time_ns - p.start_time_ns.unwrap(), 60_000_000_000);
                }
                names::LOG_ERRORS => error_points += int(p),
                _ => {}
            }
        }
    }
    let minutes: BTreeSet<i64> = from_records.keys().map(|(m, _)| *m).collect();
    assert!(minutes.len() > 1, "the log spans minutes");
    assert_eq!(from_points, from_records);
    assert_eq!(error_points, errors);
    println!(
        "postgresql: {} statements in {} (minute, fingerprint) series over {} minutes; {errors} errors",
        from_records.values().sum::<i64>(),
        from_records.len(),
        minutes.len()
    );
}
