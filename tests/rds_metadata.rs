//! RDS metadata enrichment against real servers on 127.0.0.1: moto_server's
//! RDS API (instances alone and in a cluster, a replica, a cluster, a proxy,
//! tags: made by boto3 in tests/deploy/moto_rds.py) through our SigV4
//! client, and end to end through the binary; and a local HTTP server that
//! answers RDS's `Throttling` error or answers late, for coalescing,
//! back-off and the delivery budget.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common;
use crate::deploy_support::moto::Moto;
use crate::deploy_support::{ensure_tools, root, venv_bin};
use rds_forwarder::config::Config;
use rds_forwarder::pipeline::Pipeline;
use rdsf_aws::client::AwsClient;
use rdsf_aws::credentials::{AwsContext, Credentials};
use rdsf_aws::rds::TagKeys;
use rdsf_aws::rds_metadata::{RdsMetadataOptions, RdsMetadataSource};
use rdsf_core::enrich::metadata::{self, MetadataSource, ResourceKey, Role};
use rdsf_core::record::{keys, Attributes};
use rdsf_core::secret::Secret;
use rdsf_sinks::Sink;

const BIN: &str = env!("CARGO_BIN_EXE_rds-forwarder");
/// Only a bound against hanging forever if something is badly broken.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

fn context() -> AwsContext {
    AwsContext {
        credentials: Credentials {
            access_key_id: "testing".into(),
            secret_access_key: Secret::new("testing"),
            session_token: None,
        },
        region: "us-east-1".into(),
    }
}

