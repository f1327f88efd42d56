//! Command-line front ends over the library: `replay` and `wrap`.

pub mod replay;
pub mod wrap;
