//! HTTP/1.1 on the wire, client side: the request bytes (head and body,
//! built once and shared by every connection) and [`ResponseFramer`], which
//! finds where a response ends without allocating: `httparse` for the head,
//! then a Content-Length, chunked or close-delimited body.
//!
//! A server may be broken or hostile, so what a response may hold is bounded
//! ([`Limits`]), and each limit turns the response into an
//! `invalid_response` with its own cause:
//!
//! | limit | default | cause id |
//! |---|---|---|
//! | head (status line, fields, empty line) | [`MAX_HEAD_BYTES`] = 64 KiB | `head_too_large` |
//! | one chunk-size line, line ending included | [`MAX_CHUNK_LINE_BYTES`] = 4 KiB | `chunk_line_too_long` |
//! | interim (1xx) responses before the final one | [`MAX_INTERIM_RESPONSES`] = 16 | `too_many_interim` |
//! | trailer section of a chunked body | [`MAX_TRAILER_BYTES`] = 16 KiB | `trailers_too_large` |
//!
//! Every [`FrameError`] has a short, stable [`cause_id`](FrameError::cause_id)
//! (`http2_preface`, `cl_and_te`, ...), the key after `invalid_response:` in
//! `summary.errors_by_cause`, and [`describe_cause`] turns it into a sentence.

mod cause;
mod request;

pub use cause::{describe_cause, FrameError};
pub use request::{build_h2_request, build_request, h2_dropped_headers, H2Request, RequestSpec};

use reference_servers::wire::http1;

/// A response head (status line, header fields and the empty line that ends
/// them) may not be longer than this. The reference servers send heads of a
/// few hundred bytes; 64 KiB is what common servers and proxies accept, and
/// bounds what a connection keeps of a head that is split across reads.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Header slots offered to httparse; more header fields is an invalid response.
const MAX_HEADERS: usize = 64;

/// A chunk-size line, extensions and line ending included, may not be longer
/// than this: the size itself is at most 16 hex digits, and extensions this
/// long are a stream that never says how long its chunk is.
pub const MAX_CHUNK_LINE_BYTES: usize = http1::MAX_CHUNK_LINE;

/// Interim (1xx) responses accepted before the final one: a real server sends
/// one or two (`100 Continue`, `103 Early Hints`); an endless series would
/// keep the request open for ever.
pub const MAX_INTERIM_RESPONSES: u32 = 16;

/// The trailer section of a chunked body (every line, line endings and the
/// empty last line included) may not be longer than this.
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;

/// What a response may contain before it is refused; [`Limits::DEFAULT`]
/// holds the documented maximums. Without them a server could keep a request
/// open for ever with bytes that never end a response (endless trailers,
/// endless `100 Continue`s), or grow a connection's buffer without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_HEAD_BYTES`].
    pub head_bytes: usize,
    /// See [`MAX_CHUNK_LINE_BYTES`].
    pub chunk_line_bytes: usize,
    /// See [`MAX_INTERIM_RESPONSES`].
    pub interim_responses: u32,
    /// See [`MAX_TRAILER_BYTES`].
    pub trailer_bytes: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        head_bytes: MAX_HEAD_BYTES,
        chunk_line_bytes: MAX_CHUNK_LINE_BYTES,
        interim_responses: MAX_INTERIM_RESPONSES,
        trailer_bytes: MAX_TRAILER_BYTES,
    };
}

/// Where one response stands after some bytes were fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framed {
    /// Needs more bytes (or the end of the stream).
    More,
    /// The response ended; `keep_alive` says whether the connection may carry another.
    Complete { status: u16, keep_alive: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Fixed {
        remaining: u64,
    },
    ChunkSize,
    ChunkData {
        remaining: u64,
    },
    ChunkDataEnd,
    /// `seen`: bytes of trailer lines consumed so far.
    Trailer {
        seen: usize,
    },
    UntilClose,
    Done,
}

