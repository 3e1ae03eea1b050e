//! The one generic adapter every resource goes through: property maps in, typed calls to a
//! [`Resource`], property maps out, with every rule that the schema states applied here and
//! nowhere else.
//!
//! Check runs, in order: the schema's types and enums (per-property failures), its required
//! inputs (skipping values not known yet), its defaults, decoding into the typed inputs
//! (a value the type cannot hold becomes a failure at its path, never a "provider bug"),
//! then the resource's own rules. No failure message ever prints a secret input's value.
//! Diff compares each schema input property (map entries one by one), asks the resource
//! where it knows better than equal JSON ([`Resource::same`]), marks replacements from
//! `willReplaceOnChanges`, then lets the resource add its rules ([`Resource::diff`]).
//! Outputs inherit secret marks from same-named inputs and from the schema's `secret`.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use crate::resource::{
    json_map, Change, ChangeKind, DiffResult, Env, Failure, Resource, ResourceError, Unknowns,
};
use crate::schema::{ObjectType, PropType};
use crate::value::{path_join, redact, secret_texts, Props};

/// The result of an adapter `check`.
pub struct Checked {
    pub inputs: Props,
    pub failures: Vec<Failure>,
}

/// What `read` answers, as property maps.
pub struct ReadProps {
    pub id: String,
    pub outputs: Props,
    pub inputs: Props,
}

/// The object-safe face of a resource, in terms of property maps; implemented once for
/// every [`Resource`] by [`Adapter`].
#[tonic::async_trait]
pub trait DynResource: Send + Sync {
    /// `owner` is the resource's claim (its URN and the stack's salt): the seed of the
    /// names Check derives.
    fn check(&self, owner: &str, olds: &Props, news: &Props) -> Checked;
    fn diff(&self, olds: &Props, news: &Props) -> Result<DiffResult, ResourceError>;
    fn preview(&self, news: &Props) -> Result<Props, ResourceError>;
    /// The schema's input properties (an Update preview keeps the recorded outputs that are
    /// not inputs).
    fn schema(&self) -> &'static ObjectType;
    /// The preview's checks of a planned create (reads only): warnings, an error for what
    /// `up` would certainly refuse, and outputs learned from Azure (a defaulted region).
    async fn plan_create(
        &self,
        env: &Env,
        news: &Props,
    ) -> Result<Map<String, Json>, ResourceError>;
    async fn create(&self, env: &Env, news: &Props) -> Result<(String, Props), ResourceError>;
    async fn read(
        &self,
        env: &Env,
        id: &str,
        inputs: &Props,
        state: &Props,
    ) -> Result<Option<ReadProps>, ResourceError>;
    async fn update(
        &self,
        env: &Env,
        id: &str,
        olds: &Props,
        news: &Props,
    ) -> Result<Props, ResourceError>;
    async fn delete(&self, env: &Env, id: &str, olds: &Props) -> Result<(), ResourceError>;
}

/// Binds a typed resource to its schema type.
pub struct Adapter<R: Resource> {
    pub resource: R,
    pub schema: &'static ObjectType,
}

impl<R: Resource> Adapter<R> {
    pub fn new(resource: R, schema: &'static ObjectType) -> Self {
        Adapter { resource, schema }
    }

    /// Outputs with their secret marks: same-named secret inputs, and the schema's secret
    /// outputs.
    fn outputs_props(&self, values: Map<String, Json>, inputs: &Props) -> Props {
        let mut p = Props::new(values);
        p.inherit_secrets(inputs);
        for k in &self.schema.secret_outputs {
            if p.values.contains_key(k) {
                p.secrets.insert(path_join("", k));
            }
        }
        p
    }

