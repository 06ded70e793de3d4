//! Serialized responses: status line, headers and body bytes ready for the
//! socket, and the `/bytes/N` fill pattern served without allocating it.

use super::budget::Reservation;
use super::date;

/// 64 KiB of the `/bytes/N` pattern: byte `i` of any such body is
/// `b'a' + i % 26`. The length is a multiple of 26, so slices of this one
/// static chunk serve bodies of any size without allocating them.
static FILL: [u8; FILL_LEN] = fill_pattern();
const FILL_LEN: usize = 26 * 2520;

const fn fill_pattern() -> [u8; FILL_LEN] {
    let mut chunk = [0u8; FILL_LEN];
    let mut i = 0;
    while i < FILL_LEN {
        chunk[i] = b'a' + (i % 26) as u8;
        i += 1;
    }
    chunk
}

/// Byte `index` of a `/bytes/N` body (for clients that verify it).
pub fn fill_byte(index: u64) -> u8 {
    b'a' + (index % 26) as u8
}

/// The `/bytes/N` pattern from body offset `offset`, at most `max_len`
/// bytes (and at least one when `max_len > 0`): a slice of one static chunk,
/// for servers that frame bodies themselves (the HTTP/2 target).
pub fn fill_slice(offset: u64, max_len: usize) -> &'static [u8] {
    // FILL_LEN is a multiple of 26, so any start keeps the pattern's phase.
    let start = (offset % FILL_LEN as u64) as usize;
    &FILL[start..FILL_LEN.min(start.saturating_add(max_len))]
}

/// A serialized response: status line, headers and a small body in one
/// buffer (so it leaves in one write), followed by `fill` pattern bytes that
/// live in a shared static chunk (so `/bytes/N` never allocates N bytes).
///
/// An echoed body is not copied: it moves in as `owned`, after the prefix,
/// with the budget it holds until the response is dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    prefix: Vec<u8>,
    owned: Vec<u8>,
    fill: usize,
    close: bool,
    status: u16,
    hold: Option<Reservation>,
}

impl Response {
    /// Builds a response. `head_only` (for HEAD requests) announces the body's
    /// length without sending it.
    pub(super) fn build(
        status: u16,
        content_type: &str,
        body: &[u8],
        fill: usize,
        connection: Connection,
        head_only: bool,
    ) -> Response {
        let mut prefix = head(status, content_type, body.len() + fill, connection);
        let (body, fill) = if head_only {
            (&[][..], 0)
        } else {
            (body, fill)
        };
        prefix.extend_from_slice(body);
        Response {
            prefix,
            owned: Vec::new(),
            fill,
            close: connection == Connection::Close,
            status,
            hold: None,
        }
    }

    /// A 200 whose body is `body`, moved in rather than copied, holding
    /// `hold` of the body budget until the response is dropped.
    pub(super) fn owning(
        content_type: &str,
        body: Vec<u8>,
        hold: Option<Reservation>,
        connection: Connection,
    ) -> Response {
        Response {
            prefix: head(200, content_type, body.len(), connection),
            owned: body,
            fill: 0,
            close: connection == Connection::Close,
            status: 200,
            hold,
        }
    }

    /// Total bytes on the wire.
    pub fn len(&self) -> usize {
        self.prefix.len() + self.owned.len() + self.fill
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next contiguous bytes from `offset`; empty iff `offset >= len()`.
    pub fn bytes_at(&self, offset: usize) -> &[u8] {
        if offset < self.prefix.len() {
            return &self.prefix[offset..];
        }
        let offset = offset - self.prefix.len();
        if offset < self.owned.len() {
            return &self.owned[offset..];
        }
        let body_offset = offset - self.owned.len();
        if body_offset >= self.fill {
            return &[];
        }
        let start = body_offset % FILL_LEN;
        let end = FILL_LEN.min(start + (self.fill - body_offset));
        &FILL[start..end]
    }

    /// Whether the connection must close after this response.
    pub fn close(&self) -> bool {
        self.close
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }
}

/// Status line and headers, with the blank line that ends them.
fn head(status: u16, content_type: &str, length: usize, connection: Connection) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(160);
    prefix.extend_from_slice(
        format!("HTTP/1.1 {status} {}\r\nDate: ", reason_phrase(status)).as_bytes(),
    );
    prefix.extend_from_slice(&date::now());
    prefix.extend_from_slice(
        format!("\r\nContent-Length: {length}\r\nContent-Type: {content_type}\r\n").as_bytes(),
    );
    match connection {
        Connection::Close => prefix.extend_from_slice(b"Connection: close\r\n"),
        Connection::KeepAlive10 => prefix.extend_from_slice(b"Connection: keep-alive\r\n"),
        Connection::KeepAlive11 => {}
    }
    prefix.extend_from_slice(b"\r\n");
    prefix
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Connection {
    Close,
    /// HTTP/1.0 persistence must be announced.
    KeepAlive10,
    /// HTTP/1.1 persistence is the default and needs no header.
    KeepAlive11,
}
/// An error response (400/408/413/431/505, or any status) with
/// `Connection: close`; [`HttpError::response`](super::HttpError::response) also says why.
pub fn error_response(status: u16) -> Response {
    let body = format!("{status} {}\n", reason_phrase(status));
    Response::build(
        status,
        "text/plain; charset=utf-8",
        body.as_bytes(),
        0,
        Connection::Close,
        false,
    )
}

pub(super) fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod fill_tests {
    use super::*;

    #[test]
    fn fill_slices_keep_the_pattern_from_any_offset() {
        for offset in [0u64, 1, 25, 26, FILL_LEN as u64 - 1, 1 << 40] {
            let slice = fill_slice(offset, 1000);
            assert!(!slice.is_empty() && slice.len() <= 1000, "{offset}");
            for (i, &b) in slice.iter().enumerate() {
                assert_eq!(b, fill_byte(offset + i as u64), "{offset}+{i}");
            }
        }
        assert_eq!(fill_slice(5, usize::MAX).len(), FILL_LEN - 5);
        assert!(fill_slice(5, 0).is_empty());
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub(crate) fn wire(response: &Response) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < response.len() {
            let slice = response.bytes_at(out.len());
            assert!(!slice.is_empty());
            out.extend_from_slice(slice);
        }
        assert!(response.bytes_at(out.len()).is_empty());
        out
    }
    pub(crate) fn text(response: &Response) -> String {
        String::from_utf8(wire(response)).unwrap()
    }

    /// The wire text with the one Date header's value, checked for its
    /// form, replaced by `<date>`, so tests can compare exact bytes.
    pub(crate) fn text_dated(response: &Response) -> String {
        let text = text(response);
        let start = text.find("\r\nDate: ").expect("a Date header") + "\r\nDate: ".len();
        let date = &text[start..start + super::date::DATE_LEN];
        assert!(
            date.ends_with(" GMT") && date.as_bytes()[3] == b',',
            "{date}"
        );
        assert_eq!(text.matches("\r\nDate: ").count(), 1, "{text}");
        format!("{}<date>{}", &text[..start], &text[start + date.len()..])
    }
}
