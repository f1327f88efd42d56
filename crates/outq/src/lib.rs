//! Bytes in a TCP socket's send queue that the peer has not acknowledged
//! yet (unsent + unacknowledged): Linux `SIOCOUTQ` (= `TIOCOUTQ`).
//!
//! The WhaTap sink calls a batch delivered only when this reaches zero (its
//! protocol has no acknowledgements). Neither socket2 nor rustix exposes the
//! ioctl, so it is one `unsafe` call, kept in a crate of its own so that
//! every other crate of the workspace can `forbid(unsafe_code)`.

#![deny(unsafe_code)]

/// The unacknowledged byte count, or `None` where it is not available (not
/// Linux, or the call failed): there a caller must settle for weaker
/// evidence of delivery.
#[cfg(target_os = "linux")]
pub fn unacknowledged_bytes<S: std::os::fd::AsRawFd>(socket: &S) -> Option<usize> {
    let fd = socket.as_raw_fd();
    let mut n: libc::c_int = 0;
    // SAFETY: `fd` is a live socket borrowed from `socket` for this call, and
    // TIOCOUTQ writes exactly one c_int through the pointer, which points
    // at a local c_int. No memory is retained by the kernel.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n as *mut libc::c_int) };
    if rc == 0 {
        Some(usize::try_from(n).unwrap_or(0))
    } else {
        None
    }
}

#[cfg(not(target_os = "linux"))]
pub fn unacknowledged_bytes<S>(_socket: &S) -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    use super::*;

    #[test]
    fn an_acknowledged_send_queue_is_empty() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(b"hello").unwrap();
        let mut buf = [0u8; 5];
        server.read_exact(&mut buf).unwrap();
        // The peer read it, so its kernel acknowledged it (loopback: at once,
        // but give the ACK a moment).
        let mut left = unacknowledged_bytes(&client);
        for _ in 0..100 {
            if left == Some(0) || left.is_none() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            left = unacknowledged_bytes(&client);
        }
        if cfg!(target_os = "linux") {
            assert_eq!(left, Some(0));
        } else {
            assert_eq!(left, None);
        }
    }
}
