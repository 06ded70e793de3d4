//! The blocking I/O shared by the sync server and the fork server: waiting
//! for and accepting clients on the listener (in the one process that
//! accepts), and the per-connection loop (in the sync server's only thread,
//! in each fork child): read until a request is complete, answer it, repeat
//! while the connection is kept alive.
//!
//! Timeouts: a request must arrive completely within `read_timeout` of the
//! previous response (or of the accept); each read waits only for what is
//! left of that deadline, so a client trickling bytes cannot stretch it. A
//! partial request that misses it gets 408; a silent connection is closed.
//! A response must go out with the client taking some bytes at least every
//! `read_timeout`, and within [`SHUTDOWN_GRACE`] once shutdown is requested.
//!
//! Over TLS (`--tls`, `--tls-cert`) the same loop runs on a
//! [`BlockingStream`]: the handshake happens in the first reads, so the
//! same deadline bounds it, and a fork child does it after the fork.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use crate::http::{route, route_closing, HttpError, Limits, RequestReader, Routed, CONTINUE};
use crate::log::Log;
use crate::signals::{shutdown_requested, Signals};
use crate::tls::blocking_stream::BlockingStream;
use crate::totals::Totals;
use crate::ServerArgs;

pub use crate::http::SHUTDOWN_GRACE;

/// Longest wait, after a closing response, for it to leave the send queue
/// while input is read and dropped (see [`close`]).
const LINGER: Duration = Duration::from_secs(2);

/// While closing, the first and the longest wait between checks whether the
/// whole response has left.
const SENT_CHECK: Duration = Duration::from_millis(1);
const MAX_SENT_CHECK: Duration = Duration::from_millis(64);

/// Longest single wait in read(2) before the shutdown flag is checked again.
const SIGNAL_CHECK: Duration = Duration::from_millis(500);

/// Socket read size; also the largest piece handed to the reader at once.
const READ_CHUNK: usize = 64 * 1024;

/// How a connection is served.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    pub limits: Limits,
    pub read_timeout: Duration,
    /// `false`: every response carries `Connection: close` (sync default).
    pub allow_keep_alive: bool,
    /// Where connection failures are logged, capped (see [`Log`]).
    pub log: Log,
    /// Serve HTTPS with this config; `None`: plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl ConnectionConfig {
    /// The per-connection settings a server takes from its command line,
    /// with its TLS set-up when it serves HTTPS.
    pub fn from_args(
        args: &ServerArgs,
        allow_keep_alive: bool,
        log_name: &'static str,
        tls: Option<&crate::tls::TlsServer>,
    ) -> Self {
        ConnectionConfig {
            limits: Limits::new(args.max_body, args.max_buffered),
            read_timeout: args.read_timeout,
            allow_keep_alive,
            log: Log::new(log_name),
            tls: tls.map(|t| Arc::clone(&t.config)),
        }
    }
}

/// Blocks until a client is waiting or a signal arrives.
pub(crate) fn wait_for_client(listener: &TcpListener, signals: &Signals) -> anyhow::Result<()> {
    let mut fds = [
        PollFd::new(listener.as_fd(), PollFlags::POLLIN),
        PollFd::new(signals.wake_fd(), PollFlags::POLLIN),
    ];
    match nix::poll::poll(&mut fds, PollTimeout::NONE) {
        Ok(_) | Err(Errno::EINTR) => {
            signals.drain();
            Ok(())
        }
        Err(e) => Err(e).context("cannot wait for connections (poll)"),
    }
}

/// Decides whether an accept error is worth stopping for. Aborted handshakes
/// and resource shortages are the clients' or the moment's, not fatal.
pub(crate) fn accept_failed(log_name: &str, error: &io::Error) -> anyhow::Result<()> {
    match error.raw_os_error().map(Errno::from_raw) {
        Some(Errno::EINTR | Errno::ECONNABORTED | Errno::EPROTO) => Ok(()),
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM) => {
            eprintln!("{log_name}: cannot accept: {error}; retrying shortly");
            // Without a pause the listener stays readable and this spins.
            std::thread::sleep(Duration::from_millis(50));
            Ok(())
        }
        _ if error.kind() == io::ErrorKind::Interrupted => Ok(()),
        _ => Err(anyhow::Error::new(io::Error::new(
            error.kind(),
            error.to_string(),
        )))
        .context("cannot accept connections"),
    }
}