fn options(tag_keys: TagKeys) -> RdsMetadataOptions {
    RdsMetadataOptions {
        enabled: true,
        ttl: Duration::from_secs(900),
        budget: Duration::from_millis(300),
        tag_keys,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Creates the resources in `moto`; the summary moto_rds.py prints.
fn create_resources(moto: &Moto) -> Value {
    let out = Command::new(venv_bin("moto", "python"))
        .arg(root().join("tests/deploy/moto_rds.py"))
        .arg(&moto.endpoint)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moto_rds.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn tags_of(md: &metadata::RdsMetadata) -> Vec<(&str, &str)> {
    let mut t: Vec<(&str, &str)> = md
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    t.sort();
    t
}

/// Instances (alone, replica, cluster writer and reader), the cluster and
/// the proxy, each with its tags, as moto's RDS API answers our client;
/// a missing resource is a cached "none", and the allow-list narrows tags.
#[test]
fn metadata_of_instances_clusters_and_proxies_from_moto() {
    ensure_tools();
    let moto = Moto::start();
    let made = create_resources(&moto);
    let rt = runtime();
    let source = RdsMetadataSource::with_client(
        AwsClient::with_endpoint(context(), moto.endpoint.clone()).unwrap(),
        &options(TagKeys::All),
    );
    let get = |key: ResourceKey| rt.block_on(source.metadata(&key));

    let orders = get(ResourceKey::Instance("orders-db".into())).expect("orders-db found");
    assert_eq!(orders.engine.as_deref(), Some("postgres"));
    assert_eq!(orders.engine_version.as_deref(), Some("16.3"));
    assert_eq!(orders.instance_class.as_deref(), Some("db.t3.micro"));
    assert_eq!(orders.availability_zone.as_deref(), Some("us-east-1a"));
    assert_eq!(orders.role, Some(Role::Writer));
    assert_eq!(orders.cluster_identifier, None);
    assert_eq!(
        orders.resource_id.as_deref(),
        made["instances"]["orders-db"]["resource_id"].as_str()
    );
    assert_eq!(
        orders.arn.as_deref(),
        made["instances"]["orders-db"]["arn"].as_str()
    );
    assert_eq!(
        tags_of(&orders),
        vec![("cost_center", "42"), ("env", "prod"), ("team", "orders")]
    );

    let replica = get(ResourceKey::Instance("shop-maria-replica".into())).unwrap();
    assert_eq!(replica.engine.as_deref(), Some("mariadb"));
    assert_eq!(replica.role, Some(Role::Reader));
    assert_eq!(replica.availability_zone.as_deref(), Some("us-east-1c"));
    // What ends the content guessing: a MySQL-family log group's resource
    // gets the exact engine.
    let mut guessed = Attributes::new();
    guessed.insert(keys::RDS_SOURCE_KIND, "instance");
    guessed.insert(keys::RDS_SOURCE_IDENTIFIER, "shop-maria-replica");
    guessed.insert(keys::RDS_ENGINE_FAMILY, "mysql_or_mariadb");
    let exact = metadata::apply(&guessed, &replica);
    assert_eq!(exact.get_str(keys::DB_SYSTEM_NAME), Some("mariadb"));
    assert_eq!(exact.get(keys::RDS_ENGINE_FAMILY), None);
    assert_eq!(exact.get_str(keys::RDS_INSTANCE_ROLE), Some("reader"));

    for (name, role) in [
        ("shop-aurora-1", Role::Writer),
        ("shop-aurora-2", Role::Reader),
    ] {
        assert_eq!(
            made["cluster"]["writers"][name].as_bool(),
            Some(role == Role::Writer),
            "moto's own view of {name}"
        );
        let md = get(ResourceKey::Instance(name.into())).unwrap();
        assert_eq!(md.engine.as_deref(), Some("aurora-mysql"), "{name}");
        assert_eq!(md.db_system(), Some("mysql"));
        assert_eq!(md.cluster_identifier.as_deref(), Some("shop-aurora"));
        assert_eq!(md.instance_class.as_deref(), Some("db.r6g.large"));
        assert_eq!(md.role, Some(role), "{name}");
    }

    let cluster = get(ResourceKey::Cluster("shop-aurora".into())).unwrap();
    assert_eq!(cluster.engine.as_deref(), Some("aurora-mysql"));
    assert_eq!(
        cluster.engine_version.as_deref(),
        Some("8.0.mysql_aurora.3.05.2")
    );
    assert_eq!(
        cluster.resource_id.as_deref(),
        made["cluster"]["resource_id"].as_str()
    );
    assert_eq!(cluster.arn.as_deref(), made["cluster"]["arn"].as_str());
    assert_eq!(tags_of(&cluster), vec![("env", "prod"), ("team", "shop")]);
    assert_eq!(cluster.role, None);

    // The proxy answer has no tags: ListTagsForResource on its ARN.
    let proxy = get(ResourceKey::Proxy("front".into())).unwrap();
    assert_eq!(proxy.arn.as_deref(), made["proxy"]["arn"].as_str());
    assert_eq!(proxy.proxy_engine_family.as_deref(), Some("POSTGRESQL"));
    assert_eq!(proxy.db_system(), Some("postgresql"));
    assert_eq!(tags_of(&proxy), vec![("team", "edge")]);

    // Enhanced Monitoring names the instance by its resource id (moto gives
    // every instance the same one, so only the id itself is checked).
    let rid = made["instances"]["orders-db"]["resource_id"]
        .as_str()
        .unwrap();
    let by_rid = get(ResourceKey::InstanceResourceId(rid.into())).unwrap();
    assert_eq!(by_rid.resource_id.as_deref(), Some(rid));
    assert!(by_rid.engine.is_some());

    let before = source.counters().snapshot();
    assert_eq!(get(ResourceKey::Instance("no-such-db".into())), None);
    assert_eq!(get(ResourceKey::Instance("no-such-db".into())), None);
    assert_eq!(get(ResourceKey::Instance("orders-db".into())), Some(orders));
    let after = source.counters().snapshot();
    assert_eq!(after.misses - before.misses, 1, "{after:?}");
    assert_eq!(after.hits - before.hits, 2, "{after:?}");
    assert_eq!(after.failures, 0, "{after:?}");
    assert_eq!(source.backoff_until(), None);

    let narrow = RdsMetadataSource::with_client(
        AwsClient::with_endpoint(context(), moto.endpoint.clone()).unwrap(),
        &options(TagKeys::Only(vec!["env".into()])),
    );
    let md = rt
        .block_on(narrow.metadata(&ResourceKey::Instance("orders-db".into())))
        .unwrap();
    assert_eq!(tags_of(&md), vec![("env", "prod")]);
    let md = rt
        .block_on(narrow.metadata(&ResourceKey::Proxy("front".into())))
        .unwrap();
    assert!(md.tags.is_empty());
}

/// The binary, pointed at moto by `AWS_ENDPOINT_URL`: records of an
/// instance's and a cluster's log group carry the metadata on stdout; with
/// `RDSF_RDS_METADATA=off` the output is what it was without it.
#[test]
fn replay_adds_metadata_and_off_leaves_output_alone() {
    ensure_tools();
    let moto = Moto::start();
    create_resources(&moto);
    let dir = tempdir();
    let maria = dir.join("maria.json");
    let doc = common::subscription_doc(
        "/aws/rds/instance/shop-maria/error",
        &["2026-11-25 07:48:49 0 [Note] Server socket created on IP: '0.0.0.0'."],
    );
    std::fs::write(&maria, common::awslogs_event(&doc)).unwrap();
    let aurora = dir.join("aurora.json");
    let doc = common::subscription_doc(
        "/aws/rds/cluster/shop-aurora/error",
        &["2026-11-25T07:48:49.123456Z 0 [Note] [MY-010931] [Server] ready for connections."],
    );
    std::fs::write(&aurora, common::awslogs_event(&doc)).unwrap();

    let run = |metadata: &str| {
        let out = Command::new(BIN)
            .args(["replay"])
            .arg(&maria)
            .arg(&aurora)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("RDSF_SINKS", "stdout")
            .env("RDSF_RDS_METADATA", metadata)
            .env("RDSF_RDS_METADATA_BUDGET_MS", "5000")
            .env("RDSF_RDS_TAG_KEYS", "team")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        lines
    };
    let on = run("on");
    let maria = &on[0]["resource"];
    assert_eq!(maria["db.system.name"], "mariadb");
    assert_eq!(maria.get("aws.rds.engine_family"), None);
    assert_eq!(maria["aws.rds.engine"], "mariadb");
    assert_eq!(maria["aws.rds.engine_version"], "10.11.6");
    assert_eq!(maria["aws.rds.instance_class"], "db.t3.small");
    assert_eq!(maria["cloud.availability_zone"], "us-east-1b");
    assert_eq!(maria["aws.rds.instance_role"], "writer");
    assert!(maria["aws.rds.resource_id"]
        .as_str()
        .unwrap()
        .starts_with("db-"));
    assert_eq!(maria["aws.rds.tag.team"], "shop");
    let aurora = &on[1]["resource"];
    assert_eq!(aurora["db.system.name"], "mysql");
    assert_eq!(aurora["aws.rds.engine"], "aurora-mysql");
    assert_eq!(aurora["aws.rds.cluster_identifier"], "shop-aurora");
    assert!(aurora["aws.rds.resource_id"]
        .as_str()
        .unwrap()
        .starts_with("cluster-"));
    assert_eq!(aurora["aws.rds.tag.team"], "shop");
    assert_eq!(
        aurora.get("aws.rds.tag.env"),
        None,
        "not in RDSF_RDS_TAG_KEYS"
    );

    // Off: no lookups; the records are those of the "on" run without the
    // metadata (the engine is what content said, here MariaDB's own format).
    let off = run("off");
    let added = [
        "aws.rds.engine",
        "aws.rds.engine_version",
        "aws.rds.instance_class",
        "cloud.availability_zone",
        "aws.rds.cluster_identifier",
        "aws.rds.instance_role",
        "aws.rds.resource_id",
        "aws.rds.tag.team",
    ];
    for (on, off) in on.iter().zip(&off) {
        let mut expected = on.clone();
        let resource = expected["resource"].as_object_mut().unwrap();
        for key in added {
            resource.remove(key);
        }
        for key in ["db.system.name", "aws.rds.engine_family"] {
            match off["resource"].get(key) {
                Some(v) => resource.insert(key.to_owned(), v.clone()),
                None => resource.remove(key),
            };
        }
        expected["observed_timestamp"] = off["observed_timestamp"].clone();
        assert_eq!(&expected, off);
    }
}

fn tempdir() -> std::path::PathBuf {
    let dir = root().join("target/tmp").join(format!(
        "rds-metadata-{}-{}",
        std::process::id(),
        fastrand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// What the local RDS stand-in does with each request, in order; the last
/// act repeats.
#[derive(Clone, Copy)]
enum Act {
    Throttle,
    /// The instance's answer after this long.
    Answer(Duration),
}

const INSTANCE_XML: &str = r#"<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>db1</DBInstanceIdentifier><Engine>mariadb</Engine><EngineVersion>10.11.6</EngineVersion><DBInstanceClass>db.t3.micro</DBInstanceClass><AvailabilityZone>us-east-1a</AvailabilityZone><DbiResourceId>db-ONE</DbiResourceId><DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:db1</DBInstanceArn><TagList><Tag><Key>team</Key><Value>a</Value></Tag></TagList></DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>"#;
const THROTTLING_XML: &str = r#"<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>t-1</RequestId></ErrorResponse>"#;

/// An HTTP/1.1 server on 127.0.0.1 that plays `acts`, counting requests.
struct RdsStandIn {
    endpoint: String,
    requests: Arc<AtomicUsize>,
}

impl RdsStandIn {
    async fn start(acts: Vec<Act>) -> RdsStandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let count = count.clone();
                let acts = acts.clone();
                tokio::spawn(async move {
                    while read_request(&mut conn).await {
                        let n = count.fetch_add(1, Ordering::SeqCst);
                        let act = acts[n.min(acts.len() - 1)];
                        let (status, body) = match act {
                            Act::Throttle => ("400 Bad Request", THROTTLING_XML),
                            Act::Answer(after) => {
                                tokio::time::sleep(after).await;
                                ("200 OK", INSTANCE_XML)
                            }
                        };
                        let reply = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if conn.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        RdsStandIn { endpoint, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one request (headers, then `Content-Length` bytes); false at EOF.
async fn read_request(conn: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => return false,
        }
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).await.is_ok()
}

fn stand_in_source(server: &RdsStandIn) -> RdsMetadataSource {
    RdsMetadataSource::with_client(
        AwsClient::with_endpoint(context(), server.endpoint.clone()).unwrap(),
        &options(TagKeys::All),
    )
}

/// Eight lookups of one resource at once share one request.
#[test]
fn concurrent_lookups_share_one_request() {
    runtime().block_on(async {
        let server = RdsStandIn::start(vec![Act::Answer(Duration::from_millis(300))]).await;
        let source = stand_in_source(&server);
        let key = ResourceKey::Instance("db1".into());
        let answers = futures_util::future::join_all((0..8).map(|_| source.metadata(&key))).await;
        assert!(answers
            .iter()
            .all(|a| a.as_ref().and_then(|m| m.engine.as_deref()) == Some("mariadb")));
        assert_eq!(server.requests(), 1);
        let c = source.counters().snapshot();
        assert_eq!((c.misses, c.hits, c.failures), (8, 0, 0), "{c:?}");
        // Cached now: no second request.
        assert!(source.metadata(&key).await.is_some());
        assert_eq!(server.requests(), 1);
    });
}

/// A `Throttling` answer: no metadata, a failure counted, and no request
/// until the back-off ends (lookups meanwhile are counted as backed off);
/// then the next lookup asks again and succeeds.
#[test]
fn throttling_backs_off_then_tries_again() {
    runtime().block_on(async {
        let server = RdsStandIn::start(vec![Act::Throttle, Act::Answer(Duration::ZERO)]).await;
        let source = stand_in_source(&server);
        let key = ResourceKey::Instance("db1".into());
        assert_eq!(source.metadata(&key).await, None);
        assert_eq!(server.requests(), 1, "one attempt, no retries of our own");
        let until = source
            .backoff_until()
            .expect("backing off after Throttling");
        assert!(until > Instant::now() + Duration::from_millis(100));
        for _ in 0..3 {
            assert_eq!(source.metadata(&key).await, None);
        }
        assert_eq!(server.requests(), 1, "no request while backing off");
        let c = source.counters().snapshot();
        assert_eq!((c.failures, c.backed_off), (1, 3), "{c:?}");
        tokio::time::sleep_until(tokio::time::Instant::from_std(until)).await;
        let md = source
            .metadata(&key)
            .await
            .expect("answered after the back-off");
        assert_eq!(md.resource_id.as_deref(), Some("db-ONE"));
        assert_eq!(server.requests(), 2);
        assert_eq!(source.backoff_until(), None);
    });
}

/// Once the TTL has passed, a failed refresh keeps serving what was known
/// (and counts the failure) rather than dropping the metadata.
#[test]
fn a_failed_refresh_serves_the_stale_answer() {
    runtime().block_on(async {
        let server = RdsStandIn::start(vec![Act::Answer(Duration::ZERO), Act::Throttle]).await;
        let source = RdsMetadataSource::with_client(
            AwsClient::with_endpoint(context(), server.endpoint.clone()).unwrap(),
            &RdsMetadataOptions {
                ttl: Duration::from_secs(1),
                ..options(TagKeys::All)
            },
        );
        let key = ResourceKey::Instance("db1".into());
        let fresh = source.metadata(&key).await.expect("first answer");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(source.metadata(&key).await, Some(fresh.clone()));
        assert_eq!(
            server.requests(),
            2,
            "the expired entry was asked for again"
        );
        let c = source.counters().snapshot();
        assert_eq!(c.failures, 1, "{c:?}");
        // Backing off now: still the stale answer, no request.
        assert_eq!(source.metadata(&key).await, Some(fresh));
        assert_eq!(server.requests(), 2);
    });
}

/// RDS answering late does not hold delivery: records go out within the
/// budget without metadata (counted), and the answer, arriving later, is
/// cached for the next invocation.
#[test]
fn a_slow_answer_does_not_hold_delivery() {
    runtime().block_on(async {
        let slow = Duration::from_millis(1500);
        let server = RdsStandIn::start(vec![Act::Answer(slow)]).await;
        let source = Arc::new(stand_in_source(&server));
        let pipeline = Pipeline::new(Config {
            region: Some("us-east-1".into()),
            ..Config::default()
        })
        .with_metadata(source.clone(), Duration::from_millis(100));
        let doc = common::subscription_doc(
            "/aws/rds/instance/db1/error",
            &[
                "2026-11-25 07:48:49 0 [Note] one",
                "2026-11-25 07:48:50 0 [Note] two",
            ],
        );
        let event = common::awslogs_event(&doc);
        let sink = Collect::default();
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(sink.clone())];
        let started = Instant::now();
        let outcome = pipeline
            .run(&event, &sinks, Instant::now() + Duration::from_secs(30))
            .await;
        let took = started.elapsed();
        assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
        assert!(
            took < slow,
            "delivery waited {took:?}, as long as RDS took to answer ({slow:?})"
        );
        let first = sink.resources();
        assert_eq!(first.len(), 2);
        assert!(first
            .iter()
            .all(|r| r.get(keys::RDS_ENGINE_VERSION).is_none()));
        let c = source.counters().snapshot();
        assert_eq!((c.resources_without, c.records_without), (1, 2), "{c:?}");
        // Self-monitoring reports the cache's hits (none yet: it was empty).
        assert_eq!(pipeline.self_totals().metadata_cache_hits, Some(0));
        println!(
            "rds_metadata: delivered in {took:?} with RDS answering after {slow:?} (budget 100 ms)"
        );

        // The request went on; once answered, the next invocation has it.
        let started = Instant::now();
        while source.counters().snapshot().hits == 0 && started.elapsed() < GIVE_UP_AFTER {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if source
                .metadata(&ResourceKey::Instance("db1".into()))
                .await
                .is_some()
            {
                break;
            }
        }
        let sink = Collect::default();
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(sink.clone())];
        pipeline
            .run(&event, &sinks, Instant::now() + Duration::from_secs(30))
            .await;
        let second = sink.resources();
        assert!(second
            .iter()
            .all(|r| r.get_str(keys::RDS_ENGINE_VERSION) == Some("10.11.6")
                && r.get_str(keys::DB_SYSTEM_NAME) == Some("mariadb")
                && r.get_str("aws.rds.tag.team") == Some("a")));
        assert_eq!(server.requests(), 1);
        // The second invocation's lookup was a hit; the reports add up to
        // the cache's own counter (each hit reported once).
        let hits = source.counters().snapshot().hits;
        assert!(hits >= 1, "{hits}");
        assert_eq!(pipeline.self_totals().metadata_cache_hits, Some(hits));
    });
}

/// Keeps the resource of every record it is sent.
#[derive(Clone, Default)]
struct Collect(Arc<std::sync::Mutex<Vec<Attributes>>>);

impl Collect {
    fn resources(&self) -> Vec<Attributes> {
        self.0.lock().unwrap().clone()
    }
}

impl Sink for Collect {
    fn name(&self) -> &'static str {
        "collect"
    }
    fn send<'a>(
        &'a self,
        batch: &'a [rdsf_core::record::ResourceRecords<'a>],
        _deadline: Instant,
    ) -> rdsf_sinks::BoxFuture<'a, Result<(), rdsf_sinks::SinkError>> {
        let mut seen = self.0.lock().unwrap();
        for r in rdsf_core::record::flatten(batch) {
            seen.push((**r.resource).clone());
        }
        Box::pin(async { Ok(()) })
    }
}
