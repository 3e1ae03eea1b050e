//! protobuf `Struct` <-> property values, with secret and unknown marks kept aside.
//!
//! The engine sends property maps as `google.protobuf.Struct`, where an unknown value
//! (preview only) is a sentinel string and a secret or a resource reference is an object
//! tagged with a signature key. Decoding turns a `Struct` into [`Props`]: plain JSON values
//! that resources can deserialize into their typed inputs, plus the set of paths that were
//! secret and the set of paths that are unknown (removed from the values). Encoding puts the
//! marks back. Nothing below this module sees a secret wrapper or an unknown sentinel.

use std::collections::BTreeSet;

use serde_json::{Map, Number, Value as Json};

use crate::proto::{Kind, ListValue, Struct, Value};

/// The key that marks a special object (secret, resource reference, asset...).
pub const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
const SIG_SECRET: &str = "1b47061264138c4ac30d75fd1eb44270";
const SIG_RESOURCE_REF: &str = "5cf8f73096256a8f31e491e813e4eb8e";
const SIG_OUTPUT_VALUE: &str = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/// The sentinel we emit for an unknown value of any type.
pub const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/// Every unknown sentinel the engine may send (string/any, bool, number, array, asset,
/// archive, object).
const UNKNOWN_SENTINELS: [&str; 7] = [
    UNKNOWN,
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
];

/// A property map: plain values plus the paths that are secret or unknown.
///
/// Paths use Pulumi's property-path syntax (`tags.env`, `tags["a.b"]`, `items[0]`).
/// Unknown paths are absent from `values`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Props {
    pub values: Map<String, Json>,
    pub secrets: BTreeSet<String>,
    pub unknowns: BTreeSet<String>,
}

impl Props {
    pub fn new(values: Map<String, Json>) -> Self {
        Props {
            values,
            ..Props::default()
        }
    }

    /// True when no value, at any depth, is unknown.
    pub fn is_known(&self) -> bool {
        self.unknowns.is_empty()
    }

    /// True when the top-level property `key` is unknown or holds an unknown part.
    pub fn is_unknown(&self, key: &str) -> bool {
        let path = path_join("", key);
        self.unknowns.iter().any(|p| {
            p == &path || p.starts_with(&format!("{path}.")) || p.starts_with(&format!("{path}["))
        })
    }

    /// Marks as secret, in `self`, every path that was secret in `inputs`: outputs inherit
    /// secretness from same-named inputs (the engine leaves this to providers that accept
    /// secrets).
    pub fn inherit_secrets(&mut self, inputs: &Props) {
        self.secrets.extend(inputs.secrets.iter().cloned());
    }

    /// True when any value in `self` is secret.
    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }
}