/// Push framer for one response at a time, over a caller-owned buffer.
///
/// Feed it the unconsumed bytes with [`advance`](Self::advance): it says how
/// many it used (body bytes are consumed as they come, so only a partial head
/// or line is ever left for the caller to keep), and whether the response is
/// complete. At end of stream call [`on_eof`](Self::on_eof): a close-delimited
/// body ends there, anything else is cut short. [`reset`](Self::reset) before
/// the next response.
///
/// A partial head or line is scanned once: the framer remembers how far it
/// looked, and httparse runs only when the empty line that ends a head has
/// arrived, so a head trickled in a byte at a time costs time linear in its
/// size. What a response may hold is bounded by [`Limits`].
#[derive(Debug, Clone)]
pub struct ResponseFramer {
    state: State,
    status: u16,
    keep_alive: bool,
    /// Interim (1xx) responses so far. After one the server has read the
    /// request, so it is no longer "at the start".
    interim: u32,
    /// Responses to HEAD have no body whatever their headers say.
    head_request: bool,
    limits: Limits,
    /// Bytes of the pending head or line (counted from the first byte the
    /// caller kept) already searched for its end.
    scanned: usize,
    /// Where the pending head's status line starts, once seen (empty lines
    /// before it are skipped, as httparse does).
    head_start: Option<usize>,
    /// The pending head is known to start with `HTTP/1.`.
    version_checked: bool,
    /// httparse calls made (tests prove a trickled head stays linear).
    #[cfg(test)]
    head_parses: usize,
}

impl ResponseFramer {
    pub fn new(head_request: bool) -> Self {
        ResponseFramer::with_limits(head_request, Limits::DEFAULT)
    }

    pub fn with_limits(head_request: bool, limits: Limits) -> Self {
        ResponseFramer {
            state: State::Head,
            status: 0,
            keep_alive: false,
            interim: 0,
            head_request,
            limits,
            scanned: 0,
            head_start: None,
            version_checked: false,
            #[cfg(test)]
            head_parses: 0,
        }
    }

    /// Whether the coming responses answer HEAD requests (set between
    /// requests, when a connection changes target).
    pub fn set_head_request(&mut self, head: bool) {
        self.head_request = head;
    }

    /// Ready for the next response on the same connection.
    pub fn reset(&mut self) {
        self.state = State::Head;
        self.status = 0;
        self.keep_alive = false;
        self.interim = 0;
        self.next_line();
    }

    /// True until the first byte of a response head has been consumed.
    pub fn at_start(&self) -> bool {
        self.state == State::Head && self.interim == 0
    }

