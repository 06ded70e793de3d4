//! The blocking models' connection: a TCP stream, or TLS over one. The
//! connection loop (`crate::blocking`) sets the socket's timeouts and
//! checks its deadlines between calls; this type keeps each call short
//! enough for those checks to mean something.
//!
//! rustls's own `StreamOwned` is not used for TLS: its handshake loop keeps
//! reading while bytes keep coming, so a client trickling a ClientHello a
//! byte at a time would hold the sync server past every deadline. Here a
//! read does at most one `read_tls` (one socket read, bounded by the read
//! timeout) and reports `WouldBlock` when that produced no plaintext yet.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use rustls::ServerConnection;

use crate::totals::Totals;

/// One accepted connection, plain or TLS.
pub enum BlockingStream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

/// A TLS connection over its socket.
pub struct TlsStream {
    conn: ServerConnection,
    sock: TcpStream,
    /// The completed handshake is in the totals already.
    counted: bool,
    /// close_notify was queued (it is sent once).
    notified: bool,
}

impl BlockingStream {
    /// `sock` wrapped in a server-side TLS connection.
    pub fn tls(conn: ServerConnection, sock: TcpStream) -> BlockingStream {
        BlockingStream::Tls(Box::new(TlsStream {
            conn,
            sock,
            counted: false,
            notified: false,
        }))
    }

    /// The socket, for timeouts and options.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            BlockingStream::Plain(sock) => sock,
            BlockingStream::Tls(tls) => &tls.sock,
        }
    }

    /// Counts the handshake in `totals` once it has completed.
    pub fn note_handshake(&mut self, totals: &Totals) {
        if let BlockingStream::Tls(tls) = self {
            if !tls.counted {
                tls.counted = super::count_handshake(&tls.conn, totals);
            }
        }
    }

    /// Whether TLS records are still waiting to be written to the socket.
    pub fn wants_write(&self) -> bool {
        match self {
            BlockingStream::Plain(_) => false,
            BlockingStream::Tls(tls) => tls.conn.wants_write(),
        }
    }

    /// Before a close: tells a TLS client that nothing more comes, so it
    /// can tell a complete close from a truncation. (Dropping a TLS stream
    /// does the same, for the paths that just return.)
    pub fn close_notify(&mut self) {
        if let BlockingStream::Tls(tls) = self {
            tls.close_notify();
        }
    }
}

impl TlsStream {
    /// Queues close_notify once a handshake has completed (not after a
    /// fatal alert, which rustls refuses on its own) and writes it if the
    /// socket takes it at once: a client that is not reading is not waited
    /// for.
    fn close_notify(&mut self) {
        if self.notified || self.conn.is_handshaking() {
            return;
        }
        self.notified = true;
        self.conn.send_close_notify();
        if self.sock.set_nonblocking(true).is_ok() {
            let _ = self.flush_records();
            let _ = self.sock.set_nonblocking(false);
        }
    }

    /// Writes pending TLS records; each write waits at most the socket's
    /// write timeout, and a timeout comes back as an error to retry.
    fn flush_records(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.sock)?;
        }
        Ok(())
    }
}

impl Drop for TlsStream {
    fn drop(&mut self) {
        self.close_notify();
    }
}

impl Read for BlockingStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let tls = match self {
            BlockingStream::Plain(sock) => return sock.read(buf),
            BlockingStream::Tls(tls) => tls,
        };
        // Handshake messages, tickets or the last response's tail first.
        tls.flush_records()?;
        let mut socket_read = false;
        loop {
            match tls.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                // The peer closed without close_notify. An HTTP request is
                // framed by itself, so the reader knows whether one was cut.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if socket_read {
                // Records came but no plaintext yet (a handshake step):
                // the caller checks its deadlines and reads again.
                return Err(io::ErrorKind::WouldBlock.into());
            }
            tls.conn.read_tls(&mut tls.sock)?;
            socket_read = true;
            if let Err(e) = tls.conn.process_new_packets() {
                // Tell the peer why (the alert is queued), then give up.
                let _ = tls.flush_records();
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            tls.flush_records()?;
        }
    }
}

impl Write for BlockingStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let tls = match self {
            BlockingStream::Plain(sock) => return sock.write(buf),
            BlockingStream::Tls(tls) => tls,
        };
        // Accept new bytes only once the earlier ones are out, so that a
        // write that returns means progress, as on a plain socket.
        tls.flush_records()?;
        let n = tls.conn.writer().write(buf)?;
        // Out now if the socket takes them; a stall shows on the next call.
        let _ = tls.flush_records();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            BlockingStream::Plain(sock) => sock.flush(),
            BlockingStream::Tls(tls) => tls.flush_records(),
        }
    }
}
