//! Supervising a reference server run as a child process for `--server
//! MODEL`: starting it, learning where it listens, stopping it, collecting
//! its totals, and making sure it never outlives bench-client.
//!
//! The server is always a separate process, never a thread: the fork model
//! must fork from a single-threaded process, and the server's CPU time must
//! not mix with the client's. bench-client re-executes itself as
//! `bench-client serve MODEL --addr 127.0.0.1:0`, learns the port from the
//! server's [`ListeningLine`], and on shutdown reads the server's
//! [`TotalsLine`] (its last line of stdout), so that the client's counts can
//! be checked against the server's.
//!
//! The child gets its own process group: a Ctrl-C at the terminal reaches
//! only bench-client, which then stops the server itself (SIGTERM) and still
//! collects its totals; and a forced kill takes the whole group, so no
//! forked worker of the fork model is left behind.

use std::io::{BufRead as _, BufReader, Read};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sched::{sched_setaffinity, CpuSet};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use reference_servers::wire::listening::{ListeningLine, Scheme};
use reference_servers::wire::totals::TotalsLine;

/// How long a server may take to print its `listening on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server may take to exit after SIGTERM before it is killed.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// After the server exited, how long to wait for its last stdout bytes when
/// something else (a forked worker) still holds the pipe open.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// How much of the server's stderr is kept for error messages.
const STDERR_TAIL_BYTES: usize = 4096;
/// How often a wait for the child's exit looks again.
const POLL: Duration = Duration::from_millis(5);

/// The bounded waits, as parameters so that tests need not wait 10 s.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    startup: Duration,
    shutdown: Duration,
    drain: Duration,
}

const TIMEOUTS: Timeouts = Timeouts {
    startup: STARTUP_TIMEOUT,
    shutdown: SHUTDOWN_TIMEOUT,
    drain: DRAIN_TIMEOUT,
};

/// A reference server running as a child process. Dropping it without
/// [`stop`](Self::stop) kills the child's whole process group and reaps it.
pub struct SpawnedServer {
    /// `None` once stopped, so that `Drop` leaves it alone.
    child: Option<Child>,
    addr: SocketAddr,
    /// `cert=PATH` of an https server's `listening on` line.
    cert: Option<PathBuf>,
    /// "selector".
    model: String,
    pid: u32,
    /// For messages: "the selector server".
    name: String,
    /// Lines the server printed on stdout after its `listening on` line.
    stdout: Receiver<String>,
    stderr: StderrTail,
    timeouts: Timeouts,
}

impl SpawnedServer {
    /// Runs `<current_exe> serve MODEL --addr 127.0.0.1:0 [extra...]` as a
    /// child process and waits (at most 10 s) for its `listening on
    /// http://IP:PORT` line.
    /// With `cpus`, the child is pinned to those CPUs before it runs.
    pub fn start(
        model: reference_servers::Model,
        extra_args: &[String],
        cpus: Option<&[usize]>,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()
            .context("cannot find the bench-client executable to start the server with")?;
        let mut args = vec![
            "serve".to_string(),
            model.name().to_string(),
            "--addr".to_string(),
            "127.0.0.1:0".to_string(),
        ];
        args.extend_from_slice(extra_args);
        let cpu_set = cpus.map(cpu_set).transpose()?;
        Self::spawn(&exe, &args, model.name(), TIMEOUTS, cpu_set)
    }

    fn spawn(
        program: &Path,
        args: &[String],
        model: &str,
        timeouts: Timeouts,
        cpu_set: Option<CpuSet>,
    ) -> anyhow::Result<Self> {
        let name = format!("the {model} server");
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // The server sits in its own process group (so that Ctrl-C reaches
        // only us), which also means nothing stops it if we are killed
        // outright: ask the kernel to send it SIGTERM when we die, so it
        // still shuts down cleanly instead of holding its port forever.
        let parent = std::process::id();
        // SAFETY: the closure runs in the forked child before exec, where
        // only async-signal-safe calls are allowed; prctl(2), getppid(2),
        // sched_setaffinity(2) and _exit(2) are plain system calls that
        // neither allocate nor lock (the CPU set was built before the fork).
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // We died between fork and prctl: nobody will stop the server.
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                // The set was built before the fork; this is one syscall.
                if let Some(set) = &cpu_set {
                    sched_setaffinity(Pid::from_raw(0), set)?;
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {name} ({})", program.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().map(forward_lines);
        let stderr = StderrTail::collect(child.stderr.take());
        let Some(stdout) = stdout else {
            kill_group_and_reap(&mut child);
            anyhow::bail!("{name} started without a stdout pipe");
        };
        let mut server = SpawnedServer {
            child: Some(child),
            // Replaced below once the server said where it listens.
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            cert: None,
            model: model.to_string(),
            pid,
            name,
            stdout,
            stderr,
            timeouts,
        };
        // On error `server` is dropped here, which kills and reaps the child.
        (server.addr, server.cert) = server.wait_listening()?;
        Ok(server)
    }

    /// Reads stdout until the `listening on` line, the end of stdout, or the
    /// startup timeout, whichever comes first.
    fn wait_listening(&mut self) -> anyhow::Result<(SocketAddr, Option<PathBuf>)> {
        let deadline = Instant::now() + self.timeouts.startup;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    if let Some(listening) = parse_listening(&line) {
                        return Ok(listening);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let stderr = self.stderr.describe();
                    anyhow::bail!(
                        "{} (pid {}) did not print `listening on http://IP:PORT` within {}{stderr}",
                        self.name,
                        self.pid,
                        humantime::format_duration(self.timeouts.startup)
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // Stdout closed: the server is exiting. Its status and
                    // stderr say why; give it a moment to finish.
                    let status = self.wait_exit(Duration::from_secs(2))?;
                    let how = status.map_or_else(
                        || "closed its stdout".to_string(),
                        |s| format!("exited ({s})"),
                    );
                    let stderr = self.stderr.describe();
                    anyhow::bail!(
                        "{} {how} before printing `listening on http://IP:PORT`{stderr}",
                        self.name
                    );
                }
            }
        }
    }