    /// The generic diff: one change per input property (per entry for maps) whose value
    /// differs or is not known yet, replacements from the schema.
    fn generic_diff(
        &self,
        old: &R::Outputs,
        new: &R::Inputs,
        olds: &Map<String, Json>,
        news: &Map<String, Json>,
        unknowns: &Unknowns,
    ) -> Vec<Change> {
        // State written before a default existed compares as if it had it.
        let mut olds = olds.clone();
        self.schema.apply_defaults(&mut olds, |_| false);
        let mut changes = Vec::new();
        for (name, prop) in &self.schema.properties {
            let o = olds.get(name).filter(|v| !v.is_null());
            let n = news.get(name).filter(|v| !v.is_null());
            if let PropType::Map(_) = prop.ty {
                map_diff(
                    name,
                    o.and_then(Json::as_object),
                    n.and_then(Json::as_object),
                    unknowns,
                    prop.replace,
                    &mut changes,
                );
                continue;
            }
            let unknown = unknowns.contains(name);
            let changed = unknown
                || match self.resource.same(name, old, new) {
                    Some(same) => !same,
                    None => o != n,
                };
            if changed {
                let kind = match (o.is_some(), n.is_some() || unknown) {
                    (false, true) => ChangeKind::Add,
                    (true, false) => ChangeKind::Delete,
                    _ => ChangeKind::Update,
                };
                changes.push(Change {
                    path: name.clone(),
                    kind,
                    replace: prop.replace,
                });
            }
        }
        changes
    }
}

/// One change per entry of a map, so `pulumi preview --diff` shows `tags.env`. An entry
/// whose new value is unknown (preview) counts as changed; so does the whole map when it
/// is unknown.
fn map_diff(
    key: &str,
    old: Option<&Map<String, Json>>,
    new: Option<&Map<String, Json>>,
    unknowns: &Unknowns,
    replace: bool,
    changes: &mut Vec<Change>,
) {
    let mut push = |path: String, kind: ChangeKind| {
        changes.push(Change {
            path,
            kind,
            replace,
        })
    };
    if new.is_none() && unknowns.contains(key) && unknowns.entries(key).is_empty() {
        push(key.to_string(), ChangeKind::Update);
        return;
    }
    let empty = Map::new();
    let old = old.unwrap_or(&empty);
    let new = new.unwrap_or(&empty);
    let unknown = unknowns.entries(key);
    for (k, v) in new {
        match old.get(k) {
            None => push(path_join(key, k), ChangeKind::Add),
            Some(o) if o != v => push(path_join(key, k), ChangeKind::Update),
            _ => {}
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        let path = path_join(key, k);
        let kind = if unknown.contains(&path) {
            ChangeKind::Update
        } else {
            ChangeKind::Delete
        };
        push(path, kind);
    }
    for path in unknown {
        if !old.keys().any(|k| path_join(key, k) == path) {
            push(path, ChangeKind::Add);
        }
    }
}

fn from_map<T: DeserializeOwned>(m: &Map<String, Json>, what: &str) -> Result<T, ResourceError> {
    serde_json::from_value(Json::Object(m.clone()))
        .map_err(|e| ResourceError::Bug(format!("decoding {what}: {e}")))
}

/// Decodes checked inputs; a value the typed inputs cannot hold (an integer out of range)
/// becomes a failure at its property path.
fn decode_inputs<T: DeserializeOwned>(m: &Map<String, Json>) -> Result<T, Failure> {
    let de = Json::Object(m.clone());
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        // Integer inputs are i64, so the resource's rules name each one's own range; only
        // a number beyond i64 ends here.
        let reason = if inner.contains("expected i64") {
            "must be a whole number, and this one is far too large".to_string()
        } else {
            format!("has a value datasnap cannot use ({inner})")
        };
        Failure::new(if path == "." { String::new() } else { path }, reason)
    })
}

/// Decodes recorded state: state written by an older provider version may lack fields or
/// carry ones we no longer know (the typed outputs default the first and ignore the second).
fn state_from_map<T: DeserializeOwned>(m: &Map<String, Json>) -> Result<T, ResourceError> {
    from_map(m, "the recorded state")
}

