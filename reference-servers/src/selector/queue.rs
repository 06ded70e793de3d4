//! A connection's responses on their way out: the ordered queue
//! ([`ResponseQueue`]), what each entry puts on the wire ([`Wire`]), and the
//! gathering of ready bytes into one `writev`.
//!
//! Pipelined requests are answered in order, so a response that is not due
//! yet (`/delay/MS`) holds back the ones behind it; the queue is bounded so a
//! client that pipelines without reading cannot make the server buffer
//! without bound.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::time::Instant;

use crate::http::{self, Request, Response};
use crate::totals::Totals;

/// Requests answered ahead of the client reading them: past this (or
/// [`MAX_QUEUED_BYTES`]) the connection stops parsing and reading, so a client
/// that pipelines without reading cannot make the server buffer without bound.
const MAX_QUEUED_RESPONSES: usize = 32;
/// Wire bytes of queued responses past which the connection stops reading.
const MAX_QUEUED_BYTES: usize = 1024 * 1024;
/// Slices handed to one `writev`, so pipelined responses leave together.
pub(super) const MAX_IOV: usize = 64;

/// What a queue entry puts on the wire.
pub(super) enum Wire {
    /// A final response; counted in [`Totals`] once completely written.
    Final(Response),
    /// `100 Continue` ([`http::CONTINUE`]) for a client that waits for it
    /// before sending its body; not a response of its own.
    Continue,
}

impl Wire {
    fn len(&self) -> usize {
        match self {
            Wire::Final(response) => response.len(),
            Wire::Continue => http::CONTINUE.len(),
        }
    }

    fn bytes_at(&self, offset: usize) -> &[u8] {
        match self {
            Wire::Final(response) => response.bytes_at(offset),
            Wire::Continue => http::CONTINUE.get(offset..).unwrap_or_default(),
        }
    }

    pub(super) fn close(&self) -> bool {
        matches!(self, Wire::Final(response) if response.close())
    }
}

/// A queued response (or interim response) and what it counts for once written.
struct Outgoing {
    wire: Wire,
    /// Decoded body bytes of the request it answers (for [`Totals`]).
    request_body_bytes: u64,
    /// `/delay/MS`: not to be written before this instant.
    not_before: Option<Instant>,
    /// `/delay/MS`: the request, to answer it again with `Connection: close`
    /// if shutdown cuts the delay short.
    delayed_request: Option<Request>,
}

impl Outgoing {
    fn is_ready(&self, now: Instant) -> bool {
        self.not_before.map_or(true, |at| at <= now)
    }
}

/// One connection's responses in request order, with the write offset into
/// the front one.
#[derive(Default)]
pub(super) struct ResponseQueue {
    /// Only the front entry is partly written.
    entries: VecDeque<Outgoing>,
    /// Wire bytes of `entries` (for [`MAX_QUEUED_BYTES`]).
    bytes: usize,
    /// Bytes of the front entry already written.
    written: usize,
    /// Final responses completely written.
    served: u64,
}

