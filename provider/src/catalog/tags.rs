//! Tags: a version's identity and lineage encoded as Azure tags and decoded back, in one
//! namespace, within Azure's tag rules.
//!
//! Tags are the source of truth for import and for listing versions, so everything needed
//! to rebuild a version's inputs is written here:
//!
//! | tag | holds |
//! | --- | --- |
//! | `datasnap.dataset` | the dataset |
//! | `datasnap.version` | the version |
//! | `datasnap.deletionPolicy` | `Retain` or `Delete` |
//! | `datasnap.retention` | `keepLast=N,maxAgeDays=D` (either part optional; see [`Retention`]) |
//! | `datasnap.keep` | any value but `false` (any case): retention never prunes the version |
//! | `datasnap.retained` | `true` once a stack released the version (`deletionPolicy: Retain`) |
//! | `datasnap.meta.<key>` | one lineage metadata entry |
//! | `datasnap.claim` | the stack resource that holds the version (its URN, see [`claim_for`]) |
//! | `datasnap.alias.<name>` | a `VersionAlias` points `<name>` here: its claim, `protected|` first when protected ([`AliasTag`]) |
//! | `datasnap.export.<id>` | a `VersionExport` holds an access grant on the version, until the RFC 3339 time it holds |
//!
//! The version's own resource writes the first eight (its keys, [`is_own_key`]); alias and
//! export keys are written and removed only by their resources, key by key, so neither ever
//! erases the other's. Every tag outside `datasnap.` is the user's own.

use std::collections::BTreeMap;

use super::retention::Retention;

pub const PREFIX: &str = "datasnap.";
pub const DATASET: &str = "datasnap.dataset";
pub const VERSION: &str = "datasnap.version";
pub const DELETION_POLICY: &str = "datasnap.deletionPolicy";
pub const RETENTION: &str = "datasnap.retention";
pub const KEEP: &str = "datasnap.keep";
/// Set when a stack released the version under `deletionPolicy: Retain`.
pub const RETAINED: &str = "datasnap.retained";
pub const META_PREFIX: &str = "datasnap.meta.";
/// Which stack resource holds the version: written at create and at every update.
pub const CLAIM: &str = "datasnap.claim";
/// `datasnap.alias.<name>`: an alias that points at the version.
pub const ALIAS_PREFIX: &str = "datasnap.alias.";
/// `datasnap.export.<id>`: an export that holds an access grant on the version.
pub const EXPORT_PREFIX: &str = "datasnap.export.";
const PROTECTED_MARK: &str = "protected|";

/// The value of an alias tag: who holds the alias (a claim, see [`claim_for`]) and whether
/// it is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasTag {
    pub claim: String,
    pub protected: bool,
}

impl AliasTag {
    /// The longest claim an alias tag holds (room is left for the protected mark).
    pub const MAX_CLAIM: usize = MAX_TAG_VALUE - PROTECTED_MARK.len();

    pub fn encode(&self) -> String {
        if self.protected {
            format!("{PROTECTED_MARK}{}", self.claim)
        } else {
            self.claim.clone()
        }
    }

    pub fn decode(value: &str) -> AliasTag {
        match value.strip_prefix(PROTECTED_MARK) {
            Some(claim) => AliasTag {
                claim: claim.to_string(),
                protected: true,
            },
            None => AliasTag {
                claim: value.to_string(),
                protected: false,
            },
        }
    }
}

/// The tag of alias `name`.
pub fn alias_key(name: &str) -> String {
    format!("{ALIAS_PREFIX}{name}")
}

/// The alias a tag name holds, if it is an alias tag (any case).
pub fn alias_of(key: &str) -> Option<&str> {
    let head = key.get(..ALIAS_PREFIX.len())?;
    head.eq_ignore_ascii_case(ALIAS_PREFIX)
        .then(|| &key[ALIAS_PREFIX.len()..])
        .filter(|a| !a.is_empty())
}

/// The tag of the export that `claim` holds (its claim's hash: a tag name has room for a
/// URN, but a short key keeps the snapshot's tags readable).
pub fn export_key(claim: &str) -> String {
    format!("{EXPORT_PREFIX}{:016x}", fnv1a(claim))
}

/// True for an export tag (any case).
pub fn is_export_key(key: &str) -> bool {
    key.get(..EXPORT_PREFIX.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(EXPORT_PREFIX))
}

/// Azure's limits.
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_NAME: usize = 512;
pub const MAX_TAG_VALUE: usize = 256;
const FORBIDDEN: [char; 7] = ['<', '>', '%', '&', '\\', '?', '/'];

