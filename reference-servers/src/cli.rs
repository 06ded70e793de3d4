//! Command-line options shared by the three server binaries and by
//! `bench-client serve`: clap types plus the value parsers they need.

use std::net::SocketAddr;
use std::time::Duration;

/// The concurrency model a server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    Sync,
    Selector,
    Fork,
}

impl Model {
    /// The name used on the command line and in the totals line.
    pub fn name(self) -> &'static str {
        match self {
            Model::Sync => "sync",
            Model::Selector => "selector",
            Model::Fork => "fork",
        }
    }
}

/// Options common to all servers.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8888")]
    pub addr: SocketAddr,

    /// How long a client may take to send a complete request (and to accept
    /// each write of a response); e.g. 10s, 500ms. A partial request gets 408,
    /// a silent idle connection is just closed.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub read_timeout: Duration,

    /// Largest request body accepted (larger gets 413): bytes, or with a unit
    /// k, m, g (powers of 1024), e.g. 1048576, 64k, 64m, 64MiB.
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub max_body: u64,

    /// Let clients keep their connection open (sync server only; the others
    /// always follow HTTP/1.1 keep-alive). Off by default, as in the original
    /// iterative server: every response carries `Connection: close`.
    #[arg(long)]
    pub keep_alive: bool,

    /// Most children alive at once (fork server only); at the bound the server
    /// waits for a child to exit before accepting more.
    #[arg(long, default_value_t = 1024, value_parser = parse_max_children)]
    pub max_children: usize,
}

/// Parses a byte size: a plain number of bytes, or a number followed by
/// `k`/`m`/`g` (optionally `b`, `ib` or `iB`), all powers of 1024.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let expected = "expected a number of bytes with an optional unit k, m or g \
                    (powers of 1024), e.g. 65536, 64k, 64m, 64MiB";
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(digits_end);
    if digits.is_empty() {
        return Err(format!("invalid size '{text}': {expected}"));
    }
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("invalid size '{text}': unknown unit; {expected}")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("invalid size '{text}': too large; {expected}"))
}

/// Longest `--read-timeout`: far beyond any benchmark, and small enough that
/// adding it to an `Instant` cannot overflow (which panics).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses a timeout with humantime and refuses zero, which the socket layer
/// would read as "no timeout at all", and anything over [`MAX_TIMEOUT`].
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("invalid duration '{text}': {e}; expected e.g. 10s, 500ms, 1m"))?;
    if duration.is_zero() {
        return Err(format!(
            "invalid duration '{text}': must be greater than zero, e.g. 10s or 500ms"
        ));
    }
    if duration > MAX_TIMEOUT {
        return Err(format!(
            "invalid duration '{text}': must be at most 24h, e.g. 10s or 10m"
        ));
    }
    Ok(duration)
}

fn parse_max_children(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "invalid child count '{text}': expected a whole number of at least 1, e.g. 1024"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_plain_bytes() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
    }

    #[test]
    fn size_kilobytes() {
        assert_eq!(parse_size("64k"), Ok(64 * 1024));
    }

    #[test]
    fn size_megabytes_short() {
        assert_eq!(parse_size("64m"), Ok(64 << 20));
    }

    #[test]
    fn size_mebibytes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
    }

    #[test]
    fn size_gigabytes() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
    }

    #[test]
    fn size_unknown_unit_names_input_and_form() {
        let err = parse_size("64x").unwrap_err();
        assert!(err.contains("'64x'"), "{err}");
        assert!(err.contains("64MiB"), "{err}");
    }

    #[test]
    fn size_without_digits() {
        assert!(parse_size("MiB")
            .unwrap_err()
            .contains("invalid size 'MiB'"));
    }

    #[test]
    fn size_overflow() {
        assert!(parse_size("99999999999999999999g").is_err());
    }

    #[test]
    fn timeout_humantime() {
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn timeout_zero_refused() {
        assert!(parse_timeout("0s")
            .unwrap_err()
            .contains("greater than zero"));
    }

    /// Review finding: `--read-timeout 500000000000y` parsed, and the server
    /// panicked ("overflow when adding duration to instant") on its first
    /// connection.
    #[test]
    fn timeout_beyond_a_day_refused() {
        let err = parse_timeout("500000000000y").unwrap_err();
        assert!(
            err.contains("'500000000000y'") && err.contains("at most 24h"),
            "{err}"
        );
        assert_eq!(parse_timeout("24h"), Ok(MAX_TIMEOUT));
    }

    #[test]
    fn timeout_garbage_refused() {
        assert!(parse_timeout("soon").unwrap_err().contains("'soon'"));
    }

    #[test]
    fn max_children_zero_refused() {
        assert!(parse_max_children("0").is_err());
    }
}