/// A wait that ended early (signal, slice deadline or timeout) rather than
/// failing: the caller's own deadline checks decide what happens next.
fn interrupted(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Serves one connection to the end. Failures of this connection (reset,
/// timeout, garbage) are answered or logged here and never reach the caller:
/// the server goes on with the next connection.
pub fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    config: &ConnectionConfig,
    totals: &Totals,
) {
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_nodelay(true))
        // Writes wait in slices too, so a signal that lands just before
        // write(2) cannot leave it blocked for a whole --read-timeout.
        .and_then(|()| stream.set_write_timeout(Some(SIGNAL_CHECK.min(config.read_timeout))));
    if let Err(e) = setup {
        log(config, peer, "cannot set up the socket", &e);
        return;
    }
    let mut stream = match &config.tls {
        None => BlockingStream::Plain(stream),
        Some(tls) => match rustls::ServerConnection::new(Arc::clone(tls)) {
            Ok(conn) => BlockingStream::tls(conn, stream),
            Err(e) => {
                let e = io::Error::other(e);
                log(config, peer, "cannot start TLS", &e);
                return;
            }
        },
    };
    let mut reader = RequestReader::new(config.limits);
    let mut buf = vec![0u8; READ_CHUNK];
    let mut served: u64 = 0;
    let mut deadline = Instant::now() + config.read_timeout;
    let mut shutdown_deadline: Option<Instant> = None;
    loop {
        match reader.next_request() {
            Ok(Some(mut request)) => {
                let allow_keep_alive = config.allow_keep_alive && !shutdown_requested();
                let response = match route(&mut request, allow_keep_alive) {
                    Routed::Now(response) => response,
                    Routed::After(delay, response) => {
                        sleep_unless_shutdown(delay);
                        if shutdown_requested() && !response.close() {
                            // The server is going away: say so, or the client
                            // would reuse a connection about to close.
                            route_closing(&mut request)
                        } else {
                            response
                        }
                    }
                };
                let written = write_wire(
                    &mut stream,
                    response.len(),
                    |at| response.bytes_at(at),
                    config,
                );
                if let Err(e) = written {
                    log(config, peer, "cannot write the response", &e);
                    return;
                }
                totals.add_request(request.body_len);
                served += 1;
                if response.close() {
                    close(stream, config, &mut buf);
                    return;
                }
                deadline = Instant::now() + config.read_timeout;
                continue;
            }
            Ok(None) => {
                if reader.take_continue() {
                    let interim =
                        write_wire(&mut stream, CONTINUE.len(), |at| &CONTINUE[at..], config);
                    if let Err(e) = interim {
                        log(config, peer, "cannot write 100 Continue", &e);
                        return;
                    }
                }
            }
            Err(error) => {
                answer_error(stream, peer, config, totals, error, &mut buf);
                return;
            }
        }
        if shutdown_requested() {
            // An idle kept-alive connection has nothing in flight: close it
            // now. A fresh or half-sent one may still finish, briefly.
            if served > 0 && !reader.has_partial() {
                return;
            }
            let grace_end =
                *shutdown_deadline.get_or_insert_with(|| Instant::now() + SHUTDOWN_GRACE);
            deadline = deadline.min(grace_end);
        }
        let now = Instant::now();
        if now >= deadline {
            if let Some(error) = reader.at_deadline() {
                answer_error(stream, peer, config, totals, error, &mut buf);
            }
            return;
        }
        // Waiting in slices closes the window where a signal lands just
        // before read(2) and so never interrupts it.
        let wait = (deadline - now).min(SIGNAL_CHECK);
        if let Err(e) = stream.tcp().set_read_timeout(Some(wait)) {
            log(config, peer, "cannot set the read timeout", &e);
            return;
        }
        let read = stream.read(&mut buf);
        stream.note_handshake(totals);
        match read {
            Ok(0) => return,
            Ok(n) => reader.feed(&buf[..n]),
            // A signal (EINTR) or the deadline (EAGAIN): the checks above decide.
            Err(e) if interrupted(&e) => {}
            // Load generators often end kept-alive connections with a reset;
            // between requests that loses nothing and is not worth a line.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !reader.has_partial() => {
                return;
            }
            Err(e) => {
                log(config, peer, "cannot read the request", &e);
                return;
            }
        }
    }
}

/// Sends an error response, counts it, and closes.
fn answer_error(
    mut stream: BlockingStream,
    peer: SocketAddr,
    config: &ConnectionConfig,
    totals: &Totals,
    error: HttpError,
    buf: &mut [u8],
) {
    let response = error.response();
    match write_wire(
        &mut stream,
        response.len(),
        |at| response.bytes_at(at),
        config,
    ) {
        Ok(()) => {
            totals.add_request(0);
            close(stream, config, buf);
        }
        Err(e) => log(config, peer, "cannot write the error response", &e),
    }
}

