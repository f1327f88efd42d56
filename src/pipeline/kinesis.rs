//! Kinesis batches, delivered a group of records at a time so that peak
//! memory follows the stream threshold, not the batch: a 6 MB batch can
//! inflate to ~60 MB of CloudWatch JSON, and holding all of it, its events
//! and their records at once peaked at 339 MB.
//!
//! Records are taken in order into groups whose inflated size (each gzip
//! trailer's ISIZE, a hint only) stays within the threshold; a group is
//! decoded, processed and delivered as the whole path does a batch, then
//! dropped. A record that alone inflates past the threshold is streamed like
//! a big direct payload, and so is one that, decoded in its group, inflates
//! past the threshold its trailer was under (it goes after the group). Small records still
//! share deliveries (one sink batch per group, not per record), and each
//! failure is reported under its record's sequence number, so Kinesis
//! `batchItemFailures` stays exact.

use std::time::Instant;

use rdsf_core::input::kinesis::{self, KinesisRecordRef};
use rdsf_core::input::{stream, Decoded, EventKind};
use rdsf_sinks::Sink;

use super::{Outcome, Pipeline};

impl Pipeline {
    /// [`Pipeline::run`] for a Kinesis event.
    pub(super) async fn run_kinesis(
        &self,
        records: Vec<KinesisRecordRef<'_>>,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
    ) -> Outcome {
        let mut outcome = Outcome {
            kind: Some(EventKind::Kinesis),
            ..Outcome::default()
        };
        let limits = rdsf_core::input::Limits {
            max_decompressed: self.config.max_decompressed_bytes,
            stream_threshold: self.processor.stream_options().threshold_bytes,
        };
        // Planned from the trailers alone (cheap); each step is decoded,
        // processed and delivered before the next is decoded.
        for step in kinesis::plan(&records, limits) {
            match step {
                kinesis::Step::Group(mut group) => {
                    self.deliver_group(&mut group, sinks, deadline, &mut outcome)
                        .await
                }
                kinesis::Step::Big(record) => {
                    let big = stream::open_gzip(record.data(), limits.max_decompressed);
                    self.run_big_record(record, big, sinks, deadline, &mut outcome)
                        .await
                }
            }
        }
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
        // A record whose trailer lied is streamed after the group (so a
        // batch of lying records stays within the bound too).
        let limit = self.config.max_decompressed_bytes;
        let cap = self.processor.whole_path_limit();
        let mut units = Vec::with_capacity(group.len());
        let mut understated = Vec::new();
        for record in group.drain(..) {
            let unit = record.unit(cap);
            if cap < limit && unit.too_large() {
                understated.push(record);
            } else {
                units.push(unit);
            }
        }
        if !units.is_empty() {
            let batch = Decoded {
                kind: EventKind::Kinesis,
                units,
            };
            let part = self.run_whole(Ok(batch), sinks, deadline).await;
            merge(outcome, part);
        }
        for record in understated {
            tracing::warn!(
                sequence_number = record.sequence_number(),
                "gzip trailer understated the Kinesis record's size; streaming it"
            );
            let big = stream::open_gzip(record.data(), limit);
            self.run_big_record(record, big, sinks, deadline, outcome)
                .await;
        }
    }

    /// One record too big for a group: streamed, or (not gzip, so not
    /// streamable) decoded alone; its failures go under its sequence number.
    async fn run_big_record(
        &self,
        record: &KinesisRecordRef<'_>,
        big: Option<stream::CloudWatchStream>,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
        outcome: &mut Outcome,
    ) {
        let seq = record.sequence_number();
        let limit = self.config.max_decompressed_bytes;
        let whole = || Ok(decoded(std::slice::from_ref(&record), limit));
        let mut part = match big {
            Some(big) => self.run_streamed(big, whole, sinks, deadline).await,
            None => self.run_whole(whole(), sinks, deadline).await,
        };
        for f in &mut part.failures {
            f.kinesis_sequence_number = Some(seq.to_owned());
        }
        if !part.failures.is_empty() && part.failed_kinesis_records.is_empty() {
            part.failed_kinesis_records.push(seq.to_owned());
        }
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
