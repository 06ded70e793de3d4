//! The exact per-server counters, counted while serving and printed as one
//! [`TotalsLine`] on shutdown, which the bench-client compares with its own
//! counts.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::cli::Model;
use crate::wire::totals::TotalsLine;

/// Exact counters, printed as one JSON line on shutdown:
/// `{"model":"selector","connections":N,"requests":N,"body_bytes":N}`.
///
/// Plain atomics with no pointers inside, so the fork server can place one in
/// a shared anonymous mapping and every child's increments reach the parent.
#[derive(Debug, Default)]
#[repr(C)]
pub struct Totals {
    /// Accepted connections.
    pub connections: AtomicU64,
    /// Responses (any status, errors included) completely written to a client.
    pub requests: AtomicU64,
    /// Decoded request-body bytes of those requests.
    pub body_bytes: AtomicU64,
    /// TLS handshakes completed in full.
    pub tls_full: AtomicU64,
    /// TLS handshakes completed by resuming a session.
    pub tls_resumed: AtomicU64,
}

impl Totals {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one request; call once its response is completely written.
    pub fn add_request(&self, body_bytes: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.body_bytes.fetch_add(body_bytes, Ordering::Relaxed);
    }

    /// Counts one completed TLS handshake: resumed or full (a
    /// HelloRetryRequest is still a full handshake).
    pub fn add_tls_handshake(&self, resumed: bool) {
        let counter = if resumed {
            &self.tls_resumed
        } else {
            &self.tls_full
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The shutdown line, without a trailing newline.
    pub fn json_line(&self, model: Model) -> String {
        TotalsLine {
            model: model.name().to_string(),
            connections: self.connections.load(Ordering::SeqCst),
            requests: self.requests.load(Ordering::SeqCst),
            body_bytes: self.body_bytes.load(Ordering::SeqCst),
            tls_full: self.tls_full.load(Ordering::SeqCst),
            tls_resumed: self.tls_resumed.load(Ordering::SeqCst),
        }
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_has_exact_counts_in_order() {
        let totals = Totals::new();
        totals.add_connection();
        totals.add_connection();
        totals.add_request(10);
        totals.add_request(0);
        totals.add_request(5);
        assert_eq!(
            totals.json_line(Model::Fork),
            r#"{"model":"fork","connections":2,"requests":3,"body_bytes":15}"#
        );
    }

    #[test]
    fn tls_handshakes_are_counted_by_kind() {
        let totals = Totals::new();
        totals.add_connection();
        totals.add_tls_handshake(false);
        totals.add_tls_handshake(true);
        totals.add_tls_handshake(true);
        assert_eq!(
            totals.json_line(Model::Selector),
            r#"{"model":"selector","connections":1,"requests":0,"body_bytes":0,"tls_full":1,"tls_resumed":2}"#
        );
    }

    #[test]
    fn fresh_totals_are_zero() {
        assert_eq!(
            Totals::new().json_line(Model::Sync),
            r#"{"model":"sync","connections":0,"requests":0,"body_bytes":0}"#
        );
    }
}
