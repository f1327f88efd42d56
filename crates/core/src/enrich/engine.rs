//! Which database engine wrote a log group, remembered once content has
//! said so.
//!
//! RDS names MySQL's and MariaDB's log groups alike (`…/slowquery`,
//! `…/general`, `…/error`, `…/audit`), and many batches carry nothing that
//! tells them apart (a general-log batch whose lines all fall in one second
//! has no time column; a slow-log batch may lack the restart banner). A
//! batch that does tell (a `MariaDB` banner, MariaDB's short times, a
//! `[MY-…]` code) teaches every later batch of the same group in this
//! execution environment. A group content never named gets no guess:
//! `db.system.name` is left out and `aws.rds.engine_family` says so (see
//! `docs/schema.md`). Until RDS metadata enrichment names the engine from
//! the API, this is the best the data allows.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::source::SourceInfo;

/// `aws.rds.engine_family` when the log type says "MySQL family" but
/// nothing told MySQL from MariaDB.
pub const MYSQL_OR_MARIADB: &str = "mysql_or_mariadb";

/// How many log groups are remembered; past it the oldest is forgotten
/// (bounded memory in a long-lived execution environment).
pub const DEFAULT_CAPACITY: usize = 4096;

/// Log group → `db.system.name` content named. Shared by every invocation
/// of one execution environment (the pipeline owns it).
#[derive(Debug)]
pub struct EngineMemory {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_group: HashMap<String, &'static str>,
    /// Insertion order, for forgetting the oldest group first.
    order: VecDeque<String>,
}

impl Default for EngineMemory {
    fn default() -> Self {
        EngineMemory::with_capacity(DEFAULT_CAPACITY)
    }
}

impl EngineMemory {
    pub fn with_capacity(capacity: usize) -> Self {
        EngineMemory {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Records what content said about `log_group`. A later, different
    /// answer replaces it (an instance re-created under the same name with
    /// another engine).
    pub fn remember(&self, log_group: &str, db_system: &'static str) {
        let mut inner = self.lock();
        if let Some(known) = inner.by_group.get_mut(log_group) {
            *known = db_system;
            return;
        }
        if inner.by_group.len() >= self.capacity {
            if let Some(oldest) = inner.order.pop_front() {
                inner.by_group.remove(&oldest);
            }
        }
        inner.by_group.insert(log_group.to_owned(), db_system);
        inner.order.push_back(log_group.to_owned());
    }

    /// What content said about `log_group` in an earlier batch, if anything.
    pub fn recall(&self, log_group: &str) -> Option<&'static str> {
        self.lock().by_group.get(log_group).copied()
    }

    /// `db.system.name` for a document: what its content named (remembered
    /// for the log group), else what an earlier batch of the group named,
    /// else what the log type alone implies — never a guess between MySQL
    /// and MariaDB (`resource::for_log` marks that case instead).
    pub fn db_system(
        &self,
        log_group: &str,
        source: &SourceInfo,
        from_content: Option<&'static str>,
    ) -> Option<&'static str> {
        if let Some(db) = from_content {
            self.remember(log_group, db);
            return Some(db);
        }
        self.recall(log_group)
            .or_else(|| source.family.and_then(|f| f.db_system_name()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (each step is one insert or remove): keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_group_and_replaces_a_changed_engine() {
        let m = EngineMemory::default();
        assert_eq!(m.recall("/aws/rds/instance/a/general"), None);
        m.remember("/aws/rds/instance/a/general", "mariadb");
        assert_eq!(m.recall("/aws/rds/instance/a/general"), Some("mariadb"));
        assert_eq!(m.recall("/aws/rds/instance/b/general"), None);
        m.remember("/aws/rds/instance/a/general", "mysql");
        assert_eq!(m.recall("/aws/rds/instance/a/general"), Some("mysql"));
    }

    #[test]
    fn bounded_forgets_the_oldest_group() {
        let m = EngineMemory::with_capacity(2);
        m.remember("g1", "mariadb");
        m.remember("g2", "mysql");
        m.remember("g1", "mariadb"); // known: no new slot
        m.remember("g3", "mariadb");
        assert_eq!(m.recall("g1"), None);
        assert_eq!(m.recall("g2"), Some("mysql"));
        assert_eq!(m.recall("g3"), Some("mariadb"));
        assert_eq!(m.lock().order.len(), 2);
    }
}
