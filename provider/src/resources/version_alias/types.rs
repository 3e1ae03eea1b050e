//! VersionAlias's inputs and recorded state, and its id:
//! `/subscriptions/<id>/resourceGroups/<group>/datasets/<dataset>/aliases/<alias>` (not an ARM
//! id: an alias moves between snapshots, its id stays).

use serde::{Deserialize, Serialize};

use crate::resource::ResourceError;

pub const TOKEN: &str = "datasnap:index:VersionAlias";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inputs {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_group_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dataset: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<bool>,
}

impl Inputs {
    pub fn is_protected(&self) -> bool {
        self.protected == Some(true)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    #[serde(flatten)]
    pub inputs: Inputs,
    /// The ARM id of the snapshot the alias points at.
    #[serde(default)]
    pub snapshot_id: String,
    /// The claim on the alias's tag at the last read or write (an import takes over the
    /// one it finds). Provider bookkeeping, not a schema output.
    #[serde(
        rename = "__aliasClaim",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub found_claim: Option<String>,
}

/// The alias's id.
pub fn alias_id(subscription: &str, inputs: &Inputs) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{}/datasets/{}/aliases/{}",
        inputs.resource_group_name, inputs.dataset, inputs.alias
    )
}

/// `(resource group, dataset, alias)` of an alias id.
pub fn parse_id(id: &str) -> Result<(String, String, String), ResourceError> {
    let parts: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    let eq = |i: usize, s: &str| parts.get(i).is_some_and(|p| p.eq_ignore_ascii_case(s));
    if parts.len() == 8
        && eq(0, "subscriptions")
        && eq(2, "resourceGroups")
        && eq(4, "datasets")
        && eq(6, "aliases")
        && parts.iter().all(|p| !p.is_empty())
    {
        return Ok((parts[3].into(), parts[5].into(), parts[7].into()));
    }
    Err(ResourceError::Invalid {
        property: "id".into(),
        reason: format!("a VersionAlias is imported by an id of the form /subscriptions/<subscription id>/resourceGroups/<group>/datasets/<dataset>/aliases/<alias>, got {id:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let i = Inputs {
            resource_group_name: "rg".into(),
            dataset: "d".into(),
            alias: "production".into(),
            ..Inputs::default()
        };
        let id = alias_id("s", &i);
        assert_eq!(
            id,
            "/subscriptions/s/resourceGroups/rg/datasets/d/aliases/production"
        );
        assert_eq!(
            parse_id(&id).unwrap(),
            ("rg".into(), "d".into(), "production".into())
        );
        assert!(parse_id("/subscriptions/s/resourceGroups/rg/datasets/d").is_err());
        assert!(parse_id("rg/d/production").is_err());
    }
}
