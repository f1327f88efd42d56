//! `diskIO[]`, `physicalDeviceIO[]` and SQL Server's `disks[]` (I/O and, for
//! SQL Server, space), and `fileSys[]`.

use serde_json::{Map, Value as Json};

use super::field::{
    f, text, Field,
    Scale::{self, Kib, Ms, One, Percent},
};
use crate::record::{keys, Attributes};

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
pub(super) const DISK: &[Field] = &[
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

pub(super) const FILESYS: &[Field] = &[
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

/// The attributes of a `diskIO[]`, `physicalDeviceIO[]` or `disks[]` entry.
pub(super) fn disk_attributes(group: &'static str, disk: &Map<String, Json>) -> Attributes {
    let mut a = Attributes::with_capacity(3);
    // Aurora's storage volume entry names no device.
    if let Some(device) = text(disk, "device").or_else(|| text(disk, "name")) {
        a.insert(keys::SYSTEM_DEVICE, device);
    }
    a.insert(keys::RDS_OS_DISK_GROUP, group);
    a
}

/// The attributes of a `fileSys[]` entry.
pub(super) fn filesystem_attributes(fs: &Map<String, Json>) -> Attributes {
    let mut a = Attributes::with_capacity(3);
    if let Some(name) = text(fs, "name") {
        a.insert(keys::SYSTEM_DEVICE, name);
    }
    if let Some(mount) = text(fs, "mountPoint") {
        a.insert(keys::FILESYSTEM_MOUNTPOINT, mount);
    }
    a
}
