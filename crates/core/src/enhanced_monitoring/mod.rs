//! RDS Enhanced Monitoring: the JSON documents RDS writes to the
//! `RDSOSMetrics` log group (one per log event, the log stream named by the
//! instance's resource id `db-…`), turned into metric points at the
//! document's own `timestamp`.
//!
//! Both shapes RDS writes are read: the Linux one (MySQL, MariaDB,
//! PostgreSQL, Oracle, Aurora: `cpuUtilization` by mode, `loadAverageMinute`,
//! `memory`, `tasks`, `swap`, `diskIO[]`, `physicalDeviceIO[]`, `fileSys[]`)
//! and the Windows one (SQL Server: `cpuUtilization` idle/kern/user, its own
//! `memory` fields, `system`, `disks[]`), each with `network[]` and
//! `processList[]`. Every numeric field becomes one gauge point; the process
//! list is cut to the top N by CPU and the top N by memory. Names, units and
//! attributes are listed in `docs/schema.md` ("Enhanced Monitoring").
//!
//! Units are converted to UCUM base units: kilobytes to bytes (`By`),
//! milliseconds to seconds, and percentages (0–100) to ratios (0–1, unit
//! `1`), as OpenTelemetry's `*.utilization` metrics are.

pub mod settings;

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::metric::{Kind, MetricPoint, Number};
use crate::record::{keys, Attributes, Resource, Value};
use crate::time;

pub use settings::{MetricsSettings, Options};

/// The log group RDS writes Enhanced Monitoring documents to.
pub const LOG_GROUP: &str = "RDSOSMetrics";

/// The `rds.parser` value of the records of documents that could not be read.
pub const PARSER_NAME: &str = "enhanced_monitoring";

/// Whether `group` is the Enhanced Monitoring log group (exactly its name).
pub fn is_log_group(group: &str) -> bool {
    group == LOG_GROUP
}

type Section = Option<Map<String, Json>>;

/// One Enhanced Monitoring document; unknown fields are ignored, every
/// section is optional (engines differ in which they write).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub engine: Option<String>,
    #[serde(rename = "instanceID")]
    pub instance_id: Option<String>,
    #[serde(rename = "instanceResourceID")]
    pub instance_resource_id: Option<String>,
    pub timestamp: String,
    uptime: Option<Json>,
    #[serde(rename = "numVCPUs")]
    num_vcpus: Option<Json>,
    cpu_utilization: Section,
    load_average_minute: Section,
    memory: Section,
    tasks: Section,
    swap: Section,
    system: Section,
    #[serde(default)]
    network: Vec<Map<String, Json>>,
    #[serde(default, rename = "diskIO")]
    disk_io: Vec<Map<String, Json>>,
    #[serde(default, rename = "physicalDeviceIO")]
    physical_device_io: Vec<Map<String, Json>>,
    #[serde(default)]
    disks: Vec<Map<String, Json>>,
    #[serde(default)]
    file_sys: Vec<Map<String, Json>>,
    #[serde(default)]
    process_list: Vec<Map<String, Json>>,
    /// The parsed `timestamp` (Unix ns).
    #[serde(skip)]
    pub time_ns: i64,
}

/// Reads one log event's message; the reason when it is not an Enhanced
/// Monitoring document (not JSON, not an object, no readable `timestamp`).
pub fn parse(message: &str) -> Result<Document, String> {
    let mut doc: Document = serde_json::from_str(message).map_err(|e| e.to_string())?;
    doc.time_ns = time::parse_rfc3339(&doc.timestamp)
        .ok_or_else(|| format!("`timestamp` is not an RFC 3339 time: {:?}", doc.timestamp))?;
    Ok(doc)
}