    /// The certificate an https server serves (its `cert=PATH`).
    pub fn cert(&self) -> Option<&Path> {
        self.cert.as_deref()
    }

    /// The model's name, e.g. `selector`.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// SIGTERM, wait (bounded, 10 s), then the server's JSON totals line.
    ///
    /// `Ok(None)` when the server printed no totals line: for example it was
    /// killed during the run, which is a fault the run reports, not an error
    /// of bench-client. `Err` when the server ignored SIGTERM for 10 s and
    /// had to be killed, or could not be waited for; the caller should still
    /// save its result, without server totals.
    pub fn stop(mut self) -> anyhow::Result<Option<TotalsLine>> {
        let exited = self.wait_exit(Duration::ZERO)?;
        if exited.is_none() {
            // ESRCH only if it exited in between; the wait below sees that.
            let _ = kill(self.nix_pid(), Signal::SIGTERM);
            if self.wait_exit(self.timeouts.shutdown)?.is_none() {
                if let Some(mut child) = self.child.take() {
                    kill_group_and_reap(&mut child);
                }
                let stderr = self.stderr.describe();
                anyhow::bail!(
                    "{} (pid {}) did not exit within {} of SIGTERM and was killed{stderr}",
                    self.name,
                    self.pid,
                    humantime::format_duration(self.timeouts.shutdown)
                );
            }
        }
        self.child = None;
        Ok(self.drain_totals())
    }

    /// Collects the rest of stdout and parses its last totals line.
    fn drain_totals(&self) -> Option<TotalsLine> {
        let deadline = Instant::now() + self.timeouts.drain;
        let mut totals = None;
        loop {
            let mut left = deadline.saturating_duration_since(Instant::now());
            if totals.is_some() {
                // Normally stdout ends right after the totals line; do not
                // wait long on a pipe held open by a leftover worker.
                left = left.min(Duration::from_millis(100));
            }
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    if let Some(t) = TotalsLine::parse(&line) {
                        totals = Some(t);
                    }
                }
                Err(_) => return totals,
            }
        }
    }

    /// Waits up to `limit` for the child to exit; `None` if it is still running.
    fn wait_exit(&mut self, limit: Duration) -> anyhow::Result<Option<ExitStatus>> {
        let Some(child) = self.child.as_mut() else {
            return Ok(None);
        };
        let deadline = Instant::now() + limit;
        loop {
            let status = child
                .try_wait()
                .with_context(|| format!("cannot wait for {} (pid {})", self.name, self.pid))?;
            if status.is_some() || Instant::now() >= deadline {
                return Ok(status);
            }
            std::thread::sleep(POLL);
        }
    }

    fn nix_pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.pid).unwrap_or(i32::MAX))
    }
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group_and_reap(&mut child);
        }
    }
}

