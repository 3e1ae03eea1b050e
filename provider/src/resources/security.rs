//! The security settings a version's snapshot and a restored disk share, with azure-native's
//! names and shapes: `publicNetworkAccess`, `networkAccessPolicy` with `diskAccessId`,
//! `dataAccessAuthMode` and `encryption` (`type`, `diskEncryptionSetId`).
//!
//! Plain rules over typed values: Check holds them to the combinations Azure enforces (a
//! customer key needs a disk encryption set, `diskAccessId` goes with `AllowPrivate` and
//! only with it, ids have the right shape); DiskRP's `SnapshotUpdate` and `DiskUpdate` carry
//! every one of them, so each updates in place. A setting left unset is Azure's choice and is
//! not managed: removing one from the program leaves Azure's value as it is (as an unset SKU
//! does), except the disk access, which goes when the policy leaves `AllowPrivate` (Azure
//! refuses a disk access with any other policy). So an import, which records what differs
//! from Azure's defaults ([`DEFAULTS`]), never makes a program that leaves them out change
//! Azure.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::models::{self, Extra};
use crate::resource::{Failure, Unknowns};

pub const ALLOW_PRIVATE: &str = "AllowPrivate";
pub const PLATFORM_KEY: &str = "EncryptionAtRestWithPlatformKey";

/// The input properties this module owns, as the schema names them.
pub const PROPERTIES: [&str; 5] = [
    "publicNetworkAccess",
    "networkAccessPolicy",
    "diskAccessId",
    "dataAccessAuthMode",
    "encryption",
];

/// Azure's value for each setting when none is given (an import leaves these out).
pub const DEFAULTS: [(&str, &str); 4] = [
    ("publicNetworkAccess", "Enabled"),
    ("networkAccessPolicy", "AllowAll"),
    ("dataAccessAuthMode", "None"),
    ("encryption.type", PLATFORM_KEY),
];

/// `encryption`: the key that encrypts the data at rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_encryption_set_id: Option<String>,
}

/// The settings, as inputs (flattened into each resource's inputs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Security {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_access_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_access_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_auth_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

/// The settings as Azure reports or takes them, one model field each: the same five fields
/// of a snapshot's or a disk's properties and of their PATCH bodies.
pub struct Fields<'a> {
    pub public_network_access: &'a mut Option<String>,
    pub network_access_policy: &'a mut Option<String>,
    pub disk_access_id: &'a mut Option<String>,
    pub data_access_auth_mode: &'a mut Option<String>,
    pub encryption: &'a mut Option<models::Encryption>,
    /// Where a property that must be cleared is sent as `null`.
    pub extra: &'a mut Extra,
}

macro_rules! fields_of {
    ($($t:ty),*) => {$(
        impl<'a> From<&'a mut $t> for Fields<'a> {
            fn from(p: &'a mut $t) -> Fields<'a> {
                Fields {
                    public_network_access: &mut p.public_network_access,
                    network_access_policy: &mut p.network_access_policy,
                    disk_access_id: &mut p.disk_access_id,
                    data_access_auth_mode: &mut p.data_access_auth_mode,
                    encryption: &mut p.encryption,
                    extra: &mut p.extra,
                }
            }
        }
        impl Secured for $t {
            fn security(&self) -> Security {
                Security {
                    public_network_access: self.public_network_access.clone(),
                    network_access_policy: self.network_access_policy.clone(),
                    disk_access_id: self.disk_access_id.clone(),
                    data_access_auth_mode: self.data_access_auth_mode.clone(),
                    encryption: self.encryption.as_ref().map(|e| Encryption {
                        type_: e.type_.clone(),
                        disk_encryption_set_id: e.disk_encryption_set_id.clone(),
                    }),
                }
            }
        }
    )*};
}

/// A model that holds the settings: what Azure reports.
pub trait Secured {
    fn security(&self) -> Security;
}
fields_of!(
    models::SnapshotProperties,
    models::DiskProperties,
    models::SnapshotUpdateProperties,
    models::DiskUpdateProperties
);

fn is_customer_key(t: &str) -> bool {
    !t.eq_ignore_ascii_case(PLATFORM_KEY)
}

fn same_id(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a
            .trim_start_matches('/')
            .eq_ignore_ascii_case(b.trim_start_matches('/')),
        (a, b) => a == b,
    }
}

