//! The one ARM id parser of the emulator. [`ArmPath`] splits any path under
//! `/subscriptions/` into its scope (subscription, optional resource group, optional
//! provider namespace) and what follows; [`ResourceId`] is the typed id of a
//! Microsoft.Compute disk or snapshot, and [`LockScope`] the scope a management lock can
//! sit on (a resource group, or a disk or snapshot). Segment names are matched case-insensitively,
//! as ARM does (`resourceGroups` and `resourcegroups` are one path), and a leading `/`
//! is optional (Microsoft's examples use both).

use crate::world::{Key, Kind};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A path under `/subscriptions/{sub}`, split at its scope:
/// `/subscriptions/{sub}[/resourceGroups/{group}][/providers/{namespace}]/{rest...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmPath<'a> {
    pub subscription: &'a str,
    pub group: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub rest: Vec<&'a str>,
}

impl<'a> ArmPath<'a> {
    /// `None` unless the path starts with `subscriptions/{sub}`.
    pub fn parse(path: &'a str) -> Option<ArmPath<'a>> {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (first, subscription) = (segs.first()?, segs.get(1)?);
        if !first.eq_ignore_ascii_case("subscriptions") {
            return None;
        }
        let mut rest = &segs[2..];
        let group = take_pair(&mut rest, "resourcegroups");
        let namespace = take_pair(&mut rest, "providers");
        Some(ArmPath {
            subscription,
            group,
            namespace,
            rest: rest.to_vec(),
        })
    }

    /// Whether the provider namespace is `namespace` (case-insensitive).
    pub fn in_namespace(&self, namespace: &str) -> bool {
        self.namespace
            .is_some_and(|n| n.eq_ignore_ascii_case(namespace))
    }

    /// Whether segment `i` of what follows the scope is `word` (case-insensitive).
    pub fn is(&self, i: usize, word: &str) -> bool {
        self.rest
            .get(i)
            .is_some_and(|s| s.eq_ignore_ascii_case(word))
    }
}

/// `{word}/{value}` at the front of `segs`: consumed and returned.
fn take_pair<'a>(segs: &mut &[&'a str], word: &str) -> Option<&'a str> {
    match segs {
        [w, value, tail @ ..] if w.eq_ignore_ascii_case(word) => {
            *segs = tail;
            Some(value)
        }
        _ => None,
    }
}

/// The id of a disk or snapshot:
/// `/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/{disks|snapshots}/{name}`.
/// Written with Azure's spelling; compared case-insensitively.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceId {
    pub subscription: String,
    pub group: String,
    pub kind: Kind,
    pub name: String,
}

impl ResourceId {
    pub fn new(subscription: &str, group: &str, kind: Kind, name: &str) -> ResourceId {
        ResourceId {
            subscription: subscription.into(),
            group: group.into(),
            kind,
            name: name.into(),
        }
    }

    /// A disk or snapshot id, or `None` for anything else.
    pub fn parse(id: &str) -> Option<ResourceId> {
        let path = ArmPath::parse(id)?;
        match (path.group, path.rest.as_slice()) {
            (Some(group), [kind, name]) if path.in_namespace("Microsoft.Compute") => Some(
                ResourceId::new(path.subscription, group, Kind::from_segment(kind)?, name),
            ),
            _ => None,
        }
    }

    /// The world's key for this resource (its subscription aside).
    pub fn key(&self) -> Key {
        Key::new(self.kind, &self.group, &self.name)
    }

    /// Whether two id strings name the same thing (case-insensitive, leading `/` optional).
    pub fn same(a: &str, b: &str) -> bool {
        a.trim_start_matches('/')
            .eq_ignore_ascii_case(b.trim_start_matches('/'))
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/resourceGroups/{}/providers/{}/{}",
            self.subscription,
            self.group,
            self.kind.type_name(),
            self.name
        )
    }
}

impl TryFrom<String> for ResourceId {
    type Error = String;
    fn try_from(id: String) -> Result<Self, Self::Error> {
        ResourceId::parse(&id).ok_or_else(|| format!("'{id}' is not a disk or snapshot id"))
    }
}

impl From<ResourceId> for String {
    fn from(id: ResourceId) -> String {
        id.to_string()
    }
}

/// What a management lock locks: a resource group or a disk or snapshot. Written as its
/// ARM id (`/subscriptions/{s}/resourceGroups/{g}` or the resource's id).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LockScope {
    Group { subscription: String, group: String },
    Resource(ResourceId),
}

