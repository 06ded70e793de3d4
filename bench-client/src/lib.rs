//! bench-client: an HTTP/1.1 load generator.
pub mod compare;
pub mod hdr;
pub mod host;
pub mod merge;
pub mod plot;
pub mod report;
pub mod result;
pub mod server;