/// `db.system.name` for the document's `engine` (`MYSQL`, `Aurora`,
/// `aurora-postgresql`, `SqlServer`, `oracle-ee`, …): the OTel value, or
/// `None` when the engine is not one we know.
pub fn db_system(engine: &str) -> Option<&'static str> {
    let e = engine.to_ascii_lowercase();
    if e == "aurora" || e.starts_with("aurora-mysql") || e.starts_with("mysql") {
        Some("mysql")
    } else if e.starts_with("mariadb") {
        Some("mariadb")
    } else if e.starts_with("postgres") || e.starts_with("aurora-postgresql") {
        Some("postgresql")
    } else if e.starts_with("sqlserver") {
        Some("microsoft.sql_server")
    } else if e.starts_with("oracle") {
        Some("oracle.db")
    } else {
        None
    }
}

/// The resource of a document's points: the account, region and log
/// stream of the CloudWatch document it came in, the instance (id, ARN when
/// the region is known, resource id) and its engine.
pub fn resource(owner: &str, log_stream: &str, doc: &Document, region: Option<&str>) -> Resource {
    let mut r = Attributes::with_capacity(11);
    r.insert(keys::CLOUD_PROVIDER, "aws");
    if !owner.is_empty() {
        r.insert(keys::CLOUD_ACCOUNT_ID, owner);
    }
    if let Some(region) = region {
        r.insert(keys::CLOUD_REGION, region);
        if let (Some(id), false) = (&doc.instance_id, owner.is_empty()) {
            r.insert(
                keys::CLOUD_RESOURCE_ID,
                format!("arn:aws:rds:{region}:{owner}:db:{id}"),
            );
        }
    }
    r.insert(
        keys::AWS_LOG_GROUP_NAMES,
        Value::Array(vec![LOG_GROUP.into()]),
    );
    r.insert(
        keys::AWS_LOG_STREAM_NAMES,
        Value::Array(vec![log_stream.into()]),
    );
    r.insert(keys::RDS_SOURCE_KIND, "instance");
    if let Some(id) = &doc.instance_id {
        r.insert(keys::RDS_SOURCE_IDENTIFIER, id.as_str());
    }
    let resource_id = doc
        .instance_resource_id
        .as_deref()
        .or_else(|| log_stream.starts_with("db-").then_some(log_stream));
    if let Some(id) = resource_id {
        r.insert(keys::RDS_RESOURCE_ID, id);
    }
    if let Some(engine) = &doc.engine {
        r.insert(keys::RDS_ENGINE, engine.as_str());
        if let Some(db) = db_system(engine) {
            r.insert(keys::DB_SYSTEM_NAME, db);
        }
    }
    Arc::new(r)
}

/// How a field's number becomes the point's value.
#[derive(Debug, Clone, Copy)]
enum Scale {
    /// As given.
    One,
    /// Kilobytes (KiB) to bytes.
    Kib,
    /// Percent (0–100) to a ratio (0–1).
    Percent,
    /// Milliseconds to seconds.
    Ms,
}

/// One numeric field of a section and the metric it feeds.
struct Field {
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    scale: Scale,
    description: &'static str,
    /// A fixed attribute telling this field's point from its siblings'.
    attr: Option<(&'static str, &'static str)>,
}

const fn f(
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    scale: Scale,
    description: &'static str,
    attr: Option<(&'static str, &'static str)>,
) -> Field {
    Field {
        key,
        name,
        unit,
        scale,
        description,
        attr,
    }
}

use Scale::{Kib, Ms, One, Percent};

const CPU_UTIL: &str = "system.cpu.utilization";
const CPU_UTIL_D: &str = "share of CPU time in this mode over the sampling interval (Enhanced Monitoring `cpuUtilization`)";
const fn mode(key: &'static str, value: &'static str) -> Field {
    f(
        key,
        CPU_UTIL,
        "1",
        Percent,
        CPU_UTIL_D,
        Some((keys::CPU_MODE, value)),
    )
}

/// `cpuUtilization`: Linux modes and SQL Server's idle/kern/user.
const CPU: &[Field] = &[
    mode("guest", "guest"),
    mode("idle", "idle"),
    mode("irq", "interrupt"),
    mode("nice", "nice"),
    mode("steal", "steal"),
    mode("system", "system"),
    mode("user", "user"),
    mode("wait", "iowait"),
    mode("kern", "kernel"),
    f(
        "total",
        "aws.rds.os.cpu.utilization",
        "1",
        Percent,
        "share of CPU time in use, all modes but idle (`cpuUtilization.total`)",
        None,
    ),
];