    /// Consumes a prefix of `buf`. When it returns `More` with fewer bytes
    /// consumed than given, the rest is an incomplete head or line: keep it
    /// and call again with more bytes appended (the framer remembers how far
    /// it already looked into those bytes).
    pub fn advance(&mut self, buf: &[u8]) -> Result<(usize, Framed), FrameError> {
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            match self.state {
                State::Done => return Ok((used, self.complete())),
                State::Head => match self.parse_head(rest)? {
                    Some(n) => used += n,
                    None => return Ok((used, Framed::More)),
                },
                State::Fixed { remaining } => {
                    let n = remaining.min(rest.len() as u64);
                    used += n as usize;
                    if n == remaining {
                        self.state = State::Done;
                    } else {
                        self.state = State::Fixed {
                            remaining: remaining - n,
                        };
                        return Ok((used, Framed::More));
                    }
                }
                State::ChunkSize => {
                    let max = self.limits.chunk_line_bytes;
                    match self.line(rest, max, FrameError::ChunkLineTooLong)? {
                        Some((line, n)) => {
                            used += n;
                            let size = parse_chunk_size(line)?;
                            self.state = if size == 0 {
                                State::Trailer { seen: 0 }
                            } else {
                                State::ChunkData { remaining: size }
                            };
                        }
                        None => return Ok((used, Framed::More)),
                    }
                }
                State::ChunkData { remaining } => {
                    let n = remaining.min(rest.len() as u64);
                    used += n as usize;
                    if n == remaining {
                        self.state = State::ChunkDataEnd;
                    } else {
                        self.state = State::ChunkData {
                            remaining: remaining - n,
                        };
                        return Ok((used, Framed::More));
                    }
                }
                State::ChunkDataEnd => match rest {
                    [] | [b'\r'] => return Ok((used, Framed::More)),
                    [b'\n', ..] => {
                        used += 1;
                        self.state = State::ChunkSize;
                    }
                    [b'\r', b'\n', ..] => {
                        used += 2;
                        self.state = State::ChunkSize;
                    }
                    _ => return Err(FrameError::ChunkEnd),
                },
                State::Trailer { seen } => {
                    let max = self.limits.trailer_bytes.saturating_sub(seen);
                    match self.line(rest, max, FrameError::TrailersTooLarge)? {
                        Some((line, n)) => {
                            used += n;
                            self.state = if line.is_empty() {
                                State::Done
                            } else {
                                State::Trailer { seen: seen + n }
                            };
                        }
                        None => return Ok((used, Framed::More)),
                    }
                }
                State::UntilClose => return Ok((buf.len(), Framed::More)),
            }
        }
    }

    /// The peer closed the connection (read returned 0).
    pub fn on_eof(&mut self) -> Result<Framed, FrameError> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                self.keep_alive = false;
                Ok(self.complete())
            }
            _ => Err(FrameError::Eof),
        }
    }

    fn complete(&self) -> Framed {
        Framed::Complete {
            status: self.status,
            keep_alive: self.keep_alive,
        }
    }

    /// A head or line was consumed: the next one is scanned from its start.
    fn next_line(&mut self) {
        self.scanned = 0;
        self.head_start = None;
        self.version_checked = false;
    }

    /// One line ending in LF (CR stripped) and the bytes it used, line ending
    /// included; `None` if the LF is not there yet. A line of more than `max`
    /// bytes is `too_long`, however it was split.
    fn line<'b>(
        &mut self,
        buf: &'b [u8],
        max: usize,
        too_long: FrameError,
    ) -> Result<Option<(&'b [u8], usize)>, FrameError> {
        let from = self.scanned.min(buf.len());
        match buf[from..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let end = from + i + 1;
                if end > max {
                    return Err(too_long);
                }
                self.next_line();
                let l = &buf[..end - 1];
                Ok(Some((l.strip_suffix(b"\r").unwrap_or(l), end)))
            }
            // Even its LF would make it too long.
            None if buf.len() >= max => Err(too_long),
            None => {
                self.scanned = buf.len();
                Ok(None)
            }
        }
    }

    /// Where the head at the start of `buf` ends (one past the LF of its
    /// empty last line), searching only bytes not searched before; `None`
    /// while it has not arrived. Fails early on bytes that cannot begin an
    /// HTTP/1 status line, and on a head that grew past the limit.
    fn find_head_end(&mut self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        let mut i = self.scanned.min(buf.len());
        let start = match self.head_start {
            Some(start) => start,
            None => {
                while i < buf.len() && matches!(buf[i], b'\r' | b'\n') {
                    i += 1;
                }
                // Empty lines before the status line count towards the head
                // limit before anything is judged, as they do when they
                // arrive a few at a time (found by fuzzing: whole, 76 of them
                // then garbage was "not HTTP/1"; in small reads, too large).
                if i >= self.limits.head_bytes {
                    return Err(FrameError::HeadTooLarge);
                }
                if i < buf.len() {
                    self.head_start = Some(i);
                }
                i
            }
        };
        if self.head_start.is_some() && !self.version_checked {
            // Only bytes inside the head limit: judged on more, a verdict a
            // whole read could give (an HTTP/2 preface) became "too large"
            // when the reads ended at the limit (found by fuzzing).
            let within = &buf[start..buf.len().min(self.limits.head_bytes).max(start)];
            self.version_checked = check_status_line_start(within)?;
        }
        while let Some(off) = buf[i..].iter().position(|&b| b == b'\n') {
            let lf = i + off;
            // The LF ends an empty line. `lf > start` (buf[start] is no line
            // ending), so the line before is a line of this head, not one of
            // the empty lines skipped before it.
            let empty = buf[lf - 1] == b'\n' || (buf[lf - 1] == b'\r' && buf[lf - 2] == b'\n');
            if empty {
                return if lf >= self.limits.head_bytes {
                    Err(FrameError::HeadTooLarge)
                } else {
                    Ok(Some(lf + 1))
                };
            }
            i = lf + 1;
        }
        if buf.len() >= self.limits.head_bytes {
            // Even its last LF would make it too long.
            return Err(FrameError::HeadTooLarge);
        }
        self.scanned = buf.len();
        Ok(None)
    }

    /// Parses the head if it is all there; `None` asks for more bytes.
    fn parse_head(&mut self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        let Some(end) = self.find_head_end(buf)? else {
            return Ok(None);
        };
        self.next_line();
        #[cfg(test)]
        {
            self.head_parses += 1;
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(&buf[..end]) {
            Ok(httparse::Status::Complete(n)) => n,
            // The empty line is there, so httparse saw a line ending it
            // did not take as one.
            Ok(httparse::Status::Partial) => {
                return Err(FrameError::Head(httparse::Error::NewLine))
            }
            Err(e) => return Err(FrameError::Head(e)),
        };
        let status = resp.code.unwrap_or(0);
        let http11 = resp.version == Some(1);
        let mut keep_alive = http11;
        let mut content_length: Option<u64> = None;
        let mut transfer_encoding = false;
        let mut chunked = false;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                let v = http1::content_length(h.value).ok_or(FrameError::ContentLength)?;
                if content_length.is_some_and(|old| old != v) {
                    return Err(FrameError::ContentLength);
                }
                content_length = Some(v);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                transfer_encoding = true;
                // Only the last coding frames the message (RFC 9112 §6.1).
                chunked = h
                    .value
                    .rsplit(|&b| b == b',')
                    .next()
                    .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            } else if h.name.eq_ignore_ascii_case("connection") {
                for token in h.value.split(|&b| b == b',') {
                    let token = token.trim_ascii();
                    if token.eq_ignore_ascii_case(b"close") {
                        keep_alive = false;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") && !http11 {
                        keep_alive = true;
                    }
                }
            }
        }
        // RFC 9112 §6.3: a sender must not send both, and a message that has
        // both is the classic request-smuggling ambiguity: refuse, not guess.
        if transfer_encoding && content_length.is_some() {
            return Err(FrameError::LengthAndTransferEncoding);
        }
        if status == 101 {
            return Err(FrameError::Switching);
        }
        if (100..200).contains(&status) {
            // Interim response (100 Continue, 103 Early Hints): the real one follows.
            self.interim += 1;
            if self.interim > self.limits.interim_responses {
                return Err(FrameError::TooManyInterim);
            }
            return Ok(Some(n));
        }
        self.status = status;
        self.keep_alive = keep_alive;
        self.state = if self.head_request || status == 204 || status == 304 {
            State::Done
        } else if chunked {
            State::ChunkSize
        } else if let Some(len) = content_length {
            if len == 0 {
                State::Done
            } else {
                State::Fixed { remaining: len }
            }
        } else {
            self.keep_alive = false;
            State::UntilClose
        };
        Ok(Some(n))
    }
}

