//! HTTP/1.1 on the wire, client side: the request bytes (head and body,
//! built once and shared by every connection) and [`ResponseFramer`], which
//! finds where a response ends without allocating: `httparse` for the head,
//! then a Content-Length, chunked or close-delimited body.

use std::sync::Arc;

/// A response head may not be longer than this (the connection's read buffer
/// grows up to it); anything longer is an invalid response.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Header slots offered to httparse; more headers is an invalid response.
const MAX_HEADERS: usize = 64;

/// Longest chunk-size or trailer line accepted.
const MAX_LINE_BYTES: usize = 4096;

/// What goes into the request head besides the method and path.
#[derive(Debug, Clone)]
pub struct RequestSpec<'a> {
    pub method: &'a str,
    /// Path and query, starting with `/`.
    pub path: &'a str,
    /// `Host` header value.
    pub host: &'a str,
    /// `-H` lines, `Name: value`.
    pub headers: &'a [String],
    pub body: &'a [u8],
    /// Ask the server to close after the response (`--connection-per-request`).
    pub connection_close: bool,
}

/// The complete request, head and body, as one shared byte string.
pub fn build_request(spec: &RequestSpec<'_>) -> Arc<[u8]> {
    let has = |name: &str| {
        spec.headers.iter().any(|h| {
            h.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        })
    };
    let mut head = format!("{} {} HTTP/1.1\r\n", spec.method, spec.path);
    if !has("host") {
        head.push_str(&format!("Host: {}\r\n", spec.host));
    }
    if !has("user-agent") {
        head.push_str(&format!(
            "User-Agent: bench-client/{}\r\n",
            env!("CARGO_PKG_VERSION")
        ));
    }
    // A body is always framed by us: the config refuses a user's
    // Content-Length or Transfer-Encoding, which could lie.
    let wants_length = !spec.body.is_empty() || matches!(spec.method, "POST" | "PUT" | "PATCH");
    if wants_length {
        head.push_str(&format!("Content-Length: {}\r\n", spec.body.len()));
    }
    if spec.connection_close && !has("connection") {
        head.push_str("Connection: close\r\n");
    }
    for h in spec.headers {
        let (name, value) = h.split_once(':').unwrap_or((h, ""));
        head.push_str(&format!("{}: {}\r\n", name.trim(), value.trim()));
    }
    head.push_str("\r\n");
    let mut bytes = Vec::with_capacity(head.len() + spec.body.len());
    bytes.extend_from_slice(head.as_bytes());
    bytes.extend_from_slice(spec.body);
    bytes.into()
}

/// Why a response could not be framed: always an `invalid_response`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("malformed response head: {0}")]
    Head(httparse::Error),
    #[error("response head longer than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("bad Content-Length")]
    ContentLength,
    #[error("bad chunk size line")]
    ChunkSize,
    #[error("missing CRLF after chunk data")]
    ChunkEnd,
    #[error("chunk or trailer line too long")]
    LineTooLong,
    #[error("unsupported status 101 (protocol switch)")]
    Switching,
    #[error("connection closed before the response was complete")]
    Eof,
}

