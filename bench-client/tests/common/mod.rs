//! Helpers for the end-to-end tests: run the real `bench-client` binary with
//! a bounded wait, start reference servers as children, and tiny
//! misbehaving TCP servers on loopback. Everything spawned is killed on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bench_client::result::RunResult;
use reference_servers::wire::listening::ListeningLine;

pub mod tls;

pub const BIN: &str = env!("CARGO_BIN_EXE_bench-client");

/// A child process killed (and reaped) when dropped.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    pub fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    /// Waits at most `limit` for the exit; panics (after killing) beyond it.
    pub fn wait_bounded(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.0.kill();
                let _ = self.0.wait();
                panic!("process {} did not exit within {limit:?}", self.0.id());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// What a finished bench-client printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }
}

/// Starts bench-client with `args` (stdout and stderr piped, read on threads
/// so that a full pipe never blocks it).
pub fn spawn_client(
    args: &[&str],
    dir: &Path,
) -> (ChildGuard, JoinHandle<String>, JoinHandle<String>) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bench-client");
    let out = read_all(child.stdout.take().expect("stdout"));
    let err = read_all(child.stderr.take().expect("stderr"));
    (ChildGuard(child), out, err)
}

fn read_all(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    })
}

/// Runs bench-client to the end, at most `limit`.
pub fn run_client(args: &[&str], dir: &Path, limit: Duration) -> Finished {
    let start = Instant::now();
    let (mut child, out, err) = spawn_client(args, dir);
    let status = child.wait_bounded(limit);
    let elapsed = start.elapsed();
    Finished {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
        elapsed,
    }
}

/// Runs bench-client with `args` plus `-q -o <tempdir>/r.json`, requires
/// exit 0, and returns the saved result with the finished run.
pub fn run_saved(args: &[&str], limit: Duration) -> (RunResult, Finished) {
    run_saved_with_status(args, limit, 0)
}

/// [`run_saved`] for a run that must end with exit status `code` (1: a
/// failed check, such as every request failing).
pub fn run_saved_with_status(args: &[&str], limit: Duration, code: i32) -> (RunResult, Finished) {
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let mut all = args.to_vec();
    all.extend(["-q", "-o", path_str(&out)]);
    let run = run_client(&all, dir.path(), limit);
    assert_eq!(run.code(), code, "stderr: {}", run.stderr);
    (load(&out), run)
}

pub fn load(path: &Path) -> RunResult {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh folder for one test (results land here, never in the repo).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `bench-client serve MODEL --addr 127.0.0.1:0`, started and waited for.
pub fn serve(model: &str) -> (ChildGuard, SocketAddr) {
    let mut child = Command::new(BIN)
        .args(["serve", model, "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn server");
    let stdout = child.stdout.take().expect("stdout");
    let guard = ChildGuard(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        // Keep reading so that the server never blocks on a full pipe.
        for _ in lines {}
    });
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server printed its listening line within 10 s");
    let addr = ListeningLine::parse(&line)
        .map(|l| l.addr)
        .unwrap_or_else(|e| panic!("unexpected first line: {line:?}: {e}"));
    (guard, addr)
}

/// `bench-client serve MODEL --addr 127.0.0.1:0 ARGS`, whose totals line
/// can be read after SIGTERM (the plain [`serve`] drops its output).
pub struct CountedServer {
    child: ChildGuard,
    pub addr: SocketAddr,
    lines: std::sync::mpsc::Receiver<String>,
}

impl CountedServer {
    pub fn start(model: &str, args: &[&str]) -> CountedServer {
        let mut child = Command::new(BIN)
            .args(["serve", model, "--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the server printed its listening line within 10 s");
        let addr = ListeningLine::parse(&first)
            .unwrap_or_else(|e| panic!("unexpected first line {first:?}: {e}"))
            .addr;
        CountedServer {
            child: ChildGuard(child),
            addr,
            lines,
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server (SIGTERM) and returns its totals.
    pub fn totals(mut self) -> reference_servers::wire::totals::TotalsLine {
        let pid = nix::unistd::Pid::from_raw(self.child.pid());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        self.child.wait_bounded(Duration::from_secs(10));
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .expect("a totals line");
            if let Some(t) = reference_servers::wire::totals::TotalsLine::parse(&line) {
                return t;
            }
        }
    }
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// How a [`FaultServer`] answers each request.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Bytes that are not HTTP.
    Garbage,
    /// A head promising 100 bytes, then nothing (the connection held open).
    StallAfterHeaders,
    /// A head promising 100 bytes, 10 of them, then close.
    CloseMidBody,
    /// A valid chunked response, one byte per write, on a keep-alive connection.
    Trickle,
    /// Two good keep-alive responses, then a close with no `Connection: close`
    /// (as servers with a per-connection request limit do).
    CloseAfterTwo,
}

/// A misbehaving HTTP server on a loopback port, stopped on drop.
pub struct FaultServer {
    pub addr: SocketAddr,
    /// Complete responses written.
    pub answered: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FaultServer {
    pub fn start(fault: Fault) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let answered = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&answered);
        let thread = std::thread::spawn(move || {
            // Bounded: stops when dropped, or after 60 s whatever happens.
            let deadline = Instant::now() + Duration::from_secs(60);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let flag = Arc::clone(&flag);
                        let count = Arc::clone(&count);
                        std::thread::spawn(move || answer(sock, fault, &flag, &count));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        FaultServer {
            addr,
            answered,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads up to the end of a request head (the client sends small GETs).
fn read_head(sock: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    let mut seen = Vec::new();
    while !seen.ends_with(b"\r\n\r\n") {
        match sock.read(&mut byte) {
            Ok(0) | Err(_) => return false,
            Ok(_) => seen.push(byte[0]),
        }
    }
    true
}

fn answer(mut sock: TcpStream, fault: Fault, stop: &AtomicBool, answered: &AtomicU64) {
    let _ = sock.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = sock.set_nodelay(true);
    if !read_head(&mut sock) {
        return;
    }
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    match fault {
        Fault::Garbage => {
            let _ = sock.write_all(b"\x16\x03\x01 this is not http at all\r\n\r\n");
        }
        Fault::StallAfterHeaders => {
            let _ = sock.write_all(head);
            let deadline = Instant::now() + Duration::from_secs(20);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Fault::CloseMidBody => {
            let _ = sock.write_all(head);
            let _ = sock.write_all(b"0123456789");
        }
        Fault::Trickle => {
            let response =
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
            loop {
                for b in response {
                    if sock.write_all(&[*b]).is_err() || stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
                if !read_head(&mut sock) {
                    return;
                }
            }
        }
        Fault::CloseAfterTwo => {
            for i in 0..2 {
                if i > 0 && !read_head(&mut sock) {
                    return;
                }
                if sock
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .is_err()
                {
                    return;
                }
                answered.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// The result file a test asks for.
pub fn result_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
