//! Launches the built `pulumi-resource-datasnap` the way the engine does (engine address as
//! the argument, the port as the only stdout line) and drives it over gRPC: GetSchema,
//! GetPluginInfo, Handshake, Check with unknowns and secrets, Diff, and a preview Create.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use datasnap_provider::proto::rpc;
use datasnap_provider::proto::rpc::resource_provider_client::ResourceProviderClient;
use datasnap_provider::proto::{Kind, Struct, Value};
use datasnap_provider::value::{SIG_KEY, UNKNOWN};

const TOKEN: &str = "datasnap:index:VersionedSnapshot";
const URN: &str = "urn:pulumi:dev::proj::datasnap:index:VersionedSnapshot::v";
const DISK: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/disks/data";

struct Plugin {
    child: Child,
    port: u16,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(args: &[&str]) -> Plugin {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulumi-resource-datasnap"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the plugin");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the port line");
    assert!(
        line.ends_with('\n'),
        "the port line ends with a newline: {line:?}"
    );
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the only stdout line is a port: {line:?}"));
    Plugin { child, port }
}

async fn client(p: &Plugin) -> ResourceProviderClient<tonic::transport::Channel> {
    ResourceProviderClient::connect(format!("http://127.0.0.1:{}", p.port))
        .await
        .expect("connect")
}

fn s(v: &str) -> Value {
    Value {
        kind: Some(Kind::StringValue(v.into())),
    }
}

fn obj(fields: &[(&str, Value)]) -> Value {
    let mut st = Struct::default();
    for (k, v) in fields {
        st.fields.insert(k.to_string(), v.clone());
    }
    Value {
        kind: Some(Kind::StructValue(st)),
    }
}

fn strct(fields: &[(&str, Value)]) -> Struct {
    match obj(fields).kind {
        Some(Kind::StructValue(st)) => st,
        _ => unreachable!(),
    }
}

fn secret(v: Value) -> Value {
    obj(&[
        (SIG_KEY, s("1b47061264138c4ac30d75fd1eb44270")),
        ("value", v),
    ])
}

