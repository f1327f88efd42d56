//! Which way an event goes in: the input stage's one decision, so the
//! pipeline only runs what it is handed.
//!
//! A CloudWatch payload whose gzip trailer announces more than the stream
//! threshold is streamed (bounded memory whatever it inflates to); a smaller
//! one is decoded whole, inflating at most the threshold — a trailer that
//! understated the size (ISIZE is the sender's word, and names only the
//! last gzip member) sends it to the stream after all. A Kinesis batch is
//! handed over as its records, which the pipeline takes a few at a time.
//! Everything else (EventBridge, CloudTrail, a bad event) is decoded whole.

use std::borrow::Cow;

use super::kinesis::{self, KinesisRecordRef};
use super::stream::{self, CloudWatchStream};
use super::{awslogs_data, decode, decode_awslogs, Decoded, InputError, Unit};

/// The bounds the input stage works within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bound on one payload's decompressed size (`RDSF_MAX_DECOMPRESSED_BYTES`).
    pub max_decompressed: usize,
    /// Payloads inflating past this are streamed.
    pub stream_threshold: usize,
}

/// An event, opened.
pub enum Opened<'a> {
    /// Decoded at once (or why it could not be).
    Whole(Result<Decoded, InputError>),
    /// A big CloudWatch payload to stream (with the whole-document decode
    /// for when no thread can be had: [`Streamed::into_parts`]).
    Streamed(Streamed<'a>),
    /// A Kinesis batch's records.
    Kinesis(Vec<KinesisRecordRef<'a>>),
}

/// A CloudWatch payload to stream, with its data for the fallback.
pub struct Streamed<'a> {
    pub stream: CloudWatchStream,
    data: Cow<'a, str>,
    limit: usize,
}

impl<'a> Streamed<'a> {
    /// The stream, and the whole-document decode of the same payload.
    pub fn into_parts(
        self,
    ) -> (
        CloudWatchStream,
        impl FnOnce() -> Result<Decoded, InputError> + 'a,
    ) {
        let Streamed {
            stream,
            data,
            limit,
        } = self;
        (stream, move || Ok(decode_awslogs(&data, limit)))
    }
}

/// Decides how `event` is read, and reads it when that is at once.
pub fn open(event: &[u8], limits: Limits) -> Opened<'_> {
    let limit = limits.max_decompressed;
    let Some(data) = awslogs_data(event) else {
        return match kinesis::records(event) {
            Some(records) => Opened::Kinesis(records),
            None => Opened::Whole(decode(event, limit)),
        };
    };
    let streamed = |stream| {
        Opened::Streamed(Streamed {
            stream,
            data: data.clone(),
            limit,
        })
    };
    if let Some(stream) = stream::open_data(&data, limit, limits.stream_threshold) {
        return streamed(stream);
    }
    let cap = limit.min(limits.stream_threshold);
    let decoded = decode_awslogs(&data, cap);
    if cap < limit && decoded.units.iter().any(Unit::too_large) {
        tracing::warn!("gzip trailer understated the payload's size; streaming it");
        return match stream::open_gzip(&data, limit) {
            Some(stream) => streamed(stream),
            None => Opened::Whole(Ok(decode_awslogs(&data, limit))),
        };
    }
    Opened::Whole(Ok(decoded))
}