/// The text of every string and number at or below a secret path: what a message must
/// never print (see [`redact`]).
pub fn secret_texts(props: &Props) -> Vec<String> {
    fn walk(v: &Json, path: &str, secret: bool, secrets: &BTreeSet<String>, out: &mut Vec<String>) {
        let secret = secret || secrets.contains(path);
        match v {
            Json::Object(m) => {
                for (k, e) in m {
                    // The keys of a secret map are as secret as its values.
                    if secret && !k.is_empty() {
                        out.push(k.clone());
                    }
                    walk(e, &path_join(path, k), secret, secrets, out);
                }
            }
            Json::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    walk(e, &path_index(path, i), secret, secrets, out);
                }
            }
            Json::String(s) if secret && !s.is_empty() => out.push(s.clone()),
            Json::Number(n) if secret => out.push(n.to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if props.secrets.is_empty() {
        return out;
    }
    for (k, v) in &props.values {
        walk(v, &path_join("", k), false, &props.secrets, &mut out);
    }
    // Messages quote values escaped (`{:?}`, JSON): those spellings are secret too.
    let escaped: Vec<String> = out
        .iter()
        .map(|s| {
            let q = format!("{s:?}");
            q[1..q.len() - 1].to_string()
        })
        .filter(|e| !out.contains(e))
        .collect();
    out.extend(escaped);
    // Longest first, so a secret that contains another is replaced whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// `message` with every secret text replaced by `[secret]`. A secret shorter than four
/// characters is replaced only where it stands quoted (`"x"`, `` `x` ``, `'x'`), so that
/// ordinary words and numbers in the message stay readable.
pub fn redact(message: &str, secrets: &[String]) -> String {
    let mut out = message.to_string();
    for s in secrets {
        if s.chars().count() >= 4 {
            out = out.replace(s.as_str(), "[secret]");
        } else {
            for (open, close) in [("\\\"", "\\\""), ("\"", "\""), ("`", "`"), ("'", "'")] {
                out = out.replace(
                    &format!("{open}{s}{close}"),
                    &format!("{open}[secret]{close}"),
                );
            }
        }
    }
    out
}

/// Appends a key to a property path, quoting it when it is not a plain identifier.
pub fn path_join(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    match (parent.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{}]", Json::String(key.to_string())),
    }
}

fn path_index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// Decodes a `Struct` from the engine. `None` (an absent field) decodes as empty.
pub fn decode(s: Option<&Struct>) -> Props {
    let mut props = Props::default();
    if let Some(s) = s {
        props.values = decode_fields(s, "", &mut props.secrets, &mut props.unknowns);
    }
    props
}

fn decode_fields(
    s: &Struct,
    path: &str,
    secrets: &mut BTreeSet<String>,
    unknowns: &mut BTreeSet<String>,
) -> Map<String, Json> {
    let mut out = Map::new();
    for (k, v) in &s.fields {
        let p = path_join(path, k);
        if let Some(j) = decode_value(v, &p, secrets, unknowns) {
            out.insert(k.clone(), j);
        }
    }
    out
}

/// Returns `None` when the value is unknown (and records its path).
fn decode_value(
    v: &Value,
    path: &str,
    secrets: &mut BTreeSet<String>,
    unknowns: &mut BTreeSet<String>,
) -> Option<Json> {
    let unknown = |unknowns: &mut BTreeSet<String>| {
        unknowns.insert(path.to_string());
        None
    };
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Some(Json::Null),
        Some(Kind::BoolValue(b)) => Some(Json::Bool(*b)),
        Some(Kind::NumberValue(n)) => Some(number(*n)),
        Some(Kind::StringValue(s)) if UNKNOWN_SENTINELS.contains(&s.as_str()) => unknown(unknowns),
        Some(Kind::StringValue(s)) => Some(Json::String(s.clone())),
        Some(Kind::ListValue(l)) => Some(Json::Array(
            l.values
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    decode_value(e, &path_index(path, i), secrets, unknowns).unwrap_or(Json::Null)
                })
                .collect(),
        )),
        Some(Kind::StructValue(s)) => {
            let sig = s.fields.get(SIG_KEY).and_then(|v| match &v.kind {
                Some(Kind::StringValue(sig)) => Some(sig.as_str()),
                _ => None,
            });
            match sig {
                Some(SIG_SECRET) => {
                    secrets.insert(path.to_string());
                    match s.fields.get("value") {
                        Some(inner) => decode_value(inner, path, secrets, unknowns),
                        None => Some(Json::Null),
                    }
                }
                // A resource reference stands for its id (our properties take ARM ids);
                // before the referenced resource exists the id is unknown.
                Some(SIG_RESOURCE_REF) => match s.fields.get("id") {
                    Some(id) => match decode_value(id, path, secrets, unknowns) {
                        Some(Json::String(id)) if !id.is_empty() => Some(Json::String(id)),
                        Some(_) => unknown(unknowns),
                        None => None,
                    },
                    None => match s.fields.get("urn") {
                        Some(urn) => decode_value(urn, path, secrets, unknowns),
                        None => unknown(unknowns),
                    },
                },
                Some(SIG_OUTPUT_VALUE) => {
                    if matches!(
                        s.fields.get("secret").and_then(|v| v.kind.as_ref()),
                        Some(Kind::BoolValue(true))
                    ) {
                        secrets.insert(path.to_string());
                    }
                    match s.fields.get("value") {
                        Some(inner) => decode_value(inner, path, secrets, unknowns),
                        None => unknown(unknowns),
                    }
                }
                _ => Some(Json::Object(decode_fields(s, path, secrets, unknowns))),
            }
        }
    }
}

