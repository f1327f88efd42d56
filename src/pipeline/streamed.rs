//! Big CloudWatch payloads, processed and delivered chunk by chunk so that
//! peak memory stays bounded whatever the payload inflates to.
//!
//! A thread of its own inflates the payload and finds its log events
//! ([`input::stream`]), and hands chunks of them, still JSON, through a
//! bounded channel (capacity 1) to the invocation's task, which reads the
//! events, hands the emptied buffer back, then parses, joins, enriches,
//! builds records and delivers the chunk before taking the next. A thread
//! rather than a task because the reader pushes chunks (it cannot pause
//! for an `.await`), and the sinks' connections belong to the invocation's
//! runtime, which must stay free to drive them.
//!
//! The events are read on the task, not the thread, because the task frees
//! them: a string allocated by one thread and freed by another goes back
//! to the allocator's free lists late (mimalloc: only after about a hundred
//! of the owner's slow-path allocations; one string per event made that
//! ~20 MB of 256 KB messages held for nothing). And there is one buffer:
//! the thread fills the next chunk while the task processes one, then
//! waits for the buffer, so two chunks live at once, not three.
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
use rdsf_core::input::stream::{CloudWatchStream, RawChunk};
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
        let (tx, mut rx) = tokio::sync::mpsc::channel::<RawChunk>(1);
        // Buffers the task has emptied, back to the thread. The thread's
        // first buffer is new; after that it waits for the one it handed
        // on (none comes once the task has gone: a new one, and the next
        // hand-on fails).
        let (back, returned) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("rdsf-inflate".to_owned())
            .spawn(move || {
                let mut first = true;
                let mut spare = || {
                    if std::mem::take(&mut first) {
                        None
                    } else {
                        returned.recv().ok()
                    }
                };
                stream.run_raw(limits, &mut spare, &mut |chunk| {
                    tx.blocking_send(chunk).is_ok()
                })
            });
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
        let mut input_failed = false;
        while let Some(raw) = rx.recv().await {
            let (chunk, buffer) = raw.parse();
            // The thread may be waiting for it; gone if it has stopped.
            let _ = back.send(buffer);
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    // The document's error: the thread reads no further.
                    record_input_failure(&mut outcome.stats, &mut outcome.failures, e);
                    input_failed = true;
                    break;
                }
            };
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
        // A producer waiting to send sees the channel closed and stops;
        // one waiting for a buffer gets none.
        drop(rx);
        drop(back);
        match producer.join() {
            Ok(Ok(())) => {}
            // What it read after the error is not looked at.
            Ok(Err(_)) if input_failed => {}
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
