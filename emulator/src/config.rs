//! The emulator's settings (identities, durations, files) and the process-wide
//! [`AppState`] every handler and layer shares.

use crate::faults::Faults;
use crate::record::Recorder;
use crate::seed::SeedSpec;
use crate::world::World;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

/// Well-known defaults, fixed so that demos and docs are reproducible.
pub const DEFAULT_TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const DEFAULT_SUBSCRIPTION_ID: &str = "00000000-0000-4000-8000-000000000001";
pub const DEFAULT_CLIENT_ID: &str = "11111111-1111-4111-8111-111111111111";
pub const DEFAULT_CLIENT_SECRET: &str = "datasnap-emulator-secret";
/// The service principal's object id (`oid` in tokens): not its client id, as in Entra ID.
pub const DEFAULT_OBJECT_ID: &str = "22222222-2222-4222-8222-222222222222";
/// The bearer token GitHub Actions gives a job for its id-token endpoint
/// (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`); the emulator's stand-in for that endpoint wants it.
pub const DEFAULT_ACTIONS_TOKEN: &str = "datasnap-emulator-actions-token";
/// The issuer of GitHub Actions' OIDC tokens.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The audience Entra ID's federated credentials expect of a GitHub token.
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The DiskRP api-version this emulator speaks (every accepted version is served in this shape).
pub const COMPUTE_API_VERSION: &str = "2025-01-02";
/// Published DiskRP api-versions from 2023 on, up to the newest current SDKs send.
pub const COMPUTE_API_VERSIONS: &[&str] = &[
    "2023-01-02",
    "2023-04-02",
    "2023-10-02",
    "2024-03-02",
    "2025-01-02",
    "2026-03-02",
];
/// Microsoft.Resources api-versions accepted for resource groups (2021-04-01 and later).
pub const RESOURCES_API_VERSIONS: &[&str] = &[
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-01-01",
    "2025-03-01",
    "2025-04-01",
];

/// Microsoft.Authorization api-versions accepted for management locks (`.../providers/Microsoft.Authorization/locks`):
/// 2016-09-01, which Microsoft's lock how-to names, and 2020-05-01, the newest stable one.
pub const LOCKS_API_VERSIONS: &[&str] = &["2016-09-01", "2020-05-01"];

/// Microsoft.Resources subscriptions api-versions accepted for `GET /subscriptions/{s}/locations`.
pub const SUBSCRIPTIONS_API_VERSIONS: &[&str] = &[
    "2016-06-01",
    "2018-06-01",
    "2019-06-01",
    "2019-11-01",
    "2020-01-01",
    "2021-01-01",
    "2022-12-01",
];

#[derive(Debug, Clone)]
pub struct Config {
    pub tenant_id: String,
    pub subscription_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// The service principal's object id, carried as `oid` in every token.
    pub object_id: String,
    /// Certificates registered on the app (DER), for certificate credentials: a client
    /// assertion naming one by thumbprint (`x5t`) must be signed by its key.
    pub client_certificates: Vec<Vec<u8>>,
    /// The bearer token the GitHub id-token endpoint (`/_github/idtoken`) accepts.
    pub actions_token: String,
    /// Lifetime of issued tokens (Entra ID's default is about an hour).
    pub token_ttl_secs: u64,
    /// How long every long-running operation stays InProgress; 0 answers synchronously.
    pub op_duration_ms: u64,
    /// How long a CopyStart copy takes to reach completionPercent 100 (default 2x the op duration).
    pub copy_duration_ms: Option<u64>,
    /// The Retry-After seconds sent with 202s and in-progress polls (default: the op duration, rounded up).
    pub retry_after_secs: Option<u64>,
    /// `https://127.0.0.1:PORT`: base of Location / Azure-AsyncOperation URLs and of the OIDC document.
    pub base_url: String,
    /// Enforce ARM's subscription token buckets (429 when empty).
    pub arm_rate_limits: bool,
    /// Items per page of a list; more items are reached through `nextLink`.
    pub list_page_size: usize,
    pub state_file: Option<PathBuf>,
    pub record_dir: Option<PathBuf>,
    /// Applied at start and again on `POST /_emulator/reset`.
    pub seed: Option<SeedSpec>,
    /// RBAC actions the principal is denied at start (`--deny-action`), e.g.
    /// `Microsoft.Authorization/locks/write`; see [`Inner::denied_actions`].
    pub denied_actions: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tenant_id: DEFAULT_TENANT_ID.into(),
            subscription_id: DEFAULT_SUBSCRIPTION_ID.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            object_id: DEFAULT_OBJECT_ID.into(),
            client_certificates: Vec::new(),
            actions_token: DEFAULT_ACTIONS_TOKEN.into(),
            token_ttl_secs: 3599,
            op_duration_ms: 0,
            copy_duration_ms: None,
            retry_after_secs: None,
            base_url: "https://127.0.0.1".into(),
            list_page_size: 100,
            arm_rate_limits: false,
            state_file: None,
            record_dir: None,
            seed: None,
            denied_actions: Vec::new(),
        }
    }
}

