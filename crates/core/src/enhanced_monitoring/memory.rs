//! `memory` (the Linux fields; SQL Server's are in `sqlserver`) and `swap`.

use super::field::{
    f, Field,
    Scale::{Kib, One},
};
use crate::record::keys;

const MEM_USAGE_D: &str = "memory in this state (`memory.free`, `.cached`, `.buffers`)";
pub(super) const fn mem(key: &'static str, name: &'static str, description: &'static str) -> Field {
    f(key, name, "By", Kib, description, None)
}

/// `memory`, Linux (SQL Server writes other keys: `sqlserver::MEMORY`).
pub(super) const MEMORY: &[Field] = &[
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
];

pub(super) const SWAP: &[Field] = &[
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
