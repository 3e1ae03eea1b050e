//! Azure: the only code in the provider that speaks HTTP.
//!
//! - [`id`]: ARM ids (pure).

pub mod id;
