//! `make bench-emulator`: GETs per second against a real `datasnap-emulator serve`
//! over keep-alive HTTPS (the Makefile pins the emulator to one core when `taskset`
//! exists), and the emulator's resident memory while idle, after the GET storm, and
//! after it holds N more snapshots, to show memory follows resources, not requests.
//!
//! usage: bench --emulator PATH [--seconds 5] [--connections 16] [--resources 2000] [--cpu 0]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_rustls::rustls;

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn client(ca: &str) -> reqwest::Client {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).expect("ca") {
        roots.add(cert.expect("cert")).expect("root");
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("tls")
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .no_proxy()
        .pool_max_idle_per_host(1)
        .build()
        .expect("client")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = arg(&args, "--emulator").unwrap_or_else(|| "bin/datasnap-emulator".into());
    let seconds: u64 = arg(&args, "--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let connections: usize = arg(&args, "--connections")
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let resources: usize = arg(&args, "--resources")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let cpu = arg(&args, "--cpu").unwrap_or_else(|| "0".into());

    let taskset = Command::new("taskset").arg("--version").output().is_ok();
    let mut cmd = if taskset {
        let mut c = Command::new("taskset");
        c.args(["-c", &cpu, &bin]);
        c
    } else {
        Command::new(&bin)
    };
    let mut child = cmd
        .args(["serve", "--seed"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start emulator");
    let stdout = child.stdout.take().expect("stdout");
    let child = Killed(child);
    let pid = child.0.id();
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("start line");
    let start: Value = serde_json::from_str(&line).expect("start line json");
    let base = start["armEndpoint"]
        .as_str()
        .expect("armEndpoint")
        .to_string();
    let sub = start["subscriptionId"].as_str().expect("sub").to_string();
    let ca = start["caCertFile"].as_str().expect("ca").to_string();
    let setup = client(&ca);
    let token: Value = setup
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            base,
            start["tenantId"].as_str().unwrap_or_default()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", start["clientId"].as_str().unwrap_or_default()),
            (
                "client_secret",
                start["clientSecret"].as_str().unwrap_or_default(),
            ),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    let disk = format!("/subscriptions/{sub}/resourceGroups/datasets-rg/providers/Microsoft.Compute/disks/dataset-disk");
    let snap = format!("/subscriptions/{sub}/resourceGroups/datasets-rg/providers/Microsoft.Compute/snapshots/bench-v1");
    let put = |name: String| {
        let body = json!({"location": "westus", "tags": {"datasnap.dataset": "bench"},
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk}, "incremental": false}});
        setup
            .put(format!("{base}{name}?api-version=2025-01-02"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    assert!(put(snap.clone()).await.expect("put").status().is_success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_idle = rss_kib(pid);

    let url = format!("{base}{snap}?api-version=2025-01-02");
    let count = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let c = client(&ca);
        let (url, token, count, errors) =
            (url.clone(), token.clone(), count.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                match c.get(&url).bearer_auth(&token).send().await {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = began.elapsed().as_secs_f64();
    let gets = count.load(Ordering::Relaxed);
    let rss_after_gets = rss_kib(pid);

    for i in 0..resources {
        let name = format!("/subscriptions/{sub}/resourceGroups/datasets-rg/providers/Microsoft.Compute/snapshots/bench-m{i}");
        let _ = put(name).await;
    }
    let rss_after_resources = rss_kib(pid);

    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| emulator CPUs | {} |",
        if taskset {
            format!("1 (taskset -c {cpu})")
        } else {
            "unpinned (no taskset)".into()
        }
    );
    println!("| keep-alive HTTPS connections | {connections} |");
    println!(
        "| GET snapshot, {seconds} s | {gets} ok, {} errors |",
        errors.load(Ordering::Relaxed)
    );
    println!("| **GETs per second** | **{:.0}** |", gets as f64 / elapsed);
    println!("| RSS idle (1 disk, 1 snapshot) | {} KiB |", rss_idle);
    println!("| RSS after the GETs | {} KiB |", rss_after_gets);
    println!(
        "| RSS holding {resources} more snapshots | {} KiB (~{:.1} KiB each) |",
        rss_after_resources,
        rss_after_resources.saturating_sub(rss_after_gets) as f64 / resources.max(1) as f64
    );
}
