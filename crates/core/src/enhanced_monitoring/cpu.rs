//! `cpuUtilization` and `loadAverageMinute`, and `uptime`'s text.

use serde_json::Value as Json;

use super::field::{
    f, Field,
    Scale::{One, Percent},
};
use crate::record::keys;

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
pub(super) const CPU: &[Field] = &[
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
pub(super) const LOAD: &[Field] = &[
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