const LOAD_D: &str = "load average: runnable and uninterruptible threads (`loadAverageMinute`)";
const LOAD: &[Field] = &[
    f(
        "one",
        "system.cpu.load_average.1m",
        "{thread}",
        One,
        LOAD_D,
        None,
    ),
    f(
        "five",
        "system.cpu.load_average.5m",
        "{thread}",
        One,
        LOAD_D,
        None,
    ),
    f(
        "fifteen",
        "system.cpu.load_average.15m",
        "{thread}",
        One,
        LOAD_D,
        None,
    ),
];

const MEM_USAGE_D: &str = "memory in this state (`memory.free`, `.cached`, `.buffers`)";
const fn mem(key: &'static str, name: &'static str, description: &'static str) -> Field {
    f(key, name, "By", Kib, description, None)
}

/// `memory`: the Linux and the SQL Server fields (their keys differ).
const MEMORY: &[Field] = &[
    f(
        "free",
        "system.memory.usage",
        "By",
        Kib,
        MEM_USAGE_D,
        Some((keys::SYSTEM_MEMORY_STATE, "free")),
    ),
    f(
        "cached",
        "system.memory.usage",
        "By",
        Kib,
        MEM_USAGE_D,
        Some((keys::SYSTEM_MEMORY_STATE, "cached")),
    ),
    f(
        "buffers",
        "system.memory.usage",
        "By",
        Kib,
        MEM_USAGE_D,
        Some((keys::SYSTEM_MEMORY_STATE, "buffers")),
    ),
    mem(
        "total",
        "system.memory.limit",
        "total memory (`memory.total`)",
    ),
    mem("active", "aws.rds.os.memory.active", "`memory.active`"),
    mem(
        "inactive",
        "aws.rds.os.memory.inactive",
        "`memory.inactive`",
    ),
    mem("dirty", "aws.rds.os.memory.dirty", "`memory.dirty`"),
    mem("mapped", "aws.rds.os.memory.mapped", "`memory.mapped`"),
    mem(
        "pageTables",
        "aws.rds.os.memory.page_tables",
        "`memory.pageTables`",
    ),
    mem("slab", "aws.rds.os.memory.slab", "`memory.slab`"),
    mem(
        "writeback",
        "aws.rds.os.memory.writeback",
        "`memory.writeback`",
    ),
    f(
        "hugePagesFree",
        "aws.rds.os.memory.huge_pages.free",
        "{page}",
        One,
        "`memory.hugePagesFree`",
        None,
    ),
    f(
        "hugePagesRsvd",
        "aws.rds.os.memory.huge_pages.reserved",
        "{page}",
        One,
        "`memory.hugePagesRsvd`",
        None,
    ),
    f(
        "hugePagesSurp",
        "aws.rds.os.memory.huge_pages.surplus",
        "{page}",
        One,
        "`memory.hugePagesSurp`",
        None,
    ),
    f(
        "hugePagesTotal",
        "aws.rds.os.memory.huge_pages.total",
        "{page}",
        One,
        "`memory.hugePagesTotal`",
        None,
    ),
    mem(
        "hugePagesSize",
        "aws.rds.os.memory.huge_pages.size",
        "`memory.hugePagesSize`",
    ),
    // SQL Server.
    mem(
        "physTotKb",
        "system.memory.limit",
        "total memory (`memory.physTotKb`)",
    ),
    mem(
        "physAvailKb",
        "aws.rds.os.memory.available",
        "`memory.physAvailKb`",
    ),
    mem(
        "commitTotKb",
        "aws.rds.os.memory.commit.usage",
        "`memory.commitTotKb`",
    ),
    mem(
        "commitLimitKb",
        "aws.rds.os.memory.commit.limit",
        "`memory.commitLimitKb`",
    ),
    mem(
        "commitPeakKb",
        "aws.rds.os.memory.commit.peak",
        "`memory.commitPeakKb`",
    ),
    mem(
        "kernTotKb",
        "aws.rds.os.memory.kernel.total",
        "`memory.kernTotKb`",
    ),
    mem(
        "kernPagedKb",
        "aws.rds.os.memory.kernel.paged",
        "`memory.kernPagedKb`",
    ),
    mem(
        "kernNonpagedKb",
        "aws.rds.os.memory.kernel.nonpaged",
        "`memory.kernNonpagedKb`",
    ),
    mem(
        "sqlServerTotKb",
        "aws.rds.os.memory.sql_server",
        "`memory.sqlServerTotKb`",
    ),
    mem(
        "sysCacheKb",
        "aws.rds.os.memory.system_cache",
        "`memory.sysCacheKb`",
    ),
    f(
        "pageSize",
        "aws.rds.os.memory.page_size",
        "By",
        One,
        "`memory.pageSize` (bytes)",
        None,
    ),
];

