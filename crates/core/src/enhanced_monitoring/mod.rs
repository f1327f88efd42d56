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
//!
//! One file per section of the document, each with its field table (the
//! document key → metric, unit, scale) and the attributes of its entries:
//! `cpu` (CPU, load, uptime), `memory` (memory, swap), `disks` (disk I/O,
//! file systems), `network`, `processes` (tasks, the process list) and
//! `sqlserver` (what only SQL Server writes); `field` is what they share.
//! This file holds the document's shape, its resource and the order in
//! which the sections become points.

mod cpu;
mod disks;
mod field;
mod memory;
mod network;
mod processes;
pub mod settings;
mod sqlserver;

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

#[cfg(test)]
use crate::metric::Kind;
use crate::metric::{MetricPoint, Number};
use crate::record::{keys, Attributes, Resource, Value};
use crate::time;
use field::{number, Builder, Scale};

pub use cpu::uptime_seconds;
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

/// Every metric point of `doc`, at its own time, with `resource`;
/// processes bounded to `top_processes` by CPU and by memory.
pub fn points(doc: &Document, resource: &Resource, top_processes: usize) -> Vec<MetricPoint> {
    let mut b = Builder {
        time_ns: doc.time_ns,
        resource,
        out: Vec::with_capacity(96),
    };
    let none = Attributes::new();
    if let Some(n) = doc.num_vcpus.as_ref().and_then(|v| number(v, Scale::One)) {
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
        (&doc.cpu_utilization, cpu::CPU),
        (&doc.load_average_minute, cpu::LOAD),
        (&doc.memory, memory::MEMORY),
        (&doc.memory, sqlserver::MEMORY),
        (&doc.tasks, processes::TASKS),
        (&doc.swap, memory::SWAP),
        (&doc.system, sqlserver::SYSTEM),
    ] {
        if let Some(s) = section {
            b.section(s, fields, &none);
        }
    }
    for nic in &doc.network {
        b.section(nic, network::NETWORK, &network::attributes(nic));
    }
    for (group, entries) in [
        ("diskIO", &doc.disk_io),
        ("physicalDeviceIO", &doc.physical_device_io),
        ("disks", &doc.disks),
    ] {
        for disk in entries {
            b.section(disk, disks::DISK, &disks::disk_attributes(group, disk));
        }
    }
    for fs in &doc.file_sys {
        b.section(fs, disks::FILESYS, &disks::filesystem_attributes(fs));
    }
    for i in processes::kept_processes(&doc.process_list, top_processes) {
        let p = &doc.process_list[i];
        b.section(p, processes::PROCESS, &processes::attributes(p));
    }
    b.out
}

#[cfg(test)]
mod tests;
