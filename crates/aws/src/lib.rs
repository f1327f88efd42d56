//! Everything that talks to AWS APIs lives here, behind small traits, so the
//! core (decode, parse, record, encode) stays free of AWS code and tests can
//! swap in fakes. The real implementations ([`api`]) sign their calls with
//! the official `aws-sigv4` crate ([`client`]) and honour `AWS_ENDPOINT_URL`,
//! which is how the emulator test drives the same code path as AWS.

#![forbid(unsafe_code)]

pub mod api;
pub mod client;
pub mod credentials;
pub mod rds;
pub mod rds_metadata;
pub mod secrets;
pub mod subscribe;

use thiserror::Error;

use rdsf_core::boxed::BoxFuture;
use rdsf_core::secret::Secret;

/// Name every subscription filter we create carries; putting a filter with
/// the same name again replaces it, which makes subscribing idempotent.
pub const SUBSCRIPTION_FILTER_NAME: &str = "rds-forwarder";

/// Log groups RDS and Aurora publish to.
pub const RDS_LOG_GROUP_PREFIX: &str = "/aws/rds/";

/// Where a secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretRef {
    /// A Secrets Manager secret (ARN or name); its whole `SecretString`.
    SecretsManager(String),
    /// An SSM parameter name (a SecureString is decrypted).
    SsmParameter(String),
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::SecretsManager(id) => write!(f, "Secrets Manager secret {id}"),
            SecretRef::SsmParameter(name) => write!(f, "SSM parameter {name}"),
        }
    }
}

/// An AWS call that failed; says which call on what, never a secret value.
#[derive(Debug, Error)]
pub enum AwsError {
    #[error("{call} on {target}: {detail}")]
    Call {
        call: &'static str,
        target: String,
        detail: String,
        /// AWS said (or the transport showed) a later call may pass:
        /// throttling, 5xx, timeouts, attempts given up on.
        retryable: bool,
    },
    #[error("{target}: {detail}")]
    Invalid { target: String, detail: String },
}

impl AwsError {
    /// Whether the same call later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            AwsError::Call {
                retryable: true,
                ..
            }
        )
    }
}

/// Reads secrets (licence keys, headers) once at cold start.
pub trait SecretSource: Send + Sync {
    fn get<'a>(&'a self, secret: &'a SecretRef) -> BoxFuture<'a, Result<Secret, AwsError>>;
}

/// Subscribes log groups to the forwarder (CloudWatch Logs).
pub trait LogGroupSubscriber: Send + Sync {
    /// Creates or replaces the subscription filter `filter_name` on
    /// `log_group`, sending every event to `destination_arn`.
    fn put_subscription_filter<'a>(
        &'a self,
        log_group: &'a str,
        filter_name: &'a str,
        destination_arn: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>>;

    /// Every log group whose name starts with `prefix` (all pages).
    fn list_log_groups<'a>(
        &'a self,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, AwsError>>;

    /// The subscription filters of `log_group` whose names start with
    /// `name_prefix`, as (filter name, destination ARN) (all pages).
    fn list_subscription_filters<'a>(
        &'a self,
        log_group: &'a str,
        name_prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, AwsError>>;

    /// Deletes the subscription filter `filter_name` of `log_group`.
    fn delete_subscription_filter<'a>(
        &'a self,
        log_group: &'a str,
        filter_name: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>>;
}
