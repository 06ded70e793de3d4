//! Memory in total, not per request: several connections each send most of a
//! large body and then stall, and the server (for fork: the parent and every
//! child, summed) must stay under an absolute bound. Memory is not timing, so
//! an absolute bound holds on any machine.
//!
//! The scale (8 connections × 60 MiB of a declared 64 MiB, on `/echo`, which
//! keeps bodies, and on `/`, which discards them) is the adversarial finding
//! itself: before the body budget, selector and fork held ~483 MiB. It runs
//! in about 10 s; `SERVER_MEMORY_MIB=N` sends N MiB per connection instead.
//! `cargo test -p reference-servers --test memory -- --nocapture` prints the
//! figures.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Connections that each hold an unfinished body.
const CONNECTIONS: usize = 8;
/// Declared Content-Length: the default --max-body, so nothing is refused as
/// too large and every body stays unfinished.
const DECLARED: u64 = 64 << 20;
/// The bound every model must stay under, in bytes (proportional set size,
/// summed over the server's processes).
const BOUND: u64 = 300 << 20;

fn sent_per_connection() -> u64 {
    std::env::var("SERVER_MEMORY_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(60 << 20, |mib| mib << 20)
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(binary: &str) -> Server {
        let mut child = Command::new(binary)
            .args(["--addr", "127.0.0.1:0", "--read-timeout", "60s"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the listening line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Server { child, addr }
    }

    /// PSS of the server and all its descendants, in bytes.
    fn pss(&self) -> u64 {
        let root = self.child.id() as i32;
        let mut pids = vec![root];
        let mut i = 0;
        while i < pids.len() {
            pids.extend(children_of(pids[i]));
            i += 1;
        }
        pids.iter().map(|&pid| pss_of(pid)).sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        common::stop(&mut self.child, Duration::from_secs(10));
    }
}

fn children_of(parent: i32) -> Vec<i32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if after.split_whitespace().nth(1) == Some(&parent.to_string()) {
            found.push(pid);
        }
    }
    found
}

/// `Pss:` of /proc/PID/smaps_rollup in bytes (0 for a process already gone).
fn pss_of(pid: i32) -> u64 {
    let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
        return 0;
    };
    rollup
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// Sends a head declaring [`DECLARED`] bytes and then `sent` body bytes, or
/// as many as the server takes before a write stalls for a second (the sync
/// server reads one connection at a time; the others wait in its backlog),
/// then reports and keeps the connection open until `hold` closes.
fn stalled_upload(
    addr: SocketAddr,
    path: &'static str,
    sent: u64,
    done: mpsc::Sender<u64>,
    hold: mpsc::Receiver<()>,
) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {DECLARED}\r\n\r\n");
    let chunk = vec![b'x'; 1 << 20];
    let mut written = 0u64;
    if stream.write_all(head.as_bytes()).is_ok() {
        while written < sent {
            let n = chunk.len().min((sent - written) as usize);
            match stream.write(&chunk[..n]) {
                Ok(0) | Err(_) => break,
                Ok(n) => written += n as u64,
            }
        }
    }
    let _ = done.send(written);
    let _ = hold.recv();
}

/// Peak PSS while [`CONNECTIONS`] uploads to `path` stall unfinished.
fn measure(binary: &str, path: &'static str) -> (u64, u64) {
    let server = Server::start(binary);
    let sent = sent_per_connection();
    let (done_tx, done_rx) = mpsc::channel();
    let mut holds = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..CONNECTIONS {
        let (hold_tx, hold_rx) = mpsc::channel();
        holds.push(hold_tx);
        let done = done_tx.clone();
        let addr = server.addr;
        threads.push(thread::spawn(move || {
            stalled_upload(addr, path, sent, done, hold_rx)
        }));
    }
    let written: u64 = (0..CONNECTIONS)
        .map(|_| done_rx.recv_timeout(Duration::from_secs(120)).unwrap())
        .sum();
    // The last bytes may still sit in socket buffers; let the server read them.
    thread::sleep(Duration::from_millis(500));
    let pss = server.pss();
    drop(holds);
    for thread in threads {
        thread.join().unwrap();
    }
    (pss, written)
}

fn check(binary: &str, model: &str) {
    let measured: Vec<_> = ["/echo", "/"]
        .into_iter()
        .map(|path| (path, measure(binary, path)))
        .collect();
    for &(path, (pss, written)) in &measured {
        eprintln!(
            "{model} POST {path}: {} connections sent {:.1} MiB unfinished; server PSS {:.1} MiB",
            CONNECTIONS,
            written as f64 / (1 << 20) as f64,
            pss as f64 / (1 << 20) as f64
        );
    }
    for (path, (pss, _)) in measured {
        assert!(
            pss < BOUND,
            "{model} POST {path}: {:.1} MiB in total, over the {} MiB bound",
            pss as f64 / (1 << 20) as f64,
            BOUND >> 20
        );
    }
}

#[test]
fn memory_sync() {
    check(env!("CARGO_BIN_EXE_sync-server"), "sync");
}

#[test]
fn memory_selector() {
    check(env!("CARGO_BIN_EXE_selector-server"), "selector");
}

#[test]
fn memory_fork() {
    check(env!("CARGO_BIN_EXE_fork-server"), "fork");
}