const TASKS_D: &str = "processes in this state (`tasks`)";
const fn task(key: &'static str, value: &'static str) -> Field {
    f(
        key,
        "system.process.count",
        "{process}",
        One,
        TASKS_D,
        Some((keys::PROCESS_STATE, value)),
    )
}

const TASKS: &[Field] = &[
    task("running", "running"),
    task("sleeping", "sleeping"),
    task("stopped", "stopped"),
    task("zombie", "defunct"),
    task("blocked", "blocked"),
    f(
        "total",
        "aws.rds.os.tasks.total",
        "{process}",
        One,
        "`tasks.total`",
        None,
    ),
];

const SWAP: &[Field] = &[
    f(
        "free",
        "system.paging.usage",
        "By",
        Kib,
        "free swap (`swap.free`)",
        Some((keys::SYSTEM_PAGING_STATE, "free")),
    ),
    mem("total", "aws.rds.os.swap.total", "`swap.total`"),
    mem("cached", "aws.rds.os.swap.cached", "`swap.cached`"),
    mem(
        "in",
        "aws.rds.os.swap.in",
        "swapped in from disk (`swap.in`)",
    ),
    mem(
        "out",
        "aws.rds.os.swap.out",
        "swapped out to disk (`swap.out`)",
    ),
];

/// SQL Server's `system`.
const SYSTEM: &[Field] = &[
    f(
        "handles",
        "aws.rds.os.system.handles",
        "{handle}",
        One,
        "`system.handles`",
        None,
    ),
    f(
        "threads",
        "aws.rds.os.system.threads",
        "{thread}",
        One,
        "`system.threads`",
        None,
    ),
    f(
        "processes",
        "aws.rds.os.system.processes",
        "{process}",
        One,
        "`system.processes`",
        None,
    ),
];

const NET_D: &str = "bytes per second through the interface (`network[].rx`/`tx`, SQL Server `rdBytesPS`/`wrBytesPS`)";
const fn net(key: &'static str, direction: &'static str) -> Field {
    f(
        key,
        "aws.rds.os.network.throughput",
        "By/s",
        One,
        NET_D,
        Some((keys::NETWORK_IO_DIRECTION, direction)),
    )
}

const NETWORK: &[Field] = &[
    net("rx", "receive"),
    net("tx", "transmit"),
    net("rdBytesPS", "receive"),
    net("wrBytesPS", "transmit"),
];

const DIR: &str = keys::DISK_IO_DIRECTION;
const THROUGHPUT_D: &str = "bytes per second read or written";
const OPS_D: &str = "read or write operations per second";
const fn disk_dir(
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    scale: Scale,
    description: &'static str,
    direction: &'static str,
) -> Field {
    f(key, name, unit, scale, description, Some((DIR, direction)))
}

