//! The body of every fuzz target, written once.
//!
//! Each `fuzz_targets/NAME.rs` is `fuzz_target!(|data| entries::NAME(data))`,
//! and `bench-client/tests/fuzz_corpus.rs` includes this same file to replay
//! every committed input (`fuzz/corpus/NAME/`, `fuzz/regressions/NAME/`) on
//! stable Rust, so a corpus that once passed keeps passing in CI.
//!
//! An entry panics when a property fails; returning is a pass. Properties
//! are what the code documents: no panic on any input, the same verdict
//! however a stream is split into reads, writers and readers that agree
//! (`format_size` → `parse_size`, `Display` → `parse`), and the limits.
//!
//! Every input that once failed is kept in `fuzz/regressions/TARGET/` and
//! replayed by `bench-client/tests/fuzz_corpus.rs`. Every finding so
//! far (fuzz/RESULTS.md) is fixed, so no entry tolerates any failure.
//!
//! Stream inputs (`server_request`, `client_response`) start with a control
//! byte: bits 0-2 are how many cut points follow (two bytes each, little
//! endian, taken modulo the stream length + 1); the other bits choose
//! limits and flags (see each entry). The rest is the stream.

use std::sync::Mutex;
use std::time::Duration;

use bench_client::config::{self, HttpUrl};
use bench_client::http::{FrameError, Framed, Limits as ClientLimits, ResponseFramer};
use bench_client::metric::{Check, Metric};
use reference_servers::http::{
    route, BodyBudget, HttpError, Limits as ServerLimits, RequestReader, Routed, MAX_DELAY_MS,
};
use reference_servers::wire::authority::{self, Authority};
use reference_servers::wire::listening::ListeningLine;
use reference_servers::wire::totals::TotalsLine;
use reference_servers::wire::{http1, units};

/// A stream input: control byte, ascending cut points, the stream.
struct Split<'a> {
    ctl: u8,
    cuts: Vec<usize>,
    stream: &'a [u8],
}

impl<'a> Split<'a> {
    fn of(data: &'a [u8]) -> Option<Split<'a>> {
        let (&ctl, rest) = data.split_first()?;
        let count = usize::from(ctl & 7);
        let (cut_bytes, stream) = rest.split_at((2 * count).min(rest.len()));
        let mut cuts: Vec<usize> = cut_bytes
            .chunks_exact(2)
            .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])) % (stream.len() + 1))
            .collect();
        cuts.sort_unstable();
        Some(Split { ctl, cuts, stream })
    }

    /// The stream as the reads the cuts make (some may be empty).
    fn pieces(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let stream = self.stream;
        let starts = std::iter::once(0).chain(self.cuts.iter().copied());
        let ends = self.cuts.iter().copied().chain([stream.len()]);
        starts.zip(ends).map(move |(a, b)| &stream[a..b])
    }

    /// The stream a byte per read, as the framers' own tests feed it; only
    /// for short streams, to keep an execution cheap.
    fn bytewise(&self) -> Option<impl Iterator<Item = &'a [u8]>> {
        (self.stream.len() <= 512).then(|| self.stream.chunks(1))
    }
}

// ---------------------------------------------------------------------------
// server_request

/// Budgets for kept (`POST /echo`) bodies: one no request fills, one small
/// enough that the 503 paths run. Every reservation must be given back once
/// the requests, responses and readers holding them are dropped.
static BUDGET_LARGE: BodyBudget = BodyBudget::new(u64::MAX);
static BUDGET_SMALL: BodyBudget = BodyBudget::new(64);

/// Held for a whole `server_request` run, so that replay tests running on
/// several threads cannot see each other's reservations in the budgets.
static BUDGET_USERS: Mutex<()> = Mutex::new(());

/// What a server did with one request (its reservation already given back).
#[derive(Debug, PartialEq, Eq)]
struct Served {
    method: String,
    path: String,
    minor_version: u8,
    keep_alive: bool,
    body: Vec<u8>,
    body_len: u64,
    kept: bool,
    status: u16,
    close: bool,
}

