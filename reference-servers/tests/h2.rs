//! The HTTP/2 test target (`h2-server`), spawned as a real process and
//! checked with independent peers only: curl (with nghttp2) for conformance
//! and the misbehaviour flags a real client sees, and a few hand-written
//! frames where an exact frame must be observed (SETTINGS, RST_STREAM,
//! GOAWAY, a close). Every test ends with the totals line.
//!
//! curl 7.88 (Debian 12) cannot reuse an h2c prior-knowledge connection
//! (curl issue 10634, fixed in 7.89), so over h2c each curl run makes one
//! request; connection reuse is exercised over TLS.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reference_servers::http::fill_byte;

/// A running h2-server; dropping it stops the process.
type Server = common::Server;

/// What these tests ask of an h2-server beyond the shared helper.
trait H2Server {
    fn start(args: &[&str]) -> Self;
    fn url(&self, path: &str) -> String;
    fn curl(&self, args: &[&str], paths: &[&str]) -> Output;
}

impl H2Server for Server {
    fn start(args: &[&str]) -> Server {
        Server::spawn(env!("CARGO_BIN_EXE_h2-server"), "h2-server", args)
    }

    fn url(&self, path: &str) -> String {
        let scheme = if self.cert.is_some() { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// curl over HTTP/2 (prior knowledge, or ALPN over TLS trusting the
    /// printed certificate) with `args`, then the URLs of `paths`.
    fn curl(&self, args: &[&str], paths: &[&str]) -> Output {
        let mut command = Command::new("curl");
        command.args(["--silent", "--show-error", "--max-time", "20"]);
        match &self.cert {
            None => command.arg("--http2-prior-knowledge"),
            Some(cert) => command.arg("--http2").arg("--cacert").arg(cert),
        };
        command.args(args);
        for path in paths {
            command.arg(self.url(path));
        }
        command.output().expect("run curl")
    }
}

/// Fails (not skips) without a curl that speaks HTTP/2: these tests are the
/// only check of the HTTP/2 target against an independent implementation.
fn require_curl_http2() {
    let version = Command::new("curl").arg("--version").output();
    let ok = matches!(&version, Ok(out) if out.status.success()
        && String::from_utf8_lossy(&out.stdout).contains("HTTP2"));
    assert!(
        ok,
        "these tests need curl built with HTTP/2 (nghttp2): on Debian/Ubuntu \
         `apt-get install curl`; `curl --version` must list HTTP2 under Features"
    );
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "curl failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(out)
}

/// The routes through curl, one connection per run (see the module doc);
/// returns how many runs (connections) and the request-body bytes sent.
fn conformance(server: &Server, dir: &tempfile::TempDir) -> (u64, u64) {
    let write_out = ["--write-out", "\n%{http_version} %{http_code}"];
    let mut runs = 0;

    // Any method on `/`, and the protocol curl used.
    for method in ["GET", "DELETE"] {
        let out = server.curl(&[&write_out[..], &["-X", method]].concat(), &["/"]);
        assert_eq!(assert_ok(&out), "Hello, World!\n\n2 200", "{method}");
        runs += 1;
    }

    // /bytes/N: length and pattern.
    let bytes_file = dir.path().join("bytes");
    let out = server.curl(
        &[
            "--output",
            bytes_file.to_str().unwrap(),
            "--write-out",
            "%{http_version} %{http_code} %{content_type}",
        ],
        &["/bytes/100000"],
    );
    assert_eq!(assert_ok(&out), "2 200 application/octet-stream");
    let body = std::fs::read(&bytes_file).unwrap();
    assert_eq!(body.len(), 100_000);
    assert!(body
        .iter()
        .enumerate()
        .all(|(i, &b)| b == fill_byte(i as u64)));
    runs += 1;

    // POST /echo with 1 MiB: the same bytes back.
    let upload: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let upload_file = dir.path().join("upload");
    std::fs::write(&upload_file, &upload).unwrap();
    let echo_file = dir.path().join("echo");
    let data = format!("@{}", upload_file.display());
    let out = server.curl(
        &[
            "--data-binary",
            &data,
            "--output",
            echo_file.to_str().unwrap(),
            "--write-out",
            "%{http_version} %{http_code}",
        ],
        &["/echo"],
    );
    assert_eq!(assert_ok(&out), "2 200");
    assert!(
        std::fs::read(&echo_file).unwrap() == upload,
        "echoed body differs"
    );
    runs += 1;

    // /delay/50 takes its 50 ms.
    let started = Instant::now();
    let out = server.curl(&write_out, &["/delay/50"]);
    assert_eq!(assert_ok(&out), "Hello, World!\n\n2 200");
    assert!(started.elapsed() >= Duration::from_millis(50));
    runs += 1;

    // 404, and 400 from the shared route rules.
    let out = server.curl(&write_out, &["/nope"]);
    assert_eq!(assert_ok(&out), "not found\n\n2 404");
    let out = server.curl(&write_out, &["/bytes/67108865"]);
    assert!(
        assert_ok(&out).ends_with("(64 MiB)\n\n2 400"),
        "{}",
        stdout(&out)
    );
    runs += 2;

    // HEAD: the length announced, no body.
    let out = server.curl(&["--head"], &["/bytes/10"]);
    let head = assert_ok(&out).to_ascii_lowercase();
    assert!(head.starts_with("http/2 200"), "{head}");
    assert!(head.contains("content-length: 10\r\n"), "{head}");
    assert!(
        head.contains("content-type: application/octet-stream\r\n"),
        "{head}"
    );
    runs += 1;

    (runs, upload.len() as u64)
}

#[test]
fn curl_h2c_prior_knowledge_conformance_and_exact_totals() {
    require_curl_http2();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[]);
    let (runs, body_bytes) = conformance(&server, &dir);
    let totals = server.stop();
    assert_eq!(totals.model, "h2");
    assert_eq!(
        (totals.connections, totals.requests, totals.body_bytes),
        (runs, runs, body_bytes)
    );
    assert_eq!((totals.tls_full, totals.tls_resumed), (0, 0));
}

#[test]
fn curl_h2_over_tls_conformance_reuse_and_exact_totals() {
    require_curl_http2();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--tls"]);
    let (runs, body_bytes) = conformance(&server, &dir);
    // Three requests on one TLS connection (curl reuses it over ALPN h2).
    let out = server.curl(&["--write-out", " %{http_version}"], &["/", "/", "/"]);
    assert_eq!(assert_ok(&out), "Hello, World!\n 2".repeat(3));
    // A client that cannot speak h2 is refused in the handshake.
    let http1 = Command::new("curl")
        .args(["--silent", "--http1.1", "--cacert"])
        .arg(server.cert.as_ref().unwrap())
        .arg(server.url("/"))
        .output()
        .unwrap();
    assert_eq!(http1.status.code(), Some(35), "TLS handshake failure");
    let totals = server.stop();
    assert_eq!(
        (totals.connections, totals.requests, totals.body_bytes),
        (runs + 2, runs + 3, body_bytes)
    );
    assert_eq!(
        totals.tls_full + totals.tls_resumed,
        runs + 1,
        "the refused handshake is not counted"
    );
}

#[test]
fn goaway_after_3_makes_curl_reconnect_for_the_rest() {
    require_curl_http2();
    let server = Server::start(&["--tls", "--goaway-after", "3"]);
    let out = server.curl(&["--write-out", " %{num_connects}\n"], &["/"; 5]);
    // Streams 1-3 on the first connection, the GOAWAY, then a new one.
    assert_eq!(
        assert_ok(&out),
        "Hello, World!\n 1\nHello, World!\n 0\nHello, World!\n 0\nHello, World!\n 1\nHello, World!\n 0\n"
    );
    let totals = server.stop();
    assert_eq!((totals.connections, totals.requests), (2, 5));
}

#[test]
fn goaway_after_n_names_the_last_stream_served() {
    let server = Server::start(&["--goaway-after", "2"]);
    let mut peer = Peer::open(&server);
    peer.get(1, "/");
    peer.get(3, "/");
    // Graceful: first a GOAWAY naming 2^31-1, then (after its PING) the
    // last stream accepted, 3; both streams get their responses.
    let mut ended = Vec::new();
    let mut last_ids = Vec::new();
    while let Some(frame) = peer.next_frame() {
        match frame.kind {
            GOAWAY => last_ids.push(u32::from_be_bytes(frame.payload[..4].try_into().unwrap())),
            PING if frame.flags & ACK == 0 => peer.send(PING, ACK, 0, &frame.payload),
            DATA | HEADERS if frame.flags & END_STREAM != 0 => ended.push(frame.stream),
            _ => {}
        }
    }
    assert_eq!(ended, [1, 3]);
    assert_eq!(last_ids.last(), Some(&3), "{last_ids:?}");
    let totals = server.stop();
    assert_eq!((totals.connections, totals.requests), (1, 2));
}

#[test]
fn reset_path_gets_rst_stream_internal_error_and_is_not_counted() {
    require_curl_http2();
    let server = Server::start(&["--reset-path", "/reset"]);
    let out = server.curl(&[], &["/reset?x=1"]);
    // CURLE_HTTP2_STREAM, naming the error code the server sent.
    assert_eq!(out.status.code(), Some(92), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("INTERNAL_ERROR"),
        "{out:?}"
    );
    assert_ok(&server.curl(&[], &["/"]));
    let totals = server.stop();
    assert_eq!((totals.connections, totals.requests), (2, 1));
}

#[test]
fn max_concurrent_streams_1_is_announced_and_a_second_stream_refused() {
    let server = Server::start(&["--max-concurrent-streams", "1"]);
    let mut peer = Peer::open(&server);
    let settings = peer.server_settings();
    assert!(
        settings.contains(&(SETTINGS_MAX_CONCURRENT_STREAMS, 1)),
        "{settings:?}"
    );
    peer.get(1, "/delay/300");
    peer.get(3, "/");
    let mut refused = None;
    let mut ended = Vec::new();
    while ended.is_empty() {
        let frame = peer.next_frame().expect("the /delay response");
        match frame.kind {
            RST_STREAM => {
                refused = Some((
                    frame.stream,
                    u32::from_be_bytes(frame.payload[..4].try_into().unwrap()),
                ))
            }
            DATA | HEADERS if frame.flags & END_STREAM != 0 => ended.push(frame.stream),
            _ => {}
        }
    }
    assert_eq!(refused, Some((3, REFUSED_STREAM)));
    assert_eq!(ended, [1]);
    drop(peer);
    let totals = server.stop();
    assert_eq!((totals.connections, totals.requests), (1, 1));
}

#[test]
fn garbage_is_closed_and_the_server_keeps_serving() {
    require_curl_http2();
    let server = Server::start(&[]);
    let mut tcp = server.tcp();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let started = Instant::now();
    let mut reply = Vec::new();
    let _ = tcp.read_to_end(&mut reply);
    assert!(started.elapsed() < Duration::from_secs(5), "closed at once");
    assert!(!reply.starts_with(b"HTTP/1.1 200"), "no HTTP/1.1 answer");
    assert_ok(&server.curl(&[], &["/"]));
    let totals = server.stop();
    assert_eq!((totals.connections, totals.requests), (2, 1));
}

#[test]
fn silent_and_idle_clients_are_closed_after_read_timeout() {
    let server = Server::start(&["--read-timeout", "1s"]);
    // Connects and sends nothing: no preface within --read-timeout.
    let mut silent = server.tcp();
    // After a preface and one request: idle, no stream open.
    let mut idle = Peer::open(&server);
    idle.get(1, "/");
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = silent.read_to_end(&mut rest);
    let silent_after = started.elapsed();
    let mut goaway = None;
    while let Some(frame) = idle.next_frame() {
        if frame.kind == GOAWAY {
            goaway = Some(u32::from_be_bytes(frame.payload[4..8].try_into().unwrap()));
        }
    }
    let idle_after = started.elapsed();
    for after in [silent_after, idle_after] {
        assert!(
            after >= Duration::from_millis(700) && after < Duration::from_secs(5),
            "{after:?}"
        );
    }
    assert_eq!(goaway, Some(0), "GOAWAY NO_ERROR before the close");
    let totals = server.stop();
    assert_eq!((totals.connections, totals.requests), (2, 1));
}

#[test]
fn classic_models_refuse_the_h2_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_selector-server"))
        .args(["--addr", "127.0.0.1:0", "--reset-path", "/reset"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--reset-path is for the HTTP/2 test target only"),
        "{stderr}"
    );
}

// A few raw frames (RFC 9113 section 4, 6), for what curl does not show.

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
const REFUSED_STREAM: u32 = 0x7;

#[derive(Debug)]
struct Frame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

/// A bare HTTP/2 client over h2c: the preface, HEADERS built from HPACK's
/// static table and literals without Huffman, frames read one by one.
struct Peer {
    tcp: TcpStream,
    /// Frames read while looking for the server's SETTINGS.
    early: Vec<Frame>,
}

impl Peer {
    fn open(server: &Server) -> Peer {
        let mut tcp = server.tcp();
        tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
        let mut peer = Peer {
            tcp,
            early: Vec::new(),
        };
        peer.send(SETTINGS, 0, 0, &[]);
        peer
    }

