//! The streamed path (big CloudWatch payloads, chunk by chunk) gives what the
//! whole-document path gives: same NDJSON, same order, same counts. Chunks
//! are forced down to a few events so every join, malformed event and
//! document boundary crosses chunk edges.

use crate::common;
use rdsf_testkit::payload::gzip;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;
use rds_forwarder::pipeline::{Pipeline, Processed, StreamOptions};
use rdsf_core::input::stream::ChunkLimits;
use rdsf_core::record::{RecordSet, ResourceRecords};
use rdsf_sinks::{BoxFuture, Sink, SinkError};

/// Streams every CloudWatch payload, `events` per chunk.
fn streaming(events: usize, join_lookback: usize, resource_lookahead: usize) -> Pipeline {
    pipeline().with_stream_options(StreamOptions {
        threshold_bytes: 0,
        chunk: ChunkLimits {
            events,
            bytes: usize::MAX,
        },
        join_lookback,
        resource_lookahead,
        hold_bytes: StreamOptions::default().hold_bytes,
    })
}

fn ndjson(records: &RecordSet) -> String {
    ndjson_batch(&records.all_groups())
}

fn ndjson_batch(batch: &[ResourceRecords<'_>]) -> String {
    let mut buf = Vec::new();
    rdsf_sinks::stdout::encode_ndjson_batch(batch, &mut buf);
    String::from_utf8(buf).unwrap()
}

fn assert_same(whole: &Processed, streamed: &Processed, what: &str) {
    assert_eq!(whole.stats, streamed.stats, "{what}: stats");
    assert_eq!(whole.malformed, streamed.malformed, "{what}: malformed");
    let reasons = |p: &Processed| p.failures.iter().map(|f| f.reason).collect::<Vec<_>>();
    assert_eq!(reasons(whole), reasons(streamed), "{what}: failures");
    let (a, b) = (ndjson(&whole.records), ndjson(&streamed.records));
    if a != b {
        let line = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(a.lines().count().min(b.lines().count()));
        panic!(
            "{what}: NDJSON differs at record {line}\nwhole:    {}\nstreamed: {}",
            a.lines().nth(line).unwrap_or("<none>"),
            b.lines().nth(line).unwrap_or("<none>")
        );
    }
}

/// Every corpus payload (in-repo subset, plus the shared corpus when
/// present), chunks of 3 events, one joined entry held back.
#[test]
fn the_corpus_streams_to_the_same_records_in_chunks_of_three() {
    // Production's resource lookahead: the engine named by the document's
    // first entries that name one (MariaDB's general log names it only on
    // lines that carry a time).
    // Fresh pipelines per file, like the whole path's `process`: a pipeline
    // remembers the engine a log group named (enrich::engine), and the two
    // paths must be compared from the same state.
    let p = || streaming(3, 1, StreamOptions::default().resource_lookahead);
    // No lookahead at all: the resource may then name the log type's engine
    // instead (the whole path looks at the whole document), nothing else.
    let eager = || streaming(3, 1, 0);
    for corpus in corpora() {
        let mut files = 0;
        let mut records = 0;
        for folder in std::fs::read_dir(corpus.join("payloads")).unwrap() {
            for file in json_files(&folder.unwrap().path()) {
                let bytes = std::fs::read(&file).unwrap();
                let whole = process(&bytes);
                let streamed = p()
                    .process_streamed(&bytes, OBSERVED_NS)
                    .unwrap_or_else(|| panic!("{}: not streamed", file.display()));
                assert_same(&whole, &streamed, &file.display().to_string());
                let mut eager = eager().process_streamed(&bytes, OBSERVED_NS).unwrap();
                eager.records = whole
                    .records
                    .with_resources()
                    .zip(eager.records.with_resources())
                    .map(|(w, e)| {
                        let mut resource = (**e.resource).clone();
                        for key in ["db.system.name", "aws.rds.engine_family"] {
                            match w.resource.get(key) {
                                Some(v) => resource.insert(key, v.clone()),
                                None => drop(resource.remove(key)),
                            }
                        }
                        (Arc::new(resource), e.record.clone())
                    })
                    .collect();
                assert_same(
                    &whole,
                    &eager,
                    &format!("{} (no lookahead)", file.display()),
                );
                files += 1;
                records += whole.records.len();
            }
        }
        eprintln!(
            "streamed: {} payloads, {records} records identical in {}",
            files,
            corpus.display()
        );
        assert!(files > 0 && records > 0, "{}", corpus.display());
    }
}

fn awslogs(json: &str) -> Vec<u8> {
    let data = base64::engine::general_purpose::STANDARD.encode(gzip(json.as_bytes()));
    format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#).into_bytes()
}

fn pg_event(id: usize, pid: u32, rest: &str) -> String {
    let message = format!(
        "2024-01-01 00:00:{:02} UTC:10.0.0.1(5432):app@db:[{pid}]:{rest}",
        id % 60
    );
    serde_json::json!({"id": format!("{id:04}"), "timestamp": 1_704_067_200_000i64 + id as i64, "message": message}).to_string()
}

/// Two PostgreSQL documents back to back (the second account-level, with
/// extracted fields): ERRORs whose STATEMENT/DETAIL lines follow after other
/// backends' lines, a malformed event in the middle, an empty message.
fn pg_payload() -> Vec<u8> {
    let [first, control, second] = pg_documents();
    awslogs(&format!("{first}\n{control}{second}"))
}

/// The documents of [`pg_payload`]: first, a control message, second.
fn pg_documents() -> [String; 3] {
    let mut events = Vec::new();
    for i in 0..40 {
        let id = events.len();
        // One backend per group of five lines; other backends' lines between.
        let pid = 100 + (i / 5 % 3);
        match i % 5 {
            0 => events.push(pg_event(
                id,
                pid,
                "ERROR:  relation \"t\" does not exist at character 15",
            )),
            1 => events.push(pg_event(
                id,
                pid + 1,
                "LOG:  duration: 1.5 ms  statement: SELECT 1",
            )),
            2 => events.push(pg_event(
                id,
                pid,
                "STATEMENT:  SELECT * FROM t WHERE a = 'secret'",
            )),
            3 => events.push(pg_event(id, pid, "DETAIL:  Key (id)=(1) already exists.")),
            _ => events.push(pg_event(id, pid + 7, "LOG:  checkpoint starting: time")),
        }
        if i == 17 {
            events.push(r#"{"id":"bad-1","timestamp":"not a number","message":"x"}"#.to_owned());
        }
        if i == 23 {
            events.push(
                serde_json::json!({"id": "empty", "timestamp": 1, "message": ""}).to_string(),
            );
        }
    }
    let header = r#""messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/rds/instance/db1/postgresql","logStream":"db1.0","subscriptionFilters":["rdsf"]"#;
    let first = format!(r#"{{{header},"logEvents":[{}]}}"#, events[..25].join(","));
    let extracted: Vec<String> = events[25..]
        .iter()
        .map(|e| {
            let mut v: serde_json::Value = serde_json::from_str(e).unwrap();
            v["extractedFields"] = serde_json::json!({"@aws.region": "us-east-1"});
            v.to_string()
        })
        .collect();
    let second = format!(
        r#"{{{header},"policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{}]}}"#,
        extracted.join(",")
    );
    let control = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination."}]}"#;
    [first, control.to_owned(), second]
}

#[test]
fn joins_malformed_events_and_documents_cross_chunk_edges_unchanged() {
    let bytes = pg_payload();
    let whole = process(&bytes);
    assert!(whole.failures.is_empty(), "{:?}", whole.failures);
    assert_eq!(whole.stats.malformed_events, 1);
    assert_eq!(whole.stats.control_messages_skipped, 1);
    let joined = whole
        .records
        .iter()
        .filter(|r| r.attributes.get("aws.cloudwatch.event_ids").is_some())
        .count();
    assert!(joined > 0, "the payload has joins to cross chunk edges");
    for events in 1..=7 {
        // Every STATEMENT/DETAIL line here is at most 3 entries after its ERROR.
        let streamed = streaming(events, 3, 2)
            .process_streamed(&bytes, OBSERVED_NS)
            .unwrap();
        assert_same(&whole, &streamed, &format!("chunks of {events}"));
    }
}

/// A sink that records what it got and fails from its `fail_from`-th call on.
struct Recording {
    calls: AtomicUsize,
    fail_from: usize,
    got: Mutex<Vec<String>>,
}

impl Sink for Recording {
    fn name(&self) -> &'static str {
        "recording"
    }

    fn send<'a>(
        &'a self,
        batch: &'a [ResourceRecords<'a>],
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_from {
                return Err(SinkError::Rejected {
                    sink: "recording",
                    detail: "test".to_owned(),
                });
            }
            self.got.lock().unwrap().push(ndjson_batch(batch));
            Ok(())
        })
    }
}