/// SIGKILL to the child's process group (its forked workers included), then
/// reap it. Only called while the child is not yet reaped, so its pid (the
/// group id) cannot have been reused by another process.
fn kill_group_and_reap(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Sends each line of `out` to the returned channel, from a thread that
/// ends when the pipe closes. The thread is never joined: a forked worker
/// could hold the pipe open after the server exited.
fn forward_lines(out: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("server-stdout".into())
        .spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .expect("spawning a thread");
    rx
}

/// The last few KiB of the server's stderr, kept for error messages and
/// read continuously so that a chatty server never blocks on a full pipe.
#[derive(Clone)]
struct StderrTail(Arc<Mutex<Vec<u8>>>);

impl StderrTail {
    fn collect(err: Option<impl Read + Send + 'static>) -> Self {
        let tail = StderrTail(Arc::new(Mutex::new(Vec::new())));
        if let Some(mut err) = err {
            let keep = tail.clone();
            std::thread::Builder::new()
                .name("server-stderr".into())
                .spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = err.read(&mut buf) {
                        let mut t = keep.0.lock().unwrap_or_else(|p| p.into_inner());
                        t.extend_from_slice(&buf[..n]);
                        let excess = t.len().saturating_sub(STDERR_TAIL_BYTES);
                        t.drain(..excess);
                    }
                })
                .expect("spawning a thread");
        }
        tail
    }

    /// `": its stderr said:\n..."`, or nothing if it said nothing. Waits a
    /// moment first: the reader thread may still be catching up.
    fn describe(&self) -> String {
        std::thread::sleep(Duration::from_millis(50));
        let t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&t);
        let text = text.trim();
        if text.is_empty() {
            String::new()
        } else {
            format!("; its stderr said:\n{text}")
        }
    }
}

/// The address of a listening line and, for https, its certificate.
fn parse_listening(line: &str) -> Option<(SocketAddr, Option<PathBuf>)> {
    let l = ListeningLine::parse(line).ok()?;
    let cert = match l.scheme {
        Scheme::Http => None,
        Scheme::Https => Some(PathBuf::from(l.field("cert")?)),
    };
    Some((l.addr, cert))
}

