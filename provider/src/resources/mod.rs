//! The resources, each one file of plain Rust rules, and the pure logic they share.
//!
//! - [`versioned_snapshot`]: one Azure snapshot = one version of one dataset.
//! - [`restored_disk`]: a managed disk created from a version (the rollback path).
//! - [`naming`]: validation of names and versions, the default snapshot name, version order.
//! - [`retention`]: which old versions a rule prunes, and pruning them.
//! - [`tags`]: version identity and lineage encoded as Azure tags.

pub mod naming;
pub mod restored_disk;
pub mod retention;
pub mod tags;
pub mod versioned_snapshot;
