//! The totals line a server prints on shutdown,
//! `{"model":"fork","connections":N,"requests":N,"body_bytes":N}` (a TLS
//! server adds `"tls_full":N,"tls_resumed":N`): written by
//! the servers and read back by bench-client, which checks its own counts
//! against it and saves it in its result (as `target.server.totals`). One
//! type for both sides, so that a field added or renamed on one side cannot
//! be missed by the other.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A server's exact counts for its whole run. Serialises as the totals line,
/// fields in this order; the same JSON object is the result format's
/// `target.server.totals`, so renaming a field changes that format too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsLine {
    /// The server's model name: `sync`, `selector` or `fork`.
    pub model: String,
    /// Accepted connections.
    pub connections: u64,
    /// Responses (any status, errors included) completely written to a client.
    pub requests: u64,
    /// Decoded request-body bytes of those requests.
    pub body_bytes: u64,
    /// TLS handshakes completed in full (a `--tls` server only; absent, and
    /// read as 0, when there were none, so plain servers print the line
    /// they always did and older lines still parse).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tls_full: u64,
    /// TLS handshakes completed by resuming an earlier session (a ticket or
    /// a session ID); absent when 0, as `tls_full`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tls_resumed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl TotalsLine {
    /// The totals in `line`, or `None` when it is some other line (a server
    /// prints other lines on stdout, such as its `listening on` line).
    pub fn parse(line: &str) -> Option<TotalsLine> {
        let line = line.trim();
        // Most lines are not JSON; spare them the parser.
        if !line.starts_with('{') {
            return None;
        }
        serde_json::from_str(line).ok()
    }
}

/// The line as printed, without a trailing newline.
impl fmt::Display for TotalsLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector() -> TotalsLine {
        TotalsLine {
            model: "selector".into(),
            connections: 3,
            requests: 42,
            body_bytes: 7,
            tls_full: 0,
            tls_resumed: 0,
        }
    }

    #[test]
    fn prints_fields_in_order() {
        assert_eq!(
            selector().to_string(),
            r#"{"model":"selector","connections":3,"requests":42,"body_bytes":7}"#
        );
    }

    #[test]
    fn reads_back_what_it_prints() {
        let line = selector().to_string();
        assert_eq!(TotalsLine::parse(&line), Some(selector()));
        assert_eq!(TotalsLine::parse(&format!("{line}\r\n")), Some(selector()));
    }

    #[test]
    fn tls_counts_are_printed_when_present_and_default_to_zero() {
        let tls = TotalsLine {
            tls_full: 1,
            tls_resumed: 4,
            ..selector()
        };
        let line = tls.to_string();
        assert_eq!(
            line,
            r#"{"model":"selector","connections":3,"requests":42,"body_bytes":7,"tls_full":1,"tls_resumed":4}"#
        );
        assert_eq!(TotalsLine::parse(&line), Some(tls));
        let old = r#"{"model":"selector","connections":3,"requests":42,"body_bytes":7}"#;
        assert_eq!(TotalsLine::parse(old), Some(selector()));
    }

    #[test]
    fn other_lines_are_not_totals() {
        for line in [
            "",
            "listening on http://127.0.0.1:1",
            r#"{"model":"selector"}"#,
            r#"{"model":"selector","connections":-1,"requests":0,"body_bytes":0}"#,
            r#"{"model":"selector","connections":1,"requests":1,"body_bytes":1"#,
        ] {
            assert_eq!(TotalsLine::parse(line), None, "{line:?}");
        }
    }
}