/// `diskIO[]` and `physicalDeviceIO[]` (the RDS shape and Aurora's storage
/// volume entry), and SQL Server's `disks[]`.
const DISK: &[Field] = &[
    disk_dir(
        "readKbPS",
        "aws.rds.os.disk.throughput",
        "By/s",
        Kib,
        THROUGHPUT_D,
        "read",
    ),
    disk_dir(
        "writeKbPS",
        "aws.rds.os.disk.throughput",
        "By/s",
        Kib,
        THROUGHPUT_D,
        "write",
    ),
    disk_dir(
        "readThroughput",
        "aws.rds.os.disk.throughput",
        "By/s",
        One,
        THROUGHPUT_D,
        "read",
    ),
    disk_dir(
        "writeThroughput",
        "aws.rds.os.disk.throughput",
        "By/s",
        One,
        THROUGHPUT_D,
        "write",
    ),
    disk_dir(
        "rdBytesPS",
        "aws.rds.os.disk.throughput",
        "By/s",
        One,
        THROUGHPUT_D,
        "read",
    ),
    disk_dir(
        "wrBytesPS",
        "aws.rds.os.disk.throughput",
        "By/s",
        One,
        THROUGHPUT_D,
        "write",
    ),
    disk_dir(
        "readIOsPS",
        "aws.rds.os.disk.operations.rate",
        "{operation}/s",
        One,
        OPS_D,
        "read",
    ),
    disk_dir(
        "writeIOsPS",
        "aws.rds.os.disk.operations.rate",
        "{operation}/s",
        One,
        OPS_D,
        "write",
    ),
    disk_dir(
        "rdCountPS",
        "aws.rds.os.disk.operations.rate",
        "{operation}/s",
        One,
        OPS_D,
        "read",
    ),
    disk_dir(
        "wrCountPS",
        "aws.rds.os.disk.operations.rate",
        "{operation}/s",
        One,
        OPS_D,
        "write",
    ),
    disk_dir(
        "readKb",
        "aws.rds.os.disk.io",
        "By",
        Kib,
        "bytes read or written (`readKb`/`writeKb`)",
        "read",
    ),
    disk_dir(
        "writeKb",
        "aws.rds.os.disk.io",
        "By",
        Kib,
        "bytes read or written (`readKb`/`writeKb`)",
        "write",
    ),
    disk_dir(
        "rrqmPS",
        "aws.rds.os.disk.merged.rate",
        "{request}/s",
        One,
        "merged requests queued per second (`rrqmPS`/`wrqmPS`)",
        "read",
    ),
    disk_dir(
        "wrqmPS",
        "aws.rds.os.disk.merged.rate",
        "{request}/s",
        One,
        "merged requests queued per second (`rrqmPS`/`wrqmPS`)",
        "write",
    ),
    disk_dir(
        "readLatency",
        "aws.rds.os.disk.latency",
        "s",
        Ms,
        "average time per operation (Aurora `readLatency`/`writeLatency`)",
        "read",
    ),
    disk_dir(
        "writeLatency",
        "aws.rds.os.disk.latency",
        "s",
        Ms,
        "average time per operation (Aurora `readLatency`/`writeLatency`)",
        "write",
    ),
    f(
        "await",
        "aws.rds.os.disk.await",
        "s",
        Ms,
        "average time to respond to requests, queueing included (`await`)",
        None,
    ),
    f(
        "util",
        "aws.rds.os.disk.utilization",
        "1",
        Percent,
        "share of time the device was busy (`util`)",
        None,
    ),
    f(
        "avgQueueLen",
        "aws.rds.os.disk.queue_length",
        "{request}",
        One,
        "requests waiting in the queue (`avgQueueLen`, Aurora `diskQueueDepth`)",
        None,
    ),
    f(
        "diskQueueDepth",
        "aws.rds.os.disk.queue_length",
        "{request}",
        One,
        "requests waiting in the queue (`avgQueueLen`, Aurora `diskQueueDepth`)",
        None,
    ),
    f(
        "tps",
        "aws.rds.os.disk.transfers.rate",
        "{transfer}/s",
        One,
        "I/O transactions per second (`tps`)",
        None,
    ),
    f(
        "avgReqSz",
        "aws.rds.os.disk.request_size",
        "By",
        Kib,
        "average request size (`avgReqSz`)",
        None,
    ),
    // SQL Server's `disks[]` are volumes: their space as file system metrics.
    f(
        "totalKb",
        "system.filesystem.limit",
        "By",
        Kib,
        FS_LIMIT_D,
        None,
    ),
    f(
        "usedKb",
        "system.filesystem.usage",
        "By",
        Kib,
        FS_USAGE_D,
        Some((keys::FILESYSTEM_STATE, "used")),
    ),
    f(
        "availKb",
        "system.filesystem.usage",
        "By",
        Kib,
        FS_USAGE_D,
        Some((keys::FILESYSTEM_STATE, "free")),
    ),
    f(
        "usedPc",
        "system.filesystem.utilization",
        "1",
        Percent,
        FS_UTIL_D,
        Some((keys::FILESYSTEM_STATE, "used")),
    ),
    f(
        "availPc",
        "system.filesystem.utilization",
        "1",
        Percent,
        FS_UTIL_D,
        Some((keys::FILESYSTEM_STATE, "free")),
    ),
];

