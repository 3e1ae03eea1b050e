//! ARM resource ids for the resources datasnap touches: parsing, formatting and comparison.
//!
//! Pure logic, no HTTP. Azure treats ids as case-insensitive and may change their casing
//! (`resourceGroups` vs `resourcegroups`, an upper-cased group name), so ids compare
//! case-insensitively while keeping the user's spelling for display.

use std::fmt;

/// The kind of a Microsoft.Compute resource we address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `Microsoft.Compute/snapshots`
    Snapshot,
    /// `Microsoft.Compute/disks`
    Disk,
    /// `Microsoft.Compute/diskAccesses` (a private endpoint's way to export disks)
    DiskAccess,
    /// `Microsoft.Compute/diskEncryptionSets` (a customer-managed key)
    DiskEncryptionSet,
}

impl ResourceKind {
    /// The ARM type segment after `providers/Microsoft.Compute/`.
    pub fn segment(self) -> &'static str {
        match self {
            ResourceKind::Snapshot => "snapshots",
            ResourceKind::Disk => "disks",
            ResourceKind::DiskAccess => "diskAccesses",
            ResourceKind::DiskEncryptionSet => "diskEncryptionSets",
        }
    }

    /// What the resource is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            ResourceKind::Snapshot => "snapshot",
            ResourceKind::Disk => "disk",
            ResourceKind::DiskAccess => "disk access",
            ResourceKind::DiskEncryptionSet => "disk encryption set",
        }
    }

    /// The full ARM type, as in a resource's `type` field.
    pub fn arm_type(self) -> &'static str {
        match self {
            ResourceKind::Snapshot => "Microsoft.Compute/snapshots",
            ResourceKind::Disk => "Microsoft.Compute/disks",
            ResourceKind::DiskAccess => "Microsoft.Compute/diskAccesses",
            ResourceKind::DiskEncryptionSet => "Microsoft.Compute/diskEncryptionSets",
        }
    }
}

/// A parsed `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/{kind}/{name}`.
#[derive(Debug, Clone)]
pub struct ResourceId {
    pub subscription_id: String,
    pub resource_group: String,
    pub kind: ResourceKind,
    pub name: String,
}

/// Why a string is not the ARM id we expected; the text is shown to users as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdError(pub String);

impl ResourceId {
    pub fn new(
        subscription_id: impl Into<String>,
        resource_group: impl Into<String>,
        kind: ResourceKind,
        name: impl Into<String>,
    ) -> Self {
        ResourceId {
            subscription_id: subscription_id.into(),
            resource_group: resource_group.into(),
            kind,
            name: name.into(),
        }
    }

    /// Parses an id that must be of `kind`. A missing leading `/` is accepted (Microsoft's
    /// own examples write ids both ways); anything else that is not exactly the expected
    /// shape is an error that shows the shape.
    pub fn parse(s: &str, kind: ResourceKind) -> Result<ResourceId, IdError> {
        let expected = format!(
            "/subscriptions/<subscription id>/resourceGroups/<group>/providers/{}/<name>",
            kind.arm_type()
        );
        let bad = |why: &str| IdError(format!("{why}; expected {expected}, got {s:?}"));
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(bad("is empty"));
        }
        let body = trimmed.strip_prefix('/').unwrap_or(trimmed);
        let parts: Vec<&str> = body.split('/').collect();
        if parts.len() != 8 {
            return Err(bad(&format!(
                "has {} path segments instead of 8",
                parts.len()
            )));
        }
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad("has an empty path segment"));
        }
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        if !eq(parts[0], "subscriptions") || !eq(parts[2], "resourceGroups") {
            return Err(bad("is not a resource id"));
        }
        if !eq(parts[4], "providers") || !eq(parts[5], "Microsoft.Compute") {
            return Err(bad("is not a Microsoft.Compute resource"));
        }
        if !eq(parts[6], kind.segment()) {
            return Err(bad(&format!(
                "names a '{}' resource, not '{}'",
                parts[6],
                kind.segment()
            )));
        }
        Ok(ResourceId::new(parts[1], parts[3], kind, parts[7]))
    }

    /// The resource group's own id.
    pub fn resource_group_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription_id, self.resource_group
        )
    }

    /// True when both ids name the same resource, ignoring case as Azure does.
    pub fn same_resource(&self, other: &ResourceId) -> bool {
        self.kind == other.kind
            && self
                .subscription_id
                .eq_ignore_ascii_case(&other.subscription_id)
            && self
                .resource_group
                .eq_ignore_ascii_case(&other.resource_group)
            && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/resourceGroups/{}/providers/{}/{}",
            self.subscription_id,
            self.resource_group,
            self.kind.arm_type(),
            self.name
        )
    }
}

impl PartialEq for ResourceId {
    fn eq(&self, other: &Self) -> bool {
        self.same_resource(other)
    }
}
impl Eq for ResourceId {}

/// Compares two id strings the way Azure does (case-insensitively, ignoring a missing
/// leading slash).
pub fn ids_equal(a: &str, b: &str) -> bool {
    a.trim()
        .trim_start_matches('/')
        .eq_ignore_ascii_case(b.trim().trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISK: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/disks/data";

    #[test]
    fn parses_and_formats_a_disk_id() {
        let id = ResourceId::parse(DISK, ResourceKind::Disk).unwrap();
        assert_eq!(id.subscription_id, "00000000-0000-0000-0000-000000000001");
        assert_eq!(id.resource_group, "rg");
        assert_eq!(id.name, "data");
        assert_eq!(id.to_string(), DISK);
    }

    #[test]
    fn accepts_a_missing_leading_slash_and_other_casing() {
        let id = ResourceId::parse(
            "subscriptions/s/resourcegroups/RG/providers/microsoft.compute/DISKS/Data",
            ResourceKind::Disk,
        )
        .unwrap();
        let canonical = ResourceId::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/data",
            ResourceKind::Disk,
        )
        .unwrap();
        assert_eq!(id, canonical);
    }

    #[test]
    fn rejects_the_wrong_kind_with_the_expected_shape() {
        let err = ResourceId::parse(DISK, ResourceKind::Snapshot).unwrap_err();
        assert!(
            err.0.contains("names a 'disks' resource, not 'snapshots'"),
            "{err}"
        );
        assert!(
            err.0.contains("Microsoft.Compute/snapshots/<name>"),
            "{err}"
        );
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "data",
            "/subscriptions/s/resourceGroups/rg",
            "/subscriptions/s/resourceGroups//providers/Microsoft.Compute/disks/d",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/disks/d",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d/extra",
        ] {
            assert!(ResourceId::parse(bad, ResourceKind::Disk).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_equal_ignores_case_and_leading_slash() {
        assert!(ids_equal(DISK, &DISK[1..].to_uppercase()));
        assert!(!ids_equal(DISK, "/subscriptions/x"));
    }
}
