//! The resources, each one file of plain Rust rules, and the pure logic they share.
//!
//! - [`versioned_snapshot`]: one Azure snapshot = one version of one dataset.
//! - [`version_alias`]: a named, movable pointer to one version (`production`).
//! - [`version_export`]: a read SAS for one version, granted and revoked.
//! - [`restored_disk`]: a managed disk created from a version (the rollback path).
//! - [`naming`]: validation of names and versions, and the default snapshot name.
//! - [`regions`]: Azure's public regions, which `location` must name.
//! - [`security`]: the network and encryption settings both resources share.
//! - [`preflight`]: the preview's read-only checks of a create, with reads shared by the
//!   whole preview.
//!
//! Listing, ordering, tags and retention of a dataset's versions are the catalog's
//! ([`crate::catalog`]).

pub mod naming;
pub mod preflight;
pub mod regions;
pub mod restored_disk;
pub mod security;
pub mod version_alias;
pub mod version_export;
pub mod versioned_snapshot;

#[cfg(test)]
mod input_rules;
