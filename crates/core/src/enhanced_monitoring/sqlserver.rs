//! What only SQL Server (Windows) writes: its `memory` fields and `system`.
//! (Its `cpuUtilization`, `disks[]` and process rows share the tables of
//! `cpu`, `disks` and `processes`.)

use super::field::{f, Field, Scale::One};
use super::memory::mem;

/// `memory`, SQL Server's keys (after the Linux ones of `memory::MEMORY`,
/// as one table had them: a document has one set or the other).
pub(super) const MEMORY: &[Field] = &[
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

/// SQL Server's `system`.
pub(super) const SYSTEM: &[Field] = &[
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