fn run(p: &Pipeline, bytes: &[u8], sink: Arc<Recording>) -> rds_forwarder::pipeline::Outcome {
    run_until(p, bytes, sink, Instant::now() + Duration::from_secs(60))
}

fn run_until(
    p: &Pipeline,
    bytes: &[u8],
    sink: Arc<Recording>,
    deadline: Instant,
) -> rds_forwarder::pipeline::Outcome {
    struct Shared(Arc<Recording>);
    impl Sink for Shared {
        fn name(&self) -> &'static str {
            self.0.name()
        }
        fn send<'a>(
            &'a self,
            batch: &'a [ResourceRecords<'a>],
            deadline: Instant,
        ) -> BoxFuture<'a, Result<(), SinkError>> {
            self.0.send(batch, deadline)
        }
    }
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(Shared(sink))];
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(p.run(bytes, &sinks, deadline))
}

/// Checks that `outcome` counts what the whole path counts, every record
/// delivered, and that `sink` got the whole path's NDJSON in order; returns
/// what it got, delivery by delivery.
fn assert_delivered_as_whole(
    outcome: &rds_forwarder::pipeline::Outcome,
    sink: &Recording,
    whole: &Processed,
) -> Vec<String> {
    let mut expected = whole.stats.clone();
    expected.delivered = whole.records.len();
    // What each sink took (self-monitoring) exists only after delivery:
    // every record, to the one sink.
    let delivered: usize = outcome
        .stats
        .sinks
        .values()
        .map(|s| s.records_delivered)
        .sum();
    assert_eq!(delivered, whole.records.len());
    expected.sinks = outcome.stats.sinks.clone();
    assert_eq!(outcome.stats, expected);
    let got = sink.got.lock().unwrap().clone();
    assert_eq!(
        without_observed_time(&got.concat()),
        without_observed_time(&ndjson(&whole.records))
    );
    got
}