/// Integral numbers become JSON integers so they deserialize into integer fields (and a
/// huge one meets its property's range rule, not a type error).
fn number(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.2e18 {
        Json::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map(Json::Number).unwrap_or(Json::Null)
    }
}

/// Encodes a property map for the engine, putting secret and unknown marks back.
pub fn encode(props: &Props) -> Struct {
    encode_fields(&props.values, "", props)
}

fn encode_fields(map: &Map<String, Json>, path: &str, props: &Props) -> Struct {
    let mut s = Struct::default();
    for (k, v) in map {
        let p = path_join(path, k);
        s.fields.insert(k.clone(), encode_value(v, &p, props));
    }
    // Unknowns are absent from the values: put their sentinels back under this object.
    for u in &props.unknowns {
        if let Some(key) = direct_child(path, u) {
            let v = string(UNKNOWN);
            let v = if props.secrets.contains(u) {
                secret(v)
            } else {
                v
            };
            s.fields.insert(key, v);
        }
    }
    s
}

fn encode_value(v: &Json, path: &str, props: &Props) -> Value {
    let inner = match v {
        Json::Null => Value {
            kind: Some(Kind::NullValue(0)),
        },
        Json::Bool(b) => Value {
            kind: Some(Kind::BoolValue(*b)),
        },
        Json::Number(n) => Value {
            kind: Some(Kind::NumberValue(n.as_f64().unwrap_or(0.0))),
        },
        Json::String(s) => string(s),
        Json::Array(a) => Value {
            kind: Some(Kind::ListValue(ListValue {
                values: a
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let p = path_index(path, i);
                        if props.unknowns.contains(&p) {
                            string(UNKNOWN)
                        } else {
                            encode_value(e, &p, props)
                        }
                    })
                    .collect(),
            })),
        },
        Json::Object(m) => Value {
            kind: Some(Kind::StructValue(encode_fields(m, path, props))),
        },
    };
    if props.secrets.contains(path) {
        secret(inner)
    } else {
        inner
    }
}

fn string(s: &str) -> Value {
    Value {
        kind: Some(Kind::StringValue(s.to_string())),
    }
}

fn secret(v: Value) -> Value {
    let mut s = Struct::default();
    s.fields.insert(SIG_KEY.to_string(), string(SIG_SECRET));
    s.fields.insert("value".to_string(), v);
    Value {
        kind: Some(Kind::StructValue(s)),
    }
}

/// If `path` is a direct object child of `parent`, returns the child's key.
fn direct_child(parent: &str, path: &str) -> Option<String> {
    let rest = if parent.is_empty() {
        path
    } else {
        path.strip_prefix(parent)?
    };
    if parent.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            return quoted_key(r);
        }
        return (!rest.contains(['.', '['])).then(|| rest.to_string());
    }
    if let Some(r) = rest.strip_prefix('.') {
        return (!r.contains(['.', '['])).then(|| r.to_string());
    }
    rest.strip_prefix('[').and_then(quoted_key)
}

/// Parses `"key"]` (the rest of a quoted path segment) when it ends the path.
fn quoted_key(r: &str) -> Option<String> {
    let body = r.strip_suffix(']')?;
    match serde_json::from_str::<Json>(body) {
        Ok(Json::String(k)) => Some(k),
        _ => None,
    }
}

