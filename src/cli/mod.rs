//! Command-line front ends over the library: `replay`, `wrap`, `subscribe` and `check`.

pub mod check;
pub mod exit;
pub mod replay;
pub mod subscribe;
pub mod wrap;
