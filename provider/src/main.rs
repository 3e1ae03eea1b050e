//! `pulumi-resource-datasnap`: the process contract only.
//!
//! Arguments (`[flags] [engine-address]`, unknown flags tolerated), listen on
//! 127.0.0.1 with an OS-chosen port, print that port as the only stdout line, serve until
//! the engine stops us. Logs go to stderr (`DATASNAP_LOG` sets the filter).
//!
//! A person running the binary gets `--version` and `--help` answered on stdout, and the
//! process exits: the engine never passes either flag.

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

const HELP: &str = concat!(
    "pulumi-resource-datasnap ",
    env!("CARGO_PKG_VERSION"),
    "\n\
Pulumi resource provider: versioned Azure Managed Disk snapshots for AI/ML datasets.\n\
\n\
The Pulumi engine starts this plugin; people do not run it directly. Install it with\n\
  pulumi plugin install resource datasnap ",
    env!("CARGO_PKG_VERSION"),
    " --file pulumi-resource-datasnap-v",
    env!("CARGO_PKG_VERSION"),
    "-linux-amd64.tar.gz\n\
or let `pulumi install` fetch it for the pulumi_datasnap Python package.\n\
\n\
Usage: pulumi-resource-datasnap [--version | --help]\n\
       pulumi-resource-datasnap [engine flags] <engine-address>   (the engine's call)\n\
\n\
Environment: DATASNAP_LOG sets the log filter (stderr), e.g. DATASNAP_LOG=debug.\n\
Azure settings come from the provider config or ARM_*/AZURE_* variables.\n"
);

/// What the command line asks for: `--version`/`--help` answer and exit; anything else is
/// the engine's invocation (unknown flags tolerated).
#[derive(Debug, PartialEq)]
enum Mode {
    Version,
    Help,
    Serve,
}

fn mode(args: &[String]) -> Mode {
    match args {
        [a] if a == "--version" || a == "-version" || a == "-V" => Mode::Version,
        [a] if a == "--help" || a == "-help" || a == "-h" => Mode::Help,
        _ => Mode::Serve,
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match mode(&args) {
        Mode::Version => {
            println!("{}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Mode::Help => {
            print!("{HELP}");
            return;
        }
        Mode::Serve => {}
    }
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
    use super::{engine_address, mode, Mode};

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

    #[test]
    fn version_and_help_answer_and_engine_calls_serve() {
        assert_eq!(mode(&s(&["--version"])), Mode::Version);
        assert_eq!(mode(&s(&["-h"])), Mode::Help);
        assert_eq!(mode(&s(&["--help"])), Mode::Help);
        assert_eq!(mode(&s(&[])), Mode::Serve);
        assert_eq!(mode(&s(&["127.0.0.1:5"])), Mode::Serve);
        // The engine's own flags never turn into a help page.
        assert_eq!(
            mode(&s(&["--logtostderr", "-v=9", "127.0.0.1:5"])),
            Mode::Serve
        );
    }
}
