//! Issue 15: a hostile server must not be able to hold the client. Each
//! server here sends bytes that are cheap to send and cost the client work
//! to frame (an endless chunked body of 1-byte chunks, endless `100
//! Continue`s, endless trailers) or that break a limit of the framer (a head
//! over 64 KiB, a chunk-size line over 4 KiB). The real binary runs against
//! it: it must end by itself when `-d` runs out, with its result saved and
//! the right error counted, and end at once on SIGTERM with a partial result.
//!
//! No time or throughput is asserted; every wait has a generous bound that
//! only catches a hang.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bench_client::result::RunResult;
use common::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Only a hang takes this long: a run of `-d 1s` normally ends within a
/// second or two of its start.
const HANG: Duration = Duration::from_secs(30);

/// What a hostile server sends after reading a request head.
#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// A chunked head, then `1\r\nx\r\n` for ever, as fast as it can.
    OneByteChunks,
    /// `HTTP/1.1 100 Continue\r\n\r\n` for ever.
    EndlessContinue,
    /// A chunked body's last chunk, then trailer fields for ever.
    EndlessTrailers,
    /// A head of 70,000 bytes (over the 64 KiB limit).
    HugeHead,
    /// A valid response with a 60 KB head, written in small pieces.
    TrickledHead,
    /// A chunk-size line of 5,000 bytes (over the 4 KiB limit).
    LongChunkLine,
}

