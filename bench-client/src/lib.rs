//! bench-client: an HTTP/1.1 load generator.
pub mod result;
