//! `pulumi-resource-datasnap`: the process contract only.
//!
//! Arguments (`[flags] [engine-address]`, unknown flags tolerated), listen on
//! 127.0.0.1 with an OS-chosen port, print that port as the only stdout line, serve until
//! the engine stops us. Logs go to stderr (`DATASNAP_LOG` sets the filter).

use std::io::Write;

use datasnap_provider::server::{serve, Provider};

/// The engine address is the last positional argument; `--tracing` takes a value.
fn engine_address(args: &[String]) -> Option<String> {
    let mut positional = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--tracing" || a == "-tracing" {
            it.next();
        } else if !a.starts_with('-') {
            positional = Some(a.clone());
        }
    }
    positional
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("pulumi-resource-datasnap: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DATASNAP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let provider = Provider::new(engine_address(&args));
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{port}")?;
        out.flush()?;
    }
    let shutdown = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
    };
    serve(listener, provider, shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::engine_address;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn finds_the_engine_address_among_flags() {
        assert_eq!(
            engine_address(&s(&[
                "--logtostderr",
                "-v=9",
                "--tracing",
                "t:1",
                "127.0.0.1:5"
            ])),
            Some("127.0.0.1:5".into())
        );
        assert_eq!(engine_address(&s(&[])), None);
        assert_eq!(engine_address(&s(&["--logtostderr"])), None);
    }
}