    fn send(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let len = payload.len() as u32;
        let mut frame = len.to_be_bytes()[1..].to_vec();
        frame.extend([kind, flags]);
        frame.extend(stream.to_be_bytes());
        frame.extend_from_slice(payload);
        self.tcp.write_all(&frame).unwrap();
    }

    /// GET `path` on `stream`, ending the stream (no body).
    fn get(&mut self, stream: u32, path: &str) {
        // :method GET (static 2), :scheme http (static 6), then :path and
        // :authority as literals without indexing (names static 4 and 1).
        let mut block = vec![0x82, 0x86, 0x04, path.len() as u8];
        block.extend_from_slice(path.as_bytes());
        block.extend([0x01, 1, b't']);
        self.send(HEADERS, END_HEADERS | END_STREAM, stream, &block);
    }

    /// The next frame, or `None` once the server closed the connection.
    fn next_frame(&mut self) -> Option<Frame> {
        if !self.early.is_empty() {
            return Some(self.early.remove(0));
        }
        self.read_frame()
    }

    fn read_frame(&mut self) -> Option<Frame> {
        let mut head = [0u8; 9];
        self.tcp.read_exact(&mut head).ok()?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0; len];
        self.tcp.read_exact(&mut payload).ok()?;
        let frame = Frame {
            kind: head[3],
            flags: head[4],
            stream: u32::from_be_bytes(head[5..9].try_into().unwrap()) & 0x7fff_ffff,
            payload,
        };
        if frame.kind == SETTINGS && frame.flags & ACK == 0 {
            self.send(SETTINGS, ACK, 0, &[]);
        }
        Some(frame)
    }