/// Writes `len` bytes, `bytes_at(offset)` giving the next slice, resuming
/// after partial writes and EINTR. Fails when the client takes no byte for
/// `--read-timeout`, or, once shutdown is requested, when the rest does not
/// go out within [`SHUTDOWN_GRACE`]: a client reading a large response a
/// trickle at a time would otherwise hold the server past SIGTERM for as long
/// as it likes, since every write makes a little progress.
fn write_wire<'a>(
    stream: &mut BlockingStream,
    len: usize,
    bytes_at: impl Fn(usize) -> &'a [u8],
    config: &ConnectionConfig,
) -> io::Result<()> {
    let mut offset = 0;
    let mut stall_deadline = Instant::now() + config.read_timeout;
    let mut shutdown_deadline: Option<Instant> = None;
    // Over TLS the last records may still sit in rustls after the last
    // plaintext byte went in: the response is written once they are out.
    while offset < len || stream.wants_write() {
        let now = Instant::now();
        if shutdown_requested() {
            shutdown_deadline.get_or_insert(now + SHUTDOWN_GRACE);
        }
        if now >= stall_deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took no response bytes within --read-timeout",
            ));
        }
        if shutdown_deadline.is_some_and(|end| now >= end) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the response was still not out when the shutdown grace ended",
            ));
        }
        if offset == len {
            match stream.flush() {
                Ok(()) => continue,
                Err(e) if interrupted(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        // The socket's write timeout (set in `serve_connection`) is one
        // SIGNAL_CHECK slice, so this loop re-checks the deadlines that often.
        match stream.write(bytes_at(offset)) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                offset += n;
                stall_deadline = Instant::now() + config.read_timeout;
            }
            Err(e) if interrupted(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Closes after a final response. Closing a socket with unread input sends a
/// reset instead of a FIN, and the reset throws away whatever part of the
/// response is still in our send buffer; input can arrive after any check we
/// could make. So: half-close, then read and drop input until every response
/// byte and the FIN have left our send queue, the client closes, or
/// [`LINGER`] (`--read-timeout` if shorter) ends. On loopback, where nothing
/// is lost in transit, a byte sent is a byte in the client's receive queue,
/// and a later reset does not take queued bytes from the client. Waiting for
/// the client's acknowledgement instead costs a delayed ACK (40 ms) per
/// connection, and waiting for its close lets a client that keeps its socket
/// open hold the sync server for the whole linger.
fn close(mut stream: BlockingStream, config: &ConnectionConfig, buf: &mut [u8]) {
    // What the client still sends is dropped unread, below the TLS layer.
    stream.close_notify();
    let mut sock = stream.tcp();
    let _ = sock.shutdown(Shutdown::Write);
    let end = Instant::now() + LINGER.min(config.read_timeout);
    // Short waits first (on loopback the rest leaves within microseconds
    // once the client reads), longer ones while a client is not reading.
    let mut wait = SENT_CHECK;
    loop {
        let now = Instant::now();
        if unsent_bytes(sock).map_or(true, |n| n == 0) || now >= end {
            return;
        }
        if sock.set_read_timeout(Some(wait.min(end - now))).is_err() {
            return;
        }
        wait = (wait * 2).min(MAX_SENT_CHECK);
        match sock.read(buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if interrupted(&e) => {}
            Err(_) => return,
        }
    }
}

/// `SIOCOUTQNSD` from linux/sockios.h (not in the libc crate): bytes in a
/// TCP socket's send queue not sent yet.
const SIOCOUTQNSD: libc::Ioctl = 0x894B;

/// Bytes (and the FIN) queued on `stream` but not yet sent, or `None` if the
/// kernel cannot say (the caller then stops waiting).
fn unsent_bytes(stream: &TcpStream) -> Option<usize> {
    let mut pending: libc::c_int = 0;
    // SAFETY: SIOCOUTQNSD on a TCP socket writes one c_int through the
    // pointer, which points to a live local c_int; the fd stays open for the
    // whole call because `stream` is borrowed.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), SIOCOUTQNSD, &mut pending) };
    (rc == 0).then(|| usize::try_from(pending).unwrap_or(0))
}

/// `/delay/MS`: blocking is this model's way; a shutdown cuts it short so the
/// response in flight still goes out promptly.
fn sleep_unless_shutdown(delay: Duration) {
    let end = Instant::now() + delay;
    loop {
        let now = Instant::now();
        if now >= end || shutdown_requested() {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

fn log(config: &ConnectionConfig, peer: SocketAddr, what: &str, error: &io::Error) {
    config.log.line(format_args!("{peer}: {what}: {error}"));
}
