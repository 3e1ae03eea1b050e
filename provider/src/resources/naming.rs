//! Names: validation of user-facing identifiers (names, resource groups, datasets,
//! versions; regions are [`super::regions`]) and the default snapshot name. The order of versions is the catalog's
//! (`crate::catalog::order`).
//!
//! Pure logic. Azure's own rules (see the reference) disagree on whether snapshot names may
//! contain periods, so we generate and accept only the safe intersection:
//! `[A-Za-z0-9_-]`, 1-80 characters, starting with a letter or digit and ending with a
//! letter, digit or `_`.

use crate::azure::id::{ResourceId, ResourceKind};

/// The longest snapshot or disk name Azure accepts.
pub const MAX_NAME: usize = 80;
/// The longest dataset name and version string we accept (both are stored in tags).
pub const MAX_IDENT: usize = 64;

/// Checks a snapshot or disk name; `Err` explains the rule.
pub fn check_azure_name(name: &str) -> Result<(), String> {
    let rule = "must be 1-80 characters of letters, digits, '_' and '-', start with a letter or digit, and end with a letter, digit or '_'";
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(format!(
            "{name:?} {rule} (it has {} characters)",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!("{name:?} contains {c:?}; it {rule}"));
    }
    let first = name.chars().next().unwrap_or('-');
    let last = name.chars().last().unwrap_or('-');
    if !first.is_ascii_alphanumeric() || !(last.is_ascii_alphanumeric() || last == '_') {
        return Err(format!("{name:?} {rule}"));
    }
    Ok(())
}

/// Checks a resource group name (1-90 of letters, digits, `_ . - ( )`, not ending in `.`).
pub fn check_resource_group(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '(' | ')');
    if name.is_empty()
        || name.chars().count() > 90
        || !name.chars().all(ok_char)
        || name.ends_with('.')
    {
        return Err(format!(
            "{name:?} is not a valid resource group name: use 1-90 letters, digits, '_', '.', '-', '(' or ')', not ending in '.'"
        ));
    }
    Ok(())
}

/// Azure writes regions in two ways (`West US 2`, `westus2`); compare them as one.
pub fn normalize_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn check_ident(what: &str, value: &str, extra: &[char]) -> Result<(), String> {
    let allowed: String = extra
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let rule = format!("must be 1-{MAX_IDENT} characters of letters, digits, {allowed}, starting with a letter or digit");
    if value.is_empty() || value.chars().count() > MAX_IDENT {
        return Err(format!(
            "{what} {value:?} {rule} (it has {} characters)",
            value.chars().count()
        ));
    }
    if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!("{what} {value:?} {rule}"));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(c)))
    {
        return Err(format!("{what} {value:?} contains {c:?}; it {rule}"));
    }
    Ok(())
}

/// Checks a dataset name.
pub fn check_dataset(dataset: &str) -> Result<(), String> {
    check_ident("dataset", dataset, &['.', '_', '-'])
}

/// Checks an alias name (it becomes part of a tag name and of a lock name). `latest` is the
/// built-in alias, never a stored one.
pub fn check_alias(alias: &str) -> Result<(), String> {
    if alias.eq_ignore_ascii_case("latest") {
        return Err(format!("{alias:?} is the built-in alias of the newest version and cannot be set; choose another name, such as \"production\" or \"staging\""));
    }
    check_ident("alias", alias, &['.', '_', '-'])
}

/// Checks a version string. `latest` is reserved for lookups.
pub fn check_version(version: &str) -> Result<(), String> {
    if version.eq_ignore_ascii_case("latest") {
        return Err(format!("{version:?} is reserved (getVersion uses \"latest\" to mean the newest version); use a concrete version such as \"1\" or \"2024-06-01\""));
    }
    check_ident("version", version, &['.', '_', '-', '+'])
}

/// The default snapshot name of a version held by `owner` (the resource's claim, see
/// `catalog::tags::claim_for`): `<dataset>-v<version>-<owner suffix>`.
///
/// The suffix is six hex digits of a hash of the owner, so two stacks (or two resources of
/// one stack) that take the same dataset version write two different snapshots, never one
/// snapshot twice (Azure's snapshot PUT is an upsert); which of them holds the version is
/// settled after the create. The same resource gets the same name in every `up` (crash
/// recovery finds its own snapshot), and Check keeps a name once recorded.
///
/// For one owner the name is injective over datasets and versions ([`base_name`]).
pub fn default_snapshot_name(dataset: &str, version: &str, owner: &str) -> String {
    let suffix = format!("-{:06x}", fnv1a(owner) & 0xff_ffff);
    base_name(dataset, version, MAX_NAME - suffix.len()) + &suffix
}