/// The kernel's CPU set for `cpus`, refused with the CPU named when this
/// machine cannot have it.
fn cpu_set(cpus: &[usize]) -> anyhow::Result<CpuSet> {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu).with_context(|| {
            format!("--server-cpus: CPU {cpu} is beyond what this system supports")
        })?;
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOTALS: &str = r#"{"model":"selector","connections":3,"requests":42,"body_bytes":7}"#;

    fn quick() -> Timeouts {
        Timeouts {
            startup: Duration::from_secs(5),
            shutdown: Duration::from_secs(5),
            drain: Duration::from_secs(2),
        }
    }

    /// A stand-in server written in sh: the whole spawn/stop protocol is
    /// exercised without the real `serve` subcommand.
    fn fake(script: &str, timeouts: Timeouts) -> anyhow::Result<SpawnedServer> {
        SpawnedServer::spawn(
            Path::new("/bin/sh"),
            &["-c".to_string(), script.to_string()],
            "fake",
            timeouts,
            None,
        )
    }

    /// Running, as opposed to gone or a zombie (an orphan's zombie may
    /// linger where PID 1 does not reap).
    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
            .unwrap_or(false)
    }

    #[test]
    fn server_cpus_pin_the_child() {
        let script = "echo listening on http://127.0.0.1:4567; exec sleep 30";
        let server = SpawnedServer::spawn(
            Path::new("/bin/sh"),
            &["-c".to_string(), script.to_string()],
            "fake",
            quick(),
            Some(cpu_set(&[0]).unwrap()),
        )
        .unwrap();
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
        let allowed = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .map(str::trim);
        assert_eq!(allowed, Some("0"), "{status}");
    }

    /// `--server MODEL --tls`: an https server names the certificate the
    /// client is to trust.
    #[test]
    fn an_https_server_names_its_certificate() {
        let script =
            "echo listening on https://127.0.0.1:4568 cert=/tmp/fake-cert.pem; exec sleep 30";
        let server = fake(script, quick()).unwrap();
        assert_eq!(server.addr(), "127.0.0.1:4568".parse().unwrap());
        assert_eq!(server.cert(), Some(Path::new("/tmp/fake-cert.pem")));
        assert_eq!(server.model(), "fake");
    }

    #[test]
    fn a_cpu_beyond_the_kernel_set_is_a_clear_error() {
        let err = cpu_set(&[0, 5000]).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "--server-cpus: CPU 5000 is beyond what this system supports: EINVAL: Invalid argument"
        );
    }

    #[test]
    fn listening_line_parses() {
        assert_eq!(
            parse_listening("listening on http://127.0.0.1:8888\n"),
            Some(("127.0.0.1:8888".parse().unwrap(), None))
        );
        assert_eq!(
            parse_listening("listening on http://[::1]:80/"),
            Some(("[::1]:80".parse().unwrap(), None))
        );
        assert_eq!(
            parse_listening("listening on https://127.0.0.1:1 cert=/tmp/c.pem"),
            Some(("127.0.0.1:1".parse().unwrap(), Some("/tmp/c.pem".into())))
        );
        // An https server must say which certificate to trust.
        assert_eq!(parse_listening("listening on https://127.0.0.1:1"), None);
        assert_eq!(parse_listening("listening on http://localhost:1"), None);
        assert_eq!(parse_listening("starting"), None);
    }

    #[test]
    fn totals_line_parses() {
        assert_eq!(
            TotalsLine::parse(TOTALS),
            Some(TotalsLine {
                model: "selector".into(),
                connections: 3,
                requests: 42,
                body_bytes: 7,
                tls_full: 0,
                tls_resumed: 0,
            })
        );
        assert_eq!(TotalsLine::parse(r#"{"model":"selector"}"#), None);
        assert_eq!(TotalsLine::parse("listening on http://127.0.0.1:1"), None);
    }

    #[test]
    fn start_reads_port_and_stop_reads_last_totals_line() {
        // An earlier JSON line must not be taken for the totals: the last one is.
        let script = format!(
            "first='{{\"model\":\"selector\",\"connections\":1,\"requests\":1,\"body_bytes\":0}}'; \
             last='{TOTALS}'; trap 'echo \"$first\"; echo \"$last\"; exit 0' TERM; echo booting; \
             echo listening on http://127.0.0.1:4567; while :; do sleep 0.05; done"
        );
        let server = fake(&script, quick()).unwrap();
        assert_eq!(server.addr(), "127.0.0.1:4567".parse().unwrap());
        let pid = server.pid();
        assert!(alive(pid));
        let totals = server.stop().unwrap().expect("totals line");
        assert_eq!(totals.requests, 42, "the last totals line wins");
        assert!(!alive(pid));
    }

    #[test]
    fn early_exit_error_includes_status_and_stderr() {
        let err = fake("echo 'error: address in use' >&2; exit 3", quick())
            .err()
            .expect("must fail")
            .to_string();
        assert!(
            err.starts_with("the fake server exited (exit status: 3) before printing `listening on http://IP:PORT`; its stderr said:\nerror: address in use"),
            "{err}"
        );
    }

    #[test]
    fn silent_server_times_out_and_is_killed() {
        let t = Timeouts {
            startup: Duration::from_millis(300),
            ..quick()
        };
        let started = Instant::now();
        let err = fake("echo 'still thinking' >&2; exec sleep 30", t)
            .err()
            .expect("must fail")
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            err.contains("did not print `listening on http://IP:PORT` within 300ms; its stderr said:\nstill thinking"),
            "{err}"
        );
        let pid: i32 = err
            .split("(pid ")
            .nth(1)
            .and_then(|s| s.split(')').next())
            .and_then(|s| s.parse().ok())
            .expect("pid in message");
        assert!(!alive(pid as u32), "the silent server was left running");
    }

    #[test]
    fn server_killed_during_run_gives_no_totals_not_an_error() {
        let server = fake(
            "echo listening on http://127.0.0.1:1; while :; do sleep 0.05; done",
            quick(),
        )
        .unwrap();
        kill(Pid::from_raw(server.pid() as i32), Signal::SIGKILL).unwrap();
        assert_eq!(server.stop().unwrap(), None);
    }

    #[test]
    fn server_ignoring_sigterm_is_killed_and_reported() {
        let t = Timeouts {
            shutdown: Duration::from_millis(300),
            ..quick()
        };
        let server = fake(
            "trap '' TERM; echo listening on http://127.0.0.1:1; while :; do sleep 0.05; done",
            t,
        )
        .unwrap();
        let pid = server.pid();
        let err = server.stop().unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "the fake server (pid {pid}) did not exit within 300ms of SIGTERM and was killed"
            )
        );
        assert!(!alive(pid));
    }

    #[test]
    fn drop_kills_the_whole_process_group() {
        // The background `sleep` stands for a forked worker of the fork model.
        let server = fake(
            "sleep 30 & echo $! >&2; echo listening on http://127.0.0.1:1; wait",
            quick(),
        )
        .unwrap();
        let pid = server.pid();
        let worker: u32 = {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let t = server.stderr.0.lock().unwrap().clone();
                if let Ok(n) = String::from_utf8_lossy(&t).trim().parse() {
                    break n;
                }
                assert!(Instant::now() < deadline, "no worker pid on stderr");
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        assert!(alive(worker));
        drop(server);
        assert!(!alive(pid));
        // SIGKILL to a process we do not wait for lands asynchronously.
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(worker) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!alive(worker), "worker {worker} outlived its server");
    }

    #[test]
    fn missing_program_is_a_clear_error() {
        let err = SpawnedServer::spawn(
            Path::new("/nonexistent/bench-client"),
            &[],
            "sync",
            quick(),
            None,
        )
        .err()
        .expect("must fail");
        assert_eq!(
            format!("{err:#}"),
            "cannot start the sync server (/nonexistent/bench-client): No such file or directory (os error 2)"
        );
    }
}