/// Reads requests from `pieces` as a server does: after each read, every
/// complete request is routed and its response dropped (as once written)
/// before the next; stops at the first error.
fn serve<'a>(
    pieces: impl Iterator<Item = &'a [u8]>,
    limits: ServerLimits,
    allow_keep_alive: bool,
) -> (Vec<Served>, Option<HttpError>) {
    let mut reader = RequestReader::new(limits);
    let mut served = Vec::new();
    for piece in pieces {
        reader.feed(piece);
        loop {
            match reader.next_request() {
                Ok(Some(mut request)) => {
                    assert!(request.body_len <= limits.max_body, "body over max_body");
                    match &request.hold {
                        Some(hold) => {
                            assert_eq!(request.body.len() as u64, request.body_len);
                            assert_eq!(hold.bytes(), request.body_len, "reserved != kept");
                        }
                        None => assert!(request.body.is_empty(), "a body kept without budget"),
                    }
                    let mut seen = Served {
                        method: request.method.clone(),
                        path: request.path.clone(),
                        minor_version: request.minor_version,
                        keep_alive: request.keep_alive,
                        body: request.body.clone(),
                        body_len: request.body_len,
                        kept: request.hold.is_some(),
                        status: 0,
                        close: false,
                    };
                    let response = match route(&mut request, allow_keep_alive) {
                        Routed::Now(response) => response,
                        Routed::After(delay, response) => {
                            assert!(delay <= Duration::from_millis(MAX_DELAY_MS));
                            response
                        }
                    };
                    assert!(!response.bytes_at(0).is_empty(), "an empty response");
                    assert!(response.bytes_at(response.len()).is_empty());
                    if !(allow_keep_alive && request.keep_alive) {
                        assert!(response.close(), "keep-alive where it was not allowed");
                    }
                    seen.status = response.status();
                    seen.close = response.close();
                    served.push(seen);
                }
                Ok(None) => {
                    let _ = reader.take_continue();
                    let _ = reader.at_deadline();
                    break;
                }
                Err(e) => {
                    let response = e.response();
                    assert_eq!(response.status(), e.status);
                    assert!(response.close(), "an error response must close");
                    return (served, Some(e));
                }
            }
        }
    }
    (served, None)
}

/// The same requests whatever the reads; an error found in one reading is
/// found in the other, unless the split one has not found it *yet*: the
/// reader does not parse a pending head again until a new line arrives (so
/// that a head trickled a byte per read costs linear time), so `GE` then
/// `T\x01` waits for a line ending that whole `GET\x01` needs no more.
fn agree(whole: &Outcome, split: &Outcome, how: &str) {
    assert_eq!(whole.0, split.0, "whole vs {how}: different requests");
    match (&whole.1, &split.1) {
        (Some(a), Some(b)) => assert_eq!(a, b, "whole vs {how}: different errors"),
        (None, Some(b)) => panic!("whole vs {how}: only the split reading fails, with {b:?}"),
        (_, None) => {}
    }
}

/// What [`serve`] makes of a stream: the requests served, then any error.
type Outcome = (Vec<Served>, Option<HttpError>);

