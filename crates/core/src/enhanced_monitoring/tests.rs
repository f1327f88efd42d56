//! The parser on real Enhanced Monitoring documents
//! (`tests/data/enhanced-monitoring/README.md` gives their sources).

use super::*;

const MYSQL: &str =
    include_str!("../../../../tests/data/enhanced-monitoring/mysql-57-percona.json");
const AURORA_PG: &str =
    include_str!("../../../../tests/data/enhanced-monitoring/aurora-postgresql-11-percona.json");
const SQLSERVER: &str =
    include_str!("../../../../tests/data/enhanced-monitoring/sqlserver-signalfx.json");

fn points_of(text: &str, top: usize) -> Vec<MetricPoint> {
    let doc = parse(text).expect("a real document parses");
    let resource = resource("123456789012", "db-X", &doc, Some("us-east-1"));
    points(&doc, &resource, top)
}

/// The points named `name` whose attribute `key` is `value`.
fn find<'a>(ps: &'a [MetricPoint], name: &str, attrs: &[(&str, &str)]) -> Vec<&'a MetricPoint> {
    ps.iter()
        .filter(|p| p.name == name)
        .filter(|p| {
            attrs
                .iter()
                .all(|(k, v)| p.attributes.get_str(k) == Some(*v))
        })
        .collect()
}

fn value(p: &MetricPoint) -> f64 {
    p.kind.scalar().unwrap()
}

