//! Kinesis batches, delivered a group of records at a time so that peak
//! memory follows the stream threshold, not the batch: a 6 MB batch can
//! inflate to ~60 MB of CloudWatch JSON, and holding all of it, its events
//! and their records at once peaked at 339 MB.
//!
//! Records are taken in order into groups whose inflated size (each gzip
//! trailer's ISIZE, a hint only: the decoder still enforces the limit) stays
//! within the threshold; a group is decoded, processed and delivered as the
//! whole path does a batch, then dropped. A record that alone inflates past
//! the threshold is streamed like a big direct payload. Small records still
//! share deliveries (one sink batch per group, not per record), and each
//! failure is reported under its record's sequence number, so Kinesis
//! `batchItemFailures` stays exact.

use std::time::Instant;

use crate::input::kinesis::KinesisRecordRef;
use crate::input::{gzip, stream, Decoded, EventKind};
use crate::sink::Sink;

use super::{Outcome, Pipeline};

impl Pipeline {
    /// [`Pipeline::run`] for a Kinesis event.
    pub(super) async fn run_kinesis(
        &self,
        records: Vec<KinesisRecordRef<'_>>,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
    ) -> Outcome {
        let limit = self.config.max_decompressed_bytes;
        let threshold = self.stream.threshold_bytes;
        let mut outcome = Outcome {
            kind: Some(EventKind::Kinesis),
            ..Outcome::default()
        };
        let mut group: Vec<&KinesisRecordRef<'_>> = Vec::new();
        let mut group_bytes = 0;
        for record in &records {
            let seq = record.sequence_number();
            if let Some(big) = stream::open_data(record.data(), limit, threshold) {
                self.deliver_group(&mut group, sinks, deadline, &mut outcome)
                    .await;
                group_bytes = 0;
                let whole = || Ok(decoded(std::slice::from_ref(&record), limit));
                let mut part = self.run_streamed(big, whole, sinks, deadline).await;
                for f in &mut part.failures {
                    f.kinesis_sequence_number = Some(seq.to_owned());
                }
                if !part.failures.is_empty() && part.failed_kinesis_records.is_empty() {
                    part.failed_kinesis_records.push(seq.to_owned());
                }
                merge(&mut outcome, part);
                continue;
            }
            // Plain-JSON records (no gzip trailer) count at their base64 size.
            let inflated =
                gzip::isize_hint_b64(record.data()).map_or(record.data().len(), |n| n as usize);
            if !group.is_empty() && group_bytes + inflated > threshold {
                self.deliver_group(&mut group, sinks, deadline, &mut outcome)
                    .await;
                group_bytes = 0;
            }
            group.push(record);
            group_bytes += inflated;
        }
        self.deliver_group(&mut group, sinks, deadline, &mut outcome)
            .await;
        outcome
    }

    /// Decodes, processes and delivers `group` as one batch, then empties it.
    async fn deliver_group(
        &self,
        group: &mut Vec<&KinesisRecordRef<'_>>,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
        outcome: &mut Outcome,
    ) {
        if group.is_empty() {
            return;
        }
        let batch = Ok(decoded(group, self.config.max_decompressed_bytes));
        group.clear();
        let part = self.run_whole(batch, sinks, deadline).await;
        merge(outcome, part);
    }
}

/// `records` decoded as the whole path decodes a Kinesis event's units.
fn decoded(records: &[&KinesisRecordRef<'_>], limit: usize) -> Decoded {
    Decoded {
        kind: EventKind::Kinesis,
        units: records.iter().map(|r| r.unit(limit)).collect(),
    }
}

fn merge(into: &mut Outcome, part: Outcome) {
    into.stats.add(&part.stats);
    into.failures.extend(part.failures);
    into.failed_kinesis_records
        .extend(part.failed_kinesis_records);
    into.log_groups_created.extend(part.log_groups_created);
}
