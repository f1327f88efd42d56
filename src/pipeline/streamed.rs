//! Big CloudWatch payloads, processed and delivered chunk by chunk so that
//! peak memory stays bounded whatever the payload inflates to.
//!
//! A thread of its own inflates and reads the document
//! ([`input::stream`]) and hands chunks of events through a bounded channel
//! (capacity 1) to the invocation's task, which parses, joins, enriches,
//! builds records and delivers each chunk before taking the next. A thread
//! rather than a task because serde's visitor pushes events (it cannot
//! pause for an `.await`), and the sinks' connections belong to the
//! invocation's runtime, which must stay free to drive them. At most three
//! chunks live at once: one being read, one waiting in the channel, one
//! being delivered.
//!
//! What crosses a chunk boundary is the core's business
//! (`rdsf_core::process::carry`): the records, their order and the counts
//! are the whole-document path's.
//!
//! Delivery stays at-least-once: if a chunk cannot be delivered the
//! invocation fails at once (chunks already delivered are sent again on
//! Lambda's retry, which at-least-once allows).

use std::time::Instant;

use rdsf_core::failure::Failure;
use rdsf_core::input::stream::{CloudWatchStream, DocChunk};
use rdsf_core::input::{Decoded, EventKind, InputError};
use rdsf_core::process::{count_records, Processed, Stats};
use rdsf_core::time;
use rdsf_sinks::Sink;

use super::{Outcome, Pipeline};

impl Pipeline {
    /// [`Pipeline::run`] for a streamed payload.
    /// `whole` decodes the same payload at once, for when no thread can be
    /// started.
    pub(super) async fn run_streamed(
        &self,
        stream: CloudWatchStream,
        whole: impl FnOnce() -> Result<Decoded, InputError>,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
    ) -> Outcome {
        let observed_ns = time::now_ns();
        let limits = self.processor.stream_options().chunk;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<DocChunk>(1);
        let spawned = std::thread::Builder::new()
            .name("rdsf-inflate".to_owned())
            .spawn(move || stream.run(limits, &mut |chunk| tx.blocking_send(chunk).is_ok()));
        let producer = match spawned {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "no thread for streaming; processing the payload whole");
                return self.run_whole(whole(), sinks, deadline).await;
            }
        };

        let mut outcome = Outcome {
            kind: Some(EventKind::CloudWatchLogs),
            ..Outcome::default()
        };
        let mut carry = None;
        while let Some(chunk) = rx.recv().await {
            let mut part = Processed::until(deadline);
            self.processor
                .process_chunk(&mut carry, chunk, observed_ns, &mut part);
            if part.out_of_time() {
                part.fail_out_of_time("the payload");
                outcome.stats.add(&part.stats);
                outcome.failures.append(&mut part.failures);
                break;
            }
            count_records(&mut part);
            let failures_before = part.failures.len();
            self.deliver(&mut part, sinks, deadline).await;
            let delivery_failed = part.failures.len() > failures_before;
            outcome.stats.add(&part.stats);
            outcome.failures.append(&mut part.failures);
            if delivery_failed {
                // The invocation fails; reading on would only buffer.
                break;
            }
        }
        // A producer waiting to send sees the channel closed and stops.
        drop(rx);
        match producer.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => record_input_failure(&mut outcome.stats, &mut outcome.failures, e),
            Err(_) => {
                let e = InputError::CloudWatchDocument {
                    what: "awslogs.data".to_owned(),
                    detail: "the decoding thread panicked".to_owned(),
                };
                record_input_failure(&mut outcome.stats, &mut outcome.failures, e);
            }
        }
        super::log_failures(&outcome.failures);
        outcome
    }
}

fn record_input_failure(stats: &mut Stats, failures: &mut Vec<Failure>, e: InputError) {
    stats.fail(e.reason());
    failures.push(Failure::input(e, None));
}