impl Encryption {
    fn same(&self, other: &Encryption) -> bool {
        self.type_ == other.type_
            && same_id(&self.disk_encryption_set_id, &other.disk_encryption_set_id)
    }
}

impl Security {
    /// True when no setting is given.
    pub fn is_empty(&self) -> bool {
        *self == Security::default()
    }

    /// The combinations Azure enforces, each failure at the property to fix. A value not
    /// known yet (preview) is not judged.
    pub fn check(&self, unknowns: &Unknowns) -> Vec<Failure> {
        let mut f = Vec::new();
        let policy = self.network_access_policy.as_deref();
        let policy_known = !unknowns.contains("networkAccessPolicy");
        match (&self.disk_access_id, policy) {
            (Some(id), _) => {
                if let Err(e) = ResourceId::parse(id, ResourceKind::DiskAccess) {
                    f.push(Failure::new("diskAccessId", format!("must be the ARM id of a disk access: {e}")));
                }
                if policy_known && policy != Some(ALLOW_PRIVATE) {
                    f.push(Failure::new(
                        "diskAccessId",
                        format!(
                            "is used only with networkAccessPolicy AllowPrivate (it is {}): set networkAccessPolicy to AllowPrivate, or remove diskAccessId",
                            policy.map(|p| format!("{p:?}")).unwrap_or_else(|| "unset".into())
                        ),
                    ));
                }
            }
            (None, Some(ALLOW_PRIVATE)) if !unknowns.contains("diskAccessId") => f.push(Failure::new(
                "diskAccessId",
                "is required when networkAccessPolicy is AllowPrivate: set it to the ARM id of the disk access that the private endpoint uses (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/diskAccesses/<name>), or choose DenyAll to allow no export at all",
            )),
            _ => {}
        }
        if let Some(e) = &self.encryption {
            let kind = e.type_.as_deref();
            let des_known = !unknowns.contains("encryption");
            match (&e.disk_encryption_set_id, kind) {
                (Some(id), _) => {
                    if let Err(err) = ResourceId::parse(id, ResourceKind::DiskEncryptionSet) {
                        f.push(Failure::new(
                            "encryption.diskEncryptionSetId",
                            format!("must be the ARM id of a disk encryption set: {err}"),
                        ));
                    }
                    match kind {
                        Some(k) if !is_customer_key(k) => f.push(Failure::new(
                            "encryption.diskEncryptionSetId",
                            format!("is used only with a customer-managed key: set encryption.type to EncryptionAtRestWithCustomerKey or EncryptionAtRestWithPlatformAndCustomerKeys, or remove diskEncryptionSetId to keep {PLATFORM_KEY}"),
                        )),
                        None if des_known => f.push(Failure::new(
                            "encryption.type",
                            "is required with encryption.diskEncryptionSetId: set it to EncryptionAtRestWithCustomerKey (or EncryptionAtRestWithPlatformAndCustomerKeys for double encryption)",
                        )),
                        _ => {}
                    }
                }
                (None, Some(k)) if is_customer_key(k) && des_known => f.push(Failure::new(
                    "encryption.diskEncryptionSetId",
                    format!("is required with encryption.type {k}: set it to the ARM id of the disk encryption set that holds the key (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/diskEncryptionSets/<name>)"),
                )),
                _ => {}
            }
        }
        f
    }

    /// Whether `property` is unchanged between `old` and `new`: ids compare ignoring case,
    /// and a setting left unset is Azure's choice (no change), except a disk access that
    /// must go because the new policy is not `AllowPrivate`.
    pub fn same(property: &str, old: &Security, new: &Security) -> Option<bool> {
        let unset_or = |o: &Option<String>, n: &Option<String>| n.is_none() || o == n;
        Some(match property {
            "publicNetworkAccess" => {
                unset_or(&old.public_network_access, &new.public_network_access)
            }
            "networkAccessPolicy" => {
                unset_or(&old.network_access_policy, &new.network_access_policy)
            }
            "dataAccessAuthMode" => {
                unset_or(&old.data_access_auth_mode, &new.data_access_auth_mode)
            }
            "diskAccessId" => match &new.disk_access_id {
                None => !new.drops_disk_access(old),
                Some(_) => same_id(&old.disk_access_id, &new.disk_access_id),
            },
            "encryption" => match (&old.encryption, &new.encryption) {
                (_, None) => true,
                (Some(a), Some(b)) => a.same(b),
                (None, Some(_)) => false,
            },
            _ => return None,
        })
    }