impl Config {
    pub fn copy_duration_ms(&self) -> u64 {
        self.copy_duration_ms.unwrap_or(self.op_duration_ms * 2)
    }

    pub fn retry_after_secs(&self, op_duration_ms: u64) -> u64 {
        self.retry_after_secs
            .unwrap_or(op_duration_ms.div_ceil(1000))
    }
}

/// Shared by every request. Locks are std mutexes: critical sections are short,
/// never held across an `.await`, and the world is plain data.
pub struct Inner {
    pub config: Config,
    pub world: Mutex<World>,
    pub faults: Mutex<Faults>,
    /// HMAC key that signs issued access tokens; derived from the tenant, client id and
    /// secret so tokens survive a restart with the same `--state`.
    pub token_key: ring::hmac::Key,
    /// Tokens issued before this instant (ms) count as expired (the "expire tokens now" fault).
    pub tokens_revoked_before_ms: AtomicU64,
    pub recorder: Option<Recorder>,
    pub buckets: Mutex<crate::ratelimit::Buckets>,
    /// ARM requests served, by class (`reads`, `writes`, `deletes`), for
    /// `GET /_emulator/requests`: how many calls a preview or an `up` made.
    pub requests: Mutex<std::collections::BTreeMap<&'static str, u64>>,
    /// RBAC actions the principal does not have (`/_emulator/denied-actions`): a request
    /// needing one answers 403 AuthorizationFailed.
    pub denied_actions: Mutex<Vec<String>>,
}

pub type AppState = Arc<Inner>;

impl Inner {
    pub fn new(config: Config) -> std::io::Result<AppState> {
        let seed_material = format!(
            "datasnap-emulator|{}|{}|{}",
            config.tenant_id, config.client_id, config.client_secret
        );
        let digest = ring::digest::digest(&ring::digest::SHA256, seed_material.as_bytes());
        let token_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, digest.as_ref());
        let mut world = match &config.state_file {
            Some(path) if path.exists() => World::load(path)?,
            _ => World::default(),
        };
        if world.is_empty() {
            if let Some(seed) = &config.seed {
                seed.apply(&mut world, &config);
            }
        }
        let recorder = match &config.record_dir {
            Some(dir) => Some(Recorder::new(dir.clone())?),
            None => None,
        };
        let denied_actions = Mutex::new(config.denied_actions.clone());
        let state = Arc::new(Inner {
            config,
            world: Mutex::new(world),
            faults: Mutex::new(Faults::default()),
            token_key,
            tokens_revoked_before_ms: AtomicU64::new(0),
            recorder,
            buckets: Mutex::new(Default::default()),
            requests: Mutex::new(Default::default()),
            denied_actions,
        });
        state.persist();
        Ok(state)
    }

    /// Lock the world, settling operations that are due first.
    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        // A poisoned lock means a handler panicked mid-update; the data is still the
        // best we have, so keep serving it rather than failing every later request.
        let mut guard = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let now = crate::time::now_ms();
        if guard.settle(now, &self.config) {
            guard.dirty = true;
        }
        guard
    }

    pub fn denied_actions(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // See `world()` on poisoning.
        self.denied_actions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        // See `world()` on poisoning.
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Write the world to `--state FILE` if anything changed since the last write.
    pub fn persist(&self) {
        let Some(path) = &self.config.state_file else {
            return;
        };
        let text = {
            let mut world = self.world();
            if !world.dirty {
                return;
            }
            world.dirty = false;
            match serde_json::to_string_pretty(&*world) {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!("cannot serialise state: {e}");
                    return;
                }
            }
        };
        let tmp = path.with_extension("tmp");
        let result = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            tracing::error!("cannot write state file {}: {e}", path.display());
        }
    }
}