const FS_LIMIT_D: &str =
    "size of the file system (`fileSys[].total`, SQL Server `disks[].totalKb`)";
const FS_USAGE_D: &str =
    "space in this state (`fileSys[].used`, SQL Server `disks[].usedKb`/`availKb`)";
const FS_UTIL_D: &str = "share of the space in this state (`fileSys[].usedPercent`, SQL Server `disks[].usedPc`/`availPc`)";

const FILESYS: &[Field] = &[
    f(
        "total",
        "system.filesystem.limit",
        "By",
        Kib,
        FS_LIMIT_D,
        None,
    ),
    f(
        "used",
        "system.filesystem.usage",
        "By",
        Kib,
        FS_USAGE_D,
        Some((keys::FILESYSTEM_STATE, "used")),
    ),
    f(
        "usedPercent",
        "system.filesystem.utilization",
        "1",
        Percent,
        FS_UTIL_D,
        Some((keys::FILESYSTEM_STATE, "used")),
    ),
    f(
        "usedFiles",
        "aws.rds.os.filesystem.files.usage",
        "{file}",
        One,
        "files in use (`fileSys[].usedFiles`)",
        None,
    ),
    f(
        "maxFiles",
        "aws.rds.os.filesystem.files.limit",
        "{file}",
        One,
        "files the file system can hold (`fileSys[].maxFiles`)",
        None,
    ),
    f(
        "usedFilePercent",
        "aws.rds.os.filesystem.files.utilization",
        "1",
        Percent,
        "share of the files in use (`fileSys[].usedFilePercent`)",
        None,
    ),
];

const PROC_CPU_D: &str = "share of the CPU the process used (`processList[].cpuUsedPc`)";
const PROC_MEM_D: &str =
    "share of the memory the process used (`memoryUsedPc`, SQL Server `memUsedPc`)";
const PROC_RSS_D: &str = "resident memory (`rss`, SQL Server `workingSetKb`)";
const PROC_VIRT_D: &str = "virtual memory (`vss`, SQL Server `virtKb`)";

const PROCESS: &[Field] = &[
    f(
        "cpuUsedPc",
        "process.cpu.utilization",
        "1",
        Percent,
        PROC_CPU_D,
        None,
    ),
    f(
        "memoryUsedPc",
        "process.memory.utilization",
        "1",
        Percent,
        PROC_MEM_D,
        None,
    ),
    f(
        "memUsedPc",
        "process.memory.utilization",
        "1",
        Percent,
        PROC_MEM_D,
        None,
    ),
    f("rss", "process.memory.usage", "By", Kib, PROC_RSS_D, None),
    f(
        "workingSetKb",
        "process.memory.usage",
        "By",
        Kib,
        PROC_RSS_D,
        None,
    ),
    f(
        "vss",
        "process.memory.virtual",
        "By",
        Kib,
        PROC_VIRT_D,
        None,
    ),
    f(
        "virtKb",
        "process.memory.virtual",
        "By",
        Kib,
        PROC_VIRT_D,
        None,
    ),
    f(
        "vmlimit",
        "aws.rds.os.process.memory.limit",
        "By",
        Kib,
        "memory limit of the process (`vmlimit`; absent when `unlimited`)",
        None,
    ),
    f(
        "workingSetPrivKb",
        "aws.rds.os.process.memory.private",
        "By",
        Kib,
        "private working set (SQL Server `workingSetPrivKb`)",
        None,
    ),
    f(
        "workingSetShareableKb",
        "aws.rds.os.process.memory.shareable",
        "By",
        Kib,
        "shareable working set (SQL Server `workingSetShareableKb`)",
        None,
    ),
];