fn recording(fail_from: usize) -> Arc<Recording> {
    Arc::new(Recording {
        calls: AtomicUsize::new(0),
        fail_from,
        got: Mutex::new(Vec::new()),
    })
}

fn without_observed_time(ndjson: &str) -> String {
    ndjson
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let malformed = v["attributes"]["rds.parser"] == "none";
            let o = v.as_object_mut().unwrap();
            o.remove("observed_timestamp");
            if malformed {
                // A malformed event's time is the receive time.
                o.remove("timestamp");
            }
            v.to_string() + "\n"
        })
        .collect()
}

#[test]
fn run_delivers_chunk_by_chunk_what_the_whole_path_delivers() {
    let bytes = pg_payload();
    let whole = process(&bytes);
    let sink = recording(usize::MAX);
    let outcome = run(&streaming(4, 3, 2), &bytes, sink.clone());
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let got = assert_delivered_as_whole(&outcome, &sink, &whole);
    assert!(got.len() > 3, "delivered in several chunks: {}", got.len());
}

/// Issue 13: a streamed payload stops being processed at the deadline (a
/// retryable `processing_deadline`), sends nothing partial, reads no further.
#[test]
fn the_deadline_stops_processing_a_streamed_payload() {
    let bytes = pg_payload();
    let sink = recording(usize::MAX);
    let outcome = run_until(&streaming(4, 3, 2), &bytes, sink.clone(), Instant::now());
    let reasons: Vec<&str> = outcome.failures.iter().map(|f| f.reason).collect();
    assert_eq!(reasons, ["processing_deadline"]);
    assert!(sink.got.lock().unwrap().is_empty());
    assert_eq!(outcome.stats.delivered, 0);
}

