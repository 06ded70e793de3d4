//! TLS on the event loop: one connection's rustls state and the
//! non-blocking moves between it and the socket. Nothing here waits: a read
//! takes what one `read_tls` brings, a write stops at `WouldBlock`, so a
//! handshake in progress never holds up another connection. The connection
//! (`conn`) decides when to call these, within its turn and its deadlines,
//! as it does for plain reads and writes.

use std::io::{self, Read, Write};

use mio::net::TcpStream;
use rustls::ServerConnection;

use crate::totals::Totals;

/// One connection's TLS state.
pub(super) struct TlsSession {
    conn: ServerConnection,
    /// The completed handshake is in the totals already.
    counted: bool,
    /// A fatal error was met (the alert is queued or sent): no close_notify.
    failed: bool,
    /// Plaintext bytes of the response queue handed to rustls whose records
    /// may not all be on the socket yet; the queue advances past them (and
    /// counts a response as written) only once they are.
    pub(super) handed: usize,
}

/// What one read brought.
pub(super) enum TlsRead {
    /// Records were read and processed; plaintext, if any, was fed.
    Progress,
    /// The client closed: end of stream, or close_notify.
    Closed,
    /// Not TLS, or TLS gone wrong (bad record, alert from the peer, failed
    /// handshake): the connection must close. The alert, if any, is queued.
    Failed(rustls::Error),
}

/// How far writing records got.
pub(super) struct RecordsOut {
    /// Some bytes reached the socket.
    pub(super) wrote: bool,
    /// The socket is full with records still queued.
    pub(super) blocked: bool,
}

impl TlsSession {
    pub(super) fn new(conn: ServerConnection) -> TlsSession {
        TlsSession {
            conn,
            counted: false,
            failed: false,
            handed: 0,
        }
    }

    /// One socket read into rustls, then every record it completes, with
    /// the plaintext passed to `feed` in `scratch`-sized pieces.
    /// `WouldBlock` and other socket errors come back as errors.
    pub(super) fn read(
        &mut self,
        sock: &mut TcpStream,
        scratch: &mut [u8],
        totals: &Totals,
        mut feed: impl FnMut(&[u8]),
    ) -> io::Result<TlsRead> {
        let eof = self.conn.read_tls(sock)? == 0;
        if let Err(e) = self.conn.process_new_packets() {
            self.failed = true;
            return Ok(TlsRead::Failed(e));
        }
        if !self.counted {
            self.counted = crate::tls::count_handshake(&self.conn, totals);
        }
        loop {
            match self.conn.reader().read(scratch) {
                Ok(0) => return Ok(TlsRead::Closed),
                Ok(n) => feed(&scratch[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // End of stream without close_notify; the request reader
                // knows whether a request was cut short.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(TlsRead::Closed),
                Err(e) => return Err(e),
            }
        }
        Ok(if eof {
            TlsRead::Closed
        } else {
            TlsRead::Progress
        })
    }

    /// Whether requests may flow (the handshake is done).
    pub(super) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Writes queued records until none are left or the socket is full.
    pub(super) fn write_records(&mut self, sock: &mut TcpStream) -> io::Result<RecordsOut> {
        let mut out = RecordsOut {
            wrote: false,
            blocked: false,
        };
        while self.conn.wants_write() {
            match self.conn.write_tls(sock) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => out.wrote = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    out.blocked = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Hands plaintext to rustls (all of it, up to rustls's buffer limit);
    /// returns how much it took, which is also remembered in `handed`.
    pub(super) fn hand(&mut self, iov: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = self.conn.writer().write_vectored(iov)?;
        self.handed += n;
        Ok(n)
    }

    /// Before closing: close_notify, as far as the socket takes it now, so
    /// the client can tell a complete close from a truncation.
    pub(super) fn close_notify(&mut self, sock: &mut TcpStream) {
        if self.failed || self.conn.is_handshaking() {
            return;
        }
        self.conn.send_close_notify();
        let _ = self.write_records(sock);
    }

    /// After a fatal error: sends the queued alert if the socket takes it.
    pub(super) fn send_alert(&mut self, sock: &mut TcpStream) {
        let _ = self.write_records(sock);
    }
}