/// The number in `v`, scaled; `None` for anything but a JSON number.
fn number(v: &Json, scale: Scale) -> Option<Number> {
    let n = v.as_number()?;
    Some(match (scale, n.as_i64()) {
        (Scale::One, Some(i)) => Number::Int(i),
        (Scale::Kib, Some(i)) => match i.checked_mul(1024) {
            Some(b) => Number::Int(b),
            None => Number::Double(i as f64 * 1024.0),
        },
        _ => {
            let x = n.as_f64()?;
            Number::Double(match scale {
                Scale::One => x,
                Scale::Kib => x * 1024.0,
                Scale::Percent => x / 100.0,
                Scale::Ms => x / 1000.0,
            })
        }
    })
}

/// Builds the points of one document.
struct Builder<'a> {
    time_ns: i64,
    resource: &'a Resource,
    out: Vec<MetricPoint>,
}

impl Builder<'_> {
    fn point(
        &mut self,
        name: &'static str,
        unit: &'static str,
        description: &'static str,
        value: Number,
        attributes: Attributes,
    ) {
        self.out.push(MetricPoint {
            name: name.to_owned(),
            unit,
            description,
            kind: Kind::Gauge(value),
            time_ns: self.time_ns,
            start_time_ns: None,
            attributes,
            resource: self.resource.clone(),
        });
    }

    /// One point per field of `fields` present in `section`, each with the
    /// entry's attributes `base` plus the field's own.
    fn section(&mut self, section: &Map<String, Json>, fields: &[Field], base: &Attributes) {
        for field in fields {
            let Some(value) = section.get(field.key).and_then(|v| number(v, field.scale)) else {
                continue;
            };
            let mut attributes = base.clone();
            if let Some((k, v)) = field.attr {
                attributes.insert(k, v);
            }
            self.point(field.name, field.unit, field.description, value, attributes);
        }
    }
}

/// Text of a string field, trimmed; `None` when absent or empty.
fn text<'a>(entry: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    entry
        .get(key)
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn int(entry: &Map<String, Json>, key: &str) -> Option<i64> {
    entry.get(key).and_then(Json::as_i64)
}

/// `uptime` in seconds: RDS writes `"328 days, 04:36:09"` or `"0:44:23"`
/// (a number is taken as seconds).
pub fn uptime_seconds(v: &Json) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let s = v.as_str()?.trim();
    let (days, clock) = match s.split_once(',') {
        Some((d, rest)) => {
            let d = d
                .trim()
                .strip_suffix("days")
                .or_else(|| d.trim().strip_suffix("day"))?;
            (d.trim().parse::<i64>().ok()?, rest.trim())
        }
        None => (0, s),
    };
    let mut parts = clock.split(':').map(|p| p.trim().parse::<i64>().ok());
    let (h, m, sec) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() || !(0..60).contains(&m) || !(0..61).contains(&sec) || h < 0 {
        return None;
    }
    Some(days * 86_400 + h * 3_600 + m * 60 + sec)
}

/// The indexes of the processes kept: the top `n` by CPU and the top `n` by
/// memory (ties keep the document's order), in the document's order.
fn kept_processes(list: &[Map<String, Json>], n: usize) -> Vec<usize> {
    let share = |p: &Map<String, Json>, keys: &[&str]| {
        keys.iter()
            .find_map(|k| p.get(*k).and_then(Json::as_f64))
            .unwrap_or(0.0)
    };
    let mut keep = vec![false; list.len()];
    for keys in [&["cpuUsedPc"][..], &["memoryUsedPc", "memUsedPc"][..]] {
        let mut order: Vec<usize> = (0..list.len()).collect();
        order.sort_by(|&a, &b| share(&list[b], keys).total_cmp(&share(&list[a], keys)));
        for i in order.into_iter().take(n) {
            keep[i] = true;
        }
    }
    (0..list.len()).filter(|&i| keep[i]).collect()
}