/// A server that misbehaves on every connection, on a loopback port,
/// stopped on drop (and after 60 s whatever happens).
struct HostileServer {
    addr: SocketAddr,
    /// Bytes written to clients so far.
    written: Arc<AtomicU64>,
    /// Complete responses written (valid ones only).
    answered: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HostileServer {
    fn start(kind: Hostile) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        let answered = Arc::new(AtomicU64::new(0));
        let (flag, w, a) = (stop.clone(), written.clone(), answered.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let (flag, w, a) = (flag.clone(), w.clone(), a.clone());
                        std::thread::spawn(move || {
                            let mut conn = Served {
                                sock,
                                stop: &flag,
                                deadline,
                                written: &w,
                            };
                            conn.serve(kind, &a);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        HostileServer {
            addr,
            written,
            answered,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Waits until the server has written `bytes` (so the client is inside
    /// the stream); panics if that takes more than [`HANG`].
    fn wait_for_written(&self, bytes: u64) {
        let deadline = Instant::now() + HANG;
        while self.written.load(Ordering::Relaxed) < bytes {
            assert!(
                Instant::now() < deadline,
                "the client never read the stream"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One accepted connection of a [`HostileServer`].
struct Served<'a> {
    sock: TcpStream,
    stop: &'a AtomicBool,
    deadline: Instant,
    written: &'a AtomicU64,
}

impl Served<'_> {
    fn serve(&mut self, kind: Hostile, answered: &AtomicU64) {
        let _ = self.sock.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = self.sock.set_nodelay(true);
        if !self.read_head() {
            return;
        }
        const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        match kind {
            Hostile::OneByteChunks => {
                if self.send(CHUNKED) {
                    self.send_for_ever(b"1\r\nx\r\n");
                }
            }
            Hostile::EndlessContinue => self.send_for_ever(b"HTTP/1.1 100 Continue\r\n\r\n"),
            Hostile::EndlessTrailers => {
                if self.send(CHUNKED) && self.send(b"0\r\n") {
                    self.send_for_ever(b"X-Trailer: aaaaaaaaaaaaaaaa\r\n");
                }
            }
            Hostile::HugeHead => {
                let _ = self.send(&head_with_padding(70_000));
            }
            Hostile::TrickledHead => {
                let response = head_with_padding(60_000);
                loop {
                    for piece in response.chunks(61) {
                        if !self.send(piece) {
                            return;
                        }
                        std::thread::sleep(Duration::from_micros(100));
                    }
                    answered.fetch_add(1, Ordering::SeqCst);
                    if !self.read_head() {
                        return;
                    }
                }
            }
            Hostile::LongChunkLine => {
                let mut body = CHUNKED.to_vec();
                body.extend_from_slice(b"1;");
                body.extend(std::iter::repeat(b'e').take(5_000));
                body.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
                let _ = self.send(&body);
            }
        }
    }

    /// Reads up to the end of a request head (the client sends small GETs).
    fn read_head(&mut self) -> bool {
        let mut byte = [0u8; 1];
        let mut seen = Vec::new();
        while !seen.ends_with(b"\r\n\r\n") {
            match self.sock.read(&mut byte) {
                Ok(0) | Err(_) => return false,
                Ok(_) => seen.push(byte[0]),
            }
        }
        true
    }

    /// Writes all of `bytes`, counting each write as it goes (a client that
    /// gives up mid-buffer has still been sent what it got).
    fn send(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() {
            match self.sock.write(bytes) {
                Ok(0) | Err(_) => return false,
                Ok(n) => {
                    self.written.fetch_add(n as u64, Ordering::Relaxed);
                    bytes = &bytes[n..];
                }
            }
        }
        true
    }

    /// Writes `unit` again and again, from one large pre-built buffer so
    /// that the server spends its time in the kernel, not in a loop of tiny
    /// writes, until the client goes away or the server is stopped.
    fn send_for_ever(&mut self, unit: &[u8]) {
        let buffer = unit.repeat((1 << 20) / unit.len());
        while !self.stop.load(Ordering::Relaxed) && Instant::now() < self.deadline {
            if !self.send(&buffer) {
                return;
            }
        }
    }
}

/// A valid 200 response (body `ok`) whose head is `len` bytes long.
fn head_with_padding(len: usize) -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_vec();
    // Fields of 2,000 bytes (the client takes at most 64 fields), then one
    // of 2,000 to 4,000 that makes up the rest.
    let line = format!("X-Pad: {}\r\n", "a".repeat(1991));
    while len - head.len() >= 2 + 4000 {
        head.extend_from_slice(line.as_bytes());
    }
    let mut last = b"X-Last: ".to_vec();
    last.resize(len - 2 - head.len() - 2, b'a');
    head.extend_from_slice(&last);
    head.extend_from_slice(b"\r\n\r\nok");
    head
}

/// Runs the client against `server` with `-q -o` and `args`; it must exit
/// by itself within [`HANG`] and leave its result, with the status its
/// checks call for (1 when no request succeeded, else 0).
fn run_until_done(server: &HostileServer, args: &[&str]) -> RunResult {
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let url = server.url();
    let mut all = vec![url.as_str()];
    all.extend(args);
    all.extend(["-q", "-o", path_str(&out)]);
    let run = run_client(&all, dir.path(), HANG);
    let r = load(&out);
    let want = if r.checks.iter().any(|c| c.failed) {
        1
    } else {
        0
    };
    assert_eq!(run.code(), want, "stderr: {}", run.stderr);
    r
}

/// Asserts that every error of `r` is `kind`, all under `kind:cause`
/// (or under no cause when `cause` is `None`).
fn assert_only_errors(r: &RunResult, kind: &str, cause: Option<&str>) {
    let s = &r.summary;
    assert!(s.errors > 0, "no error counted: {s:?}");
    assert_eq!(s.errors_by_kind.get(kind), Some(&s.errors), "{s:?}");
    let want = match cause {
        Some(cause) => [(format!("{kind}:{cause}"), s.errors)].into(),
        None => Default::default(),
    };
    assert_eq!(s.errors_by_cause, want);
}

/// The reported case: before the fix the worker never came out of the read
/// loop, so `-d` and `--timeout` were never checked. The timeout is shorter
/// than `-d`: a closed-loop request that times out just as `-d` runs out is
/// not counted, so `--timeout 1s` with `-d 1s` would count nothing.
#[test]
fn endless_one_byte_chunks_time_out_and_the_run_ends() {
    let server = HostileServer::start(Hostile::OneByteChunks);
    let r = run_until_done(&server, &["-d", "1s", "--timeout", "300ms"]);
    assert_eq!(r.summary.requests, 0);
    assert_only_errors(&r, "timeout", None);
    assert!(!r.interrupted);
    assert_eq!(r.summary.duration_s, 1.0);
}

#[test]
fn endless_continue_is_too_many_interim_responses() {
    let server = HostileServer::start(Hostile::EndlessContinue);
    let r = run_until_done(&server, &["-d", "1s", "--timeout", "1s"]);
    assert_eq!(r.summary.requests, 0);
    assert_only_errors(&r, "invalid_response", Some("too_many_interim"));
}

#[test]
fn endless_trailers_are_too_large() {
    let server = HostileServer::start(Hostile::EndlessTrailers);
    let r = run_until_done(&server, &["-d", "1s", "--timeout", "1s"]);
    assert_eq!(r.summary.requests, 0);
    assert_only_errors(&r, "invalid_response", Some("trailers_too_large"));
}

#[test]
fn head_over_64_kib_is_too_large() {
    let server = HostileServer::start(Hostile::HugeHead);
    let r = run_until_done(&server, &["-d", "1s", "--timeout", "1s"]);
    assert_eq!(r.summary.requests, 0);
    assert_only_errors(&r, "invalid_response", Some("head_too_large"));
}

#[test]
fn chunk_line_over_4_kib_is_too_long() {
    let server = HostileServer::start(Hostile::LongChunkLine);
    let r = run_until_done(&server, &["-d", "1s", "--timeout", "1s"]);
    assert_eq!(r.summary.requests, 0);
    assert_only_errors(&r, "invalid_response", Some("chunk_line_too_long"));
}

/// A large head that arrives in small pieces is within the limits: it
/// completes, every time.
#[test]
fn a_60_kb_head_trickled_in_small_pieces_completes() {
    let server = HostileServer::start(Hostile::TrickledHead);
    let r = run_until_done(&server, &["-n", "3", "--timeout", "20s"]);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_cause);
    assert_eq!(r.summary.requests, 3);
    assert_eq!(r.summary.status_codes.get("200"), Some(&3));
    assert_eq!(server.answered.load(Ordering::SeqCst), 3);
}

/// SIGTERM in the middle of a stream the client is busy framing: exit 143
/// and a partial result, however long `-d` and `--timeout` are.
fn sigterm_while_streaming(kind: Hostile) {
    let server = HostileServer::start(kind);
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let url = server.url();
    let args = [
        url.as_str(),
        "-d",
        "60s",
        "--timeout",
        "60s",
        "-q",
        "-o",
        path_str(&out),
    ];
    let (mut client, stdout, stderr) = spawn_client(&args, dir.path());
    // Some megabytes in: the client is reading the stream.
    server.wait_for_written(4 << 20);
    kill(Pid::from_raw(client.pid()), Signal::SIGTERM).expect("signal");
    let status = client.wait_bounded(HANG);
    let (_, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert_eq!(status.code(), Some(143), "stderr: {stderr}");
    let r = load(&out);
    assert!(r.interrupted);
    assert!(r.summary.duration_s < 60.0, "{}", r.summary.duration_s);
}

#[test]
fn sigterm_ends_a_run_held_by_one_byte_chunks() {
    sigterm_while_streaming(Hostile::OneByteChunks);
}

#[test]
fn sigterm_ends_a_run_against_endless_continues() {
    sigterm_while_streaming(Hostile::EndlessContinue);
}

/// The helper really builds what the cases above claim.
#[test]
fn padded_heads_have_the_length_asked_for() {
    for len in [100, 60_000, 70_000] {
        let r = head_with_padding(len);
        assert_eq!(r.len(), len + 2, "{len}");
        assert!(r.ends_with(b"\r\n\r\nok"));
        let mut headers = [httparse::EMPTY_HEADER; 1024];
        let parsed = httparse::Response::new(&mut headers).parse(&r);
        assert_eq!(parsed, Ok(httparse::Status::Complete(len)), "{len}");
    }
}
