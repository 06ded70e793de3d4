//! The HTTP/1.1 framing rules that the client's response framer and the
//! servers' request reader must apply alike (RFC 9112): how a chunk-size
//! line and a Content-Length are read, and how long a chunk line may be.
//! Each side keeps its own state machine; what they share is the rules, so
//! that a message one side writes the other reads the same way, and a value
//! one refuses the other refuses too (the client once took `Content-Length:
//! +5` while the server next door refused it; the client allowed 15 hex
//! digits of chunk size, the server 16).

/// Longest chunk-size line (size, extensions, line ending): the size itself
/// is at most [`MAX_CHUNK_SIZE_DIGITS`]; anything longer is extensions
/// without end, which only an attacker sends.
pub const MAX_CHUNK_LINE: usize = 4096;

/// Hex digits of a chunk size: 16 hold any `u64`.
pub const MAX_CHUNK_SIZE_DIGITS: usize = 16;

/// `chunk-size [ BWS ; chunk-ext ]` without its line ending: 1 to 16 hex
/// digits (no sign, no `0x`), whitespace around them allowed, extensions
/// ignored. `None` when malformed.
pub fn chunk_size(line: &[u8]) -> Option<u64> {
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = trim_ows(&line[..end]);
    if digits.is_empty()
        || digits.len() > MAX_CHUNK_SIZE_DIGITS
        || !digits.iter().all(u8::is_ascii_hexdigit)
    {
        return None;
    }
    // All hex digits and at most 16 of them: neither a sign nor an overflow
    // can reach from_str_radix.
    let text = std::str::from_utf8(digits).ok()?;
    u64::from_str_radix(text, 16).ok()
}

/// A Content-Length field value: `1*DIGIT` (RFC 9110 8.6) with optional
/// whitespace around it. `None` when malformed or beyond `u64` (Rust's
/// integer parsing alone would also take a leading `+`).
pub fn content_length(value: &[u8]) -> Option<u64> {
    let digits = trim_ows(value);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Strips optional whitespace (spaces and tabs, RFC 9110 5.6.3) at both ends.
pub fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one table of chunk-size lines, for the client and the servers.
    #[test]
    fn chunk_sizes() {
        let table: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)),
            (b"a", Some(10)),
            (b"1F", Some(31)),
            (b"ffffffffffffffff", Some(u64::MAX)),
            (b"0000000000000010", Some(16)),
            (b"5;ext=1", Some(5)),
            (b"5 ; ext", Some(5)),
            (b" 5\t", Some(5)),
            (b"10000000000000000", None),
            (b"", None),
            (b";ext", None),
            (b"+5", None),
            (b"-5", None),
            (b"0x5", None),
            (b"5 5", None),
            (b"g", None),
            (b"\xff", None),
        ];
        for &(line, want) in table {
            assert_eq!(
                chunk_size(line),
                want,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    /// The one table of Content-Length values, for the client and the servers.
    #[test]
    fn content_lengths() {
        let table: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)),
            (b"5", Some(5)),
            (b" 42 ", Some(42)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"", None),
            (b" ", None),
            (b"+5", None),
            (b"-5", None),
            (b"5 5", None),
            (b"5,5", None),
            (b"0x10", None),
            (b"1e3", None),
        ];
        for &(value, want) in table {
            assert_eq!(
                content_length(value),
                want,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }
}
