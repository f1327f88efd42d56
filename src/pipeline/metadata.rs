//! RDS metadata on the resources of an invocation's records and points,
//! before delivery: one lookup per distinct resource (records are grouped
//! by resource), all awaited together within a budget that never reaches
//! the invocation's deadline. What is not known by then goes out as it is,
//! counted ([`MetadataCounters`]) and logged once per invocation.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdsf_core::enrich::metadata::{
    self, MetadataCounters, MetadataSource, RdsMetadata, ResourceKey,
};
use rdsf_core::metric::MetricPoint;
use rdsf_core::record::{Attributes, RecordSet, Resource};

/// A metadata source and how long an invocation may wait for it.
#[derive(Clone)]
pub struct MetadataStage {
    pub source: Arc<dyn MetadataSource>,
    pub budget: Duration,
}

impl MetadataStage {
    /// The latest moment to wait until: the budget, and at most half of
    /// what is left before `deadline` (delivery needs the rest).
    fn wait_until(&self, deadline: Instant) -> Instant {
        let now = Instant::now();
        let half_left = deadline.saturating_duration_since(now) / 2;
        now + self.budget.min(half_left)
    }

    /// Adds metadata to every resource of `records` and `points` that names
    /// an RDS source and whose lookup answers in time.
    pub async fn apply(
        &self,
        records: &mut RecordSet,
        points: &mut [MetricPoint],
        deadline: Instant,
    ) {
        // In order of first sight, each once (a set beside the list: a batch
        // of many log groups must not compare each with every earlier one).
        let mut keys: Vec<ResourceKey> = Vec::new();
        let mut seen: HashSet<ResourceKey> = HashSet::new();
        let mut note = |r: &Resource| {
            if let Some(k) = ResourceKey::of(r) {
                if seen.insert(k.clone()) {
                    keys.push(k);
                }
            }
        };
        for group in records.all_groups() {
            note(group.resource);
        }
        for p in points.iter() {
            note(&p.resource);
        }
        if keys.is_empty() {
            return;
        }
        let until = tokio::time::Instant::from_std(self.wait_until(deadline));
        let source = &*self.source;
        let answers = futures_util::future::join_all(
            keys.iter()
                .map(|k| tokio::time::timeout_at(until, source.metadata(k))),
        )
        .await;
        let timed_out = answers.iter().filter(|a| a.is_err()).count();
        let known: HashMap<&ResourceKey, Arc<RdsMetadata>> = keys
            .iter()
            .zip(answers)
            .filter_map(|(k, a)| Some((k, a.ok()??)))
            .collect();
        // One new resource per old one, so runs and points that shared an
        // `Arc` still do (sinks group by it).
        let mut replaced: HashMap<*const Attributes, Resource> = HashMap::new();
        // Resources (distinct) and records that go without metadata.
        let mut without: HashSet<*const Attributes> = HashSet::new();
        let mut records_without = 0u64;
        let mut enrich = |r: &Resource, records: usize| -> Option<Resource> {
            let key = ResourceKey::of(r)?;
            match known.get(&key) {
                Some(md) => Some(
                    replaced
                        .entry(Arc::as_ptr(r))
                        .or_insert_with(|| Arc::new(metadata::apply(r, md)))
                        .clone(),
                ),
                None => {
                    without.insert(Arc::as_ptr(r));
                    records_without += records as u64;
                    None
                }
            }
        };
        records.map_resources(|r, n| enrich(r, n));
        for p in points.iter_mut() {
            if let Some(new) = enrich(&p.resource, 0) {
                p.resource = new;
            }
        }
        if without.is_empty() {
            return;
        }
        let counters = source.counters();
        let resources = without.len() as u64;
        MetadataCounters::add(&counters.resources_without, resources);
        MetadataCounters::add(&counters.records_without, records_without);
        // A failure has logged its own warning (once per back-off); a
        // lookup cut short by the budget has not.
        if timed_out > 0 {
            tracing::info!(
                resources,
                records = records_without,
                lookups_timed_out = timed_out,
                "RDS metadata did not answer within the budget; records went out without it"
            );
        } else {
            tracing::debug!(
                resources,
                records = records_without,
                "RDS metadata not known for some resources; records went out without it"
            );
        }
    }
}