#[tonic::async_trait]
impl<R: Resource> DynResource for Adapter<R> {
    fn check(&self, owner: &str, olds: &Props, news: &Props) -> Checked {
        let unknowns = Unknowns::from_props(news);
        let secrets = secret_texts(news);
        let finish = |inputs: Props, failures: Vec<Failure>| Checked {
            inputs,
            failures: failures
                .into_iter()
                .map(|f| Failure::new(redact(&f.property, &secrets), redact(&f.reason, &secrets)))
                .collect(),
        };
        let mut values = news.values.clone();
        let mut failures = self.schema.check_types(&values);
        failures.extend(
            self.schema
                .missing_required(&values, |k| unknowns.contains(k)),
        );
        self.schema
            .apply_defaults(&mut values, |k| unknowns.contains(k));
        let with = |values: Map<String, Json>| Props {
            values,
            secrets: news.secrets.clone(),
            unknowns: news.unknowns.clone(),
        };
        if !failures.is_empty() {
            return finish(with(values), failures);
        }
        let typed: R::Inputs = match decode_inputs(&values) {
            Ok(v) => v,
            Err(f) => return finish(with(values), vec![f]),
        };
        // Old inputs that no longer decode (an older provider's) are treated as absent.
        let old: Option<R::Inputs> = if olds.values.is_empty() {
            None
        } else {
            let mut o = olds.values.clone();
            self.schema.apply_defaults(&mut o, |_| false);
            decode_inputs(&o).ok()
        };
        let (checked, fails) = self.resource.check(owner, old.as_ref(), typed, &unknowns);
        failures.extend(fails);
        for path in &news.secrets {
            let top = path.split(['.', '[']).next().unwrap_or(path);
            if R::PLAIN_IN_AZURE.contains(&top) {
                failures.push(Failure::new(
                    path,
                    "is a secret, but datasnap stores it in Azure (as a name, an id, a region or a tag), which keeps it in plain text; pass a value that is not secret",
                ));
            }
        }
        match json_map(&checked) {
            Ok(values) => finish(with(values), failures),
            Err(e) => {
                failures.push(Failure::new("", e.to_string()));
                finish(with(values), failures)
            }
        }
    }

    fn diff(&self, olds: &Props, news: &Props) -> Result<DiffResult, ResourceError> {
        let old: R::Outputs = state_from_map(&olds.values)?;
        let new: R::Inputs = from_map(&news.values, "the new inputs")?;
        let unknowns = Unknowns::from_props(news);
        let changes = self.generic_diff(&old, &new, &olds.values, &news.values, &unknowns);
        let mut d = self.resource.diff(&old, &new, &unknowns, changes)?;
        // The resource may add changes of its own (a marker tag); the schema still decides
        // which properties replace.
        for c in &mut d.changes {
            let top = c.path.split(['.', '[']).next().unwrap_or(&c.path);
            c.replace = c.replace || self.schema.replaces(top);
        }
        Ok(d)
    }

    fn preview(&self, news: &Props) -> Result<Props, ResourceError> {
        let new: R::Inputs = from_map(&news.values, "the inputs")?;
        let unknowns = Unknowns::from_props(news);
        let values = self.resource.preview(&new, &unknowns)?;
        let mut p = self.outputs_props(values, news);
        // Unknown inputs stay unknown in the outputs (omitted keys are unknown anyway;
        // nested ones need their sentinel back).
        for u in &news.unknowns {
            let top = u.split(['.', '[']).next().unwrap_or(u);
            if top == u || p.values.contains_key(top) {
                p.unknowns.insert(u.clone());
            }
        }
        Ok(p)
    }