/// Checks a tag name against Azure's rules.
pub fn check_tag_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a tag name must not be empty".into());
    }
    if name.chars().count() > MAX_TAG_NAME {
        return Err(format!(
            "tag name {name:?} is longer than {MAX_TAG_NAME} characters"
        ));
    }
    if let Some(c) = name.chars().find(|c| FORBIDDEN.contains(c)) {
        return Err(format!("tag name {name:?} contains {c:?}; Azure does not allow any of < > % & \\ ? / in tag names"));
    }
    let lower = name.to_ascii_lowercase();
    for p in ["microsoft", "azure", "windows"] {
        if lower.starts_with(p) {
            return Err(format!(
                "tag name {name:?} starts with {p:?}, which Azure reserves"
            ));
        }
    }
    Ok(())
}

/// Checks a tag value against Azure's rules.
pub fn check_tag_value(name: &str, value: &str) -> Result<(), String> {
    if value.chars().count() > MAX_TAG_VALUE {
        return Err(format!(
            "the value of {name:?} has {} characters; Azure allows at most {MAX_TAG_VALUE}",
            value.chars().count()
        ));
    }
    Ok(())
}

/// Checks one of the user's own tags: not in datasnap's namespace, and within Azure's rules.
pub fn check_user_tag(name: &str, value: &str) -> Result<(), String> {
    if name.to_ascii_lowercase().starts_with(PREFIX) {
        return Err(format!("tag name {name:?} starts with {PREFIX:?}, which is reserved for datasnap's own tags; rename the tag, or put lineage in `metadata` instead"));
    }
    check_tag_name(name).and_then(|_| check_tag_value(name, value))
}

/// Checks a metadata key (it becomes part of a tag name).
pub fn check_metadata_key(key: &str) -> Result<(), String> {
    if key.is_empty()
        || key.len() > 64
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "metadata key {key:?} must be 1-64 letters, digits, '_', '-' or '.' (it is stored as the Azure tag {:?})",
            format!("{META_PREFIX}{key}")
        ));
    }
    Ok(())
}

/// The claim a stack resource writes on the version it holds: its URN (which names the
/// stack, the project and the resource) and the stack's salt (which tells apart stacks of
/// the same name in different state backends), so that two stacks, or two resources, never
/// share one. The same resource in a later `up` (after a crash) has the same claim. A
/// claim longer than a tag value allows is shortened to its readable head and a hash.
pub fn claim_for(urn: &str, salt: &str) -> String {
    claim_within(urn, salt, MAX_TAG_VALUE)
}

/// [`claim_for`], at most `max` characters long (the claim in an alias tag leaves room for
/// its protected mark).
pub fn claim_within(urn: &str, salt: &str, max: usize) -> String {
    let urn = if salt.is_empty() {
        urn.to_string()
    } else {
        format!("{urn}#{salt}")
    };
    let urn = urn.as_str();
    if urn.chars().count() <= max {
        return urn.to_string();
    }
    let hash = fnv1a(urn);
    let head: String = urn.chars().take(max.saturating_sub(17)).collect();
    format!("{head}#{hash:016x}")
}

/// 64-bit FNV-1a: a small, stable hash for name suffixes, shortened claims and export keys
/// (not for security): the same on every run and platform, so it can be compared across
/// `up`s.
pub fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// True for a tag in datasnap's namespace (`datasnap.`, any case).
pub fn is_datasnap_key(name: &str) -> bool {
    name.get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
}

/// True for the keys a version's own resource writes (identity, lineage, policies, keep,
/// the release marker, the claim); other `datasnap.` keys belong to other resources.
pub fn is_own_key(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        DATASET,
        VERSION,
        DELETION_POLICY,
        RETENTION,
        KEEP,
        RETAINED,
        CLAIM,
    ]
    .iter()
    .any(|k| lower == k.to_ascii_lowercase())
        || lower.starts_with(META_PREFIX)
}

/// The keep rule on a `datasnap.keep` value: present and not `false` (any case).
pub fn keeps(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.trim().eq_ignore_ascii_case("false"))
}