/// `<dataset>-v<version>` as an Azure name (a restored disk's default name starts so):
/// distinct for distinct pairs.
pub fn version_name(dataset: &str, version: &str) -> String {
    base_name(dataset, version, MAX_NAME)
}

/// `<dataset>-v<version>` in at most `max` characters, distinct for distinct pairs.
///
/// Azure names are case-insensitive and allow only `[A-Za-z0-9_-]`, so when the plain form
/// would lose information (a `.` or `+`, upper-case letters, more than `max` characters) the
/// name is lower-cased, every other character becomes `-`, and a short hash of the exact
/// dataset and version is appended: `1.4.0` and `1-4-0` never share a snapshot.
///
/// The plain form is also hashed when it could be read back two ways, so that distinct
/// versions never share a name: when the dataset or the version contains `-v` (`x` with
/// `1-v2` and `x-v1` with `2` are both `x-v1-v2`), and when it ends like a hashed name
/// (`-` and six hex digits). Then a plain name has exactly one `-v` between its dataset and
/// its version, and never looks like a hashed one.
fn base_name(dataset: &str, version: &str, max: usize) -> String {
    let raw = format!("{dataset}-v{version}");
    let ambiguous = dataset.contains("-v") || version.contains("-v") || looks_hashed(&raw);
    let lossless = raw.len() <= max
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && check_azure_name(&raw).is_ok();
    if lossless && !ambiguous {
        return raw;
    }
    let suffix = format!(
        "-{:06x}",
        fnv1a(&format!("{dataset}\u{0}{version}")) & 0xff_ffff
    );
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(max - suffix.len())
        .collect();
    while name.ends_with('-') {
        name.pop();
    }
    name + &suffix
}

