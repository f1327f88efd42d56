//! Kinesis Data Streams events whose records carry CloudWatch Logs
//! subscription documents (base64 of gzip of JSON): the high-volume path.

use serde::Deserialize;

use super::cloudwatch::{self, LogDocument};
use super::{gzip, InputError};

#[derive(Debug, Deserialize)]
pub(super) struct KinesisEvent {
    #[serde(rename = "Records")]
    pub records: Vec<KinesisEventRecord>,
}

#[derive(Debug, Deserialize)]
pub(super) struct KinesisEventRecord {
    pub kinesis: KinesisPayload,
    #[serde(rename = "eventID", default)]
    pub event_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct KinesisPayload {
    pub data: String,
    #[serde(default)]
    pub sequence_number: String,
}

/// Decodes one Kinesis record's data: gzip (as CloudWatch writes it) or,
/// leniently, plain JSON.
pub fn decode_record_data(
    sequence_number: &str,
    data: &str,
    limit: usize,
) -> Result<Vec<LogDocument>, InputError> {
    let what = format!("Kinesis record {sequence_number}");
    let bytes = gzip::base64_decode(&what, data)?;
    let raw = if gzip::is_gzip(&bytes) {
        gzip::gunzip_bounded(&what, &bytes, limit)?
    } else if bytes.len() > limit {
        return Err(InputError::TooLarge { what, limit });
    } else {
        bytes
    };
    let json = String::from_utf8(raw).map_err(|e| InputError::NotUtf8 {
        what: what.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    cloudwatch::parse_documents(&what, &json)
}