    fn schema(&self) -> &'static ObjectType {
        self.schema
    }

    async fn plan_create(
        &self,
        env: &Env,
        news: &Props,
    ) -> Result<Map<String, Json>, ResourceError> {
        match from_map::<R::Inputs>(&news.values, "the inputs") {
            Ok(new) => {
                self.resource
                    .plan_create(env, &new, &Unknowns::from_props(news))
                    .await
            }
            Err(e) => {
                tracing::warn!("planning a create: {e}");
                Ok(Map::new())
            }
        }
    }

    async fn create(&self, env: &Env, news: &Props) -> Result<(String, Props), ResourceError> {
        if !news.is_known() {
            return Err(ResourceError::Bug(
                "create was called with unknown inputs outside preview".into(),
            ));
        }
        let inputs: R::Inputs = from_map(&news.values, "the inputs")?;
        match self.resource.create(env, inputs).await {
            Ok((id, outputs)) => Ok((id, self.outputs_props(json_map(&outputs)?, news))),
            Err(ResourceError::Partial {
                id,
                outputs,
                message,
            }) => Err(ResourceError::Partial {
                id,
                outputs: self.outputs_props(outputs.values, news),
                message,
            }),
            Err(e) => Err(e),
        }
    }

    async fn read(
        &self,
        env: &Env,
        id: &str,
        inputs: &Props,
        state: &Props,
    ) -> Result<Option<ReadProps>, ResourceError> {
        let old_inputs: Option<R::Inputs> = if inputs.values.is_empty() {
            None
        } else {
            Some(from_map(&inputs.values, "the recorded inputs")?)
        };
        let old_state: Option<R::Outputs> = if state.values.is_empty() {
            None
        } else {
            Some(state_from_map(&state.values)?)
        };
        let Some((new_inputs, outputs)) =
            self.resource.read(env, id, old_inputs, old_state).await?
        else {
            return Ok(None);
        };
        let mut in_props = Props::new(json_map(&new_inputs)?);
        in_props.secrets = inputs.secrets.clone();
        let out_props = self.outputs_props(json_map(&outputs)?, inputs);
        // An import id may carry a hint after `#` (ARM ids never contain one): the
        // resource's id is the ARM id before it.
        let id = id.split('#').next().unwrap_or(id);
        Ok(Some(ReadProps {
            id: id.to_string(),
            outputs: out_props,
            inputs: in_props,
        }))
    }

    async fn update(
        &self,
        env: &Env,
        id: &str,
        olds: &Props,
        news: &Props,
    ) -> Result<Props, ResourceError> {
        let old: R::Outputs = state_from_map(&olds.values)?;
        let new: R::Inputs = from_map(&news.values, "the new inputs")?;
        let outputs = self.resource.update(env, id, old, new).await?;
        Ok(self.outputs_props(json_map(&outputs)?, news))
    }

    async fn delete(&self, env: &Env, id: &str, olds: &Props) -> Result<(), ResourceError> {
        let old: R::Outputs = state_from_map(&olds.values)?;
        self.resource.delete(env, id, old).await
    }
}

#[cfg(test)]
mod tests {
    //! The schema-driven rules, on the real schema and resources.
    use super::*;
    use crate::resources::versioned_snapshot::{self as vs, VersionedSnapshot};
    use serde_json::json;

    const DISK: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/disks/data";
    const DISK2: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/disks/data2";

    fn adapter() -> Adapter<VersionedSnapshot> {
        Adapter::new(VersionedSnapshot, crate::schema::resource(vs::TOKEN))
    }

    fn props(v: Json) -> Props {
        Props::new(v.as_object().cloned().unwrap_or_default())
    }

    fn good() -> Json {
        json!({"resourceGroupName": "rg", "dataset": "imagenet", "version": "1", "sourceDiskId": DISK})
    }

    fn paths(f: &[Failure]) -> Vec<&str> {
        f.iter().map(|f| f.property.as_str()).collect()
    }

    #[test]
    fn defaults_come_from_the_schema_and_skip_unknowns() {
        let c = adapter().check("", &Props::default(), &props(good()));
        assert!(c.failures.is_empty(), "{:?}", c.failures);
        assert_eq!(c.inputs.values["incremental"], json!(true));
        assert_eq!(c.inputs.values["deletionPolicy"], json!("Retain"));
        let mut news = props(good());
        news.unknowns.insert("incremental".into());
        let c = adapter().check("", &Props::default(), &news);
        assert!(!c.inputs.values.contains_key("incremental"));
    }

    #[test]
    fn required_inputs_come_from_the_schema_and_quote_its_description() {
        let mut news = props(json!({"sourceDiskId": DISK, "dataset": ""}));
        news.unknowns.insert("version".into());
        let c = adapter().check("", &Props::default(), &news);
        assert_eq!(paths(&c.failures), ["resourceGroupName", "dataset"]);
        let rg = &c.failures[0].reason;
        assert!(
            rg.contains("is required by datasnap:index:VersionedSnapshot"),
            "{rg}"
        );
        let described =
            crate::schema::resource(vs::TOKEN).properties["resourceGroupName"].summary();
        assert!(rg.contains(described.trim_end_matches('.')), "{rg}");
    }