impl ResponseQueue {
    /// Whether another response fits within the bounds.
    pub(super) fn has_room(&self) -> bool {
        self.entries.len() < MAX_QUEUED_RESPONSES && self.bytes < MAX_QUEUED_BYTES
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Final responses completely written so far.
    pub(super) fn served(&self) -> u64 {
        self.served
    }

    /// Queues `wire` behind the others; `not_before` and `delayed_request`
    /// are set for a `/delay/MS` response.
    pub(super) fn push(
        &mut self,
        wire: Wire,
        request_body_bytes: u64,
        not_before: Option<Instant>,
        delayed_request: Option<Request>,
    ) {
        self.bytes += wire.len();
        self.entries.push_back(Outgoing {
            wire,
            request_body_bytes,
            not_before,
            delayed_request,
        });
    }

    /// The instant the front response becomes due, if it is not due at `now`.
    pub(super) fn front_waits_until(&self, now: Instant) -> Option<Instant> {
        self.entries.front()?.not_before.filter(|&at| at > now)
    }

    /// On shutdown, `/delay` responses still waiting go out now, announcing
    /// the close (as the blocking servers cut their sleep short), so the drain
    /// does not wait for them and the client does not reuse the connection.
    pub(super) fn cut_delays_short(&mut self, now: Instant) {
        for outgoing in self.entries.iter_mut() {
            if outgoing.is_ready(now) {
                continue;
            }
            if let Some(request) = &mut outgoing.delayed_request {
                let response = http::route_closing(request);
                self.bytes = self.bytes - outgoing.wire.len() + response.len();
                outgoing.wire = Wire::Final(response);
            }
            outgoing.not_before = None;
        }
    }

    /// Fills `iov` with the unwritten bytes of the ready responses at the
    /// front, stopping after a closing one; returns how many slices it filled.
    pub(super) fn gather<'a>(&'a self, now: Instant, iov: &mut [IoSlice<'a>]) -> usize {
        let mut count = 0;
        for (index, outgoing) in self.entries.iter().enumerate() {
            if !outgoing.is_ready(now) {
                break;
            }
            let mut offset = if index == 0 { self.written } else { 0 };
            loop {
                let bytes = outgoing.wire.bytes_at(offset);
                if bytes.is_empty() {
                    break;
                }
                iov[count] = IoSlice::new(bytes);
                count += 1;
                offset += bytes.len();
                if count == iov.len() {
                    return count;
                }
            }
            if outgoing.wire.close() {
                break;
            }
        }
        count
    }

    /// Accounts for `sent` written bytes: completed responses leave the queue
    /// and are counted. True if a closing response completed.
    pub(super) fn advance(&mut self, mut sent: usize, totals: &Totals) -> bool {
        while let Some(front) = self.entries.front() {
            let left = front.wire.len() - self.written;
            if sent < left {
                self.written += sent;
                return false;
            }
            sent -= left;
            self.written = 0;
            self.bytes -= front.wire.len();
            if let Wire::Final(_) = front.wire {
                totals.add_request(front.request_body_bytes);
                self.served += 1;
            }
            let close = front.wire.close();
            self.entries.pop_front();
            if close {
                return true;
            }
            if sent == 0 {
                return false;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use super::*;
    use crate::http::Routed;

    fn get(path: &str) -> Request {
        Request {
            method: "GET".into(),
            path: path.into(),
            minor_version: 1,
            keep_alive: true,
            body: Vec::new(),
            body_len: 0,
            hold: None,
        }
    }

    fn response(path: &str) -> Response {
        match http::route(&mut get(path), true) {
            Routed::Now(response) | Routed::After(_, response) => response,
        }
    }

    /// All the bytes `gather` offers at `now`, concatenated.
    fn gathered(queue: &ResponseQueue, now: Instant) -> Vec<u8> {
        let mut iov = [IoSlice::new(&[]); MAX_IOV];
        let count = queue.gather(now, &mut iov);
        iov[..count]
            .iter()
            .flat_map(|slice| slice.iter().copied())
            .collect()
    }

    fn wire_bytes(wire: &Wire) -> Vec<u8> {
        let mut bytes = Vec::new();
        while bytes.len() < wire.len() {
            bytes.extend_from_slice(wire.bytes_at(bytes.len()));
        }
        bytes
    }

    #[test]
    fn a_response_counts_once_its_last_byte_is_written_and_continue_never() {
        let totals = Totals::new();
        let mut queue = ResponseQueue::default();
        let hello = response("/");
        let hello_len = hello.len();
        queue.push(Wire::Continue, 0, None, None);
        queue.push(Wire::Final(hello), 5, None, None);
        queue.push(Wire::Final(http::error_response(400)), 0, None, None);

        let requests = || totals.requests.load(Ordering::SeqCst);
        assert!(!queue.advance(http::CONTINUE.len(), &totals));
        assert_eq!((requests(), queue.served()), (0, 0), "100 Continue");
        assert!(!queue.advance(hello_len - 1, &totals));
        assert_eq!(requests(), 0, "one byte of the answer is still unwritten");
        assert!(!queue.advance(1, &totals));
        assert_eq!((requests(), queue.served()), (1, 1));
        assert_eq!(totals.body_bytes.load(Ordering::SeqCst), 5);
        let closing = http::error_response(400).len();
        assert!(
            queue.advance(closing, &totals),
            "the closing response is complete"
        );
        assert_eq!((requests(), queue.served()), (2, 2));
        assert!(queue.is_empty());
        assert_eq!(queue.bytes, 0);
    }

    #[test]
    fn gather_resumes_at_the_write_offset_and_stops_at_a_delay_and_after_a_close() {
        let now = Instant::now();
        let totals = Totals::new();
        let mut queue = ResponseQueue::default();
        let hello = wire_bytes(&Wire::Final(response("/")));
        queue.push(Wire::Final(response("/")), 0, None, None);
        queue.push(Wire::Final(response("/bytes/3")), 0, None, None);
        let later = now + Duration::from_secs(1);
        queue.push(Wire::Final(response("/")), 0, Some(later), Some(get("/")));
        queue.push(Wire::Final(response("/")), 0, None, None);

        queue.advance(4, &totals);
        let three = wire_bytes(&Wire::Final(response("/bytes/3")));
        assert_eq!(
            gathered(&queue, now),
            [&hello[4..], &three[..]].concat(),
            "the delayed response holds back itself and the one behind it"
        );
        assert_eq!(queue.front_waits_until(now), None, "the front is due");

        let mut closing = ResponseQueue::default();
        closing.push(Wire::Final(http::error_response(400)), 0, None, None);
        closing.push(Wire::Final(response("/")), 0, None, None);
        assert_eq!(
            gathered(&closing, now),
            wire_bytes(&Wire::Final(http::error_response(400))),
            "nothing follows a closing response"
        );
    }

    #[test]
    fn shutdown_makes_a_waiting_delay_due_at_once_and_closing() {
        let now = Instant::now();
        let later = now + Duration::from_secs(30);
        let mut queue = ResponseQueue::default();
        queue.push(Wire::Final(response("/")), 0, Some(later), Some(get("/")));
        assert_eq!(queue.front_waits_until(now), Some(later));
        assert!(gathered(&queue, now).is_empty());

        queue.cut_delays_short(now);
        assert_eq!(queue.front_waits_until(now), None);
        let sent = gathered(&queue, now);
        let text = String::from_utf8_lossy(&sent);
        assert!(text.contains("Connection: close\r\n"), "{text}");
        assert_eq!(
            queue.bytes,
            sent.len(),
            "the byte count follows the new answer"
        );
    }

    #[test]
    fn the_queue_is_full_at_its_response_bound() {
        let mut queue = ResponseQueue::default();
        for _ in 0..MAX_QUEUED_RESPONSES {
            assert!(queue.has_room());
            queue.push(Wire::Continue, 0, None, None);
        }
        assert!(!queue.has_room());
    }
}
