//! One type for everything that can go wrong in an invocation, and the one
//! place that decides whether a retry can help.
//!
//! Lambda's reply used to be decided by the failure's reason text (anything
//! starting with `sink_` was retryable), so a batch a backend rejected for
//! good (`sink_rejected`) was retried as if it might pass next time. Here a
//! failure is built from the typed error it stands for, and
//! [`Failure::retryable`] reads that, nothing else.

use std::error::Error;
use std::sync::Arc;

use crate::input::InputError;

/// Where a failure came from, with what decides its retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The input could not be read: the same bytes fail the same way.
    Input,
    /// A sink did not confirm a batch; retryable unless it refused the data
    /// for good (or its reader went away).
    Sink { retryable: bool },
    /// Processing ran out of the invocation's time: more time may do.
    Deadline,
    /// Subscribing a new log group failed (AWS API errors say which kind).
    Subscribe { retryable: bool },
}

/// One thing that went wrong, with where; its `source` is the typed error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// A stable, short reason used to count failures by kind.
    pub reason: &'static str,
    pub message: String,
    /// The Kinesis record it belongs to, when the event came from Kinesis.
    pub kinesis_sequence_number: Option<String>,
    origin: Origin,
    #[source]
    source: Option<Arc<dyn Error + Send + Sync>>,
}

/// The failure reason of a sink whose output's reader went away (stdout
/// closed, e.g. `| head`): the run ends quietly (nothing logged; `replay`
/// exits 141).
pub const OUTPUT_CLOSED: &str = "sink_output_closed";

/// The failure reason when processing itself ran out of time.
pub const PROCESSING_DEADLINE: &str = "processing_deadline";

impl Failure {
    /// An input that could not be decoded.
    pub fn input(error: InputError, kinesis_sequence_number: Option<String>) -> Self {
        Failure {
            reason: error.reason(),
            message: error.to_string(),
            kinesis_sequence_number,
            origin: Origin::Input,
            source: Some(Arc::new(error)),
        }
    }

    /// A batch a sink did not confirm (built by the delivery engine, which
    /// knows whether its error can pass on a retry).
    pub fn sink(
        reason: &'static str,
        message: String,
        retryable: bool,
        source: Arc<dyn Error + Send + Sync>,
    ) -> Self {
        Failure {
            reason,
            message,
            kinesis_sequence_number: None,
            origin: Origin::Sink { retryable },
            source: Some(source),
        }
    }

    /// Processing `what` did not finish before the deadline.
    pub fn deadline(what: &str) -> Self {
        Failure {
            reason: PROCESSING_DEADLINE,
            message: format!(
                "processing {what} did not finish before the invocation's deadline; \
                 the invocation fails so Lambda retries it (raise the function's timeout or memory)"
            ),
            kinesis_sequence_number: None,
            origin: Origin::Deadline,
            source: None,
        }
    }

    /// A log group that could not be subscribed.
    pub fn subscribe(
        reason: &'static str,
        message: String,
        retryable: bool,
        source: Option<Arc<dyn Error + Send + Sync>>,
    ) -> Self {
        Failure {
            reason,
            message,
            kinesis_sequence_number: None,
            origin: Origin::Subscribe { retryable },
            source,
        }
    }

    /// Whether a later attempt (Lambda's retry) can succeed: the only
    /// source of truth for the invocation's error type.
    pub fn retryable(&self) -> bool {
        match self.origin {
            Origin::Input => false,
            Origin::Deadline => true,
            Origin::Sink { retryable } | Origin::Subscribe { retryable } => retryable,
        }
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Whether this failure is our output's reader going away (`| head`):
    /// the end of the run, not an error to report.
    pub fn is_output_closed(&self) -> bool {
        self.reason == OUTPUT_CLOSED
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn the_typed_error_is_the_source() {
        let f = Failure::input(InputError::Empty, Some("seq-1".into()));
        assert!(!f.retryable());
        assert_eq!(f.source().unwrap().to_string(), "empty event body");
        assert!(Failure::deadline("a payload").retryable());
    }
}