/// Keys that Azure would take for one tag: tag names ignore case there. Each later key of a
/// map that equals an earlier one ignoring case, with why it is refused. `prefix` is what
/// datasnap puts before the key in Azure (`datasnap.meta.` for metadata).
pub fn case_clashes<'a>(
    keys: impl IntoIterator<Item = &'a String>,
    prefix: &str,
) -> Vec<(&'a String, String)> {
    let mut seen: BTreeMap<String, &String> = BTreeMap::new();
    let mut out = Vec::new();
    for k in keys {
        match seen.get(&k.to_lowercase()) {
            Some(first) => out.push((
                k,
                format!(
                    "{k:?} and {first:?} differ only in case, but Azure tag names ignore case, so both would be the one tag {:?}: keep one of them",
                    format!("{prefix}{first}")
                ),
            )),
            None => {
                seen.insert(k.to_lowercase(), k);
            }
        }
    }
    out
}

/// What a version's tags say about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionTags {
    pub dataset: String,
    pub version: String,
    pub deletion_policy: Option<String>,
    pub retention: Option<Retention>,
    /// The `datasnap.keep` value as written; see [`VersionTags::keeps`].
    pub keep: Option<String>,
    /// The holder's claim ([`claim_for`]); `None` on versions made before claims.
    pub claim: Option<String>,
    /// Released by its stack; only such versions are ever pruned.
    pub retained: bool,
    pub metadata: BTreeMap<String, String>,
    /// The user's own tags.
    pub user: BTreeMap<String, String>,
    /// The aliases that point here, by name as written (never written by [`Self::encode`]:
    /// each is its alias resource's own key).
    pub aliases: BTreeMap<String, AliasTag>,
    /// The exports that hold an access grant here: their tag's name and value (an expiry).
    pub exports: BTreeMap<String, String>,
}

impl VersionTags {
    /// All tags to write to Azure: the user's plus ours.
    pub fn encode(&self) -> BTreeMap<String, String> {
        let mut t = self.user.clone();
        t.insert(DATASET.into(), self.dataset.clone());
        t.insert(VERSION.into(), self.version.clone());
        if let Some(p) = &self.deletion_policy {
            t.insert(DELETION_POLICY.into(), p.clone());
        }
        if let Some(r) = self.retention {
            let s = r.encode();
            if !s.is_empty() {
                t.insert(RETENTION.into(), s);
            }
        }
        if let Some(k) = &self.keep {
            t.insert(KEEP.into(), k.clone());
        }
        if self.retained {
            t.insert(RETAINED.into(), "true".into());
        }
        if let Some(c) = &self.claim {
            t.insert(CLAIM.into(), c.clone());
        }
        for (k, v) in &self.metadata {
            t.insert(format!("{META_PREFIX}{k}"), v.clone());
        }
        t
    }

    /// Splits Azure tags into ours and the user's. `None` when the snapshot is not a
    /// datasnap version (no dataset or version tag). Tag names are case-insensitive in
    /// Azure, so our names are matched ignoring case.
    pub fn decode(tags: &BTreeMap<String, String>) -> Option<VersionTags> {
        let mut v = VersionTags::default();
        let (mut has_dataset, mut has_version) = (false, false);
        for (k, val) in tags {
            let lower = k.to_ascii_lowercase();
            if lower == DATASET.to_ascii_lowercase() {
                v.dataset = val.clone();
                has_dataset = true;
            } else if lower == VERSION.to_ascii_lowercase() {
                v.version = val.clone();
                has_version = true;
            } else if lower == DELETION_POLICY.to_ascii_lowercase() {
                v.deletion_policy = Some(val.clone());
            } else if lower == RETENTION.to_ascii_lowercase() {
                v.retention = Some(Retention::decode(val));
            } else if lower == KEEP.to_ascii_lowercase() {
                v.keep = Some(val.clone());
            } else if lower == CLAIM {
                v.claim = Some(val.clone());
            } else if lower == RETAINED.to_ascii_lowercase() {
                v.retained = val.eq_ignore_ascii_case("true");
            } else if lower.starts_with(META_PREFIX) {
                v.metadata
                    .insert(k[META_PREFIX.len()..].to_string(), val.clone());
            } else if let Some(alias) = alias_of(k) {
                v.aliases.insert(alias.to_string(), AliasTag::decode(val));
            } else if is_export_key(k) {
                v.exports.insert(k.clone(), val.clone());
            } else if !is_datasnap_key(k) {
                v.user.insert(k.clone(), val.clone());
            }
        }
        (has_dataset && has_version).then_some(v)
    }

    /// Whether retention must keep this version: `datasnap.keep` is set to anything but
    /// `false` (so `true`, `yes`, `1`, a reason or an empty value all keep it).
    pub fn keeps(&self) -> bool {
        keeps(self.keep.as_deref())
    }

