//! The error every component's settings validation returns. A leaf module
//! (it imports nothing of the crate), so the sinks, delivery and inputs that
//! own their settings can name it without importing `config`, which imports
//! them.

use thiserror::Error;

/// A setting that is wrong: which one (the environment variable's name) and
/// why, never its value when it is a secret.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{setting}: {detail}")]
    Invalid {
        setting: &'static str,
        detail: String,
    },
}