/// `reference_servers::http::RequestReader` (with `route` on each request).
/// Control bits 3-4: `max_body` of 0, 16, 1024 or unbounded; bit 5: the
/// small body budget; bit 6: keep-alive not allowed (the sync server's
/// default). Whole, in the fuzzer's pieces and byte by byte must [`agree`],
/// and leave the budget as it was.
pub fn server_request(data: &[u8]) {
    let Some(input) = Split::of(data) else {
        return;
    };
    // A panic in another run poisons the lock but leaves the budgets whole
    // (reservations are given back as the stack unwinds).
    let _budgets = BUDGET_USERS.lock().unwrap_or_else(|e| e.into_inner());
    let max_body = [0, 16, 1024, u64::MAX][usize::from((input.ctl >> 3) & 3)];
    let budget: &'static BodyBudget = if input.ctl & 0x20 != 0 {
        &BUDGET_SMALL
    } else {
        &BUDGET_LARGE
    };
    let limits = ServerLimits { max_body, budget };
    let allow_keep_alive = input.ctl & 0x40 == 0;
    let before = budget.used();
    let whole = serve(std::iter::once(input.stream), limits, allow_keep_alive);
    assert_eq!(budget.used(), before, "budget not given back (whole)");
    let pieces = serve(input.pieces(), limits, allow_keep_alive);
    let how = format!("in pieces cut at {:?}", input.cuts);
    agree(&whole, &pieces, &how);
    if let Some(bytes) = input.bytewise() {
        let bytewise = serve(bytes, limits, allow_keep_alive);
        agree(&whole, &bytewise, "byte by byte");
    }
    assert_eq!(budget.used(), before, "budget not given back");
}

// ---------------------------------------------------------------------------
// client_response

/// Small limits, so that every limit is reachable in a short input.
const SMALL_CLIENT_LIMITS: ClientLimits = ClientLimits {
    head_bytes: 64,
    chunk_line_bytes: 8,
    interim_responses: 1,
    trailer_bytes: 16,
};

/// The end of a connection's responses: more needed, or what EOF or an
/// error made of it.
type Ending = Result<Framed, FrameError>;

/// Frames responses from `pieces` as a connection does: the unconsumed tail
/// kept and extended, the framer reset after each complete keep-alive
/// response, reading stopped after one that closes; then EOF if `eof`.
fn frame<'a>(
    pieces: Box<dyn Iterator<Item = &'a [u8]> + '_>,
    head_request: bool,
    limits: ClientLimits,
    eof: bool,
    stream_len: usize,
) -> (Vec<(u16, bool)>, Ending) {
    let mut framer = ResponseFramer::with_limits(head_request, limits);
    let mut buf: Vec<u8> = Vec::new();
    let mut complete = Vec::new();
    // A tail is only ever a partial head or line (body bytes are consumed
    // as they come), so it stays under the largest limit.
    let bound = limits
        .head_bytes
        .max(limits.chunk_line_bytes)
        .max(limits.trailer_bytes);
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let (used, framed) = match framer.advance(&buf) {
                Ok(step) => step,
                Err(e) => return (complete, Err(e)),
            };
            assert!(used <= buf.len(), "consumed {used} of {}", buf.len());
            buf.drain(..used);
            match framed {
                Framed::More => {
                    assert!(buf.len() <= bound, "kept a tail of {} bytes", buf.len());
                    break;
                }
                Framed::Complete { status, keep_alive } => {
                    complete.push((status, keep_alive));
                    assert!(complete.len() <= stream_len, "a response from no bytes");
                    if !keep_alive {
                        return (complete, Ok(framed));
                    }
                    framer.reset();
                    assert!(framer.at_start());
                }
            }
        }
    }
    let ending = if eof {
        framer.on_eof()
    } else {
        Ok(Framed::More)
    };
    (complete, ending)
}

/// `bench_client::http::ResponseFramer` over a connection's bytes. Control
/// bit 3: the request was HEAD; bit 4: small limits; bit 5: EOF after the
/// stream. Whole, in pieces and byte by byte must agree: the framer
/// promises a verdict that depends on the bytes, not on how they arrived.
pub fn client_response(data: &[u8]) {
    let Some(input) = Split::of(data) else {
        return;
    };
    let head_request = input.ctl & 0x08 != 0;
    let limits = if input.ctl & 0x10 != 0 {
        SMALL_CLIENT_LIMITS
    } else {
        ClientLimits::DEFAULT
    };
    let eof = input.ctl & 0x20 != 0;
    let n = input.stream.len();
    let framed = |pieces| frame(pieces, head_request, limits, eof, n);
    let whole = framed(Box::new(std::iter::once(input.stream)));
    let same = |other: &Framing, how: &str| assert_eq!(&whole, other, "whole vs {how}");
    same(
        &framed(Box::new(input.pieces())),
        &format!("in pieces cut at {:?}", input.cuts),
    );
    if let Some(bytes) = input.bytewise() {
        same(&framed(Box::new(bytes)), "byte by byte");
    }
    if let Err(e) = &whole.1 {
        // Every error has a description (its Display must not panic).
        assert!(!e.to_string().is_empty());
    }
}