#[test]
fn a_failed_chunk_fails_the_invocation_and_stops_reading() {
    let bytes = pg_payload();
    let sink = recording(2);
    let outcome = run(&streaming(4, 3, 2), &bytes, sink.clone());
    assert!(outcome.stats.failed());
    assert_eq!(outcome.failures[0].reason, "sink_rejected");
    assert_eq!(sink.got.lock().unwrap().len(), 1, "one chunk delivered");
    assert!(
        sink.calls.load(Ordering::SeqCst) == 2,
        "no chunk sent after the failure"
    );
    assert!(outcome.stats.delivered > 0 && outcome.stats.delivered < process(&bytes).records.len());
}

#[test]
fn a_gzip_bomb_fails_the_streamed_invocation_as_too_large() {
    let mut json = String::from(r#"{"logGroup":"/aws/rds/instance/db1/postgresql","logEvents":["#);
    for i in 0..20_000 {
        json.push_str(&pg_event(i % 50, 100, "LOG:  checkpoint starting: time"));
        json.push(',');
    }
    json.push_str(&pg_event(0, 100, "LOG:  x"));
    json.push_str("]}");
    assert_stopped_at_one_mib(&awslogs(&json), 0);
}

/// Runs `bytes` with a 1 MiB decompression limit and the stream threshold
/// `threshold`, and checks it fails as too large, at that limit.
fn assert_stopped_at_one_mib(bytes: &[u8], threshold: usize) {
    let p = Pipeline::new(rds_forwarder::config::Config {
        max_decompressed_bytes: 1 << 20,
        ..rds_forwarder::config::Config::default()
    })
    .with_stream_options(StreamOptions {
        threshold_bytes: threshold,
        ..StreamOptions::default()
    });
    let outcome = run(&p, bytes, recording(usize::MAX));
    assert_eq!(
        outcome.stats.failures.get("decompressed_too_large"),
        Some(&1),
        "{:?}",
        outcome.failures
    );
    assert!(
        outcome.failures[0].message.contains("1048576"),
        "{:?}",
        outcome.failures
    );
}

/// A Kinesis event with one record per document (`None`: a record whose data
/// is not base64), sequence numbers `seq-0`, `seq-1`, ….
fn kinesis(documents: &[Option<&str>]) -> Vec<u8> {
    let records: Vec<serde_json::Value> = documents
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let data = doc.map_or_else(
                || "not base64 !!!".to_owned(),
                |d| base64::engine::general_purpose::STANDARD.encode(gzip(d.as_bytes())),
            );
            serde_json::json!({
                "kinesis": {"partitionKey": "p", "sequenceNumber": format!("seq-{i}"), "data": data},
                "eventSource": "aws:kinesis",
                "eventID": format!("shardId-0:{i}"),
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
        .to_string()
        .into_bytes()
}

#[test]
fn kinesis_batches_are_delivered_in_groups_and_big_records_streamed_unchanged() {
    let [first, control, second] = pg_documents();
    let small = |from: usize, n: usize| {
        let events: Vec<String> = (from..from + n)
            .map(|i| pg_event(i, 300, "LOG:  duration: 2.0 ms  statement: SELECT 2"))
            .collect();
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/rds/instance/db2/postgresql","logStream":"db2.0","logEvents":[{}]}}"#,
            events.join(",")
        )
    };
    let (two, one) = (small(100, 2), small(200, 1));
    // Threshold 1 KiB: `first` and `second` are streamed (chunks of 4), the
    // control message and the small records grouped, the bad one among them.
    let bytes = kinesis(&[
        Some(&first),
        Some(&control),
        Some(&second),
        Some(&two),
        None,
        Some(&one),
    ]);
    let whole = process(&bytes);
    let p = small_threshold();
    let sink = recording(usize::MAX);
    let outcome = run(&p, &bytes, sink.clone());
    assert_eq!(outcome.failed_kinesis_records, ["seq-4"]);
    let got = assert_delivered_as_whole(&outcome, &sink, &whole);
    assert!(got.len() > 4, "several deliveries: {}", got.len());

    // A refused delivery is reported under the records it held.
    let sink = recording(1);
    let outcome = run(&p, &bytes, sink);
    assert!(outcome.failed_kinesis_records.contains(&"seq-0".to_owned()));
    assert!(outcome.failed_kinesis_records.contains(&"seq-4".to_owned()));
}

/// `json` as base64 of a two-member gzip whose trailer (the last member's
/// ISIZE) states only its last 8 bytes: allowed by RFC 1952, and the
/// shape a sender that lies about the size takes.
fn understated(json: &str) -> String {
    let (head, tail) = json.split_at(json.len() - 8);
    let mut gz = gzip(head.as_bytes());
    gz.extend(gzip(tail.as_bytes()));
    base64::engine::general_purpose::STANDARD.encode(gz)
}

/// A PostgreSQL document of `n` duration lines (~170 bytes an event).
fn statements(n: usize) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| pg_event(i, 400, "LOG:  duration: 1.0 ms  statement: SELECT 1"))
        .collect();
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/rds/instance/db3/postgresql","logStream":"db3.0","logEvents":[{}]}}"#,
        events.join(",")
    )
}

