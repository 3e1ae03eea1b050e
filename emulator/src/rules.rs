//! Azure's static rules, as pure functions: resource and resource-group name rules,
//! tag limits, SKU sets, and location normalisation. Each returns an [`ArmError`]
//! with the code Azure answers, so handlers only call and propagate.

use crate::error::{ArmError, ArmResult};
use serde_json::{Map, Value};

/// Disk and snapshot names: 1-80 characters, alphanumerics, `_`, `.`, `-`; start with an
/// alphanumeric; end with an alphanumeric or `_` (Azure's naming-rules page).
pub fn check_resource_name(kind_noun: &str, name: &str) -> ArmResult<()> {
    let bytes = name.as_bytes();
    let ok_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-';
    let valid = !bytes.is_empty()
        && bytes.len() <= 80
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|&c| ok_char(c))
        && bytes
            .last()
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_');
    if valid {
        Ok(())
    } else {
        Err(ArmError::bad_request(
            "InvalidResourceName",
            format!(
                "The {kind_noun} name '{name}' is invalid. The name can be up to 80 characters long. \
                 It must begin with a letter or number, end with a letter, number or underscore, \
                 and may contain only letters, numbers, underscores, periods, or hyphens."
            ),
        )
        .with_target(format!("{kind_noun}Name")))
    }
}

/// Resource group names: 1-90 characters of `^[-\w\._\(\)]+$`, not ending in `.`.
pub fn check_resource_group_name(name: &str) -> ArmResult<()> {
    let valid = !name.is_empty()
        && name.chars().count() <= 90
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
        && !name.ends_with('.');
    if valid {
        Ok(())
    } else {
        Err(ArmError::bad_request(
            "InvalidResourceGroupName",
            format!(
                "Resource group name '{name}' is invalid. It must be 1-90 characters of letters, digits, \
                 underscores, hyphens, periods or parentheses, and must not end with a period."
            ),
        ))
    }
}

const TAG_FORBIDDEN: &[char] = &['<', '>', '%', '&', '\\', '?', '/'];

/// Azure's tag rules: at most 50 pairs, names up to 512 characters without `<>%&\?/` and
/// not starting with `microsoft`, `azure` or `windows`, string values up to 256 characters.
pub fn check_tags(tags: Option<&Value>) -> ArmResult<()> {
    let Some(tags) = tags else { return Ok(()) };
    if tags.is_null() {
        return Ok(());
    }
    let Some(map) = tags.as_object() else {
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'tags' must be an object of string values.",
        ));
    };
    if map.len() > 50 {
        return Err(ArmError::bad_request(
            "InvalidTagsCount",
            format!(
                "The number of tags ({}) exceeds the maximum of 50 tags per resource.",
                map.len()
            ),
        )
        .with_target("tags"));
    }
    for (name, value) in map {
        if name.is_empty() || name.chars().count() > 512 {
            return Err(ArmError::bad_request(
                "InvalidTagNameLength",
                format!("The tag name '{name}' must be between 1 and 512 characters long."),
            )
            .with_target("tags"));
        }
        if let Some(c) = name.chars().find(|c| TAG_FORBIDDEN.contains(c)) {
            return Err(ArmError::bad_request(
                "InvalidTagNameCharacters",
                format!(
                    "The tag name '{name}' has invalid characters '{c}'. The following characters are not supported: <,>,%,&,\\,?,/"
                ),
            )
            .with_target("tags"));
        }
        let lower = name.to_ascii_lowercase();
        if ["microsoft", "azure", "windows"]
            .iter()
            .any(|p| lower.starts_with(p))
        {
            return Err(ArmError::bad_request(
                "InvalidTagName",
                format!(
                    "The tag name '{name}' uses a reserved prefix ('microsoft', 'azure' or 'windows')."
                ),
            )
            .with_target("tags"));
        }
        let Some(text) = value.as_str() else {
            return Err(ArmError::bad_request(
                "InvalidRequestContent",
                format!("The request content was invalid and could not be deserialized: the value of tag '{name}' must be a string."),
            ));
        };
        if text.chars().count() > 256 {
            return Err(ArmError::bad_request(
                "InvalidTagValueLength",
                format!(
                    "The tag value '{text}' for tag '{name}' exceeds the maximum length of 256 characters."
                ),
            )
            .with_target("tags"));
        }
    }
    Ok(())
}

/// Tag names are case-insensitive: a PUT with `Env` and `env` is one tag twice.
pub fn check_duplicate_tag_names(tags: Option<&Map<String, Value>>) -> ArmResult<()> {
    if let Some(map) = tags {
        let mut seen = std::collections::HashSet::new();
        for name in map.keys() {
            if !seen.insert(name.to_ascii_lowercase()) {
                return Err(ArmError::bad_request(
                    "InvalidTagName",
                    format!("The tag name '{name}' appears more than once; tag names are case-insensitive."),
                )
                .with_target("tags"));
            }
        }
    }
    Ok(())
}

/// A request's `tags` member: Azure's tag rules, names unique regardless of case.
pub fn check_request_tags(request: &Value) -> ArmResult<()> {
    check_tags(request.get("tags"))?;
    check_duplicate_tag_names(request.get("tags").and_then(Value::as_object))
}

/// A create without `location`.
pub fn location_required() -> ArmError {
    ArmError::bad_request(
        "LocationRequired",
        "The location property is required for this definition.",
    )
}

