//! The boxed future every object-safe async trait here returns (sinks, the
//! AWS clients), in a leaf module so that `aws` need not import `sink` for
//! it. A type alias rather than an extra crate (`futures::BoxFuture` is the
//! same thing).

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