/// Streams what inflates past 1 KiB, in chunks of 4 events.
fn small_threshold() -> Pipeline {
    pipeline().with_stream_options(StreamOptions {
        threshold_bytes: 1024,
        chunk: ChunkLimits {
            events: 4,
            bytes: usize::MAX,
        },
        join_lookback: 3,
        resource_lookahead: 2,
        hold_bytes: StreamOptions::default().hold_bytes,
    })
}

fn sorted_lines(ndjson: &str) -> Vec<String> {
    let mut lines: Vec<String> = ndjson.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

// Regression: a trailer claiming a small size sent the payload down the
// whole path, which then held up to `max_decompressed_bytes` (64 MiB) of
// JSON and ~9× that in records: the memory bound held only for honest senders.
#[test]
fn a_payload_whose_trailer_understates_its_size_is_streamed() {
    let doc = statements(40);
    let bytes = format!(r#"{{"awslogs":{{"data":"{}"}}}}"#, understated(&doc)).into_bytes();
    let (got, whole) = deliver_all(&bytes, 40);
    // The whole path would deliver once; chunks of 4 events (3 held back
    // for joins) give ten or eleven deliveries.
    assert!(got.len() >= 10, "streamed in chunks: {}", got.len());
    assert_eq!(
        without_observed_time(&got.concat()),
        without_observed_time(&whole)
    );

    // A bomb behind such a trailer still stops at the configured limit.
    let bomb = statements(20_000);
    let bytes = format!(r#"{{"awslogs":{{"data":"{}"}}}}"#, understated(&bomb)).into_bytes();
    assert_stopped_at_one_mib(&bytes, 1024);
}

#[test]
fn a_kinesis_record_whose_trailer_understates_its_size_is_streamed_after_its_group() {
    let small = statements(2);
    let record = |i: usize, data: String| {
        serde_json::json!({
            "kinesis": {"partitionKey": "p", "sequenceNumber": format!("seq-{i}"), "data": data},
            "eventSource": "aws:kinesis",
            "eventID": format!("shardId-0:{i}"),
        })
    };
    let honest = || base64::engine::general_purpose::STANDARD.encode(gzip(small.as_bytes()));
    let bytes = serde_json::json!({ "Records": [
        record(0, honest()),
        record(1, understated(&statements(40))),
        record(2, honest()),
    ]})
    .to_string()
    .into_bytes();

    // Plain JSON (no gzip, so no trailer and no stream) past the threshold
    // is decoded alone at the full limit.
    let plain = base64::engine::general_purpose::STANDARD.encode(statements(20));
    let plain = serde_json::json!({ "Records": [record(0, honest()), record(1, plain)] });
    let (got, whole) = deliver_all(plain.to_string().as_bytes(), 22);
    assert_eq!(got.len(), 2, "the group, then the big plain record");
    assert_eq!(
        sorted_lines(&without_observed_time(&got.concat())),
        sorted_lines(&without_observed_time(&whole))
    );

    let (got, whole) = deliver_all(&bytes, 44);
    // The group of honest records (seq-0, seq-2) at once, then seq-1 in chunks of 4.
    assert!(got.len() >= 11, "{}", got.len());
    assert_eq!(got[0].lines().count(), 4);
    assert_eq!(
        sorted_lines(&without_observed_time(&got.concat())),
        sorted_lines(&without_observed_time(&whole))
    );
}

/// Runs `bytes` through [`small_threshold`], checking that all `n` records
/// are delivered without a failure: what the sink got, call by call, and
/// the whole path's NDJSON.
fn deliver_all(bytes: &[u8], n: usize) -> (Vec<String>, String) {
    let whole = process(bytes);
    assert_eq!(whole.records.len(), n);
    let sink = recording(usize::MAX);
    let outcome = run(&small_threshold(), bytes, sink.clone());
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert_eq!(outcome.stats.delivered, n);
    let got = sink.got.lock().unwrap().clone();
    (got, ndjson(&whole.records))
}

/// Issue 13 (memory): a message past CloudWatch's event limit is cut as it
/// streams past, never held whole (one 50 MB message peaked at 128 MB with
/// the cut made after reading), and the records are the whole path's: the
/// same prefix, the same `rds.message.truncated_from`.
#[test]
fn a_message_past_the_event_limit_is_cut_while_streaming_as_the_whole_path_cuts_it() {
    use rds_forwarder::pipeline::MAX_EVENT_MESSAGE_BYTES;
    let statement = |fill: &str, n: usize| {
        format!(
            "2026-11-25 07:50:00 UTC:10.0.0.5(1):u@d:[7]:LOG:  statement: SELECT '{}'",
            fill.repeat(n)
        )
    };
    let events = [
        (statement("é", 400_000), 1),
        (statement("a\\\"\n", 100_000), 2), // escapes at the cut
        (statement("😀", 65_530), 3),       // four-byte characters near it
        (statement("b", MAX_EVENT_MESSAGE_BYTES - 200), 4), // under: whole
    ];
    let expected: Vec<Option<i64>> = events
        .iter()
        .map(|(m, _)| (m.len() > MAX_EVENT_MESSAGE_BYTES).then_some(m.len() as i64))
        .collect();
    let events: Vec<serde_json::Value> = events
        .iter()
        .map(|(m, i)| serde_json::json!({"id": i.to_string(), "timestamp": i, "message": m}))
        .collect();
    let doc = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1",
        "logGroup": "/aws/rds/instance/db/postgresql", "logStream": "s",
        "subscriptionFilters": ["f"], "logEvents": events});
    let bytes = awslogs(&doc.to_string());
    let whole = process(&bytes);
    let streamed = streaming(2, 1, 0)
        .process_streamed(&bytes, OBSERVED_NS)
        .unwrap();
    assert_same(&whole, &streamed, "long messages");
    let marks: Vec<Option<i64>> = streamed
        .records
        .iter()
        .map(|r| match r.attributes.get("rds.message.truncated_from") {
            Some(rdsf_core::record::Value::Int(n)) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(marks, expected);
    assert_eq!(expected.iter().flatten().count(), 3);
}

/// Issue 13 (memory): a streamed event is captured raw before it is read,
/// so an event made of many long fields was held whole however big; past
/// 4 MiB of JSON (after the string cut) it is refused as not CloudWatch's.
#[test]
fn an_event_of_many_long_fields_is_refused_not_held() {
    use rdsf_core::input::stream::MAX_EVENT_JSON_BYTES;
    let field = "x".repeat(200_000);
    let mut event = serde_json::json!({"id": "2", "timestamp": 2, "message": "m"});
    for i in 0..30 {
        event[format!("f{i}")] = field.clone().into();
    }
    let doc = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1",
        "logGroup": "/aws/rds/instance/db/postgresql", "logStream": "s",
        "subscriptionFilters": ["f"],
        "logEvents": [{"id": "1", "timestamp": 1, "message": "m"}, event]});
    let out = streaming(1, 1, 0)
        .process_streamed(&awslogs(&doc.to_string()), OBSERVED_NS)
        .unwrap();
    let failures: Vec<String> = out
        .failures
        .iter()
        .map(|f| format!("{}: {}", f.reason, f.message))
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].contains(&format!("over {MAX_EVENT_JSON_BYTES} bytes of JSON")),
        "{failures:?}"
    );
}