    /// True when `self` (the new settings) must remove `old`'s disk access: the policy is
    /// set to something other than `AllowPrivate`.
    fn drops_disk_access(&self, old: &Security) -> bool {
        old.disk_access_id.is_some()
            && self.disk_access_id.is_none()
            && self
                .network_access_policy
                .as_deref()
                .is_some_and(|p| p != ALLOW_PRIVATE)
    }

    /// The settings to record after a read. On refresh (`old` given) a setting the program
    /// leaves unset stays unset (Azure's choice) and a set one takes Azure's value, so an
    /// out-of-band change shows in Diff. On import, only what differs from Azure's defaults
    /// is recorded.
    pub fn refreshed(old: Option<&Security>, found: Security) -> Security {
        let keep = |o: Option<&Option<String>>, v: Option<String>| match o {
            Some(None) => None,
            _ => v,
        };
        match old {
            Some(o) => Security {
                public_network_access: keep(
                    Some(&o.public_network_access),
                    found.public_network_access,
                ),
                network_access_policy: keep(
                    Some(&o.network_access_policy),
                    found.network_access_policy,
                ),
                disk_access_id: keep(Some(&o.disk_access_id), found.disk_access_id),
                data_access_auth_mode: keep(
                    Some(&o.data_access_auth_mode),
                    found.data_access_auth_mode,
                ),
                encryption: o.encryption.as_ref().and(found.encryption),
            },
            None => {
                let not_default = |name: &str, v: Option<String>| {
                    v.filter(|v| {
                        !DEFAULTS
                            .iter()
                            .any(|(n, d)| *n == name && v.eq_ignore_ascii_case(d))
                    })
                };
                Security {
                    public_network_access: not_default(
                        "publicNetworkAccess",
                        found.public_network_access,
                    ),
                    network_access_policy: not_default(
                        "networkAccessPolicy",
                        found.network_access_policy,
                    ),
                    disk_access_id: found.disk_access_id,
                    data_access_auth_mode: not_default(
                        "dataAccessAuthMode",
                        found.data_access_auth_mode,
                    ),
                    encryption: found.encryption.filter(|e| {
                        e.disk_encryption_set_id.is_some()
                            || e.type_.as_deref().is_some_and(is_customer_key)
                    }),
                }
            }
        }
    }

    /// Writes the settings that are set into a create body.
    pub fn write(&self, f: Fields<'_>) {
        set(f.public_network_access, &self.public_network_access);
        set(f.network_access_policy, &self.network_access_policy);
        set(f.disk_access_id, &self.disk_access_id);
        set(f.data_access_auth_mode, &self.data_access_auth_mode);
        if let Some(e) = &self.encryption {
            *f.encryption = Some(to_model(e));
        }
    }

    /// Fills in, from `source` (what the restored snapshot holds), every setting this one
    /// leaves unset: a restored disk inherits its version's security unless overridden.
    pub fn inherit(&self, source: &Security) -> Security {
        let pick = |mine: &Option<String>, theirs: &Option<String>| {
            mine.clone().or_else(|| theirs.clone())
        };
        let policy = pick(&self.network_access_policy, &source.network_access_policy);
        Security {
            public_network_access: pick(&self.public_network_access, &source.public_network_access),
            // A disk access goes with the policy it came with.
            disk_access_id: match &self.network_access_policy {
                Some(_) => self.disk_access_id.clone(),
                None => pick(&self.disk_access_id, &source.disk_access_id),
            },
            network_access_policy: policy,
            data_access_auth_mode: pick(&self.data_access_auth_mode, &source.data_access_auth_mode),
            encryption: self
                .encryption
                .clone()
                .or_else(|| source.encryption.clone()),
        }
    }