/// Checks the first bytes of a head (from its status line) as soon as they
/// decide something, so that a server speaking another protocol is named
/// (and refused at once, not after 64 KiB or a timeout). `Ok(true)`: it
/// starts with `HTTP/1.`; `Ok(false)`: too few bytes to tell yet. The verdict
/// depends only on the bytes, never on how they were split.
fn check_status_line_start(b: &[u8]) -> Result<bool, FrameError> {
    const HTTP1: &[u8] = b"HTTP/1.";
    // What a server sends first when it speaks HTTP/2 (its SETTINGS frame,
    // whose 24-bit length starts with two zero bytes), or what a confused
    // peer echoes (the client preface `PRI * HTTP/2.0`).
    const PRI: &[u8] = b"PRI";
    // A TLS record: a handshake (a server's ServerHello) or an alert (what a
    // TLS server answers to plaintext), then the major version 3.
    const TLS_HANDSHAKE: u8 = 0x16;
    const TLS_ALERT: u8 = 0x15;
    match b {
        [TLS_HANDSHAKE | TLS_ALERT] => Ok(false),
        [TLS_HANDSHAKE | TLS_ALERT, 0x03, ..] => Err(FrameError::Tls),
        [0] => Ok(false),
        [0, 0, ..] => Err(FrameError::Http2),
        _ if b.starts_with(HTTP1) => Ok(true),
        _ if HTTP1.starts_with(b) || PRI.starts_with(b) => Ok(false),
        _ if b.starts_with(PRI) => Err(FrameError::Http2),
        _ => Err(FrameError::Head(httparse::Error::Version)),
    }
}

/// Hex size before any `;extension`, read by the rule the servers use too.
fn parse_chunk_size(line: &[u8]) -> Result<u64, FrameError> {
    http1::chunk_size(line.trim_ascii_end()).ok_or(FrameError::ChunkSize)
}

#[cfg(test)]
mod tests {
    use super::cause::CAUSES;
    use super::*;

    /// Feeds `input` as a connection would: in pieces split at `split`, the
    /// unconsumed tail kept and extended; then EOF if `eof`.
    fn frame_split(input: &[u8], split: usize, eof: bool) -> Result<(Framed, usize), FrameError> {
        frame_pieces(input, &[split], eof, Limits::DEFAULT)
    }

    /// Feeds `input` in pieces cut at `cuts` (ascending) under `limits`,
    /// the unconsumed tail kept and extended; then EOF if `eof`.
    fn frame_pieces(
        input: &[u8],
        cuts: &[usize],
        eof: bool,
        limits: Limits,
    ) -> Result<(Framed, usize), FrameError> {
        let mut f = ResponseFramer::with_limits(false, limits);
        let mut buf: Vec<u8> = Vec::new();
        let mut consumed = 0;
        let ends = cuts.iter().copied().chain([input.len()]);
        let starts = [0].into_iter().chain(cuts.iter().copied());
        for part in starts.zip(ends).map(|(a, b)| &input[a..b]) {
            buf.extend_from_slice(part);
            let (n, p) = f.advance(&buf)?;
            consumed += n;
            buf.drain(..n);
            if let Framed::Complete { .. } = p {
                return Ok((p, consumed));
            }
        }
        if eof {
            return Ok((f.on_eof()?, consumed));
        }
        Ok((Framed::More, consumed))
    }