/// Issue 13 (memory): the entries a chunk holds back for the next chunk's
/// join were bounded by count only (256), so 200 PostgreSQL statements of
/// 256 KB each were all held until the end (peak ~180 MB). Held entries are
/// now bounded by bytes too: records leave chunk by chunk.
#[test]
fn long_entries_are_not_held_back_past_the_byte_bound() {
    let statement = "x".repeat(16 * 1024);
    let events: Vec<String> = (0..40)
        .map(|i| {
            pg_event(
                i,
                100 + i as u32,
                &format!("LOG:  statement: SELECT '{statement}'"),
            )
        })
        .collect();
    let json = format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/rds/instance/db1/postgresql","logStream":"s","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
        events.join(",")
    );
    let bytes = awslogs(&json);
    let p = pipeline().with_stream_options(StreamOptions {
        threshold_bytes: 0,
        chunk: ChunkLimits {
            events: 4,
            bytes: usize::MAX,
        },
        hold_bytes: 64 * 1024,
        ..StreamOptions::default()
    });
    let sink = recording(usize::MAX);
    let outcome = run(&p, &bytes, sink.clone());
    let got = assert_delivered_as_whole(&outcome, &sink, &process(&bytes));
    // 640 KB of records: held to the end they leave in one request.
    assert!(got.len() >= 6, "delivered in {} requests", got.len());
}