    /// The PATCH of the settings that change from `old` to `new` (only those set: an unset
    /// one is Azure's choice); `false` when none does. A disk access that must go (the
    /// policy leaves `AllowPrivate`) is sent as `null`, so Azure drops it.
    pub fn patch(old: &Security, new: &Security, f: Fields<'_>) -> bool {
        let mut changed = false;
        let mut string = |o: &Option<String>, n: &Option<String>, field: &mut Option<String>| {
            if n.is_some() && o != n {
                changed = true;
                *field = n.clone();
            }
        };
        string(
            &old.public_network_access,
            &new.public_network_access,
            f.public_network_access,
        );
        string(
            &old.network_access_policy,
            &new.network_access_policy,
            f.network_access_policy,
        );
        string(
            &old.data_access_auth_mode,
            &new.data_access_auth_mode,
            f.data_access_auth_mode,
        );
        match &new.disk_access_id {
            Some(id) if !same_id(&old.disk_access_id, &new.disk_access_id) => {
                changed = true;
                *f.disk_access_id = Some(id.clone());
            }
            None if new.drops_disk_access(old) => {
                changed = true;
                f.extra.insert("diskAccessId".into(), Json::Null);
            }
            _ => {}
        }
        if let Some(e) = &new.encryption {
            if Security::same("encryption", old, new) == Some(false) {
                changed = true;
                *f.encryption = Some(to_model(e));
            }
        }
        changed
    }
}

fn set(field: &mut Option<String>, value: &Option<String>) {
    if value.is_some() {
        *field = value.clone();
    }
}