/// Where one response stands after some bytes were fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Needs more bytes (or the end of the stream).
    More,
    /// The response ended; `keep_alive` says whether the connection may carry another.
    Complete { status: u16, keep_alive: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Fixed { remaining: u64 },
    ChunkSize,
    ChunkData { remaining: u64 },
    ChunkDataEnd,
    Trailer,
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
#[derive(Debug, Clone)]
pub struct ResponseFramer {
    state: State,
    status: u16,
    keep_alive: bool,
    /// An interim (1xx) response came before the final one: the server has
    /// read the request, so it is no longer "at the start".
    interim: bool,
    /// Responses to HEAD have no body whatever their headers say.
    head_request: bool,
}

impl ResponseFramer {
    pub fn new(head_request: bool) -> Self {
        ResponseFramer {
            state: State::Head,
            status: 0,
            keep_alive: false,
            interim: false,
            head_request,
        }
    }

    /// Ready for the next response on the same connection.
    pub fn reset(&mut self) {
        self.state = State::Head;
        self.status = 0;
        self.keep_alive = false;
        self.interim = false;
    }

    /// True until the first byte of a response head has been consumed.
    pub fn at_start(&self) -> bool {
        self.state == State::Head && !self.interim
    }

    /// Consumes a prefix of `buf`. When it returns `More` with fewer bytes
    /// consumed than given, the rest is an incomplete head or line: keep it
    /// and call again with more bytes appended.
    pub fn advance(&mut self, buf: &[u8]) -> Result<(usize, Progress), FrameError> {
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            match self.state {
                State::Done => return Ok((used, self.complete())),
                State::Head => match self.parse_head(rest)? {
                    Some(n) => used += n,
                    None => return Ok((used, Progress::More)),
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
                        return Ok((used, Progress::More));
                    }
                }
                State::ChunkSize => match line(rest)? {
                    Some((line, n)) => {
                        used += n;
                        let size = parse_chunk_size(line)?;
                        self.state = if size == 0 {
                            State::Trailer
                        } else {
                            State::ChunkData { remaining: size }
                        };
                    }
                    None => return Ok((used, Progress::More)),
                },
                State::ChunkData { remaining } => {
                    let n = remaining.min(rest.len() as u64);
                    used += n as usize;
                    if n == remaining {
                        self.state = State::ChunkDataEnd;
                    } else {
                        self.state = State::ChunkData {
                            remaining: remaining - n,
                        };
                        return Ok((used, Progress::More));
                    }
                }
                State::ChunkDataEnd => match rest {
                    [] | [b'\r'] => return Ok((used, Progress::More)),
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
                State::Trailer => match line(rest)? {
                    Some((line, n)) => {
                        used += n;
                        if line.is_empty() {
                            self.state = State::Done;
                        }
                    }
                    None => return Ok((used, Progress::More)),
                },
                State::UntilClose => return Ok((buf.len(), Progress::More)),
            }
        }
    }

    /// The peer closed the connection (read returned 0).
    pub fn on_eof(&mut self) -> Result<Progress, FrameError> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                self.keep_alive = false;
                Ok(self.complete())
            }
            _ => Err(FrameError::Eof),
        }
    }

    fn complete(&self) -> Progress {
        Progress::Complete {
            status: self.status,
            keep_alive: self.keep_alive,
        }
    }

    /// Parses the head if it is all there; `None` asks for more bytes.
    fn parse_head(&mut self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD_BYTES => {
                return Err(FrameError::HeadTooLarge)
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(FrameError::Head(e)),
        };
        let status = resp.code.unwrap_or(0);
        let http11 = resp.version == Some(1);
        let mut keep_alive = http11;
        let mut content_length: Option<u64> = None;
        let mut chunked = false;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                // 1*DIGIT (RFC 9110 8.6): `parse` alone would also take "+5".
                let v = std::str::from_utf8(h.value)
                    .ok()
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or(FrameError::ContentLength)?;
                if content_length.is_some_and(|old| old != v) {
                    return Err(FrameError::ContentLength);
                }
                content_length = Some(v);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
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
        if status == 101 {
            return Err(FrameError::Switching);
        }
        if (100..200).contains(&status) {
            // Interim response (100 Continue, 103 Early Hints): the real one follows.
            self.interim = true;
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

/// One line ending in LF (CR stripped) and the bytes it used; `None` if the LF is not there yet.
fn line(buf: &[u8]) -> Result<Option<(&[u8], usize)>, FrameError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let l = &buf[..i];
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            Ok(Some((l, i + 1)))
        }
        None if buf.len() > MAX_LINE_BYTES => Err(FrameError::LineTooLong),
        None => Ok(None),
    }
}

/// Hex size before any `;extension`.
fn parse_chunk_size(line: &[u8]) -> Result<u64, FrameError> {
    let hex = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or(b"")
        .trim_ascii();
    // 1*HEXDIG: from_str_radix alone would also take a sign ("+5").
    if hex.is_empty() || hex.len() > 15 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return Err(FrameError::ChunkSize);
    }
    let s = std::str::from_utf8(hex).map_err(|_| FrameError::ChunkSize)?;
    u64::from_str_radix(s, 16).map_err(|_| FrameError::ChunkSize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` as a connection would: in pieces split at `split`, the
    /// unconsumed tail kept and extended; then EOF if `eof`.
    fn frame_split(input: &[u8], split: usize, eof: bool) -> Result<(Progress, usize), FrameError> {
        let mut f = ResponseFramer::new(false);
        let mut buf: Vec<u8> = Vec::new();
        let mut consumed = 0;
        for part in [&input[..split], &input[split..]] {
            buf.extend_from_slice(part);
            let (n, p) = f.advance(&buf)?;
            consumed += n;
            buf.drain(..n);
            if let Progress::Complete { .. } = p {
                return Ok((p, consumed));
            }
        }
        if eof {
            return Ok((f.on_eof()?, consumed));
        }
        Ok((Progress::More, consumed))
    }

    fn complete(status: u16, keep_alive: bool) -> Progress {
        Progress::Complete { status, keep_alive }
    }

    /// (name, response, ends only at EOF, expected (status, keep-alive))
    type Case = (&'static str, &'static [u8], bool, (u16, bool));

    const RESPONSES: &[Case] = &[
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
            assert_eq!(p, Progress::More);
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
        assert_eq!((used, p), (25, Progress::More));
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