/// Issue 17: the streamed reader takes each `logEvents` element as bytes
/// and reads it once, typed; only an element that does not read is read
/// again, into a malformed event. Whatever the layout (whitespace between
/// every token, brackets and quotes inside strings, unknown fields holding
/// arrays and objects, an escaped key, elements that are not objects, a
/// duplicate field, a message past the event limit), the records, the
/// malformed events and the counts are the whole path's, at every chunk size.
#[test]
fn every_event_layout_streams_to_what_the_whole_path_reads() {
    use rds_forwarder::pipeline::MAX_EVENT_MESSAGE_BYTES;
    let line = |i: usize, rest: &str| {
        format!(
            "2026-11-25 07:50:{:02} UTC:10.0.0.5(1):u@d:[{i}]:LOG:  {rest}",
            i % 60
        )
    };
    let good = |i: usize, rest: &str| {
        serde_json::json!({"id": format!("{i:056}"), "timestamp": 1_764_057_000_000i64 + i as i64,
            "message": line(i, rest)})
        .to_string()
    };
    let long = line(
        7,
        &format!(
            "statement: SELECT '{}'",
            "é\\\"]}".repeat(MAX_EVENT_MESSAGE_BYTES / 4)
        ),
    );
    let events = [
        good(1, "statement: SELECT '}]\"{[' AS brackets"),
        // Spaced out, an unknown field holding nested containers, a key
        // written with an escape.
        format!(
            " {{ \"id\" : \"2\" ,\n\t\"extra\" : [ 1, {{\"a\": [\"]\", {{}}]}}, null ] , \"timest\\u0061mp\" : 2 , \"message\" : {} }} ",
            serde_json::to_string(&line(2, "duration: 1.0 ms  statement: SELECT 2")).unwrap()
        ),
        r#"{"id":"3","timestamp":"not a number","message":"bad [\"]"}"#.to_owned(),
        good(4, "statement: SELECT 4"),
        "17".to_owned(),
        r#""a string, [not] an event""#.to_owned(),
        r#"[ {"id":"6"} , 1 ]"#.to_owned(),
        "null".to_owned(),
        r#"{"id":"8","timestamp":8,"timestamp":9,"message":"duplicate"}"#.to_owned(),
        serde_json::json!({"id": "9", "timestamp": 9, "message": long}).to_string(),
        good(10, "statement: SELECT 'last'"),
    ];
    let json = format!(
        "{{ \"messageType\" : \"DATA_MESSAGE\" , \"owner\":\"1\", \"ignored\": {{\"logEvents\": [1, 2]}},\n\"logGroup\":\"/aws/rds/instance/db/postgresql\",\"logStream\":\"s\",\"subscriptionFilters\":[ \"f\" ] ,\"logEvents\" : [\n{}\n] , \"after\" : [ ] }}\n",
        events.join(" ,\n ")
    );
    let bytes = awslogs(&json);
    let whole = process(&bytes);
    assert_eq!(whole.malformed.len(), 6, "{:?}", whole.malformed);
    assert_eq!(whole.records.len(), events.len());
    for chunk in [1, 2, 3, 100] {
        let streamed = streaming(chunk, 1, 0)
            .process_streamed(&bytes, OBSERVED_NS)
            .unwrap();
        assert_same(&whole, &streamed, &format!("chunks of {chunk}"));
    }
}

