//! Test side of the WhaTap one-way protocol: a frame/pack decoder written
//! from `../shared/whatap-vectors/README.md` (independent of the crate's
//! encoder) and a receiver on 127.0.0.1 that collects what arrives.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

/// One frame as it came off the wire.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Which accepted connection carried it (0 = first).
    pub conn: usize,
    pub pcode: i64,
    pub license_hash: i64,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Bool(bool),
    Dec(i64),
    Double(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub pcode: i64,
    pub oid: i32,
    pub okind: i32,
    pub onode: i32,
    pub time: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogPack {
    pub head: Head,
    pub category: String,
    pub tag_hash: i64,
    pub tags: Vec<(String, Val)>,
    pub line: i64,
    pub content: String,
    pub fields: Vec<(String, Val)>,
}

impl LogPack {
    pub fn tag(&self, key: &str) -> Option<&Val> {
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn field(&self, key: &str) -> Option<&Val> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventPk {
    pub head: Head,
    pub level: u8,
    pub title: String,
    pub message: String,
    pub attrs: Vec<(String, String)>,
}

impl EventPk {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Pack {
    Log(LogPack),
    Event(EventPk),
}

struct Rd<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(
            self.at + n <= self.b.len(),
            "pack truncated at {} (+{n} of {})",
            self.at,
            self.b.len()
        );
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        s
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn i16(&mut self) -> i16 {
        i16::from_be_bytes(self.take(2).try_into().unwrap())
    }
    fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn i64(&mut self) -> i64 {
        i64::from_be_bytes(self.take(8).try_into().unwrap())
    }
    fn decimal_of_len(&mut self, len: u8) -> i64 {
        assert!(matches!(len, 0..=5 | 8), "bad decimal length {len}");
        let bytes = self.take(len as usize);
        let init: i64 = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            -1
        } else {
            0
        };
        bytes.iter().fold(init, |acc, &b| (acc << 8) | b as i64)
    }
    fn decimal(&mut self) -> i64 {
        let len = self.u8();
        self.decimal_of_len(len)
    }
    fn text(&mut self) -> String {
        let len = match self.u8() {
            0xff => u16::from_be_bytes(self.take(2).try_into().unwrap()) as usize,
            0xfe => self.i32() as usize,
            n => n as usize,
        };
        String::from_utf8(self.take(len).to_vec()).expect("text is UTF-8")
    }
    fn value(&mut self) -> Val {
        match self.u8() {
            10 => Val::Bool(self.u8() != 0),
            20 => Val::Dec(self.decimal()),
            40 => Val::Double(f64::from_bits(self.i64() as u64)),
            50 => Val::Text(self.text()),
            t => panic!("unexpected value type {t}"),
        }
    }
    fn map(&mut self) -> Vec<(String, Val)> {
        assert_eq!(self.u8(), 0x50, "map marker");
        let n = self.decimal();
        (0..n)
            .map(|_| {
                let k = self.text();
                (k, self.value())
            })
            .collect()
    }
    fn head(&mut self) -> Head {
        let first = self.u8();
        if first == 9 {
            let pcode = self.decimal();
            Head {
                pcode,
                oid: self.i32(),
                okind: self.i32(),
                onode: self.i32(),
                time: self.i64(),
            }
        } else {
            let pcode = self.decimal_of_len(first);
            Head {
                pcode,
                oid: self.i32(),
                okind: 0,
                onode: 0,
                time: self.i64(),
            }
        }
    }
}

/// Decodes a frame body (i16 type + payload); the whole body must be used.
pub fn decode_pack(body: &[u8]) -> Pack {
    let mut r = Rd { b: body, at: 0 };
    let pack = match r.i16() {
        0x170a => {
            let head = r.head();
            assert_eq!(r.u8(), 0, "logsink marker byte");
            let category = r.text();
            let tag_hash = r.decimal();
            let tags = r.map();
            let line = r.decimal();
            let content = r.text();
            let fields = if r.u8() == 1 { r.map() } else { Vec::new() };
            Pack::Log(LogPack {
                head,
                category,
                tag_hash,
                tags,
                line,
                content,
                fields,
            })
        }
        0x1400 => {
            let head = r.head();
            let level = r.u8();
            let title = r.text();
            let message = r.text();
            let n = r.u8();
            let attrs = (0..n)
                .map(|_| {
                    let k = r.text();
                    (k, r.text())
                })
                .collect();
            Pack::Event(EventPk {
                head,
                level,
                title,
                message,
                attrs,
            })
        }
        t => panic!("unknown pack type {t:#x}"),
    };
    assert_eq!(r.at, body.len(), "trailing bytes after the pack");
    pack
}

/// Reads one frame; `None` at a clean end of stream or a reset.
async fn read_frame(s: &mut TcpStream, conn: usize) -> Option<Frame> {
    let mut head = [0u8; 22];
    s.read_exact(&mut head).await.ok()?;
    assert_eq!(head[0], 10, "net source byte");
    assert_eq!(head[1], 0, "version byte");
    let pcode = i64::from_be_bytes(head[2..10].try_into().unwrap());
    let license_hash = i64::from_be_bytes(head[10..18].try_into().unwrap());
    let len = i32::from_be_bytes(head[18..22].try_into().unwrap());
    assert!(len >= 2, "body length {len}");
    let mut body = vec![0u8; len as usize];
    // A frame cut by a close is not a frame: the sender resends it.
    s.read_exact(&mut body).await.ok()?;
    Some(Frame {
        conn,
        pcode,
        license_hash,
        body,
    })
}

/// How the receiver treats its first connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Behaviour {
    /// Close the first connection after reading this many frames.
    pub close_first_after: Option<usize>,
    /// A small receive buffer, so a large batch cannot sit unread in
    /// kernel buffers (the sender is still writing when we close).
    pub small_rcvbuf: bool,
    /// Write a stray byte before closing the first connection (the
    /// protocol has no replies; the sender must still see the close).
    pub stray_byte_before_close: bool,
}

/// A WhaTap collector stand-in on 127.0.0.1.
pub struct Receiver {
    pub port: u16,
    frames: Arc<Mutex<Vec<Frame>>>,
    count: watch::Receiver<usize>,
    closed: watch::Receiver<usize>,
    connections: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Receiver {
        let socket = TcpSocket::new_v4().unwrap();
        if behaviour.small_rcvbuf {
            socket.set_recv_buffer_size(4096).unwrap();
        }
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(64).unwrap();
        let port = listener.local_addr().unwrap().port();
        let frames = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0usize));
        let (count_tx, count) = watch::channel(0usize);
        let (closed_tx, closed) = watch::channel(0usize);
        let count_tx = Arc::new(count_tx);
        let closed_tx = Arc::new(closed_tx);
        let (f, c) = (frames.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let conn = {
                    let mut n = c.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let (f, count_tx, closed_tx) = (f.clone(), count_tx.clone(), closed_tx.clone());
                tokio::spawn(async move {
                    let mut on_this = 0;
                    while let Some(frame) = read_frame(&mut stream, conn).await {
                        let total = {
                            let mut all = f.lock().unwrap();
                            all.push(frame);
                            all.len()
                        };
                        count_tx.send_replace(total);
                        on_this += 1;
                        if conn == 0 && behaviour.close_first_after == Some(on_this) {
                            if behaviour.stray_byte_before_close {
                                use tokio::io::AsyncWriteExt;
                                stream.write_all(b"?").await.unwrap();
                            }
                            drop(stream);
                            closed_tx.send_modify(|n| *n += 1);
                            return;
                        }
                    }
                });
            }
        });
        Receiver {
            port,
            frames,
            count,
            closed,
            connections,
            task,
        }
    }

    /// Waits until at least `n` frames arrived (a guard, not a timing
    /// assertion: it only stops a broken test from hanging forever).
    pub async fn wait_for(&self, n: usize) -> Vec<Frame> {
        let mut count = self.count.clone();
        let reached =
            tokio::time::timeout(Duration::from_secs(120), count.wait_for(|c| *c >= n)).await;
        let frames = self.frames();
        assert!(
            reached.is_ok(),
            "receiver got {} of {n} frames",
            frames.len()
        );
        frames
    }

    /// Waits (bounded, 5 s) for `n` frames and returns what arrived, without
    /// asserting: the caller counts what is missing.
    pub async fn wait_for_or_settle(&self, n: usize) -> Vec<Frame> {
        let mut count = self.count.clone();
        let _ = tokio::time::timeout(Duration::from_secs(5), count.wait_for(|c| *c >= n)).await;
        self.frames()
    }

    /// Waits until the receiver closed its first connection itself.
    pub async fn wait_closed(&self) {
        let mut closed = self.closed.clone();
        let done =
            tokio::time::timeout(Duration::from_secs(120), closed.wait_for(|c| *c >= 1)).await;
        assert!(done.is_ok(), "receiver never closed its first connection");
    }

    pub fn frames(&self) -> Vec<Frame> {
        self.frames.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port on 127.0.0.1 that refuses connections: bound, then released.
pub fn refused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Corpus payloads for the delivery tests: `RDSF_CORPUS_DIR` (default
/// `../shared/corpus`) `payloads/maria-error/*.json` when present, else the
/// in-repo copy. Says which set it uses.
pub fn corpus_payloads() -> Vec<PathBuf> {
    let root = workspace_root();
    let corpus = std::env::var_os("RDSF_CORPUS_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("../shared/corpus"));
    let dir = corpus.join("payloads/maria-error");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        eprintln!(
            "whatap delivery: shared corpus not found at {}; using the in-repo payload",
            dir.display()
        );
        files.push(root.join("tests/data/whatap/mariadb-error-0000.json"));
    } else {
        eprintln!(
            "whatap delivery: shared corpus payloads from {}",
            dir.display()
        );
    }
    files
}

/// The repository's root, where `tests/data` and `../shared` are found.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/data/whatap").join(name)
}

/// A collector that accepts connections (the kernel completes them) but
/// never reads: writes stall once the small buffers are full.
pub fn stalled_listener() -> (tokio::net::TcpListener, u16) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(8).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}