pub const SNAPSHOT_SKUS: &[&str] = &["Standard_LRS", "Premium_LRS", "Standard_ZRS"];
pub const DISK_SKUS: &[&str] = &[
    "Standard_LRS",
    "Premium_LRS",
    "StandardSSD_LRS",
    "UltraSSD_LRS",
    "Premium_ZRS",
    "StandardSSD_ZRS",
    "PremiumV2_LRS",
];

/// The largest disk of a SKU, in GiB (Microsoft's "Azure managed disk types" page:
/// Ultra Disk and Premium SSD v2 65,536 GiB; Premium SSD, Standard SSD and Standard HDD,
/// LRS or ZRS, 32,767 GiB).
pub fn max_disk_size_gb(sku: &str) -> u64 {
    if sku.eq_ignore_ascii_case("UltraSSD_LRS") || sku.eq_ignore_ascii_case("PremiumV2_LRS") {
        65_536
    } else {
        32_767
    }
}

/// A disk is 1 GiB up to its SKU's maximum: 400 `InvalidParameter` (target `diskSizeGB`) otherwise.
pub fn check_disk_size(name: &str, sku: &str, size_gb: u64) -> ArmResult<()> {
    let max = max_disk_size_gb(sku);
    if (1..=max).contains(&size_gb) {
        return Ok(());
    }
    Err(ArmError::bad_request(
        "InvalidParameter",
        format!(
            "The specified disk size {size_gb} GB for disk '{name}' is not valid for sku '{sku}'. \
             The disk size must be between 1 GB and {max} GB."
        ),
    )
    .with_target("diskSizeGB"))
}

/// `sku.tier` as Azure fills it in from `sku.name`.
pub fn sku_tier(sku: &str) -> &'static str {
    if sku.starts_with("Premium") {
        "Premium"
    } else if sku.starts_with("Ultra") {
        "Ultra"
    } else {
        "Standard"
    }
}

/// Case-insensitive SKU lookup returning Azure's spelling.
pub fn canonical_sku(allowed: &[&'static str], name: &str) -> Option<&'static str> {
    allowed
        .iter()
        .copied()
        .find(|s| s.eq_ignore_ascii_case(name))
}

/// `West US` and `westus` are the same region.
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Whether two spellings name one region (`West US`, `westus`).
pub fn same_location(a: &str, b: &str) -> bool {
    normalize_location(a) == normalize_location(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_names() {
        for ok in ["a", "snap_", "data-v1", "x.y-z_1", &"a".repeat(80)] {
            assert!(check_resource_name("snapshot", ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "_a", "a-", "a.", "a b", "a/b", &"a".repeat(81)] {
            let err = check_resource_name("snapshot", bad).unwrap_err();
            assert_eq!(err.code, "InvalidResourceName", "{bad}");
        }
    }

    #[test]
    fn resource_group_names() {
        assert!(check_resource_group_name("datasets-rg").is_ok());
        assert!(check_resource_group_name("a(b)_c.d").is_ok());
        assert!(check_resource_group_name("rg.").is_err());
        assert!(check_resource_group_name("").is_err());
        assert!(check_resource_group_name(&"r".repeat(91)).is_err());
        assert!(check_resource_group_name("a/b").is_err());
    }

    #[test]
    fn tag_limits() {
        let many: serde_json::Map<String, Value> =
            (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert_eq!(
            check_tags(Some(&Value::Object(many))).unwrap_err().code,
            "InvalidTagsCount"
        );
        let fifty: serde_json::Map<String, Value> =
            (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(check_tags(Some(&Value::Object(fifty))).is_ok());
        assert_eq!(
            check_tags(Some(&json!({"a<b": "v"}))).unwrap_err().code,
            "InvalidTagNameCharacters"
        );
        assert_eq!(
            check_tags(Some(&json!({"microsoftFoo": "v"})))
                .unwrap_err()
                .code,
            "InvalidTagName"
        );
        assert_eq!(
            check_tags(Some(&json!({ "k".repeat(513): "v" })))
                .unwrap_err()
                .code,
            "InvalidTagNameLength"
        );
        assert_eq!(
            check_tags(Some(&json!({"k": "v".repeat(257)})))
                .unwrap_err()
                .code,
            "InvalidTagValueLength"
        );
        assert!(check_tags(Some(&json!({"k": "v".repeat(256)}))).is_ok());
    }

    #[test]
    fn skus_and_locations() {
        assert_eq!(sku_tier("Premium_LRS"), "Premium");
        assert_eq!(sku_tier("Standard_ZRS"), "Standard");
        assert_eq!(
            canonical_sku(SNAPSHOT_SKUS, "standard_lrs"),
            Some("Standard_LRS")
        );
        assert_eq!(canonical_sku(SNAPSHOT_SKUS, "StandardSSD_LRS"), None);
        assert_eq!(normalize_location("West US"), "westus");
        assert!(check_disk_size("d", "Standard_LRS", 32_767).is_ok());
        assert!(check_disk_size("d", "Premium_ZRS", 32_768).is_err());
        assert!(check_disk_size("d", "PremiumV2_LRS", 65_536).is_ok());
        assert!(check_disk_size("d", "UltraSSD_LRS", 65_537).is_err());
        assert_eq!(
            check_disk_size("d", "StandardSSD_LRS", 0).unwrap_err().code,
            "InvalidParameter"
        );
    }
}