    fn complete(status: u16, keep_alive: bool) -> Framed {
        Framed::Complete { status, keep_alive }
    }

    /// (name, response, ends only at EOF, expected (status, keep-alive))
    type Case = (&'static str, &'static [u8], bool, (u16, bool));

    const RESPONSES: &[Case] = &[
        (
            // The servers' limit too (wire::http1): the client once stopped at 15.
            "sixteen hex digits of chunk size",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000005\r\nhello\r\n0\r\n\r\n",
            false,
            (200, true),
        ),
        (
            "content-length",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            false,
            (200, true),
        ),
        (
            "empty body",
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            false,
            (404, true),
        ),
        (
            "connection close",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
            false,
            (200, false),
        ),
        (
            "chunked",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
            false,
            (200, true),
        ),
        (
            "chunked, LF only",
            b"HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n\na\n0123456789\n0\n\n",
            false,
            (200, true),
        ),
        (
            "close-delimited",
            b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil the end",
            true,
            (200, false),
        ),
        (
            "LF-only HTTP/1.0 with no headers, as the original Python servers sent",
            b"HTTP/1.0 200 OK\n\nhello world\n",
            true,
            (200, false),
        ),
        (
            "HTTP/1.0 keep-alive",
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
            false,
            (200, true),
        ),
        (
            "100 Continue first",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
            false,
            (201, true),
        ),
        (
            "204 has no body",
            b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
            false,
            (204, true),
        ),
    ];

    #[test]
    fn every_response_frames_at_every_split() {
        for &(name, input, eof, (status, keep_alive)) in RESPONSES {
            for split in 0..=input.len() {
                let got = frame_split(input, split, eof)
                    .unwrap_or_else(|e| panic!("{name}, split {split}: {e}"));
                assert_eq!(
                    got,
                    (complete(status, keep_alive), input.len()),
                    "{name}, split {split}"
                );
            }
        }
    }

    #[test]
    fn bytes_after_the_response_are_not_consumed() {
        let mut f = ResponseFramer::new(false);
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
        let (n, p) = f.advance(input).unwrap();
        assert_eq!(p, complete(200, true));
        assert_eq!(&input[n..], b"EXTRA");
    }

    #[test]
    fn head_request_has_no_body() {
        let mut f = ResponseFramer::new(true);
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
        assert_eq!(
            f.advance(input).unwrap(),
            (input.len(), complete(200, true))
        );
    }

