//! Facts about the generator host, recorded in every result.

use crate::result::Host;

/// The host this process runs on.
pub fn host_info() -> Host {
    todo!("report helper")
}
