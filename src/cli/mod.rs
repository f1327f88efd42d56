//! Command-line front ends over the library: `replay`, `wrap` and `subscribe`.

pub mod exit;
pub mod replay;
pub mod subscribe;
pub mod wrap;