    /// The parameters of the server's first SETTINGS frame.
    fn server_settings(&mut self) -> Vec<(u16, u32)> {
        loop {
            let frame = self.read_frame().expect("the server's SETTINGS");
            if frame.kind == SETTINGS && frame.flags & ACK == 0 {
                return frame
                    .payload
                    .chunks_exact(6)
                    .map(|p| {
                        (
                            u16::from_be_bytes([p[0], p[1]]),
                            u32::from_be_bytes([p[2], p[3], p[4], p[5]]),
                        )
                    })
                    .collect();
            }
            self.early.push(frame);
        }
    }
}

#[test]
fn body_limits_answer_413_and_503_as_the_models_do() {
    require_curl_http2();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body");
    std::fs::write(&file, vec![b'x'; 2048]).unwrap();
    let data = format!("@{}", file.display());
    let server = Server::start(&["--max-body", "4k", "--max-buffered", "1k"]);
    let out = server.curl(
        &["--data-binary", &data, "--write-out", " %{http_code}"],
        &["/echo"],
    );
    assert!(
        assert_ok(&out).ends_with("--max-buffered bytes of request bodies; retry later\n 503"),
        "{}",
        stdout(&out)
    );
    // Discarded bodies do not hold the budget; --max-body still bounds them.
    let out = server.curl(
        &["--data-binary", &data, "--write-out", " %{http_code}"],
        &["/"],
    );
    assert_eq!(assert_ok(&out), "Hello, World!\n 200");
    std::fs::write(&file, vec![b'x'; 5000]).unwrap();
    let out = server.curl(
        &["--data-binary", &data, "--write-out", " %{http_code}"],
        &["/"],
    );
    assert!(
        assert_ok(&out).ends_with("request body larger than --max-body\n 413"),
        "{}",
        stdout(&out)
    );
    let totals = server.stop();
    assert_eq!((totals.connections, totals.requests), (3, 3));
}
