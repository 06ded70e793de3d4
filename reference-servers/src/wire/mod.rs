//! What the client and the servers must read and write the same way, kept
//! once so that the two sides cannot drift apart: sizes and durations typed
//! on a command line ([`units`]), `host[:port]` authorities ([`authority`]),
//! where a URL's parts end ([`url`]), HTTP/1.1's chunk-size and
//! Content-Length rules ([`http1`]), and the two
//! lines a server prints for whoever started it: where it listens
//! ([`listening`]) and its totals on shutdown ([`totals`]). `bench-client`
//! depends on this crate, so it uses these directly rather than a copy.

pub mod authority;
pub mod http1;
pub mod listening;
pub mod totals;
pub mod units;
pub mod url;
