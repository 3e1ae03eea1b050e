//! The package schema (`schema.json` at the repository root), embedded in the binary and
//! parsed once at start: the one home of every fact about a property.
//!
//! `GetSchema` returns it, the Python SDK is generated from it, and the adapter reads it for
//! each property's type (and enum values), whether a change replaces the resource
//! (`willReplaceOnChanges`), its default (`default`), whether it is secret (`secret`),
//! which inputs are required, its description, and, for config keys, the environment
//! variables that stand in for it (`defaultInfo.environment`). No Rust code repeats these.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

use crate::resource::Failure;
use crate::value::path_join;

/// The schema document, byte for byte as in the repository.
pub const SCHEMA_JSON: &str = include_str!("../../schema.json");

/// The type of one property.
#[derive(Debug, Clone, PartialEq)]
pub enum PropType {
    String,
    Boolean,
    Integer,
    Number,
    Array(Box<PropType>),
    Map(Box<PropType>),
    /// A named object type from `types`.
    Object(String),
    /// A string enum: its token and allowed values.
    Enum(String, Vec<String>),
}

impl PropType {
    /// A short name for messages.
    pub fn describe(&self) -> String {
        match self {
            PropType::String => "a string".into(),
            PropType::Boolean => "a boolean".into(),
            PropType::Integer => "an integer".into(),
            PropType::Number => "a number".into(),
            PropType::Array(_) => "a list".into(),
            PropType::Map(_) => "a map of strings".into(),
            PropType::Object(name) => format!("an object ({name})"),
            PropType::Enum(_, values) => format!("one of {}", values.join(", ")),
        }
    }
}

/// One property of a resource, function, object type or the provider config.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub ty: PropType,
    /// `willReplaceOnChanges`: a change replaces the resource.
    pub replace: bool,
    /// `default`: the value used when the program leaves the property out.
    pub default: Option<Json>,
    /// `secret`: the value is kept secret in state and never printed.
    pub secret: bool,
    /// `defaultInfo.environment`: environment variables that stand in for an unset value.
    pub env: Vec<String>,
    pub description: String,
}

impl Property {
    /// The first sentence of the description, for messages.
    pub fn summary(&self) -> &str {
        let d = self.description.trim();
        match d.find(". ") {
            Some(i) => &d[..=i],
            None => d,
        }
    }
}

/// The properties of a resource's inputs, a function's arguments, an object type or the
/// provider config; for resources also the output properties that are secret.
#[derive(Debug, Clone, Default)]
pub struct ObjectType {
    pub token: String,
    pub properties: BTreeMap<String, Property>,
    pub required: Vec<String>,
    /// Output properties marked `secret` (resources only).
    pub secret_outputs: BTreeSet<String>,
}

/// The parsed schema, by token.
#[derive(Debug, Default)]
pub struct Schema {
    pub resources: BTreeMap<String, ObjectType>,
    pub functions: BTreeMap<String, ObjectType>,
    pub types: BTreeMap<String, ObjectType>,
    pub config: ObjectType,
}

/// The schema, parsed on first use.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    // The embedded document is checked by the unit tests below and by CI's get-schema
    // comparison, so a parse failure here is a build defect, reported as a panic at start.
    SCHEMA.get_or_init(|| Schema::parse(SCHEMA_JSON).expect("embedded schema.json is valid"))
}

/// The input shape of a resource, for the adapter.
pub fn resource(token: &str) -> &'static ObjectType {
    schema()
        .resources
        .get(token)
        .unwrap_or_else(|| panic!("provider bug: {token} is registered but not in schema.json"))
}

/// The input shape of a function.
pub fn function(token: &str) -> &'static ObjectType {
    schema()
        .functions
        .get(token)
        .unwrap_or_else(|| panic!("provider bug: {token} is registered but not in schema.json"))
}

/// A provider config key (every key the provider reads is in the schema: see the tests).
pub fn config_key(name: &str) -> Option<&'static Property> {
    schema().config.properties.get(name)
}

