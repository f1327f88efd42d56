//! `tasks` (processes by state) and `processList[]`, bounded to the top N
//! by CPU and by memory.

use serde_json::{Map, Value as Json};

use super::field::{
    f, int, text, Field,
    Scale::{Kib, One, Percent},
};
use crate::record::{keys, Attributes};

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

pub(super) const TASKS: &[Field] = &[
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

const PROC_CPU_D: &str = "share of the CPU the process used (`processList[].cpuUsedPc`)";
const PROC_MEM_D: &str =
    "share of the memory the process used (`memoryUsedPc`, SQL Server `memUsedPc`)";
const PROC_RSS_D: &str = "resident memory (`rss`, SQL Server `workingSetKb`)";
const PROC_VIRT_D: &str = "virtual memory (`vss`, SQL Server `virtKb`)";

pub(super) const PROCESS: &[Field] = &[
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

/// The indexes of the processes kept: the top `n` by CPU and the top `n` by
/// memory (ties keep the document's order), in the document's order.
pub(super) fn kept_processes(list: &[Map<String, Json>], n: usize) -> Vec<usize> {
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

/// The attributes of a `processList[]` row.
pub(super) fn attributes(p: &Map<String, Json>) -> Attributes {
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
    a
}