    /// True when an export's grant on the version has not expired at `now` (an export tag
    /// whose time cannot be read counts as open: it is never cut short).
    pub fn export_open(&self, now: azure_core::time::OffsetDateTime) -> bool {
        self.exports
            .values()
            .any(|until| azure_core::time::parse_rfc3339(until).map_or(true, |t| t > now))
    }

    /// How many tags `encode` writes.
    pub fn count(&self) -> usize {
        self.encode().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VersionTags {
        VersionTags {
            dataset: "imagenet".into(),
            version: "1.4.0".into(),
            deletion_policy: Some("Retain".into()),
            retention: Some(Retention {
                keep_last: Some(3),
                max_age_days: None,
            }),
            keep: Some("true".into()),
            retained: false,
            claim: Some("urn:pulumi:dev::p::datasnap:index:VersionedSnapshot::v".into()),
            metadata: [("gitCommit".to_string(), "abc123".to_string())].into(),
            user: [("team".to_string(), "ml".to_string())].into(),
            ..VersionTags::default()
        }
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let v = sample();
        let tags = v.encode();
        assert_eq!(tags["datasnap.meta.gitCommit"], "abc123");
        assert_eq!(tags["datasnap.retention"], "keepLast=3");
        assert_eq!(VersionTags::decode(&tags), Some(v));
    }

    #[test]
    fn decode_ignores_case_of_our_names() {
        let tags: BTreeMap<String, String> = [("DATASNAP.DATASET", "d"), ("Datasnap.Version", "2")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let v = VersionTags::decode(&tags).unwrap();
        assert_eq!((v.dataset.as_str(), v.version.as_str()), ("d", "2"));
        assert!(v.user.is_empty());
    }

    #[test]
    fn alias_and_export_keys_are_neither_ours_nor_the_users() {
        let mut tags = sample().encode();
        tags.insert("datasnap.alias.production".into(), "protected|urn:a".into());
        tags.insert("Datasnap.Alias.staging".into(), "urn:b".into());
        tags.insert(
            "datasnap.export.1a2b3c".into(),
            "2026-12-01T10:00:00Z".into(),
        );
        tags.insert("datasnap.future".into(), "x".into());
        let v = VersionTags::decode(&tags).unwrap();
        assert_eq!(v.user, sample().user);
        assert_eq!(
            v.aliases["production"],
            AliasTag {
                claim: "urn:a".into(),
                protected: true
            }
        );
        assert!(!v.aliases["staging"].protected);
        assert_eq!(v.exports.len(), 1);
        // The version's own resource never writes them.
        assert!(!v
            .encode()
            .keys()
            .any(|k| k.contains("alias") || k.contains("export")));
        assert!(!is_own_key("datasnap.alias.production"));
        assert_eq!(alias_of("DATASNAP.ALIAS.x"), Some("x"));
        assert_eq!(alias_of("datasnap.alias."), None);
        for protected in [true, false] {
            let t = AliasTag {
                claim: claim_within(&"u".repeat(400), "salt", AliasTag::MAX_CLAIM),
                protected,
            };
            assert!(t.encode().chars().count() <= MAX_TAG_VALUE);
            assert_eq!(AliasTag::decode(&t.encode()), t);
        }
    }

    #[test]
    fn untagged_snapshots_are_not_versions() {
        let tags: BTreeMap<String, String> =
            [("datasnap.dataset".to_string(), "d".to_string())].into();
        assert_eq!(VersionTags::decode(&tags), None);
    }

    #[test]
    fn azure_tag_rules() {
        assert!(check_tag_name("env").is_ok());
        assert!(check_tag_name("a/b").unwrap_err().contains("'/'"));
        assert!(check_tag_name("AzureThing")
            .unwrap_err()
            .contains("reserves"));
        assert!(check_tag_name(&"k".repeat(513)).is_err());
        assert!(check_tag_value("k", &"v".repeat(257)).is_err());
        assert!(check_metadata_key("git.commit_sha-1").is_ok());
        assert!(check_metadata_key("no spaces").is_err());
        assert!(
            check_user_tag("datasnap.version", "x").is_err()
                && check_user_tag("Datasnap.Meta.x", "y").is_err()
                && check_user_tag("team", "ml").is_ok()
        );
    }

    #[test]
    fn any_keep_value_but_false_keeps() {
        for (value, keeps) in [
            (Some("true"), true),
            (Some("yes"), true),
            (Some(""), true),
            (Some("until the audit"), true),
            (Some("false"), false),
            (Some(" FALSE "), false),
            (None, false),
        ] {
            assert_eq!(super::keeps(value), keeps, "{value:?}");
        }
    }
}