    #[test]
    fn an_integer_out_of_range_fails_at_its_path_naming_the_range() {
        for bad in [
            json!(-1),
            json!(0),
            json!(501),
            json!(4_294_967_296_u64),
            json!(u64::MAX),
        ] {
            let mut v = good();
            v["retention"] = json!({"keepLast": bad});
            let c = adapter().check("", &Props::default(), &props(v));
            assert_eq!(
                paths(&c.failures),
                ["retention.keepLast"],
                "{:?}",
                c.failures
            );
            let reason = &c.failures[0].reason;
            assert!(
                reason.contains("must be from 1 to 500") || reason.contains("far too large"),
                "{reason}"
            );
            assert!(!c.failures[0].reason.contains("provider bug"));
        }
    }

    #[test]
    fn failures_never_print_a_secret_value() {
        let mut v = good();
        v["sku"] = json!("SuperSecretSku");
        v["snapshotName"] = json!("bad name!");
        let mut news = props(v);
        news.secrets.insert("sku".into());
        news.secrets.insert("snapshotName".into());
        let c = adapter().check("", &Props::default(), &news);
        assert!(paths(&c.failures).contains(&"sku"), "{:?}", c.failures);
        for f in &c.failures {
            assert!(!f.reason.contains("SuperSecretSku"), "{f:?}");
            assert!(!f.reason.contains("bad name!"), "{f:?}");
        }
        // A secret that Azure would store in plain text is refused, without its value.
        let mut news = props(good());
        news.secrets.insert("version".into());
        let c = adapter().check("", &Props::default(), &news);
        assert_eq!(paths(&c.failures), ["version"]);
    }

    fn recorded(v: Json) -> Props {
        let c = adapter().check("", &Props::default(), &props(v));
        assert!(c.failures.is_empty(), "{:?}", c.failures);
        let mut out = c.inputs.values;
        out.insert("location".into(), json!("westus"));
        out.insert("snapshotId".into(), json!("id"));
        Props::new(out)
    }

    fn checked(v: Json) -> Props {
        adapter().check("", &Props::default(), &props(v)).inputs
    }

    #[test]
    fn replacement_comes_from_the_schema() {
        let olds = recorded(good());
        let mut v = good();
        v["version"] = json!("2");
        v["sourceDiskId"] = json!(DISK2);
        v["tags"] = json!({"env": "prod"});
        let d = adapter().diff(&olds, &checked(v)).unwrap();
        let got = d.replacing();
        assert_eq!(
            got,
            [
                ("snapshotName", true),
                ("sourceDiskId", true),
                ("tags.env", false),
                ("version", true)
            ]
        );
        for (path, replace) in got {
            assert_eq!(
                replace,
                crate::schema::resource(vs::TOKEN).replaces(path.split('.').next().unwrap())
            );
        }
    }

    #[test]
    fn state_without_a_later_default_is_no_change() {
        let mut olds = recorded(good());
        olds.values.remove("incremental");
        olds.values.remove("deletionPolicy");
        let d = adapter().diff(&olds, &checked(good())).unwrap();
        assert!(d.changes.is_empty(), "{d:?}");
    }

    #[test]
    fn unknown_values_are_changes_and_unknown_map_entries_are_paths() {
        let olds = recorded(good());
        let mut news = checked(good());
        news.values.remove("sku");
        news.unknowns.insert("sku".into());
        news.unknowns.insert("tags.run".into());
        let d = adapter().diff(&olds, &news).unwrap();
        let got = d.kinds();
        assert_eq!(
            got,
            [("sku", ChangeKind::Add), ("tags.run", ChangeKind::Add)]
        );
    }

    #[test]
    fn outputs_marked_secret_in_the_schema_are_secret() {
        let doc = json!({
            "resources": {"t:index:R": {
                "inputProperties": {"a": {"type": "string"}},
                "properties": {"a": {"type": "string"}, "url": {"type": "string", "secret": true}}
            }},
            "config": {"variables": {}}
        });
        let s = crate::schema::Schema::parse(&doc.to_string()).unwrap();
        let ty: &'static ObjectType = Box::leak(Box::new(s.resources["t:index:R"].clone()));
        let a = Adapter::new(VersionedSnapshot, ty);
        let p = a.outputs_props(
            json!({"a": "x", "url": "https://sas"})
                .as_object()
                .cloned()
                .unwrap(),
            &Props::default(),
        );
        assert!(p.secrets.contains("url"));
        assert!(!p.secrets.contains("a"));
    }
}
