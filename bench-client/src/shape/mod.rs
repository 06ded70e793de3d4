//! Load shapes (issue 12), sans IO: what a run's load should be at each
//! moment and which request goes where, as pure functions and small
//! per-connection states that the engine can keep. Nothing here reads a
//! clock, a socket or a file.
//!
//! - [`stage`]: `--stage DURATION:TARGET` and the validated list of stages;
//! - [`curve`]: the rate curve Λ (open loop) and the connection curve
//!   (closed loop) those stages draw;
//! - [`arrivals`]: each connection's intended send times, uniform or
//!   Poisson, as slots in Λ-space mapped through the curve's inverse;
//! - [`targets`]: vegeta's targets file, and which target each request uses.

pub mod arrivals;
pub mod curve;
pub mod stage;
pub mod targets;