/// Ends with `-` and six lower-case hex digits, as a hashed default name does.
fn looks_hashed(name: &str) -> bool {
    name.len() > 7
        && name.as_bytes()[name.len() - 7] == b'-'
        && name[name.len() - 6..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

use crate::catalog::tags::fnv1a;

pub use crate::resource::Rule;

fn arm_id(s: &str, kind: ResourceKind, what: &str) -> Result<(), String> {
    ResourceId::parse(s, kind)
        .map(|_| ())
        .map_err(|e| format!("must be the ARM id of {what}: it {e}"))
}

/// The ARM id of a managed disk.
pub fn check_disk_id(s: &str) -> Result<(), String> {
    arm_id(s, ResourceKind::Disk, "a managed disk")
}

/// The ARM id of a snapshot.
pub fn check_snapshot_id(s: &str) -> Result<(), String> {
    arm_id(s, ResourceKind::Snapshot, "a snapshot")
}

/// A required string input counts as set when it is not empty (the adapter reports it
/// missing otherwise).
pub fn non_empty(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

/// The region to record after a read: the recorded spelling when it names Azure's region
/// (`West US 2` for `westus2`), else Azure's; `None` stays `None` (the source's region).
pub fn recorded_location(old: Option<&String>, azure: &str) -> Option<String> {
    match old {
        Some(l) if normalize_location(l) == normalize_location(azure) => Some(l.clone()),
        Some(_) => Some(azure.to_string()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(dataset: &str, version: &str) -> String {
        base_name(dataset, version, MAX_NAME)
    }

    #[test]
    fn default_names_are_valid_azure_names() {
        assert_eq!(base("imagenet", "1"), "imagenet-v1");
        assert_eq!(base("imagenet", "2024-06-01"), "imagenet-v2024-06-01");
        assert!(base("imagenet", "1.4.0").starts_with("imagenet-v1-4-0-"));
        assert!(base("data.set", "2024-06-01").starts_with("data-set-v2024-06-01-"));
        assert!(base("D", "1+build").starts_with("d-v1-build-"));
        let long = base(&"a".repeat(64), &"9".repeat(64));
        assert_eq!(long.len(), 80);
        assert!(check_azure_name(&long).is_ok());
        for (d, v) in [("x", "1."), ("a-b", "1_0"), ("A", "1.0.0-rc.1+z")] {
            let n = base(d, v);
            assert!(check_azure_name(&n).is_ok(), "{n}");
        }
    }

    #[test]
    fn distinct_versions_never_share_a_default_name() {
        let pairs = [
            ("d", "1.0", "d", "1-0"),
            ("data.set", "1", "data-set", "1"),
            ("d", "V1", "d", "v1"),
            ("d", "1+b", "d", "1-b"),
            // Plain names that could be read back two ways are hashed.
            ("x", "1-v2", "x-v1", "2"),
            ("a-v", "b", "a", "-vb"),
            ("d", "v1-v2", "d-vv1", "2"),
            ("d", "1-abc123", "d", "1.abc123"),
        ];
        for (d1, v1, d2, v2) in pairs {
            let (a, b) = (base(d1, v1), base(d2, v2));
            assert!(
                !a.eq_ignore_ascii_case(&b),
                "{d1}/{v1} and {d2}/{v2} both map to {a}"
            );
            assert!(check_azure_name(&a).is_ok() && check_azure_name(&b).is_ok());
        }
        assert!(base("x", "1-v2").starts_with("x-v1-v2-"));
        assert_eq!(base("x", "v2"), "x-vv2", "`-v` across the join is fine");
        let long_a = base(&"a".repeat(64), &format!("{}1", "9".repeat(63)));
        let long_b = base(&"a".repeat(64), &format!("{}2", "9".repeat(63)));
        assert_ne!(long_a, long_b, "versions that differ after the cut");
        assert_eq!(base("d", "1.0"), base("d", "1.0"), "stable");
    }

    /// Every pair over a small alphabet rich in `-` and `v`: no two share a default name.
    #[test]
    fn default_names_are_injective_over_small_pairs() {
        let mut words = vec![String::new()];
        for _ in 0..4 {
            let next: Vec<String> = words
                .iter()
                .flat_map(|w| ["x", "-", "v", "1"].map(|c| format!("{w}{c}")))
                .collect();
            words.extend(next);
        }
        words.sort();
        words.dedup();
        let valid: Vec<&String> = words
            .iter()
            .filter(|w| check_dataset(w).is_ok() && check_version(w).is_ok())
            .collect();
        let mut seen = std::collections::HashMap::new();
        for d in &valid {
            for v in &valid {
                let name = base(d, v);
                if let Some(other) = seen.insert(name.clone(), (d.as_str(), v.as_str())) {
                    panic!("{d}/{v} and {}/{} both map to {name}", other.0, other.1);
                }
            }
        }
        assert!(seen.len() > 10_000, "{}", seen.len());
    }

    #[test]
    fn default_names_carry_their_owner() {
        let (a, b) = ("urn:pulumi:a::p::t::data#s1", "urn:pulumi:b::p::t::data#s2");
        let na = default_snapshot_name("imagenet", "1", a);
        assert!(
            na.starts_with("imagenet-v1-") && na.len() == "imagenet-v1-".len() + 6,
            "{na}"
        );
        assert_eq!(
            na,
            default_snapshot_name("imagenet", "1", a),
            "stable across runs"
        );
        assert_ne!(
            na,
            default_snapshot_name("imagenet", "1", b),
            "another owner, another snapshot"
        );
        let long = default_snapshot_name(&"a".repeat(64), &"9".repeat(64), a);
        assert_eq!(long.len(), MAX_NAME);
        assert!(check_azure_name(&long).is_ok(), "{long}");
        // One owner: still injective (the small-pairs test covers the base).
        assert_ne!(
            default_snapshot_name("x", "1-v2", a),
            default_snapshot_name("x-v1", "2", a)
        );
    }

    #[test]
    fn azure_name_rules() {
        assert!(check_azure_name("snap_1-ok_").is_ok());
        for bad in ["", "-x", "x-", "has.dot", "has space", &"a".repeat(81)] {
            assert!(check_azure_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dataset_and_version_rules() {
        assert!(check_dataset("imagenet-train_2.0").is_ok());
        assert!(check_dataset("-x").is_err());
        assert!(check_dataset("a/b").unwrap_err().contains("'/'"));
        assert!(check_version("1.4.0+build.5").is_ok());
        assert!(check_version("latest").unwrap_err().contains("reserved"));
        assert!(check_version("").is_err());
    }

    #[test]
    fn resource_group_rules() {
        assert!(check_resource_group("my-rg_(1).x").is_ok());
        assert!(check_resource_group("rg.").is_err());
        assert!(check_resource_group("a/b").is_err());
    }
}