impl Schema {
    pub fn parse(text: &str) -> Result<Schema, String> {
        let doc: Json = serde_json::from_str(text).map_err(|e| format!("schema.json: {e}"))?;
        let enums: BTreeMap<String, Vec<String>> = doc["types"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(tok, t)| {
                let values = t.get("enum")?.as_array()?;
                Some((
                    tok.clone(),
                    values
                        .iter()
                        .filter_map(|v| v["value"].as_str().map(str::to_string))
                        .collect(),
                ))
            })
            .collect();
        let object =
            |tok: &str, def: &Json, props_key: &str, req_key: &str| -> Result<ObjectType, String> {
                let mut properties = BTreeMap::new();
                for (name, p) in def[props_key].as_object().into_iter().flatten() {
                    let ty = prop_type(p, &enums).map_err(|e| format!("{tok}.{name}: {e}"))?;
                    properties.insert(
                        name.clone(),
                        Property {
                            ty,
                            replace: p["willReplaceOnChanges"] == true,
                            default: p.get("default").cloned(),
                            secret: p["secret"] == true,
                            env: p["defaultInfo"]["environment"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect(),
                            description: p["description"].as_str().unwrap_or("").to_string(),
                        },
                    );
                }
                Ok(ObjectType {
                    token: tok.to_string(),
                    properties,
                    required: strings(&def[req_key]),
                    secret_outputs: BTreeSet::new(),
                })
            };
        let mut s = Schema::default();
        for (tok, def) in doc["resources"].as_object().into_iter().flatten() {
            let mut r = object(tok, def, "inputProperties", "requiredInputs")?;
            r.secret_outputs = def["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, p)| p["secret"] == true)
                .map(|(k, _)| k.clone())
                .collect();
            s.resources.insert(tok.clone(), r);
        }
        for (tok, def) in doc["functions"].as_object().into_iter().flatten() {
            s.functions.insert(
                tok.clone(),
                object(tok, &def["inputs"], "properties", "required")?,
            );
        }
        for (tok, def) in doc["types"].as_object().into_iter().flatten() {
            if def["type"] == "object" {
                s.types
                    .insert(tok.clone(), object(tok, def, "properties", "required")?);
            }
        }
        s.config = object("config", &doc["config"], "variables", "required")?;
        Ok(s)
    }
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn prop_type(p: &Json, enums: &BTreeMap<String, Vec<String>>) -> Result<PropType, String> {
    // An enum input is `oneOf: [string, enum]` (as azure-native's are), so the generated SDKs
    // take a plain string too; the provider still holds the value to the enum's members.
    if let Some(alts) = p.get("oneOf").and_then(Json::as_array) {
        let enum_ref = alts
            .iter()
            .filter_map(|a| prop_type(a, enums).ok())
            .find(|t| matches!(t, PropType::Enum(..)));
        let plain = alts.iter().all(|a| {
            a.get("$ref").is_some() || a.get("type").and_then(Json::as_str) == Some("string")
        });
        return match enum_ref {
            Some(t) if plain && alts.len() == 2 => Ok(t),
            _ => Err("unsupported oneOf (only a string and a string enum)".into()),
        };
    }
    if let Some(r) = p.get("$ref").and_then(Json::as_str) {
        let tok = r
            .strip_prefix("#/types/")
            .ok_or_else(|| format!("unsupported $ref {r}"))?;
        return Ok(match enums.get(tok) {
            Some(values) => PropType::Enum(tok.to_string(), values.clone()),
            None => PropType::Object(tok.to_string()),
        });
    }
    Ok(match p.get("type").and_then(Json::as_str) {
        Some("string") => PropType::String,
        Some("boolean") => PropType::Boolean,
        Some("integer") => PropType::Integer,
        Some("number") => PropType::Number,
        Some("array") => PropType::Array(Box::new(prop_type(&p["items"], enums)?)),
        Some("object") => PropType::Map(Box::new(match p.get("additionalProperties") {
            Some(ap) => prop_type(ap, enums)?,
            None => PropType::String,
        })),
        other => return Err(format!("unsupported type {other:?}")),
    })
}

impl ObjectType {
    /// Checks the JSON types of `values` against this shape: one failure per property that
    /// has the wrong type or is not a property at all. Missing required properties are left
    /// to the resource's own check, which knows which ones are merely unknown.
    pub fn check_types(&self, values: &Map<String, Json>) -> Vec<Failure> {
        let mut failures = Vec::new();
        self.check_into("", values, &mut failures);
        failures
    }

    /// One failure per required property that is absent, unless `unknown(name)` says its
    /// value is only not known yet (preview). The reason quotes the schema's description.
    pub fn missing_required(
        &self,
        values: &Map<String, Json>,
        unknown: impl Fn(&str) -> bool,
    ) -> Vec<Failure> {
        self.required
            .iter()
            .filter(|r| {
                values
                    .get(*r)
                    .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
                    && !unknown(r)
            })
            .map(|r| {
                let about = self
                    .properties
                    .get(r)
                    .map(|p| format!(" ({})", p.summary().trim_end_matches('.')))
                    .unwrap_or_default();
                Failure::new(
                    r.as_str(),
                    format!("is required by {}{about}: set it", self.token),
                )
            })
            .collect()
    }

    /// Fills in the schema's `default` for every property that is absent and not unknown.
    pub fn apply_defaults(&self, values: &mut Map<String, Json>, unknown: impl Fn(&str) -> bool) {
        for (name, p) in &self.properties {
            if let Some(d) = &p.default {
                if values.get(name).is_none_or(Json::is_null) && !unknown(name) {
                    values.insert(name.clone(), d.clone());
                }
            }
        }
    }

    /// True when a change of `property` replaces the resource (`willReplaceOnChanges`).
    pub fn replaces(&self, property: &str) -> bool {
        self.properties.get(property).is_some_and(|p| p.replace)
    }

    fn check_into(&self, path: &str, values: &Map<String, Json>, failures: &mut Vec<Failure>) {
        for (k, v) in values {
            // Engine bookkeeping such as `__defaults`.
            if k.starts_with("__") {
                continue;
            }
            let p = path_join(path, k);
            match self.properties.get(k) {
                None => {
                    let known: Vec<&str> = self.properties.keys().map(String::as_str).collect();
                    failures.push(Failure::new(
                        p,
                        format!(
                            "is not a property of {}; the properties are: {}",
                            self.token,
                            known.join(", ")
                        ),
                    ));
                }
                Some(prop) => check_value(&prop.ty, &p, v, failures),
            }
        }
    }
}

fn check_value(t: &PropType, path: &str, v: &Json, failures: &mut Vec<Failure>) {
    if v.is_null() {
        return;
    }
    let ok = match (t, v) {
        (PropType::String, Json::String(_)) => true,
        (PropType::Boolean, Json::Bool(_)) => true,
        (PropType::Integer, Json::Number(n)) => n.is_i64() || n.is_u64(),
        (PropType::Number, Json::Number(_)) => true,
        (PropType::Enum(_, values), Json::String(s)) => {
            if !values.iter().any(|x| x == s) {
                failures.push(Failure::new(
                    path,
                    format!("{s:?} is not allowed; use one of: {}", values.join(", ")),
                ));
            }
            true
        }
        (PropType::Array(item), Json::Array(a)) => {
            for (i, e) in a.iter().enumerate() {
                check_value(item, &format!("{path}[{i}]"), e, failures);
            }
            true
        }
        (PropType::Map(item), Json::Object(m)) => {
            for (k, e) in m {
                check_value(item, &path_join(path, k), e, failures);
            }
            true
        }
        (PropType::Object(tok), Json::Object(m)) => {
            if let Some(obj) = schema().types.get(tok) {
                obj.check_into(path, m, failures);
            }
            true
        }
        _ => false,
    };
    if !ok {
        failures.push(Failure::new(
            path,
            format!("must be {}, got {}", t.describe(), json_kind(v)),
        ));
    }
}

fn json_kind(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => format!("the boolean {b}"),
        Json::Number(n) => format!("the number {n}"),
        Json::String(s) => format!("the string {s:?}"),
        Json::Array(_) => "a list".into(),
        Json::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VS: &str = "datasnap:index:VersionedSnapshot";

    /// One version: the crate's (the workspace Cargo.toml) is the schema's, so the binary's
    /// `GetPluginInfo`/`--version` and the SDK generated from schema.json agree.
    #[test]
    fn schema_version_is_the_crate_version() {
        let doc: Json = serde_json::from_str(SCHEMA_JSON).unwrap();
        assert_eq!(
            doc["version"].as_str(),
            Some(env!("CARGO_PKG_VERSION")),
            "schema.json's version differs from Cargo.toml's: run `make sdk`"
        );
        assert!(
            doc["pluginDownloadURL"]
                .as_str()
                .is_some_and(|u| !u.is_empty()),
            "schema.json has no pluginDownloadURL: run `make sdk`"
        );
    }

    #[test]
    fn embedded_schema_parses_with_every_resource_input() {
        let s = schema();
        let vs = &s.resources[VS];
        for p in [
            "resourceGroupName",
            "dataset",
            "version",
            "sourceDiskId",
            "tags",
            "retention",
        ] {
            assert!(vs.properties.contains_key(p), "{p}");
        }
        assert_eq!(vs.required, ["resourceGroupName", "dataset", "version"]);
        assert!(
            matches!(&vs.properties["deletionPolicy"].ty, PropType::Enum(_, v) if v == &["Retain", "Delete"])
        );
    }

    /// The SDK's docstrings come from these descriptions (issue 5): none may be missing.
    #[test]
    fn everything_users_see_has_a_description() {
        let doc: Json = serde_json::from_str(SCHEMA_JSON).unwrap();
        let mut missing = Vec::new();
        let described = |v: &Json| {
            v["description"]
                .as_str()
                .is_some_and(|d| d.trim().len() > 10)
        };
        let props = |owner: &str, v: &Json, missing: &mut Vec<String>| {
            for (k, p) in v.as_object().into_iter().flatten() {
                if !described(p) {
                    missing.push(format!("{owner}.{k}"));
                }
            }
        };
        for (tok, r) in doc["resources"].as_object().unwrap() {
            if !described(r) {
                missing.push(tok.clone());
            }
            props(tok, &r["inputProperties"], &mut missing);
            props(tok, &r["properties"], &mut missing);
        }
        for (tok, f) in doc["functions"].as_object().unwrap() {
            if !described(f) {
                missing.push(tok.clone());
            }
            props(tok, &f["inputs"]["properties"], &mut missing);
            props(tok, &f["outputs"]["properties"], &mut missing);
        }
        for (tok, t) in doc["types"].as_object().unwrap() {
            if !described(t) {
                missing.push(tok.clone());
            }
            props(tok, &t["properties"], &mut missing);
        }
        props("config", &doc["config"]["variables"], &mut missing);
        assert!(missing.is_empty(), "no description: {missing:?}");
    }

    #[test]
    fn wrong_types_and_unknown_properties_name_the_path() {
        let vs = resource(VS);
        let values = json!({"dataset": 3, "tags": {"env": 1}, "retention": {"keepLast": "two"}, "sku": "Ultra", "dataSet": "x"});
        let f = vs.check_types(values.as_object().unwrap());
        let paths: Vec<&str> = f.iter().map(|f| f.property.as_str()).collect();
        assert!(paths.contains(&"dataset"), "{f:?}");
        assert!(paths.contains(&"tags.env"), "{f:?}");
        assert!(paths.contains(&"retention.keepLast"), "{f:?}");
        assert!(paths.contains(&"sku"), "{f:?}");
        assert!(paths.contains(&"dataSet"), "{f:?}");
        let sku = f.iter().find(|f| f.property == "sku").unwrap();
        assert!(sku.reason.contains("Standard_LRS"), "{}", sku.reason);
    }
}