impl LockScope {
    /// A resource group or a disk or snapshot id, or `None` for anything else.
    pub fn parse(id: &str) -> Option<LockScope> {
        if let Some(resource) = ResourceId::parse(id) {
            return Some(LockScope::Resource(resource));
        }
        let path = ArmPath::parse(id)?;
        match (path.group, &path.namespace, path.rest.is_empty()) {
            (Some(group), None, true) => Some(LockScope::Group {
                subscription: path.subscription.into(),
                group: group.into(),
            }),
            _ => None,
        }
    }

    /// The resource group the scope is in (or is), as written.
    pub fn group(&self) -> &str {
        match self {
            LockScope::Group { group, .. } => group,
            LockScope::Resource(id) => &id.group,
        }
    }

    /// The locked disk or snapshot, if the scope is one.
    pub fn resource(&self) -> Option<Key> {
        match self {
            LockScope::Group { .. } => None,
            LockScope::Resource(id) => Some(id.key()),
        }
    }

    /// Whether two scopes are one (names compare ignoring case).
    pub fn same(&self, other: &LockScope) -> bool {
        self.group().eq_ignore_ascii_case(other.group()) && self.resource() == other.resource()
    }
}

/// Scopes compare as ARM names do, ignoring case ([`LockScope::same`]).
impl PartialEq for LockScope {
    fn eq(&self, other: &LockScope) -> bool {
        self.same(other)
    }
}

impl Eq for LockScope {}

impl fmt::Display for LockScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockScope::Group {
                subscription,
                group,
            } => write!(f, "/subscriptions/{subscription}/resourceGroups/{group}"),
            LockScope::Resource(id) => id.fmt(f),
        }
    }
}

impl TryFrom<String> for LockScope {
    type Error = String;
    fn try_from(id: String) -> Result<Self, Self::Error> {
        LockScope::parse(&id).ok_or_else(|| format!("'{id}' is not a lockable scope"))
    }
}

impl From<LockScope> for String {
    fn from(scope: LockScope) -> String {
        scope.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_at_their_scope() {
        let p = ArmPath::parse(
            "/subscriptions/s/resourcegroups/RG/providers/microsoft.compute/disks/d/x",
        )
        .unwrap();
        assert_eq!(p.subscription, "s");
        assert_eq!(p.group, Some("RG"));
        assert!(p.in_namespace("Microsoft.Compute"));
        assert_eq!(p.rest, ["disks", "d", "x"]);
        let p = ArmPath::parse("subscriptions/s/resourceGroups").unwrap();
        assert_eq!((p.group, p.namespace), (None, None));
        assert!(p.is(0, "resourcegroups"));
        assert!(ArmPath::parse("/tenants/t").is_none());
        assert!(ArmPath::parse("/subscriptions").is_none());
    }

    #[test]
    fn resource_ids_round_trip_case_insensitively() {
        let id = ResourceId::parse(
            "subscriptions/s/RESOURCEGROUPS/rg/Providers/Microsoft.COMPUTE/Snapshots/Snap",
        )
        .unwrap();
        assert_eq!(id.kind, Kind::Snapshot);
        assert_eq!(id.key(), Key::new(Kind::Snapshot, "RG", "snap"));
        assert_eq!(
            id.to_string(),
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/Snap"
        );
        assert!(ResourceId::same(
            &id.to_string(),
            "/SUBSCRIPTIONS/s/resourcegroups/rg/providers/microsoft.compute/snapshots/snap"
        ));
        for bad in [
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/vnets/x",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d/restorePoints/r",
            "/subscriptions/s/providers/Microsoft.Compute/disks/d",
        ] {
            assert!(ResourceId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn lock_scopes_are_groups_or_resources() {
        let g = LockScope::parse("/subscriptions/s/resourcegroups/RG").unwrap();
        assert_eq!(g.to_string(), "/subscriptions/s/resourceGroups/RG");
        assert_eq!((g.group(), g.resource()), ("RG", None));
        let r = LockScope::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/Snap",
        )
        .unwrap();
        assert_eq!(r.resource(), Some(Key::new(Kind::Snapshot, "rg", "snap")));
        assert!(r.same(
            &LockScope::parse(
                "/subscriptions/s/resourceGroups/RG/providers/microsoft.compute/SNAPSHOTS/snap"
            )
            .unwrap()
        ));
        assert!(!r.same(&g));
        for bad in [
            "/subscriptions/s",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/vnets/x",
            "/subscriptions/s/resourceGroups/rg/x",
        ] {
            assert!(LockScope::parse(bad).is_none(), "{bad}");
        }
    }
}
