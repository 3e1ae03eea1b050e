//! The dataset catalog: a dataset's versions as Azure holds them. It lists a resource
//! group's snapshots once, parses their tags into versions, keeps them in one order, finds
//! one version or the latest, and selects and prunes versions for retention.
//!
//! Used by the resources (VersionedSnapshot, RestoredDisk) and the functions (`getVersions`,
//! `getVersion`); it never uses them. Its files depend on each other in one direction:
//!
//! ```text
//! prune -> listing -> version -> order
//!   |        |
//!   |        +-> tags -> retention -> version
//!   +-> retention
//! ```
//!
//! - [`order`]: the order of version strings (`2 < 10`, semver, dates).
//! - [`version`]: [`DatasetVersion`] and the one order of versions (version, then
//!   `timeCreated`, then snapshot name).
//! - [`retention`]: the one [`Retention`] rule type and which versions it selects (pure).
//! - [`tags`]: version identity and lineage encoded as Azure tags, and Azure's tag rules.
//! - [`listing`]: listing a dataset's versions, [`find`], [`latest`].
//! - [`prune`]: applying retention after a create, and warning at preview.
//! - [`aliases`]: who holds an alias of a dataset, and the rule that settles a race.
//! - [`locks`]: the management locks datasnap places on versions it protects, and lifts.

pub mod aliases;
pub mod listing;
pub mod locks;
pub mod order;
pub mod prune;
pub mod retention;
pub mod tags;
pub mod version;

pub use listing::{alias_not_found, find, find_alias, latest, list, not_found, resolve, versions};
pub use retention::Retention;
pub use version::DatasetVersion;