/// What [`frame`] makes of a stream: the complete responses, then the end.
type Framing = (Vec<(u16, bool)>, Ending);

// ---------------------------------------------------------------------------
// wire

/// `reference_servers::wire`: sizes, durations, authorities, HTTP/1.1's
/// chunk-size and Content-Length rules, the listening and totals lines.
pub fn wire(data: &[u8]) {
    http1_rules(data);
    if let Some(n) = data.get(..8) {
        let n = u64::from_le_bytes(n.try_into().expect("8 bytes"));
        let text = units::format_size(n);
        assert_eq!(units::parse_size(&text, u64::MAX), Ok(n), "{text}");
    }
    let text = String::from_utf8_lossy(data);
    sizes(&text);
    durations(&text);
    authorities(&text);
    listening_line(&text);
    totals_line(&text);
}

fn http1_rules(data: &[u8]) {
    let padded = |bytes: &[u8]| [b" \t", bytes, b"\t "].concat();
    if let Some(size) = http1::chunk_size(data) {
        assert_eq!(
            http1::chunk_size(format!("{size:x}").as_bytes()),
            Some(size)
        );
        assert_eq!(
            http1::chunk_size(format!("{size:X};x=y").as_bytes()),
            Some(size)
        );
    }
    if !data.contains(&b';') {
        assert_eq!(http1::chunk_size(&padded(data)), http1::chunk_size(data));
    }
    if let Some(length) = http1::content_length(data) {
        assert_eq!(
            http1::content_length(length.to_string().as_bytes()),
            Some(length)
        );
    }
    assert_eq!(
        http1::content_length(&padded(data)),
        http1::content_length(data)
    );
    let trimmed = http1::trim_ows(data);
    assert!(!trimmed.starts_with(b" ") && !trimmed.ends_with(b"\t"));
}

/// A size under any cap is the size without one, if it fits; what is
/// parsed is read back from `format_size`.
fn sizes(text: &str) {
    let unbounded = units::parse_size(text, u64::MAX);
    for max in [u64::MAX, 1 << 30, 65_536, 1000, 0] {
        match (units::parse_size(text, max), &unbounded) {
            (Ok(n), Ok(m)) => {
                assert_eq!(n, *m);
                assert!(n <= max);
                assert_eq!(units::parse_size(&units::format_size(n), max), Ok(n));
            }
            (Err(units::UnitError::TooLarge { .. }), Ok(m)) => assert!(*m > max),
            (Err(units::UnitError::TooLarge { .. }), Err(units::UnitError::TooLarge { .. })) => {}
            (Err(e @ units::UnitError::Malformed(_)), Err(f)) => assert_eq!(e, *f),
            (got, _) => panic!("{text:?} under {max}: {got:?}, unbounded {unbounded:?}"),
        }
    }
}

/// A duration under any cap is the duration without one, if it fits.
fn durations(text: &str) {
    let unbounded = units::parse_duration(text, Duration::MAX);
    let year = Duration::from_secs(365 * 86_400);
    for max in [
        year,
        Duration::from_secs(86_400),
        Duration::from_secs(1),
        Duration::ZERO,
    ] {
        match (units::parse_duration(text, max), &unbounded) {
            (Ok(d), Ok(e)) => assert!(d == *e && d <= max),
            (Err(units::UnitError::TooLarge { max: cap, .. }), Ok(e)) => {
                assert!(*e > max);
                assert!(!cap.is_empty());
            }
            // More digits than any real duration: too large under any cap.
            (Err(units::UnitError::TooLarge { .. }), Err(units::UnitError::TooLarge { .. })) => {}
            (Err(e @ units::UnitError::Malformed(_)), Err(f)) => assert_eq!(e, *f),
            (got, _) => panic!("{text:?} under {max:?}: {got:?}, unbounded {unbounded:?}"),
        }
    }
}

