//! What the provider's integration tests share.

use serde_json::{Map, Value as Json};

/// The provider config that points at an emulator, from its start line (the emulator is
/// reached exactly like a private cloud: endpoint, authority, CA and a client secret).
pub fn emulator_config(line: &Json) -> Map<String, Json> {
    [
        "armEndpoint",
        "authorityHost",
        "caCertFile",
        "tenantId",
        "subscriptionId",
        "clientId",
        "clientSecret",
    ]
    .into_iter()
    .map(|k| (k.to_string(), line[k].clone()))
    .collect()
}
