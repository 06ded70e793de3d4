//! One HTTP/2 connection's set-up: TCP, TLS with ALPN `h2` for https,
//! then the HTTP/2 handshake through the `h2` crate, each within
//! `--timeout`, with its phases recorded as over HTTP/1.1.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::{Connection, SendRequest};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::engine::conn::connect_kind;
use crate::engine::HostPlan;
use crate::stats::{Cause, Failure, Stats};

/// The receive windows bench-client announces. 65,535 bytes, HTTP/2's
/// default, would throttle a 64 KiB response to one round trip per
/// window update; these let a 1 MiB body flow in one go on each of many
/// streams without letting one connection buffer without bound.
pub const STREAM_WINDOW: u32 = 4 << 20;
pub const CONNECTION_WINDOW: u32 = 16 << 20;

/// The largest response head accepted, decoded: as the HTTP/1.1 framer's.
const MAX_HEADER_LIST: u32 = crate::http::MAX_HEAD_BYTES as u32;

/// What a connection reads and writes: a TCP stream, or TLS over one.
pub trait Io: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Io for T {}

/// The connection's driver: the future that reads and writes its frames.
pub type Driver = Connection<Box<dyn Io>, Bytes>;

/// An open HTTP/2 connection.
pub struct Session {
    pub send: SendRequest<Bytes>,
    pub driver: Pin<Box<Driver>>,
}

/// Why a connection could not be set up, in the run's failure kinds.
pub type SetupFailure = (Failure, Cause);

/// The phases a set-up measured, recorded by the caller if they count.
#[derive(Debug, Default, Clone, Copy)]
pub struct Phases {
    pub connect_us: u64,
    /// https: the handshake's time, and whether it resumed a session.
    pub tls: Option<(u64, bool)>,
    pub tls_version: Option<&'static str>,
    pub tls_cipher: Option<&'static str>,
}

impl Phases {
    pub fn record(&self, stats: &mut Stats) {
        crate::hdr::record(&mut stats.connect, self.connect_us);
        if let Some((us, resumed)) = self.tls {
            crate::hdr::record(&mut stats.tls_handshake, us);
            if resumed {
                stats.handshakes_resumed += 1;
            } else {
                stats.handshakes_full += 1;
            }
            if stats.tls_version.is_none() {
                stats.tls_version = self.tls_version;
                stats.tls_cipher = self.tls_cipher;
            }
        }
    }
}

/// The `h2` settings of every connection of the run.
pub fn builder(streams: u32) -> h2::client::Builder {
    let mut b = h2::client::Builder::new();
    b.initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        // Until the server's SETTINGS say otherwise, assume it takes what
        // we ask for; its own limit then caps it.
        .initial_max_send_streams(streams as usize)
        // A hostile server's header block must not grow without bound
        // (h2's default is 16 MiB per stream).
        .max_header_list_size(MAX_HEADER_LIST)
        .enable_push(false);
    b
}

/// Opens a connection to `host`: connect, TLS, HTTP/2 handshake.
pub async fn open(
    host: &HostPlan,
    timeout: Duration,
    streams: u32,
) -> Result<(Session, Phases), SetupFailure> {
    let deadline = tokio::time::Instant::now() + timeout;
    let started = Instant::now();
    let tcp = within(deadline, connect(host.addr), Failure::ConnectTimeout).await??;
    let mut phases = Phases {
        connect_us: started.elapsed().as_micros() as u64,
        ..Phases::default()
    };
    let io: Box<dyn Io> = match &host.tls {
        None => Box::new(Coalesce::new(tcp, streams > 1)),
        Some(tls) => {
            let shaken = Instant::now();
            let connector = tokio_rustls::TlsConnector::from(Arc::clone(&tls.config));
            let stream = within(
                deadline,
                connector.connect(tls.server_name.clone(), tcp),
                Failure::TlsHandshakeTimeout,
            )
            .await?
            .map_err(|e| tls_failure(&e))?;
            let conn = stream.get_ref().1;
            if conn.alpn_protocol() != Some(b"h2") {
                return Err((Failure::Http2, Cause::Protocol("alpn_not_h2")));
            }
            phases.tls = Some((
                shaken.elapsed().as_micros() as u64,
                conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            ));
            phases.tls_version = conn.protocol_version().and_then(|v| v.as_str());
            phases.tls_cipher = conn
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str());
            Box::new(Coalesce::new(stream, streams > 1))
        }
    };
    let (send, driver) = within(
        deadline,
        builder(streams).handshake::<_, Bytes>(io),
        Failure::ConnectTimeout,
    )
    .await?
    .map_err(|e| crate::engine::h2::stream::classify(&e))?;
    Ok((
        Session {
            send,
            driver: Box::pin(driver),
        },
        phases,
    ))
}

async fn connect(addr: SocketAddr) -> Result<TcpStream, SetupFailure> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| (connect_kind(&e), Cause::from_io(&e)))?;
    // Frames are written whole; Nagle would hold a small one back for the
    // server's ACK of the last.
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// `fut` by `deadline`, else a failure of kind `late`.
async fn within<T>(
    deadline: tokio::time::Instant,
    fut: impl Future<Output = T>,
    late: Failure,
) -> Result<T, SetupFailure> {
    tokio::time::timeout_at(deadline, fut)
        .await
        .map_err(|_| (late, Cause::None))
}

/// A failed TLS handshake: rustls's error (a refused certificate is also
/// recorded in the run's fatal slot by the verifier), or the socket's.
pub(super) fn tls_failure(e: &std::io::Error) -> SetupFailure {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(t) => (Failure::Tls, Cause::Tls(crate::tls::cause_id(t, &[]))),
        None => (
            crate::engine::conn::io_kind(e, Failure::Tls),
            Cause::from_io(e),
        ),
    }
}

/// Writes below this size wait for one turn of the runtime before going
/// out (see [`Coalesce`]); larger ones go at once.
const COALESCE_BELOW: usize = 4096;

/// Holds a connection's small writes back by one turn of the runtime, as
/// h2load does by writing on the next turn of its event loop: the
/// responses of a batch of streams often arrive in two reads, and writing
/// the requests of the first part before the second part's are made would
/// split the batch in two for the rest of the run (twice the writes, each
/// paying the whole TCP send path). A turn (tokio's zero-timeout poll of
/// its I/O driver) lets the second part be read first, so both parts'
/// requests go out in one write.
/// With one stream per connection there is no batch to keep together,
/// and nothing is held.
struct Coalesce<T> {
    inner: T,
    /// The last write was held back: the next one goes.
    held: bool,
    enabled: bool,
}

impl<T> Coalesce<T> {
    fn new(inner: T, enabled: bool) -> Coalesce<T> {
        Coalesce {
            inner,
            held: false,
            enabled,
        }
    }

    /// Whether a write of `len` bytes waits one turn (and arranges the
    /// wake-up after it).
    fn hold(&mut self, len: usize, cx: &mut std::task::Context<'_>) -> bool {
        if !self.enabled || self.held || len >= COALESCE_BELOW {
            self.held = false;
            return false;
        }
        self.held = true;
        // `yield_now` wakes the task after the runtime's next I/O poll.
        let mut turn = std::pin::pin!(tokio::task::yield_now());
        let _ = turn.as_mut().poll(cx);
        true
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Coalesce<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coalesce<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.hold(buf.len(), cx) {
            return std::task::Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        if self.hold(len, cx) {
            return std::task::Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