/// Every metric point of `doc`, at its own time, with `resource`;
/// processes bounded to `top_processes` by CPU and by memory.
pub fn points(doc: &Document, resource: &Resource, top_processes: usize) -> Vec<MetricPoint> {
    let mut b = Builder {
        time_ns: doc.time_ns,
        resource,
        out: Vec::with_capacity(96),
    };
    let none = Attributes::new();
    if let Some(n) = doc.num_vcpus.as_ref().and_then(|v| number(v, One)) {
        b.point(
            "system.cpu.logical.count",
            "{cpu}",
            "virtual CPUs of the instance (`numVCPUs`)",
            n,
            Attributes::new(),
        );
    }
    if let Some(s) = doc.uptime.as_ref().and_then(uptime_seconds) {
        b.point(
            "system.uptime",
            "s",
            "time since the instance started (`uptime`)",
            Number::Int(s),
            Attributes::new(),
        );
    }
    for (section, fields) in [
        (&doc.cpu_utilization, CPU),
        (&doc.load_average_minute, LOAD),
        (&doc.memory, MEMORY),
        (&doc.tasks, TASKS),
        (&doc.swap, SWAP),
        (&doc.system, SYSTEM),
    ] {
        if let Some(s) = section {
            b.section(s, fields, &none);
        }
    }
    for nic in &doc.network {
        let mut a = Attributes::with_capacity(2);
        if let Some(name) = text(nic, "interface") {
            a.insert(keys::NETWORK_INTERFACE_NAME, name);
        }
        b.section(nic, NETWORK, &a);
    }
    for (group, entries) in [
        ("diskIO", &doc.disk_io),
        ("physicalDeviceIO", &doc.physical_device_io),
        ("disks", &doc.disks),
    ] {
        for disk in entries {
            let mut a = Attributes::with_capacity(3);
            // Aurora's storage volume entry names no device.
            if let Some(device) = text(disk, "device").or_else(|| text(disk, "name")) {
                a.insert(keys::SYSTEM_DEVICE, device);
            }
            a.insert(keys::RDS_OS_DISK_GROUP, group);
            b.section(disk, DISK, &a);
        }
    }
    for fs in &doc.file_sys {
        let mut a = Attributes::with_capacity(3);
        if let Some(name) = text(fs, "name") {
            a.insert(keys::SYSTEM_DEVICE, name);
        }
        if let Some(mount) = text(fs, "mountPoint") {
            a.insert(keys::FILESYSTEM_MOUNTPOINT, mount);
        }
        b.section(fs, FILESYS, &a);
    }
    for i in kept_processes(&doc.process_list, top_processes) {
        let p = &doc.process_list[i];
        let mut a = Attributes::with_capacity(3);
        if let Some(name) = text(p, "name") {
            a.insert(keys::PROCESS_EXECUTABLE_NAME, name);
        }
        // Linux lists threads: `id` is the thread, `tgid` its process;
        // SQL Server lists a process (`pid`) then its threads (`tid`).
        // The summary rows ("OS processes", "RDS processes") carry id 0: no pid.
        let pid = int(p, "pid")
            .or_else(|| int(p, "tgid"))
            .filter(|&id| id != 0);
        let tid = int(p, "tid")
            .or_else(|| int(p, "id").filter(|id| Some(*id) != pid))
            .filter(|&id| id != 0);
        if let Some(pid) = pid {
            a.insert(keys::PROCESS_PID, pid);
        }
        if let Some(tid) = tid {
            a.insert(keys::THREAD_ID, tid);
        }
        b.section(p, PROCESS, &a);
    }
    b.out
}

#[cfg(test)]
mod tests;