fn str_of(st: &Struct, key: &str) -> Option<String> {
    match st.fields.get(key).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(x)) => Some(x.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn the_binary_serves_the_protocol() {
    // The engine passes flags and its address; the address need not answer for these calls.
    let p = launch(&[
        "--logtostderr",
        "-v=3",
        "--tracing",
        "127.0.0.1:1",
        "127.0.0.1:1",
    ]);
    let mut c = client(&p).await;

    let schema = c
        .get_schema(rpc::GetSchemaRequest::default())
        .await
        .unwrap()
        .into_inner()
        .schema;
    let embedded: serde_json::Value =
        serde_json::from_str(include_str!("../../schema.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&schema).unwrap(),
        embedded
    );

    let info = c.get_plugin_info(()).await.unwrap().into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));

    let hs = c
        .handshake(rpc::ProviderHandshakeRequest {
            engine_address: "127.0.0.1:1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(hs.accept_secrets && hs.accept_resources && !hs.accept_outputs);
    let cf = c.configure(rpc::ConfigureRequest::default()).await;
    // Configure without any subscription either succeeds (nothing to reach yet) or names the
    // missing key; it must not crash.
    if let Err(st) = &cf {
        assert!(st.message().contains("subscriptionId"), "{st:?}");
    }

    // Check: an unknown source (preview) and a secret region. Azure keeps a region in plain
    // text, so the secret is refused (without its value), and the inputs keep its mark.
    let news = strct(&[
        ("resourceGroupName", s("rg")),
        ("dataset", s("imagenet")),
        ("version", s("1")),
        ("sourceDiskId", s(UNKNOWN)),
        ("location", secret(s("westus2"))),
        ("tags", obj(&[("owner", s("alice"))])),
    ]);
    let checked = c
        .check(rpc::CheckRequest {
            urn: URN.into(),
            r#type: TOKEN.into(),
            news: Some(news),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let f = &checked.failures;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].property, "location");
    assert!(
        f[0].reason.contains("plain text") && !f[0].reason.contains("westus2"),
        "{f:?}"
    );
    let inputs = checked.inputs.unwrap();
    assert_eq!(
        str_of(&inputs, "sourceDiskId").as_deref(),
        Some(UNKNOWN),
        "unknowns stay unknown"
    );
    let name = str_of(&inputs, "snapshotName").unwrap_or_default();
    assert!(
        name.starts_with("imagenet-v1-") && name.len() == "imagenet-v1-".len() + 6,
        "defaults are applied, with the resource's own suffix: {name}"
    );
    assert_eq!(
        inputs.fields["location"],
        secret(s("westus2")),
        "secrets stay secret"
    );

    // A secret where datasnap writes an Azure tag (plain text in Azure) is refused.
    let leaky = strct(&[
        ("resourceGroupName", s("rg")),
        ("dataset", s("imagenet")),
        ("version", s("1")),
        ("sourceDiskId", s(DISK)),
        ("tags", obj(&[("owner", secret(s("alice")))])),
    ]);
    let f = c
        .check(rpc::CheckRequest {
            urn: URN.into(),
            r#type: TOKEN.into(),
            news: Some(leaky),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .failures;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].property, "tags.owner");
    assert!(f[0].reason.contains("plain text"), "{f:?}");

    // Check failures name the property.
    let bad = strct(&[
        ("resourceGroupName", s("rg")),
        ("dataset", s("imagenet")),
        ("version", s("1")),
        ("snapshotName", s("no spaces allowed")),
        (
            "sourceDiskId",
            s("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/snapshots/s"),
        ),
    ]);
    let f = c
        .check(rpc::CheckRequest {
            urn: URN.into(),
            r#type: TOKEN.into(),
            news: Some(bad),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .failures;
    let props: Vec<&str> = f.iter().map(|f| f.property.as_str()).collect();
    assert_eq!(props, ["sourceDiskId", "snapshotName"], "{f:?}");

    // Create(preview) leaves what Azure decides unknown and keeps the secret.
    let preview = c
        .create(rpc::CreateRequest {
            urn: URN.into(),
            r#type: TOKEN.into(),
            properties: Some(inputs.clone()),
            preview: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let out = preview.properties.unwrap();
    assert!(
        !out.fields.contains_key("snapshotId"),
        "snapshotId is unknown in preview"
    );
    assert_eq!(str_of(&out, "sourceDiskId").as_deref(), Some(UNKNOWN));
    assert_eq!(str_of(&out, "dataset").as_deref(), Some("imagenet"));
    assert_eq!(
        out.fields["location"],
        secret(s("westus2")),
        "outputs inherit secrets"
    );

    // Diff: a tag change is an in-place update at the tag's path; a version bump replaces.
    let mut olds = strct(&[
        ("resourceGroupName", s("rg")),
        ("dataset", s("imagenet")),
        ("version", s("1")),
        ("sourceDiskId", s(DISK)),
        ("snapshotName", s("imagenet-v1")),
        ("incremental", Value { kind: Some(Kind::BoolValue(true)) }),
        ("deletionPolicy", s("Retain")),
        ("location", s("westus")),
        ("tags", obj(&[("env", s("dev"))])),
        ("metadata", obj(&[])),
        ("snapshotId", s("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/snapshots/imagenet-v1")),
    ]);
    let mut news = olds.clone();
    news.fields.remove("snapshotId");
    news.fields.remove("location");
    news.fields
        .insert("tags".into(), obj(&[("env", s("prod"))]));
    let d = c
        .diff(rpc::DiffRequest {
            urn: URN.into(),
            r#type: TOKEN.into(),
            olds: Some(olds.clone()),
            news: Some(news.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(d.changes, rpc::diff_response::DiffChanges::DiffSome as i32);
    assert!(d.replaces.is_empty());
    assert_eq!(d.diffs, ["tags"]);
    assert_eq!(
        d.detailed_diff["tags.env"].kind,
        rpc::property_diff::Kind::Update as i32
    );

    news.fields.insert("version".into(), s("2"));
    news.fields.insert("snapshotName".into(), s("imagenet-v2"));
    olds.fields
        .insert("tags".into(), obj(&[("env", s("prod"))]));
    let d = c
        .diff(rpc::DiffRequest {
            urn: URN.into(),
            r#type: TOKEN.into(),
            olds: Some(olds),
            news: Some(news),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(d.replaces.contains(&"version".to_string()), "{d:?}");
    assert!(
        !d.delete_before_replace,
        "replacement is create-before-delete"
    );

    // An unknown type token has one clear error.
    let err = c
        .check(rpc::CheckRequest {
            urn: "urn:pulumi:dev::proj::datasnap:index:Nope::n".into(),
            r#type: "datasnap:index:Nope".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("datasnap:index:Nope"));
}

#[tokio::test]
async fn attach_mode_serves_without_an_engine_address() {
    let p = launch(&[]);
    let mut c = client(&p).await;
    c.attach(rpc::PluginAttach {
        address: "127.0.0.1:1".into(),
    })
    .await
    .unwrap();
    let info = c.get_plugin_info(()).await.unwrap().into_inner();
    assert!(!info.version.is_empty());
}
