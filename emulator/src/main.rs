//! `datasnap-emulator`: parses arguments and wires the library together.
//!
//! `serve` binds, generates the certificate, prints the one-line JSON start record,
//! and serves until SIGINT/SIGTERM; `seed` writes the demo's resource group and disk
//! into a state file. See README.md for every flag.

use datasnap_emulator::config::{Config, Inner};
use datasnap_emulator::faults::FaultSpec;
use datasnap_emulator::seed::{SeedDisk, SeedSpec};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:
  datasnap-emulator serve [--port 0] [--host 127.0.0.1] [--plain-http] [--state FILE] [--record DIR]
                          [--op-duration-ms N] [--copy-duration-ms N] [--retry-after-secs N] [--list-page-size N] [--arm-rate-limits]
                          [--client-id X] [--client-secret Y] [--client-certificate PEM]... [--tenant-id T] [--subscription-id S]
                          [--exports] [--actions-token T] [--deny-action ACTION]...
                          [--token-ttl-secs N] [--ca-file PATH] [--faults JSON | --faults-file FILE]
                          [--seed | --seed-file FILE] [--seed-resource-group RG] [--seed-location LOC]
                          [--seed-disk NAME] [--seed-disk-size-gb N]
  datasnap-emulator seed --state FILE [--subscription-id S] [--seed-file FILE] [--seed-resource-group RG]
                         [--seed-location LOC] [--seed-disk NAME] [--seed-disk-size-gb N]";

struct Args {
    items: Vec<String>,
}

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        match self.items.iter().position(|a| a == name) {
            Some(i) => {
                self.items.remove(i);
                true
            }
            None => false,
        }
    }

    fn value(&mut self, name: &str) -> Result<Option<String>, String> {
        let Some(i) = self
            .items
            .iter()
            .position(|a| a == name || a.starts_with(&format!("{name}=")))
        else {
            return Ok(None);
        };
        let item = self.items.remove(i);
        if let Some((_, v)) = item.split_once('=') {
            return Ok(Some(v.to_string()));
        }
        if i < self.items.len() {
            Ok(Some(self.items.remove(i)))
        } else {
            Err(format!("{name} needs a value"))
        }
    }

    fn number(&mut self, name: &str) -> Result<Option<u64>, String> {
        self.value(name)?
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("{name} must be a non-negative integer, got '{v}'"))
            })
            .transpose()
    }

    fn finish(self) -> Result<(), String> {
        match self.items.first() {
            Some(extra) => Err(format!("unknown argument '{extra}'")),
            None => Ok(()),
        }
    }
}

/// The seed flags shared by `serve` and `seed`; `Some` if any was given (or `force`).
fn seed_spec(args: &mut Args, force: bool) -> Result<Option<SeedSpec>, String> {
    let mut spec = match args.value("--seed-file")? {
        Some(path) => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("--seed-file {path}: {e}"))?;
            Some(
                serde_json::from_str::<SeedSpec>(&text)
                    .map_err(|e| format!("--seed-file {path}: {e}"))?,
            )
        }
        None => None,
    };
    let group = args.value("--seed-resource-group")?;
    let location = args.value("--seed-location")?;
    let disk = args.value("--seed-disk")?;
    let size = args.number("--seed-disk-size-gb")?;
    if force || group.is_some() || location.is_some() || disk.is_some() || size.is_some() {
        let s = spec.get_or_insert_with(SeedSpec::default);
        if let Some(g) = group {
            s.resource_group = g;
        }
        if let Some(l) = location {
            s.location = l;
        }
        if disk.is_some() || size.is_some() {
            let first = s.disks.first().cloned().unwrap_or(SeedDisk {
                name: "dataset-disk".into(),
                size_gb: 64,
                sku: "Standard_LRS".into(),
            });
            let d = SeedDisk {
                name: disk.unwrap_or(first.name),
                size_gb: size.unwrap_or(first.size_gb),
                sku: first.sku,
            };
            if s.disks.is_empty() {
                s.disks.push(d);
            } else {
                s.disks[0] = d;
            }
        }
    }
    if let Some(s) = &spec {
        s.check()
            .map_err(|e| format!("seed: {}: {}", e.code, e.message))?;
    }
    Ok(spec)
}

