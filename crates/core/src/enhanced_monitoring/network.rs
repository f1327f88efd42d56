//! `network[]`: bytes per second through each interface.

use serde_json::{Map, Value as Json};

use super::field::{f, text, Field, Scale::One};
use crate::record::{keys, Attributes};

const NET_D: &str = "bytes per second through the interface (`network[].rx`/`tx`, SQL Server `rdBytesPS`/`wrBytesPS`)";
const fn net(key: &'static str, direction: &'static str) -> Field {
    f(
        key,
        "aws.rds.os.network.throughput",
        "By/s",
        One,
        NET_D,
        Some((keys::NETWORK_IO_DIRECTION, direction)),
    )
}

pub(super) const NETWORK: &[Field] = &[
    net("rx", "receive"),
    net("tx", "transmit"),
    net("rdBytesPS", "receive"),
    net("wrBytesPS", "transmit"),
];

/// The attributes of a `network[]` entry.
pub(super) fn attributes(nic: &Map<String, Json>) -> Attributes {
    let mut a = Attributes::with_capacity(2);
    if let Some(name) = text(nic, "interface") {
        a.insert(keys::NETWORK_INTERFACE_NAME, name);
    }
    a
}