fn to_model(e: &Encryption) -> models::Encryption {
    models::Encryption {
        type_: e.type_.clone(),
        disk_encryption_set_id: e.disk_encryption_set_id.clone(),
        ..models::Encryption::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DA: &str =
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskAccesses/private";
    const DES: &str =
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets/cmk";

    fn enc(t: Option<&str>, des: Option<&str>) -> Option<Encryption> {
        Some(Encryption {
            type_: t.map(str::to_string),
            disk_encryption_set_id: des.map(str::to_string),
        })
    }

    fn failures(s: Security) -> Vec<(String, String)> {
        s.check(&Unknowns::default())
            .into_iter()
            .map(|f| (f.property, f.reason))
            .collect()
    }

    #[test]
    fn combinations_azure_enforces_fail_at_the_property_to_fix() {
        let s = |nap: Option<&str>, da: Option<&str>, e: Option<Encryption>| Security {
            network_access_policy: nap.map(str::to_string),
            disk_access_id: da.map(str::to_string),
            encryption: e,
            ..Security::default()
        };
        // (settings, the property each failure names, a phrase of its reason)
        let table: Vec<(Security, Vec<(&str, &str)>)> = vec![
            (s(None, None, None), vec![]),
            (s(Some("DenyAll"), None, None), vec![]),
            (s(Some("AllowPrivate"), Some(DA), None), vec![]),
            (
                s(Some("AllowPrivate"), None, None),
                vec![(
                    "diskAccessId",
                    "is required when networkAccessPolicy is AllowPrivate",
                )],
            ),
            (
                s(Some("AllowAll"), Some(DA), None),
                vec![("diskAccessId", "only with networkAccessPolicy AllowPrivate")],
            ),
            (
                s(None, Some(DA), None),
                vec![("diskAccessId", "(it is unset)")],
            ),
            (
                s(
                    Some("AllowPrivate"),
                    Some("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/d"),
                    None,
                ),
                vec![("diskAccessId", "ARM id of a disk access")],
            ),
            (s(None, None, enc(Some(PLATFORM_KEY), None)), vec![]),
            (
                s(
                    None,
                    None,
                    enc(Some("EncryptionAtRestWithCustomerKey"), Some(DES)),
                ),
                vec![],
            ),
            (
                s(
                    None,
                    None,
                    enc(
                        Some("EncryptionAtRestWithPlatformAndCustomerKeys"),
                        Some(DES),
                    ),
                ),
                vec![],
            ),
            (
                s(
                    None,
                    None,
                    enc(Some("EncryptionAtRestWithCustomerKey"), None),
                ),
                vec![(
                    "encryption.diskEncryptionSetId",
                    "is required with encryption.type EncryptionAtRestWithCustomerKey",
                )],
            ),
            (
                s(None, None, enc(Some(PLATFORM_KEY), Some(DES))),
                vec![(
                    "encryption.diskEncryptionSetId",
                    "only with a customer-managed key",
                )],
            ),
            (
                s(None, None, enc(None, Some(DES))),
                vec![(
                    "encryption.type",
                    "is required with encryption.diskEncryptionSetId",
                )],
            ),
            (
                s(
                    None,
                    None,
                    enc(Some("EncryptionAtRestWithCustomerKey"), Some("cmk")),
                ),
                vec![(
                    "encryption.diskEncryptionSetId",
                    "ARM id of a disk encryption set",
                )],
            ),
        ];
        for (settings, expected) in table {
            let got = failures(settings.clone());
            assert_eq!(got.len(), expected.len(), "{settings:?}: {got:?}");
            for ((p, r), (ep, er)) in got.iter().zip(&expected) {
                assert_eq!(p, ep, "{settings:?}");
                assert!(r.contains(er), "{settings:?}: {r}");
            }
        }
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let mut u = std::collections::BTreeSet::new();
        u.insert("diskAccessId".to_string());
        u.insert("encryption".to_string());
        let unknowns = Unknowns::from_props(&crate::value::Props {
            unknowns: u,
            ..Default::default()
        });
        let s = Security {
            network_access_policy: Some(ALLOW_PRIVATE.into()),
            encryption: enc(Some("EncryptionAtRestWithCustomerKey"), None),
            ..Security::default()
        };
        assert!(s.check(&unknowns).is_empty());
    }

    #[test]
    fn refresh_keeps_unset_unset_and_import_records_what_is_not_default() {
        let found = Security {
            public_network_access: Some("Enabled".into()),
            network_access_policy: Some("DenyAll".into()),
            data_access_auth_mode: Some("None".into()),
            encryption: enc(Some(PLATFORM_KEY), None),
            ..Security::default()
        };
        let imported = Security::refreshed(None, found.clone());
        assert_eq!(
            imported,
            Security {
                network_access_policy: Some("DenyAll".into()),
                ..Security::default()
            }
        );
        let old = Security {
            network_access_policy: Some("AllowAll".into()),
            ..Security::default()
        };
        let refreshed = Security::refreshed(Some(&old), found);
        assert_eq!(refreshed.network_access_policy.as_deref(), Some("DenyAll"));
        assert_eq!(refreshed.public_network_access, None);
        assert_eq!(refreshed.encryption, None);
    }

    #[test]
    fn a_patch_sends_what_changes_and_leaves_what_is_unset() {
        let old = Security {
            network_access_policy: Some(ALLOW_PRIVATE.into()),
            disk_access_id: Some(DA.into()),
            encryption: enc(Some("EncryptionAtRestWithCustomerKey"), Some(DES)),
            ..Security::default()
        };
        let mut p = models::SnapshotUpdateProperties::default();
        assert!(!Security::patch(&old, &old.clone(), (&mut p).into()));
        assert_eq!(p, models::SnapshotUpdateProperties::default());
        // Ids compare ignoring case.
        let mut upper = old.clone();
        upper.disk_access_id = Some(DA.to_uppercase());
        assert!(!Security::patch(&old, &upper, (&mut p).into()));

        // Encryption left out: Azure's stays. The policy leaves AllowPrivate: the disk
        // access goes with it.
        let new = Security {
            network_access_policy: Some("DenyAll".into()),
            ..Security::default()
        };
        assert!(Security::patch(&old, &new, (&mut p).into()));
        let body = serde_json::to_value(&p).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"networkAccessPolicy": "DenyAll", "diskAccessId": null})
        );
        for property in PROPERTIES {
            let unset = Security::default();
            let expected = property != "diskAccessId" || !unset.drops_disk_access(&old);
            assert_eq!(
                Security::same(property, &old, &unset),
                Some(expected),
                "{property}"
            );
        }
        assert_eq!(Security::same("diskAccessId", &old, &new), Some(false));
        // Nothing set: nothing sent.
        let mut q = models::SnapshotUpdateProperties::default();
        assert!(!Security::patch(
            &old,
            &Security::default(),
            (&mut q).into()
        ));
    }

    #[test]
    fn a_restored_disk_inherits_what_it_does_not_override() {
        let source = Security {
            network_access_policy: Some(ALLOW_PRIVATE.into()),
            disk_access_id: Some(DA.into()),
            encryption: enc(Some("EncryptionAtRestWithCustomerKey"), Some(DES)),
            ..Security::default()
        };
        let inherited = Security::default().inherit(&source);
        assert_eq!(inherited, source);
        let own = Security {
            network_access_policy: Some("DenyAll".into()),
            ..Security::default()
        };
        let mixed = own.inherit(&source);
        assert_eq!(mixed.network_access_policy.as_deref(), Some("DenyAll"));
        assert_eq!(
            mixed.disk_access_id, None,
            "a disk access goes with its policy"
        );
        assert_eq!(mixed.encryption, source.encryption);
    }
}
