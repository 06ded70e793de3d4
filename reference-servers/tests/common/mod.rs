//! What the servers' test files share.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use reference_servers::wire::listening::{ListeningLine, Scheme};
use reference_servers::wire::totals::TotalsLine;

/// How long a test's socket waits on a read or a write.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A server binary started with `--addr 127.0.0.1:0` and its arguments,
/// its listening line read, its stdout (the totals line) and stderr kept;
/// dropping it stops the process.
pub struct Server {
    name: String,
    child: Child,
    pub addr: SocketAddr,
    /// `https`: the certificate its listening line names.
    pub cert: Option<PathBuf>,
    stdout: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    pub fn spawn(binary: &str, name: &str, args: &[&str]) -> Server {
        let mut child = Command::new(binary)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let out = child.stdout.take().unwrap();
        let (tx, stdout) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut text = String::new();
            let _ = err_pipe.read_to_string(&mut text);
            sink.lock().unwrap().push_str(&text);
        });
        let first = stdout
            .recv_timeout(Duration::from_secs(10))
            .expect("a listening line");
        let line = ListeningLine::parse(&first).expect("a listening line");
        let cert = (line.scheme == Scheme::Https)
            .then(|| PathBuf::from(line.field("cert").expect("cert=PATH")));
        Server {
            name: name.to_string(),
            child,
            addr: line.addr,
            cert,
            stdout,
            stderr,
        }
    }

    /// SIGTERM, a clean exit, and the totals line.
    pub fn stop(mut self) -> TotalsLine {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        let end = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < end, "{} did not stop", self.name);
            thread::sleep(Duration::from_millis(20));
        };
        // The reader thread may still be collecting the last words.
        thread::sleep(Duration::from_millis(50));
        let stderr = self.stderr();
        assert!(
            status.success(),
            "{}: {status}; stderr: {stderr}",
            self.name
        );
        let line = self
            .stdout
            .recv_timeout(Duration::from_secs(5))
            .expect("a totals line");
        TotalsLine::parse(&line).unwrap_or_else(|| panic!("not totals: {line}"))
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// A connection with [`IO_TIMEOUT`] on both directions.
    pub fn tcp(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        stop(&mut self.child, Duration::from_secs(8));
    }
}

/// Stops a server child: SIGTERM first, so that it shuts down by its own
/// rule (and the fork server takes its children down with it), SIGKILL if
/// it is still there after `grace`. A child that already exited is reaped.
pub fn stop(child: &mut Child, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
    let end = Instant::now() + grace;
    while Instant::now() < end {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