    #[test]
    fn cut_short_is_eof_error() {
        let cases: &[&[u8]] = &[
            b"",
            b"HTTP/1.1 200 OK\r\nContent-Len",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        ];
        for input in cases {
            let mut f = ResponseFramer::new(false);
            let (_, p) = f.advance(input).unwrap();
            assert_eq!(p, Framed::More);
            assert_eq!(
                f.on_eof(),
                Err(FrameError::Eof),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn garbage_is_an_error() {
        let cases: &[(&[u8], FrameError)] = &[
            (
                b"\x00\x01garbage\r\n\r\n",
                FrameError::Head(httparse::Error::Version),
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
                FrameError::ContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                FrameError::ContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                FrameError::ChunkSize,
            ),
            // Review finding: signed lengths were accepted (Rust's integer
            // parsing takes a leading '+').
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
                FrameError::ContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                FrameError::ContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\n",
                FrameError::ChunkSize,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy",
                FrameError::ChunkEnd,
            ),
            (
                b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
                FrameError::Switching,
            ),
        ];
        for (input, want) in cases {
            let mut f = ResponseFramer::new(false);
            assert_eq!(
                f.advance(input),
                Err(want.clone()),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn oversized_head_is_an_error_not_a_wait() {
        let mut input = b"HTTP/1.1 200 OK\r\n".to_vec();
        while input.len() < MAX_HEAD_BYTES {
            input.extend_from_slice(
                b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
            );
        }
        let mut f = ResponseFramer::new(false);
        assert!(f.advance(&input).is_err());
    }

    /// Review finding: after a complete `100 Continue` the framer still said
    /// it was at the start, so a close before the final response looked like
    /// a stale keep-alive connection and the request was sent a second time,
    /// although the server had read it.
    #[test]
    fn interim_response_is_not_the_start() {
        let mut f = ResponseFramer::new(false);
        let (used, p) = f.advance(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
        assert_eq!((used, p), (25, Framed::More));
        assert!(!f.at_start());
        assert_eq!(f.on_eof(), Err(FrameError::Eof));
        f.reset();
        assert!(f.at_start());
    }

    #[test]
    fn reset_allows_the_next_response() {
        let mut f = ResponseFramer::new(false);
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
        assert_eq!(f.advance(r).unwrap().1, complete(200, true));
        f.reset();
        assert!(f.at_start());
        assert_eq!(f.advance(r).unwrap().1, complete(200, true));
    }

    /// Small limits, so that each can be crossed at every split quickly.
    const SMALL: Limits = Limits {
        head_bytes: 64,
        chunk_line_bytes: 16,
        interim_responses: 2,
        trailer_bytes: 32,
    };

    /// Found by fuzzing (fuzz/regressions/client_response/): empty lines
    /// before the status line gave a verdict that depended on the reads.
    #[test]
    fn empty_lines_before_the_status_line_count_whatever_the_reads() {
        let mut input = vec![b'\n'; 76];
        input.extend_from_slice(b"9h: x\r\n\r\n");
        for cut in 0..=input.len() {
            assert_eq!(
                frame_pieces(&input, &[cut], true, SMALL),
                Err(FrameError::HeadTooLarge),
                "cut at {cut}"
            );
        }
        let mut bytewise: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            frame_pieces(&input, &bytewise, true, SMALL),
            Err(FrameError::HeadTooLarge)
        );
        // Under the limit they are skipped, and the status line is judged.
        input.drain(..20);
        bytewise.truncate(input.len() - 1);
        for cuts in [&[][..], &bytewise[..]] {
            assert!(matches!(
                frame_pieces(&input, cuts, true, SMALL),
                Err(FrameError::Head(_))
            ));
        }
    }

    fn chunked_head() -> Vec<u8> {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec()
    }

    /// A head of exactly `len` bytes (padded in one header field).
    fn head_of(len: usize) -> Vec<u8> {
        let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: ".to_vec();
        head.resize(len - 4, b'a');
        head.extend_from_slice(b"\r\n\r\n");
        head
    }

    /// A chunked body whose one chunk-size line is `len` bytes, CRLF included.
    fn chunk_line_of(len: usize) -> Vec<u8> {
        let mut r = chunked_head();
        let start = r.len();
        r.extend_from_slice(b"1;");
        r.resize(start + len - 2, b'e');
        r.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        r
    }

    fn interim(n: usize) -> Vec<u8> {
        let mut r = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(n);
        r.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
        r
    }

    /// A chunked body whose trailer section (the empty last line
    /// included) is `len` bytes.
    fn trailers_of(len: usize) -> Vec<u8> {
        let mut r = chunked_head();
        r.extend_from_slice(b"0\r\nT: ");
        let start = r.len() - 3;
        r.resize(start + len - 4, b't');
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    /// Asserts that `input` frames to `want` under `limits` whether it comes
    /// whole, in two pieces cut at any byte, or one byte at a time.
    fn assert_framed_everywhere(
        name: &str,
        input: &[u8],
        limits: Limits,
        want: Result<(Framed, usize), FrameError>,
    ) {
        for split in 0..=input.len() {
            let got = frame_pieces(input, &[split], false, limits);
            assert_eq!(got, want, "{name}, split at {split}");
        }
        let every: Vec<usize> = (1..input.len()).collect();
        let got = frame_pieces(input, &every, false, limits);
        assert_eq!(got, want, "{name}, a byte at a time");
    }

    #[test]
    fn each_limit_holds_at_the_limit_and_fails_one_byte_over_at_every_split() {
        let ok = |input: &[u8]| Ok((complete(200, true), input.len()));
        let cases: &[(&str, Vec<u8>, FrameError)] = &[
            ("head", head_of(SMALL.head_bytes), FrameError::HeadTooLarge),
            (
                "chunk-size line",
                chunk_line_of(SMALL.chunk_line_bytes),
                FrameError::ChunkLineTooLong,
            ),
            (
                "interim responses",
                interim(SMALL.interim_responses as usize),
                FrameError::TooManyInterim,
            ),
            (
                "trailers",
                trailers_of(SMALL.trailer_bytes),
                FrameError::TrailersTooLarge,
            ),
        ];
        for (name, at_limit, over) in cases {
            assert_framed_everywhere(name, at_limit, SMALL, ok(at_limit));
            let one_over = match *name {
                "head" => head_of(SMALL.head_bytes + 1),
                "chunk-size line" => chunk_line_of(SMALL.chunk_line_bytes + 1),
                "interim responses" => interim(SMALL.interim_responses as usize + 1),
                _ => trailers_of(SMALL.trailer_bytes + 1),
            };
            assert_framed_everywhere(name, &one_over, SMALL, Err(over.clone()));
        }
    }

    /// The head limit also holds when no empty line ever comes: the framer
    /// gives up at the limit instead of buffering for ever.
    #[test]
    fn endless_heads_lines_and_trailers_fail_at_the_limit() {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        head.extend(std::iter::repeat(b"X: y\r\n").flatten().take(200));
        let mut line = chunked_head();
        line.extend(std::iter::repeat(b'1').take(100));
        let mut trailers = chunked_head();
        trailers.extend_from_slice(b"0\r\n");
        trailers.extend(std::iter::repeat(b"T: t\r\n").flatten().take(200));
        let cases = [
            (head, FrameError::HeadTooLarge),
            (line, FrameError::ChunkLineTooLong),
            (trailers, FrameError::TrailersTooLarge),
        ];
        for (input, want) in cases {
            assert_framed_everywhere("endless", &input, SMALL, Err(want));
        }
        let endless_interim = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(10);
        assert_framed_everywhere(
            "endless interim",
            &endless_interim,
            SMALL,
            Err(FrameError::TooManyInterim),
        );
    }

    /// The documented defaults, at the splits around each boundary (every
    /// split of a 64 KiB head would take minutes in a debug build).
    #[test]
    fn default_limits_are_the_documented_ones() {
        let cases: [(Vec<u8>, Vec<u8>, FrameError); 4] = [
            (
                head_of(MAX_HEAD_BYTES),
                head_of(MAX_HEAD_BYTES + 1),
                FrameError::HeadTooLarge,
            ),
            (
                chunk_line_of(MAX_CHUNK_LINE_BYTES),
                chunk_line_of(MAX_CHUNK_LINE_BYTES + 1),
                FrameError::ChunkLineTooLong,
            ),
            (
                interim(MAX_INTERIM_RESPONSES as usize),
                interim(MAX_INTERIM_RESPONSES as usize + 1),
                FrameError::TooManyInterim,
            ),
            (
                trailers_of(MAX_TRAILER_BYTES),
                trailers_of(MAX_TRAILER_BYTES + 1),
                FrameError::TrailersTooLarge,
            ),
        ];
        for (at_limit, over, err) in cases {
            for input in [&at_limit, &over] {
                let n = input.len();
                for split in [0, 1, n / 2, n - 2, n - 1, n] {
                    let got = frame_pieces(input, &[split], false, Limits::DEFAULT);
                    let want = if input == &at_limit {
                        Ok((complete(200, true), n))
                    } else {
                        Err(err.clone())
                    };
                    assert_eq!(got, want, "{err:?} case of {n} bytes, split at {split}");
                }
            }
        }
    }

    /// Each refusal at every split, with the cause id it is counted under.
    #[test]
    fn each_cause_is_found_at_every_split() {
        let mut cl_te = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n".to_vec();
        cl_te.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        let cases: &[(&[u8], FrameError, &str)] = &[
            (
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                FrameError::Tls,
                "looks_like_tls",
            ),
            // A TLS server's alert to a plaintext request (decode_error).
            (
                b"\x15\x03\x03\x00\x02\x02\x32",
                FrameError::Tls,
                "looks_like_tls",
            ),
            // An HTTP/2 server's SETTINGS frame, then GOAWAY.
            (
                b"\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x00\x08\x07",
                FrameError::Http2,
                "http2_preface",
            ),
            (
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                FrameError::Http2,
                "http2_preface",
            ),
            (
                b"HTTP/2 200\r\ncontent-length: 0\r\n\r\n",
                FrameError::Head(httparse::Error::Version),
                "not_http1_status_line",
            ),
            (
                b"HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
                FrameError::Head(httparse::Error::Version),
                "not_http1_status_line",
            ),
            (
                b"SSH-2.0-OpenSSH_9.6\r\n",
                FrameError::Head(httparse::Error::Version),
                "not_http1_status_line",
            ),
            (
                b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
                FrameError::Head(httparse::Error::Status),
                "bad_status_line",
            ),
            (
                b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
                FrameError::Head(httparse::Error::HeaderName),
                "bad_header",
            ),
            (&cl_te, FrameError::LengthAndTransferEncoding, "cl_and_te"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello",
                FrameError::ContentLength,
                "bad_content_length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5g\r\nhello\r\n0\r\n\r\n",
                FrameError::ChunkSize,
                "bad_chunk_size",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n",
                FrameError::ChunkEnd,
                "bad_chunk_end",
            ),
            (
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
                FrameError::Switching,
                "switching_protocols",
            ),
        ];
        for (input, want, id) in cases {
            let name = String::from_utf8_lossy(input);
            assert_framed_everywhere(&name, input, Limits::DEFAULT, Err(want.clone()));
            assert_eq!(want.cause_id(), *id, "{name}");
        }
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let err = frame_pieces(&many, &[], false, Limits::DEFAULT).unwrap_err();
        assert_eq!(err.cause_id(), "too_many_headers");
    }

    /// Empty lines before a status line are skipped (as httparse does) and
    /// do not end the head.
    #[test]
    fn empty_lines_before_the_status_line_are_skipped_at_every_split() {
        let input = b"\r\n\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert_framed_everywhere(
            "leading empty lines",
            input,
            Limits::DEFAULT,
            Ok((complete(200, true), input.len())),
        );
    }

    #[test]
    fn every_cause_has_a_sentence_and_a_stable_id() {
        let all = [
            FrameError::Tls,
            FrameError::Http2,
            FrameError::Head(httparse::Error::Version),
            FrameError::Head(httparse::Error::Status),
            FrameError::Head(httparse::Error::TooManyHeaders),
            FrameError::Head(httparse::Error::NewLine),
            FrameError::HeadTooLarge,
            FrameError::ContentLength,
            FrameError::LengthAndTransferEncoding,
            FrameError::ChunkSize,
            FrameError::ChunkEnd,
            FrameError::ChunkLineTooLong,
            FrameError::TooManyInterim,
            FrameError::TrailersTooLarge,
            FrameError::Switching,
            FrameError::Eof,
        ];
        let mut ids: Vec<&str> = all.iter().map(FrameError::cause_id).collect();
        for id in &ids {
            // The schema's pattern for the part after `kind:`.
            assert!(
                !id.is_empty()
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{id}"
            );
            assert!(describe_cause(id).is_some(), "{id} has no sentence");
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            CAUSES.len(),
            "one sentence per id, no sentence without an id"
        );
        assert_eq!(
            describe_cause("http2_preface"),
            Some("the server answered with an HTTP/2 preface")
        );
        assert_eq!(
            describe_cause("cl_and_te"),
            Some("Content-Length and Transfer-Encoding together")
        );
        assert_eq!(describe_cause("ECONNRESET"), None);
    }

    /// Issue 15: a head was parsed again from its first byte on every read,
    /// so a 60 KB head trickled in a byte at a time cost ~60,000 parses of
    /// up to 60 KB. Now the bytes are scanned once and httparse runs once.
    #[test]
    fn head_trickled_byte_by_byte_is_parsed_once() {
        let mut input = interim(1);
        let head = head_of(60_000);
        input.extend_from_slice(&head);
        let mut f = ResponseFramer::new(false);
        let mut buf = Vec::new();
        let mut done = 0;
        for &byte in &input {
            buf.push(byte);
            let (used, p) = f.advance(&buf).unwrap();
            buf.drain(..used);
            if p != Framed::More {
                assert_eq!(p, complete(200, true));
                done += 1;
                f.reset();
            }
        }
        assert_eq!(
            done, 2,
            "the interim response's final one, then the big head"
        );
        assert!(buf.is_empty());
        assert_eq!(f.head_parses, 3, "one parse per head");
    }

    #[test]
    fn request_bytes() {
        let headers = vec!["X-A: 1".to_string()];
        let req = build_request(&RequestSpec {
            method: "POST",
            path: "/echo",
            host: "127.0.0.1:8888",
            headers: &headers,
            body: b"abc",
            connection_close: true,
        });
        let text = std::str::from_utf8(&req).unwrap();
        assert!(text.starts_with(
            "POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8888\r\nUser-Agent: bench-client/"
        ));
        assert!(
            text.ends_with("Content-Length: 3\r\nConnection: close\r\nX-A: 1\r\n\r\nabc"),
            "{text}"
        );
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut parsed = httparse::Request::new(&mut headers);
        assert_eq!(
            parsed.parse(&req).unwrap(),
            httparse::Status::Complete(req.len() - 3)
        );
    }

    #[test]
    fn user_host_header_replaces_ours() {
        let headers = vec!["host: example".to_string()];
        let req = build_request(&RequestSpec {
            method: "GET",
            path: "/",
            host: "127.0.0.1:1",
            headers: &headers,
            body: b"",
            connection_close: false,
        });
        let text = std::str::from_utf8(&req).unwrap();
        assert!(!text.contains("127.0.0.1"), "{text}");
        assert!(text.contains("host: example\r\n"), "{text}");
        assert!(!text.contains("Content-Length"), "{text}");
    }
}
