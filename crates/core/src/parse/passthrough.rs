//! The parser for log types no engine parser claims: the message is the
//! body, the CloudWatch timestamp the time, severity INFO.

use super::{LogParser, Parsed};

pub struct Passthrough;

impl LogParser for Passthrough {
    fn name(&self) -> &'static str {
        "passthrough"
    }

    fn parse(&self, _message: &str) -> Parsed {
        Parsed::default()
    }
}