/// Builds a `Struct` from plain JSON (no marks): for tests and simple answers.
pub fn to_struct(values: &Map<String, Json>) -> Struct {
    encode(&Props::new(values.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap()
    }

    fn sv(s: &str) -> Value {
        string(s)
    }

    #[test]
    fn plain_values_round_trip() {
        let m = obj(
            json!({"a": "x", "n": 3, "f": 1.5, "b": true, "z": null, "l": [1, "two"], "o": {"k": "v"}}),
        );
        let p = decode(Some(&to_struct(&m)));
        assert_eq!(p.values, m);
        assert!(p.secrets.is_empty() && p.unknowns.is_empty());
    }

    #[test]
    fn secrets_are_unwrapped_and_marked_then_rewrapped() {
        let mut s = Struct::default();
        s.fields
            .insert("clientSecret".into(), secret(sv("hunter2")));
        let mut tags = Struct::default();
        tags.fields.insert("a.b".into(), secret(sv("v")));
        s.fields.insert(
            "tags".into(),
            Value {
                kind: Some(Kind::StructValue(tags)),
            },
        );
        let p = decode(Some(&s));
        assert_eq!(p.values["clientSecret"], json!("hunter2"));
        assert!(p.secrets.contains("clientSecret"));
        assert!(p.secrets.contains("tags[\"a.b\"]"), "{:?}", p.secrets);
        assert_eq!(encode(&p), s);
    }

    #[test]
    fn unknowns_of_every_kind_are_removed_and_recorded() {
        let mut s = Struct::default();
        for (i, sentinel) in UNKNOWN_SENTINELS.iter().enumerate() {
            s.fields.insert(format!("u{i}"), sv(sentinel));
        }
        s.fields.insert("known".into(), sv("k"));
        let p = decode(Some(&s));
        assert_eq!(p.values.len(), 1);
        assert_eq!(p.unknowns.len(), 7);
        assert!(p.is_unknown("u3"));
        assert!(!p.is_unknown("known"));
        let back = encode(&p);
        assert_eq!(back.fields["u3"], sv(UNKNOWN));
    }

    #[test]
    fn nested_unknowns_are_put_back_in_place() {
        let mut tags = Struct::default();
        tags.fields.insert("env".into(), sv(UNKNOWN));
        tags.fields.insert("team".into(), sv("ml"));
        let mut s = Struct::default();
        s.fields.insert(
            "tags".into(),
            Value {
                kind: Some(Kind::StructValue(tags.clone())),
            },
        );
        let p = decode(Some(&s));
        assert_eq!(p.values["tags"], json!({"team": "ml"}));
        assert!(p.unknowns.contains("tags.env"));
        assert!(p.is_unknown("tags"));
        assert_eq!(encode(&p), s);
    }

    #[test]
    fn resource_references_become_their_id() {
        let mut r = Struct::default();
        r.fields.insert(SIG_KEY.into(), sv(SIG_RESOURCE_REF));
        r.fields
            .insert("urn".into(), sv("urn:pulumi:dev::p::azure:Disk::d"));
        r.fields.insert("id".into(), sv("/subscriptions/s/x"));
        let mut s = Struct::default();
        s.fields.insert(
            "sourceDiskId".into(),
            Value {
                kind: Some(Kind::StructValue(r.clone())),
            },
        );
        assert_eq!(
            decode(Some(&s)).values["sourceDiskId"],
            json!("/subscriptions/s/x")
        );
        r.fields.insert("id".into(), sv(""));
        s.fields.insert(
            "sourceDiskId".into(),
            Value {
                kind: Some(Kind::StructValue(r)),
            },
        );
        assert!(decode(Some(&s)).unknowns.contains("sourceDiskId"));
    }

    #[test]
    fn integral_numbers_decode_as_integers() {
        let mut s = Struct::default();
        s.fields.insert(
            "keepLast".into(),
            Value {
                kind: Some(Kind::NumberValue(3.0)),
            },
        );
        assert_eq!(decode(Some(&s)).values["keepLast"], json!(3));
    }

    #[test]
    fn paths_quote_keys_that_are_not_identifiers() {
        assert_eq!(path_join("", "tags"), "tags");
        assert_eq!(path_join("tags", "env"), "tags.env");
        assert_eq!(path_join("tags", "a.b"), "tags[\"a.b\"]");
        assert_eq!(path_join("tags", "with space"), "tags[\"with space\"]");
        assert_eq!(direct_child("tags", "tags[\"a.b\"]"), Some("a.b".into()));
        assert_eq!(direct_child("", "tags"), Some("tags".into()));
        assert_eq!(direct_child("", "tags.env"), None);
    }
}