/// What `Authority::parse` reads, `host_port` writes back the same. Only
/// for hosts without brackets: `parse` takes `a]b:c:1` as host `a]b:c`,
/// which no bracketed form can write (see fuzz/RESULTS.md).
fn authorities(text: &str) {
    let Ok(parsed) = Authority::parse(text) else {
        return;
    };
    assert!(!parsed.host.is_empty());
    assert!(!parsed.host.contains('@'));
    if let Some(port) = parsed.port {
        if !parsed.host.contains(['[', ']']) {
            let written = authority::host_port(&parsed.host, port);
            assert_eq!(Authority::parse(&written), Ok(parsed), "{written}");
        }
    }
}

/// A listening line read, printed and read again is the same line.
fn listening_line(text: &str) {
    if let Ok(line) = ListeningLine::parse(text) {
        let printed = line.to_string();
        assert_eq!(
            ListeningLine::parse(&printed),
            Ok(line.clone()),
            "{printed}"
        );
        assert_eq!(ListeningLine::parse(&format!(" {printed}\r\n")), Ok(line));
    }
}

/// A totals line read, printed and read again is the same totals.
fn totals_line(text: &str) {
    if let Some(totals) = TotalsLine::parse(text) {
        let printed = totals.to_string();
        assert_eq!(TotalsLine::parse(&printed), Some(totals), "{printed}");
    }
}

// ---------------------------------------------------------------------------
// cli

/// bench-client's command-line readers: sizes, durations, counts, URLs, CPU
/// lists, metric names and `--fail-on` checks.
pub fn cli(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = &*text;
    if let Ok(n) = config::parse_size("--payload", text) {
        assert_eq!(units::parse_size(text, u64::MAX), Ok(n));
    }
    for allow_zero in [false, true] {
        if let Ok(d) = config::parse_duration("--duration", text, allow_zero) {
            assert!(allow_zero || !d.is_zero(), "zero accepted");
        }
    }
    if let Ok(n) = config::parse_count("-c", text) {
        assert!(n >= 1);
        assert_eq!(config::parse_count("-c", &n.to_string()).ok(), Some(n));
    }
    if let Ok(url) = HttpUrl::parse(text) {
        assert!(url.path.starts_with('/'), "{url:?}");
        assert!(!url.host.is_empty());
        let _ = url.to_url();
    }
    if let Ok(cpus) = config::parse_cpu_list(text) {
        assert!(!cpus.is_empty());
        assert!(cpus.windows(2).all(|w| w[0] < w[1]), "not sorted: {cpus:?}");
        assert!(cpus.iter().all(|&c| c <= 1023));
        let written: Vec<String> = cpus.iter().map(usize::to_string).collect();
        let again = config::parse_cpu_list(&written.join(",")).ok();
        assert_eq!(again.as_ref(), Some(&cpus));
    }
    if let Ok(metric) = Metric::parse(text) {
        assert_eq!(Metric::parse(&metric.name()), Ok(metric));
    }
    if let Ok(check) = Check::parse(text) {
        assert_eq!(check.text, text.trim());
        assert_eq!(Metric::parse(&check.metric.name()), Ok(check.metric));
        // The threshold goes into the result as a JSON number: serde_json
        // writes a non-finite one as `null`, which no reader takes back.
        assert!(
            check.threshold.is_finite() && check.threshold >= 0.0,
            "threshold {} from {text:?}",
            check.threshold
        );
        assert_eq!(Check::parse(&check.text), Ok(check));
    }
}
