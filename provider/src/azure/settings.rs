//! What the ARM client is built from: the resolved provider configuration (cloud,
//! endpoints, subscription, the one chosen credential). `crate::config` resolves it from
//! the user's config keys and the environment; the client reads it and never the reverse.

use std::fmt;
use std::path::PathBuf;

/// A secret string: `Debug` and `Display` print `***`, so it cannot leak into logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value; only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// An Azure cloud: its authority, ARM endpoint and ARM token audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudEnvironment {
    Public,
    UsGovernment,
    China,
}

impl CloudEnvironment {
    /// Parse azure-native's names: `public`/`azurecloud`, `usgovernment`/`usgov`/`azureusgovernment`,
    /// `china`/`azurechinacloud` (case-insensitive).
    pub fn parse(s: &str) -> Option<CloudEnvironment> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" | "azurecloud" | "azurepubliccloud" | "azure" => {
                Some(CloudEnvironment::Public)
            }
            "usgovernment" | "usgov" | "azureusgovernment" | "azureusgovernmentcloud" => {
                Some(CloudEnvironment::UsGovernment)
            }
            "china" | "azurechinacloud" | "azurechina" => Some(CloudEnvironment::China),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CloudEnvironment::Public => "public",
            CloudEnvironment::UsGovernment => "usgovernment",
            CloudEnvironment::China => "china",
        }
    }

    pub fn authority_host(self) -> &'static str {
        match self {
            CloudEnvironment::Public => "https://login.microsoftonline.com",
            CloudEnvironment::UsGovernment => "https://login.microsoftonline.us",
            CloudEnvironment::China => "https://login.chinacloudapi.cn",
        }
    }

    pub fn arm_endpoint(self) -> &'static str {
        match self {
            CloudEnvironment::Public => "https://management.azure.com",
            CloudEnvironment::UsGovernment => "https://management.usgovcloudapi.net",
            CloudEnvironment::China => "https://management.chinacloudapi.cn",
        }
    }

    /// The ARM audience; the token scope is `{audience}/.default`.
    pub fn arm_audience(self) -> &'static str {
        match self {
            CloudEnvironment::Public => "https://management.core.windows.net/",
            CloudEnvironment::UsGovernment => "https://management.core.usgovcloudapi.net/",
            CloudEnvironment::China => "https://management.core.chinacloudapi.cn/",
        }
    }
}

/// The one credential the provider authenticates with (see the module doc for the order).
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialSource {
    /// A service principal's client secret.
    ClientSecret { secret: Secret },
    /// A service principal's certificate (PEM or PKCS#12), signing its own client assertions.
    ClientCertificate {
        path: PathBuf,
        password: Option<Secret>,
    },
    /// A client assertion (OIDC id token) given directly.
    OidcToken { token: Secret },
    /// A file holding the client assertion, re-read for every token request.
    OidcTokenFile { path: PathBuf },
    /// GitHub Actions' id-token endpoint.
    GitHubOidc {
        url: String,
        token: Secret,
        audience: String,
    },
    /// A managed identity; `client_id` selects a user-assigned one.
    ManagedIdentity { client_id: Option<String> },
    /// The logged-in Azure CLI (`az account get-access-token`).
    AzureCli,
}

impl CredentialSource {
    /// What the user configured, for messages: names the keys and environment variables.
    pub fn describe(&self) -> &'static str {
        match self {
            CredentialSource::ClientSecret { .. } => {
                "client secret (clientSecret / ARM_CLIENT_SECRET / AZURE_CLIENT_SECRET with clientId and tenantId)"
            }
            CredentialSource::ClientCertificate { .. } => {
                "client certificate (clientCertificatePath / ARM_CLIENT_CERTIFICATE_PATH, clientCertificatePassword / ARM_CLIENT_CERTIFICATE_PASSWORD, with clientId and tenantId)"
            }
            CredentialSource::OidcToken { .. } => "OIDC token (oidcToken / ARM_OIDC_TOKEN)",
            CredentialSource::OidcTokenFile { .. } => {
                "OIDC token file (oidcTokenFilePath / ARM_OIDC_TOKEN_FILE_PATH / AZURE_FEDERATED_TOKEN_FILE)"
            }
            CredentialSource::GitHubOidc { .. } => {
                "GitHub Actions OIDC (oidcRequestUrl / ACTIONS_ID_TOKEN_REQUEST_URL and oidcRequestToken / ACTIONS_ID_TOKEN_REQUEST_TOKEN; the job needs `permissions: id-token: write`)"
            }
            CredentialSource::ManagedIdentity { .. } => {
                "managed identity (useMsi / ARM_USE_MSI, clientId / ARM_CLIENT_ID for a user-assigned identity)"
            }
            CredentialSource::AzureCli => {
                "Azure CLI (useCli / ARM_USE_CLI; run `az login`, or configure clientSecret, OIDC or useMsi instead)"
            }
        }
    }
}

/// The resolved provider configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    pub subscription_id: String,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub environment: CloudEnvironment,
    /// ARM base URL without a trailing slash.
    pub arm_endpoint: String,
    /// Entra ID authority host without a trailing slash.
    pub authority_host: String,
    /// The ARM token audience (scope without `/.default`), from the environment.
    pub arm_audience: String,
    /// Extra PEM root CA(s) trusted for ARM and the authority (an emulator, a TLS proxy).
    pub ca_cert_file: Option<PathBuf>,
    pub credential: CredentialSource,
}