fn main() -> ExitCode {
    let mut items: Vec<String> = std::env::args().skip(1).collect();
    if items.is_empty() || items.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let command = items.remove(0);
    let result = match command.as_str() {
        "serve" => serve(Args { items }),
        "seed" => seed(Args { items }),
        other => Err(format!("unknown command '{other}'\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datasnap-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

fn seed(mut args: Args) -> Result<(), String> {
    let state = PathBuf::from(args.value("--state")?.ok_or("seed needs --state FILE")?);
    let mut config = Config::default();
    if let Some(s) = args.value("--subscription-id")? {
        config.subscription_id = s;
    }
    let spec = seed_spec(&mut args, true)?.unwrap_or_default();
    args.finish()?;
    config.state_file = Some(state.clone());
    let app = Inner::new(config).map_err(|e| format!("{}: {e}", state.display()))?;
    spec.apply(&mut app.world(), &app.config);
    app.persist();
    println!("{}", serde_json::json!({"stateFile": state, "seed": spec}));
    Ok(())
}

fn serve(mut args: Args) -> Result<(), String> {
    let mut config = Config::default();
    let port = args.number("--port")?.unwrap_or(0);
    let host = args.value("--host")?.unwrap_or_else(|| "127.0.0.1".into());
    let plain = args.flag("--plain-http");
    config.arm_rate_limits = args.flag("--arm-rate-limits");
    config.state_file = args.value("--state")?.map(PathBuf::from);
    config.record_dir = args.value("--record")?.map(PathBuf::from);
    if let Some(n) = args.number("--op-duration-ms")? {
        config.op_duration_ms = n;
    }
    config.copy_duration_ms = args.number("--copy-duration-ms")?;
    config.retry_after_secs = args.number("--retry-after-secs")?;
    if let Some(n) = args.number("--list-page-size")? {
        config.list_page_size = n.max(1) as usize;
    }
    if let Some(v) = args.value("--client-id")? {
        config.client_id = v;
    }
    if let Some(v) = args.value("--client-secret")? {
        config.client_secret = v;
    }
    // Certificates registered on the app (repeatable): PEM files, every CERTIFICATE in each.
    while let Some(path) = args.value("--client-certificate")? {
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        use tokio_rustls::rustls::pki_types::CertificateDer;
        let certs: Vec<_> = CertificateDer::pem_file_iter(&path)
            .map_err(|e| format!("--client-certificate {path}: {e:?}"))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("--client-certificate {path}: {e:?}"))?;
        if certs.is_empty() {
            return Err(format!(
                "--client-certificate {path}: no CERTIFICATE in the file"
            ));
        }
        config
            .client_certificates
            .extend(certs.into_iter().map(|c| c.to_vec()));
    }
    // RBAC actions the principal lacks (repeatable), as `POST /_emulator/denied-actions` sets them.
    while let Some(action) = args.value("--deny-action")? {
        config.denied_actions.push(action);
    }
    let exports = args.flag("--exports");
    if let Some(v) = args.value("--actions-token")? {
        config.actions_token = v;
    }
    if let Some(v) = args.value("--tenant-id")? {
        config.tenant_id = v;
    }
    if let Some(v) = args.value("--subscription-id")? {
        config.subscription_id = v;
    }
    if let Some(n) = args.number("--token-ttl-secs")? {
        config.token_ttl_secs = n;
    }
    let ca_file = args.value("--ca-file")?.map(PathBuf::from);
    let faults_text = match (args.value("--faults")?, args.value("--faults-file")?) {
        (Some(text), _) => Some(text),
        (None, Some(path)) => {
            Some(std::fs::read_to_string(&path).map_err(|e| format!("--faults-file {path}: {e}"))?)
        }
        (None, None) => None,
    };
    let faults = faults_text
        .map(|t| serde_json::from_str::<FaultSpec>(&t).map_err(|e| format!("faults: {e}")))
        .transpose()?;
    let force_seed = args.flag("--seed");
    config.seed = seed_spec(&mut args, force_seed)?;
    args.finish()?;

    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DATASNAP_EMULATOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((host.as_str(), port as u16))
            .await
            .map_err(|e| format!("binding {host}:{port}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let host_text = if addr.ip().is_ipv6() {
            format!("[{}]", addr.ip())
        } else {
            addr.ip().to_string()
        };
        let scheme = if plain { "http" } else { "https" };
        config.base_url = format!("{scheme}://{host_text}:{}", addr.port());
        let (tls, ca_path) = if plain {
            (None, None)
        } else {
            let path = ca_file.unwrap_or_else(|| {
                std::env::temp_dir()
                    .join(format!(
                        "datasnap-emulator-{}-{}",
                        std::process::id(),
                        addr.port()
                    ))
                    .join("ca.pem")
            });
            let acceptor = datasnap_emulator::tls::generate(&path).map_err(|e| e.to_string())?;
            (Some(acceptor), Some(path))
        };
        let state = Inner::new(config.clone()).map_err(|e| format!("state: {e}"))?;
        if let Some(f) = faults {
            state.faults().apply(f);
        }
        let line = serde_json::json!({
            "armEndpoint": config.base_url,
            "authorityHost": config.base_url,
            "caCertFile": ca_path,
            "tenantId": config.tenant_id,
            "subscriptionId": config.subscription_id,
            "clientId": config.client_id,
            "clientSecret": config.client_secret,
        });
        // `--exports`: the same record as one line of shell exports, the variables the
        // provider (and azure-native) read, so `. ./emulator.env` points a shell at it.
        let line = if exports {
            shell_exports(&line)
        } else {
            line.to_string()
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")
            .and_then(|_| stdout.flush())
            .map_err(|e| format!("stdout: {e}"))?;
        drop(stdout);
        let app = datasnap_emulator::app(state.clone());
        datasnap_emulator::serve(listener, tls, app, shutdown_signal()).await;
        state.persist();
        Ok::<(), String>(())
    })
}

/// `export ARM_ENDPOINT='…' ARM_AUTHORITY_HOST='…' …` from the JSON start record.
fn shell_exports(record: &serde_json::Value) -> String {
    const NAMES: [(&str, &str); 7] = [
        ("armEndpoint", "ARM_ENDPOINT"),
        ("authorityHost", "ARM_AUTHORITY_HOST"),
        ("caCertFile", "ARM_CA_CERT_FILE"),
        ("tenantId", "ARM_TENANT_ID"),
        ("subscriptionId", "ARM_SUBSCRIPTION_ID"),
        ("clientId", "ARM_CLIENT_ID"),
        ("clientSecret", "ARM_CLIENT_SECRET"),
    ];
    let parts: Vec<String> = NAMES
        .iter()
        .filter_map(|(key, var)| {
            let v = record[*key].as_str()?;
            Some(format!("{var}='{}'", v.replace('\'', "'\\''")))
        })
        .collect();
    format!("export {}", parts.join(" "))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
