//! The one-way frame (golib `net/oneway/OneWayTcpClient`): u8 10 (net
//! source), u8 0 (version), i64 pcode, i64 Hash64(licence), i32 body length,
//! then the body. Big-endian. No reply, no other framing.

/// `NET_SRC_AGENT_ONEWAY`.
pub const NET_SOURCE: u8 = 10;
pub const VERSION: u8 = 0;
pub const HEADER_LEN: usize = 1 + 1 + 8 + 8 + 4;

/// Appends one frame whose body `write_body` produces, writing the body in
/// place (no copy) and patching the length afterwards.
pub fn write_frame(
    out: &mut Vec<u8>,
    pcode: i64,
    license_hash: i64,
    write_body: impl FnOnce(&mut Vec<u8>),
) {
    out.push(NET_SOURCE);
    out.push(VERSION);
    out.extend_from_slice(&pcode.to_be_bytes());
    out.extend_from_slice(&license_hash.to_be_bytes());
    let len_at = out.len();
    out.extend_from_slice(&[0; 4]);
    write_body(out);
    let body_len = out.len() - len_at - 4;
    // A body beyond i32::MAX is impossible for our inputs (records are at
    // most a few hundred KiB); saturate rather than wrap if it ever were.
    let len = i32::try_from(body_len).unwrap_or(i32::MAX);
    out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
}