fn one(ps: &[MetricPoint], name: &str, attrs: &[(&str, &str)]) -> f64 {
    let found = find(ps, name, attrs);
    assert_eq!(found.len(), 1, "{name} {attrs:?}: {found:?}");
    value(found[0])
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn points_per_document_of_the_real_fixtures() {
    // Counted field by field from the documents (see the README there):
    // every numeric field the mapping knows, processes cut to the top 10 by
    // CPU and the top 10 by memory.
    for (name, text, expected, all_processes) in [
        ("mysql-57 (Linux)", MYSQL, 168, 293),
        ("aurora-postgresql-11 (Linux, Aurora)", AURORA_PG, 115, 139),
        ("sqlserver (Windows)", SQLSERVER, 66, 70),
    ] {
        let ps = points_of(text, 10);
        println!(
            "points per document: {name}: {} (all processes: {all_processes})",
            ps.len()
        );
        assert_eq!(ps.len(), expected, "{name}");
        assert_eq!(points_of(text, 100).len(), all_processes, "{name}");
        let doc = parse(text).unwrap();
        assert!(
            ps.iter().all(|p| p.time_ns == doc.time_ns),
            "{name}: the document's own time"
        );
        assert!(
            ps.iter().all(|p| matches!(p.kind, Kind::Gauge(_))),
            "{name}"
        );
    }
}

#[test]
fn linux_document_names_values_and_attributes() {
    let ps = points_of(MYSQL, 10);
    let doc = parse(MYSQL).unwrap();
    assert_eq!(
        doc.time_ns,
        time::parse_rfc3339("2025-07-02T12:59:15Z").unwrap()
    );
    // Percent → ratio, KB → bytes, ms → s.
    assert_eq!(find(&ps, "system.cpu.utilization", &[]).len(), 8);
    let idle = one(&ps, "system.cpu.utilization", &[("cpu.mode", "idle")]);
    assert!((0.0..=1.0).contains(&idle), "{idle}");
    let total = one(&ps, "system.memory.limit", &[]);
    let raw_total = serde_json::from_str::<Json>(MYSQL).unwrap()["memory"]["total"]
        .as_f64()
        .unwrap();
    assert!(close(total, raw_total * 1024.0));
    assert_eq!(find(&ps, "system.memory.usage", &[]).len(), 3);
    assert_eq!(one(&ps, "system.cpu.logical.count", &[]), 2.0);
    assert_eq!(find(&ps, "system.cpu.load_average.15m", &[]).len(), 1);
    assert_eq!(
        find(&ps, "system.process.count", &[("process.state", "defunct")]).len(),
        1
    );
    assert_eq!(
        find(
            &ps,
            "system.paging.usage",
            &[("system.paging.state", "free")]
        )
        .len(),
        1
    );
    // Every interface, every device, every file system.
    assert_eq!(
        find(
            &ps,
            "aws.rds.os.network.throughput",
            &[("network.interface.name", "eth0")]
        )
        .len(),
        2
    );
    for device in ["rdsdev", "filesystem"] {
        assert_eq!(
            find(
                &ps,
                "aws.rds.os.disk.throughput",
                &[
                    ("system.device", device),
                    ("aws.rds.os.disk.group", "diskIO")
                ]
            )
            .len(),
            2,
            "{device}"
        );
    }
    assert_eq!(
        find(
            &ps,
            "aws.rds.os.disk.await",
            &[("aws.rds.os.disk.group", "physicalDeviceIO")]
        )
        .len(),
        1
    );
    for mount in ["/rdsdbdata", "/"] {
        let used = one(
            &ps,
            "system.filesystem.utilization",
            &[
                ("system.filesystem.mountpoint", mount),
                ("system.filesystem.state", "used"),
            ],
        );
        assert!((0.0..=1.0).contains(&used), "{mount}: {used}");
    }
    // Uptime "… days, hh:mm:ss" in seconds.
    let up = one(&ps, "system.uptime", &[]);
    assert!(up > 300.0 * 86_400.0, "{up}");
}

#[test]
fn the_process_list_is_bounded_by_cpu_and_by_memory() {
    let doc = parse(MYSQL).unwrap();
    assert_eq!(doc.process_list.len(), 40);
    for top in [0, 1, 3, 10] {
        let ps = points_of(MYSQL, top);
        let mut series: Vec<(Option<&str>, Option<i64>, Option<i64>)> = ps
            .iter()
            .filter(|p| p.name == "process.cpu.utilization")
            .map(|p| {
                let int = |k| match p.attributes.get(k) {
                    Some(Value::Int(i)) => Some(*i),
                    _ => None,
                };
                (
                    p.attributes.get_str(keys::PROCESS_EXECUTABLE_NAME),
                    int(keys::PROCESS_PID.as_str()),
                    int(keys::THREAD_ID),
                )
            })
            .collect();
        let n = series.len();
        series.sort();
        series.dedup();
        assert_eq!(series.len(), n, "one series per process or thread");
        assert!(n <= 2 * top, "top {top}: {n} processes kept");
        assert!(n >= top.min(1), "top {top}: {n} processes kept");
    }
    // The busiest process and the biggest one are always kept.
    let ps = points_of(MYSQL, 1);
    let names: Vec<&str> = ps
        .iter()
        .filter(|p| p.name == "process.cpu.utilization")
        .filter_map(|p| p.attributes.get_str(keys::PROCESS_EXECUTABLE_NAME))
        .collect();
    assert_eq!(
        names,
        ["RDS processes"],
        "top by CPU and by memory are the same row here"
    );
    let ps = points_of(SQLSERVER, 1);
    let kept: Vec<(Option<&str>, bool)> = ps
        .iter()
        .filter(|p| p.name == "process.cpu.utilization")
        .map(|p| {
            (
                p.attributes.get_str(keys::PROCESS_EXECUTABLE_NAME),
                p.attributes.get(keys::THREAD_ID).is_some(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            (Some("RDS processes"), false),
            (Some("sqlservr.exe"), false)
        ]
    );
}

#[test]
fn aurora_storage_volume_entry_has_no_device() {
    let ps = points_of(AURORA_PG, 10);
    let latency = find(&ps, "aws.rds.os.disk.latency", &[]);
    assert_eq!(latency.len(), 2, "read and write");
    assert!(latency
        .iter()
        .all(|p| p.attributes.get(keys::SYSTEM_DEVICE).is_none()));
    let write = one(
        &ps,
        "aws.rds.os.disk.latency",
        &[("disk.io.direction", "write")],
    );
    assert!(close(write, 1.14 / 1000.0), "ms → s: {write}");
    assert_eq!(find(&ps, "aws.rds.os.disk.queue_length", &[]).len(), 2);
    // `vmlimit: "unlimited"` is not a number: no point.
    assert!(find(
        &ps,
        "aws.rds.os.process.memory.limit",
        &[("process.executable.name", "Aurora Storage Daemon")]
    )
    .is_empty());
}

#[test]
fn sql_server_document_names_values_and_attributes() {
    let ps = points_of(SQLSERVER, 10);
    let modes: Vec<&str> = find(&ps, "system.cpu.utilization", &[])
        .iter()
        .filter_map(|p| p.attributes.get_str(keys::CPU_MODE))
        .collect();
    assert_eq!(modes, ["idle", "user", "kernel"]);
    assert!(close(
        one(&ps, "system.cpu.utilization", &[("cpu.mode", "kernel")]),
        0.1185
    ));
    assert_eq!(one(&ps, "system.memory.limit", &[]), 1_048_176.0 * 1024.0);
    assert_eq!(
        one(&ps, "aws.rds.os.memory.sql_server", &[]),
        123_432.0 * 1024.0
    );
    assert_eq!(one(&ps, "aws.rds.os.memory.page_size", &[]), 4096.0);
    assert_eq!(one(&ps, "aws.rds.os.system.handles", &[]), 14_874.0);
    assert_eq!(one(&ps, "system.uptime", &[]), 643.0, "0 days, 00:10:43");
    assert_eq!(
        one(
            &ps,
            "system.filesystem.usage",
            &[
                ("system.device", "rdsdbdata"),
                ("system.filesystem.state", "free")
            ]
        ),
        20_675_584.0 * 1024.0
    );
    assert_eq!(
        find(
            &ps,
            "aws.rds.os.network.throughput",
            &[("network.interface.name", "Ethernet 2")]
        )
        .len(),
        2
    );
    let thread = find(
        &ps,
        "process.cpu.utilization",
        &[("process.executable.name", "sqlservr.exe")],
    );
    assert!(thread
        .iter()
        .any(|p| matches!(p.attributes.get(keys::THREAD_ID), Some(Value::Int(3672)))));
}

#[test]
fn the_resource_names_the_instance() {
    let doc = parse(SQLSERVER).unwrap();
    let r = resource(
        "123456789012",
        "db-YWCA2G6UQEA3NYZ54IS6XEBGUE",
        &doc,
        Some("us-east-1"),
    );
    assert_eq!(r.get_str(keys::RDS_SOURCE_IDENTIFIER), Some("trevor"));
    assert_eq!(
        r.get_str(keys::RDS_RESOURCE_ID),
        Some("db-YWCA2G6UQEA3NYZ54IS6XEBGUE")
    );
    assert_eq!(
        r.get_str(keys::DB_SYSTEM_NAME),
        Some("microsoft.sql_server")
    );
    assert_eq!(r.get_str(keys::RDS_ENGINE), Some("SqlServer"));
    assert_eq!(
        r.get_str(keys::CLOUD_RESOURCE_ID),
        Some("arn:aws:rds:us-east-1:123456789012:db:trevor")
    );
    let r = resource("", "db-A", &parse(AURORA_PG).unwrap(), None);
    assert_eq!(r.get_str(keys::DB_SYSTEM_NAME), Some("postgresql"));
    assert!(r.get(keys::CLOUD_RESOURCE_ID).is_none());
    for (engine, db) in [
        ("MYSQL", Some("mysql")),
        ("Aurora", Some("mysql")),
        ("aurora-mysql", Some("mysql")),
        ("MariaDB", Some("mariadb")),
        ("POSTGRES", Some("postgresql")),
        ("oracle-ee", Some("oracle.db")),
        ("sqlserver-se", Some("microsoft.sql_server")),
        ("db2-se", None),
    ] {
        assert_eq!(db_system(engine), db, "{engine}");
    }
}

#[test]
fn what_is_not_a_document_is_an_error_never_a_panic() {
    for bad in [
        "",
        "not json",
        "[1,2]",
        "{}",
        r#"{"timestamp": "yesterday"}"#,
        r#"{"timestamp": "2025-07-02T12:59:15Z", "memory": "lots"}"#,
        &MYSQL[..MYSQL.len() / 2],
    ] {
        assert!(parse(bad).is_err(), "{bad:?}");
    }
    // Unknown fields and odd values are skipped, not fatal.
    let doc = parse(
        r#"{"timestamp":"2025-07-02T12:59:15Z","newSection":{"x":1},"memory":{"free":"n/a","total":4},
            "processList":[{"name":"p","cpuUsedPc":null}],"uptime":"soon"}"#,
    )
    .unwrap();
    let r = resource("", "db-A", &doc, None);
    let ps = points(&doc, &r, 10);
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0].name, "system.memory.limit");
}

#[test]
fn uptime_forms() {
    for (text, s) in [
        (
            "328 days, 04:36:09",
            Some(328 * 86_400 + 4 * 3_600 + 36 * 60 + 9),
        ),
        ("1 day, 0:00:01", Some(86_401)),
        ("0:44:23", Some(44 * 60 + 23)),
        ("10:61:00", None),
        ("x days, 1:00:00", None),
        ("1:2", None),
    ] {
        assert_eq!(uptime_seconds(&Json::from(text)), s, "{text}");
    }
    assert_eq!(uptime_seconds(&Json::from(42)), Some(42));
}
