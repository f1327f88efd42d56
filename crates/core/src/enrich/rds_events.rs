//! RDS event enrichment from the event catalogue of the AWS user guides.
//!
//! `rds_event_catalog.csv` is `../shared/rds-events/catalog.csv`: 326 rows,
//! 323 RDS/Aurora event IDs, adapted from the *Amazon RDS User Guide* and
//! *Amazon Aurora User Guide* by Amazon Web Services, Inc., under CC BY-SA 4.0
//! (see `NOTICE`). It is compiled into the binary so enrichment needs no I/O.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::severity::{self, Severity};

const CATALOG_CSV: &str = include_str!("rds_event_catalog.csv");

/// One catalogue row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CatalogEntry {
    pub source_type: String,
    /// As written in the guides, lower case; may hold two values (`a, b`).
    pub category: String,
    pub event_id: String,
    /// The message template, placeholders in backticks.
    pub message: String,
    pub notes: String,
    pub guide: String,
}

impl CatalogEntry {
    /// The categories of this row (`maintenance, failure` → two).
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.category
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }

    /// True when `message` fits the template, placeholders matching anything.
    /// Case-insensitive: real messages differ in case from the guides.
    pub fn template_matches(&self, message: &str) -> bool {
        let msg = message.to_ascii_lowercase();
        let mut at = 0;
        for (i, literal) in self.message.split('`').enumerate() {
            // Odd segments are placeholder names.
            if i % 2 == 1 || literal.trim().is_empty() {
                continue;
            }
            let lit = literal.trim().trim_end_matches('.').to_ascii_lowercase();
            match msg[at..].find(&lit) {
                Some(pos) => at += pos + lit.len(),
                None => return false,
            }
        }
        true
    }
}

/// The catalogue, indexed by event id.
pub struct Catalog {
    by_id: HashMap<String, Vec<CatalogEntry>>,
}

impl Catalog {
    /// The catalogue compiled into the binary, parsed once.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::from_csv(CATALOG_CSV).expect("embedded catalogue is valid CSV")
        })
    }

    pub fn from_csv(text: &str) -> Result<Catalog, csv::Error> {
        let mut by_id: HashMap<String, Vec<CatalogEntry>> = HashMap::new();
        for row in csv::Reader::from_reader(text.as_bytes()).deserialize::<CatalogEntry>() {
            let row = row?;
            by_id.entry(row.event_id.clone()).or_default().push(row);
        }
        Ok(Catalog { by_id })
    }

    pub fn len(&self) -> usize {
        self.by_id.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn distinct_ids(&self) -> usize {
        self.by_id.len()
    }

    /// The row for an event: same id and source type first (0016 is both a
    /// cluster and an instance event), then the row whose template fits the
    /// message (0488 and 0493 have two), then any row with the id.
    pub fn lookup(
        &self,
        event_id: &str,
        source_type: &str,
        message: &str,
    ) -> Option<&CatalogEntry> {
        let rows = self.by_id.get(event_id)?;
        let same_type: Vec<&CatalogEntry> = rows
            .iter()
            .filter(|r| r.source_type == source_type)
            .collect();
        let candidates = if same_type.is_empty() {
            rows.iter().collect()
        } else {
            same_type
        };
        candidates
            .iter()
            .find(|r| r.template_matches(message))
            .or_else(|| candidates.first())
            .copied()
    }
}

/// The severity an RDS event deserves, from its categories and its catalogue
/// row: a failure is an ERROR; low storage, failovers, availability changes,
/// recoveries and messages that report an error are WARN; backups,
/// notifications, maintenance and the rest are INFO. Unknown IDs are INFO.
pub fn severity_for(categories: &[String], entry: Option<&CatalogEntry>) -> Severity {
    let mut cats: Vec<&str> = categories.iter().map(|c| c.trim()).collect();
    if let Some(e) = entry {
        cats.extend(e.categories());
    }
    let has = |name: &str| cats.iter().any(|c| c.eq_ignore_ascii_case(name));
    if has("failure") {
        return Severity::new_static("ERROR", severity::ERROR);
    }
    let warn_category = [
        "low storage",
        "failover",
        "global failover",
        "availability",
        "recovery",
    ]
    .iter()
    .any(|c| has(c));
    let warn_message = entry.is_some_and(|e| {
        let m = e.message.to_ascii_lowercase();
        [
            "fail",
            "error",
            "unable",
            "cannot",
            "can't",
            "could not",
            "has stopped",
            "insufficient",
        ]
        .iter()
        .any(|w| m.contains(w))
    });
    if warn_category || warn_message {
        Severity::new_static("WARN", severity::WARN)
    } else {
        Severity::new_static("INFO", severity::INFO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_all_rows() {
        let c = Catalog::builtin();
        assert_eq!(c.len(), 326);
        assert_eq!(c.distinct_ids(), 323);
    }

    #[test]
    fn lookup_prefers_source_type_then_template() {
        let c = Catalog::builtin();
        assert_eq!(
            c.lookup("RDS-EVENT-0016", "CLUSTER", "")
                .unwrap()
                .source_type,
            "CLUSTER"
        );
        assert_eq!(
            c.lookup("RDS-EVENT-0016", "DB_INSTANCE", "")
                .unwrap()
                .source_type,
            "DB_INSTANCE"
        );
        assert!(c.lookup("RDS-EVENT-9999", "DB_INSTANCE", "").is_none());
        let rows = &c.by_id["RDS-EVENT-0493"];
        assert_eq!(rows.len(), 2);
        let second = &rows[1];
        let msg = second.message.replace('`', "");
        assert_eq!(
            c.lookup("RDS-EVENT-0493", "CLUSTER_SNAPSHOT", &msg)
                .unwrap(),
            second
        );
    }

    #[test]
    fn severities_follow_categories() {
        let c = Catalog::builtin();
        let sev = |id: &str, ty: &str, cats: &[&str]| {
            let cats: Vec<String> = cats.iter().map(|s| s.to_string()).collect();
            severity_for(&cats, c.lookup(id, ty, "")).text
        };
        assert_eq!(sev("RDS-EVENT-0031", "DB_INSTANCE", &["failure"]), "ERROR");
        assert_eq!(
            sev("RDS-EVENT-0089", "DB_INSTANCE", &["low storage"]),
            "WARN"
        );
        assert_eq!(sev("RDS-EVENT-0049", "DB_INSTANCE", &["failover"]), "WARN");
        assert_eq!(sev("RDS-EVENT-0002", "DB_INSTANCE", &["backup"]), "INFO");
        assert_eq!(
            sev("RDS-EVENT-9999", "DB_INSTANCE", &["notification"]),
            "INFO"
        );
    }
}