/// A document cut inside an event, or with bytes that are not JSON in or
/// between events, fails as the whole path fails it
/// (`invalid_cloudwatch_document`), after handing on the events read before
/// (chunks of one event).
#[test]
fn a_streamed_document_that_is_not_json_fails_after_the_events_before() {
    let head = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/rds/instance/db/postgresql","logStream":"s","logEvents":["#;
    let ok = pg_event(1, 1, "LOG:  statement: SELECT 1");
    // (what follows the first event, events read before the error)
    for (tail, read) in [
        (r#"{"id":"2","timestamp":2,"message":"cut"#, 1),
        (r#"{"id":"2","timestamp":2,"message":"x"} x"#, 2),
        (r#"{"id":"2","timestamp":2,"message":"x" x}]}"#, 1),
        (r#"{"id":"2","timestamp":2,"message":"x"},]}"#, 2),
        ("{\"id\":\"2\",\"timestamp\":2,\"message\":\"\u{1}\"}]}", 1),
    ] {
        let bytes = awslogs(&format!("{head}{ok},{tail}"));
        let whole = process(&bytes);
        let streamed = streaming(1, 0, 0)
            .process_streamed(&bytes, OBSERVED_NS)
            .unwrap();
        let reasons = |p: &Processed| p.failures.iter().map(|f| f.reason).collect::<Vec<_>>();
        assert_eq!(reasons(&whole), ["invalid_cloudwatch_document"], "{tail}");
        assert_eq!(reasons(&streamed), reasons(&whole), "{tail}");
        assert_eq!(streamed.records.len(), read, "{tail}: the events before");
    }
}

/// The pipeline reads a chunk's events on its task, after the reading
/// thread handed the chunk on (`RawChunk::parse`): a document that is not
/// JSON fails there exactly as the reader alone fails it, the events
/// before delivered, whatever the chunk size. The last case has a second
/// error after the first (a cut): the first is the one reported, though the
/// thread read past it.
#[test]
fn a_document_that_is_not_json_fails_the_invocation_as_the_reader_alone_fails_it() {
    let head = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/rds/instance/db/postgresql","logStream":"s","logEvents":["#;
    let ok = pg_event(1, 1, "LOG:  statement: SELECT 1");
    for tail in [
        r#"{"id":"2","timestamp":2,"message":"cut"#,
        r#"{"id":"2","timestamp":2,"message":"x" x}]}"#,
        "{\"id\":\"2\",\"timestamp\":2,\"message\":\"\u{1}\"}]}",
        "{\"id\":\"2\",\"timestamp\":2,\"message\":\"\u{1}\"},{\"id\":\"3\",\"message\":\"cut",
    ] {
        let bytes = awslogs(&format!("{head}{ok},{ok},{tail}"));
        for events in [1, 2, 100] {
            let p = streaming(events, 0, 0);
            let alone = streaming(1, 0, 0)
                .process_streamed(&bytes, OBSERVED_NS)
                .unwrap();
            let outcome = run(&p, &bytes, recording(usize::MAX));
            let what = format!("{tail}, chunks of {events}");
            let failures = |f: &[rdsf_core::failure::Failure]| {
                f.iter()
                    .map(|f| (f.reason, f.message.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                failures(&outcome.failures),
                failures(&alone.failures),
                "{what}"
            );
            assert_eq!(
                outcome.failures[0].reason, "invalid_cloudwatch_document",
                "{what}"
            );
            // Whole chunks before the error are delivered.
            let before = if events == 100 {
                0
            } else {
                2 / events * events
            };
            assert_eq!(outcome.stats.delivered, before, "{what}");
        }
    }
}
