//! The `rds-forwarder` binary: wiring only. With `AWS_LAMBDA_RUNTIME_API`
//! set it is a Lambda `bootstrap`; otherwise a command-line tool.

#![forbid(unsafe_code)]

/// mimalloc, chosen by the binary (the composition root), not the library:
/// records are built from many small strings, and glibc's malloc/free took a
/// quarter of the pipeline's instructions (`scripts/bench.sh --profile
/// process`). Tests and fuzz builds keep the system allocator; the benches
/// declare this same one (`benches/support/mod.rs`) so they measure what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use rds_forwarder::cli::exit::{self, Exit, EXIT_CODES_HELP};
use rds_forwarder::cli::{check, replay, subscribe, wrap};
use rds_forwarder::config::{Config, Settings};
use rds_forwarder::lambda::Handler;
use rds_forwarder::pipeline::Pipeline;
use rdsf_aws::api::{AwsLogs, AwsSecrets};
use rdsf_aws::secrets;
use rdsf_core::secret::Secret;
use rdsf_sinks as sink;

#[derive(Parser)]
#[command(
    name = "rds-forwarder",
    version,
    about = "Forward Amazon RDS / Aurora logs and events as structured records",
    long_about = "Forward Amazon RDS / Aurora logs (CloudWatch Logs subscriptions, Kinesis) and RDS events \
                  (EventBridge) as structured OpenTelemetry-shaped records to stdout, WhaTap or OTLP.\n\n\
                  Run with AWS_LAMBDA_RUNTIME_API set (as a provided.al2023 bootstrap) it serves Lambda \
                  invocations; otherwise use a subcommand."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Lambda invocations (the default when AWS_LAMBDA_RUNTIME_API is set).
    Lambda {
        #[command(flatten)]
        settings: Settings,
    },
    /// Feed saved Lambda events (files, folders, or - for stdin) through the Lambda pipeline.
    #[command(after_help = REPLAY_EXAMPLES)]
    Replay {
        #[command(flatten)]
        settings: Settings,
        /// Seconds each event may take, like the function's timeout.
        #[arg(long, default_value_t = 60, help_heading = "General")]
        timeout_secs: u64,
        /// Files or folders of JSON Lambda events (one or more per file), or - for stdin.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Turn a raw RDS log file into CloudWatch Logs subscription events (NDJSON on stdout).
    Wrap {
        /// Log group, e.g. /aws/rds/instance/mydb/postgresql.
        #[arg(long)]
        log_group: String,
        /// Log stream, e.g. mydb.0.
        #[arg(long)]
        log_stream: String,
        /// How to split entries; by default from the log group's log type.
        #[arg(long, value_enum)]
        kind: Option<wrap::SplitKind>,
        /// Events per payload, at most (payloads also stay within a CloudWatch batch: 10,000 events, 1,048,576 bytes).
        #[arg(long, default_value_t = 2000)]
        batch: usize,
        /// Account id put in the `owner` field.
        #[arg(long, default_value = "123456789012")]
        owner: String,
        /// The raw log file.
        rawfile: PathBuf,
    },
    /// Before deploying: validate every setting (all errors at once), read the secret
    /// references, contact each configured sink; one `ok`/`FAIL` line per check.
    #[command(after_help = CHECK_EXAMPLES)]
    Check {
        #[command(flatten)]
        settings: Settings,
        /// Also print what would be sent for a sample event (WhaTap frames decoded into
        /// fields, OTLP as OTLP/JSON), without sending it.
        #[arg(long, help_heading = "General")]
        show_wire: bool,
    },
    /// Serve Firehose HTTP endpoint deliveries as a long-running server (a container fleet
    /// behind a TLS-terminating load balancer), with /healthz, /readyz and /metrics.
    Serve {
        #[command(flatten)]
        settings: Settings,
        #[command(flatten)]
        args: rds_forwarder::serve::ServeArgs,
    },
    /// Subscribe existing log groups under a prefix to the forwarder (needs AWS credentials).
    Subscribe {
        #[command(flatten)]
        args: subscribe::SubscribeArgs,
    },
    /// Remove the subscription filters `subscribe` and auto-subscription put (needs AWS
    /// credentials): only those named rds-forwarder that send to --destination-arn.
    Unsubscribe {
        #[command(flatten)]
        args: subscribe::UnsubscribeArgs,
    },
}

fn main() -> ExitCode {
    // An unexpected panic prints one line and exits 70, never Rust's 101.
    exit::install_panic_hook();
    exit::guarded(run).into()
}

const REPLAY_EXAMPLES: &str = "\
Examples:
  # Every saved event under examples/, records as NDJSON on stdout
  rds-forwarder replay examples/
  # A raw RDS log file: wrap it into subscription events first
  rds-forwarder wrap --log-group /aws/rds/instance/mydb/postgresql --log-stream mydb.0 \\
    postgresql.log.2024-06-01-00 | rds-forwarder replay -
  # To WhaTap (hosts separated by / or ,), an OTLP/HTTP collector or Grafana Loki
  WHATAP_HOST=10.0.0.1/10.0.0.2 WHATAP_LICENSE=... rds-forwarder replay examples/
  rds-forwarder replay --otlp-endpoint http://localhost:4318 examples/
  rds-forwarder replay --loki-url http://localhost:3100 examples/
  # Before deploying: the same settings, checked (all errors at once, each sink contacted)
  rds-forwarder check";

/// The command line, with the exit status table under every `--help` (after
/// a subcommand's own examples, when it has some).
fn cli_command() -> clap::Command {
    Cli::command()
        .after_help(EXIT_CODES_HELP)
        .mut_subcommands(|c| {
            let after = match c.get_after_help() {
                Some(examples) => format!("{examples}\n\n{EXIT_CODES_HELP}"),
                None => EXIT_CODES_HELP.to_owned(),
            };
            c.after_help(after)
        })
}

fn run() -> Exit {
    let args: Vec<OsString> = std::env::args_os().collect();
    // Parsed first: `--help`, `--version` and usage errors need no secret
    // (and make no AWS call), whatever *_SECRET_ARN says.
    let matches = cli_command()
        .try_get_matches_from(&args)
        .unwrap_or_else(|e| e.exit());
    let subcommand = matches.subcommand_name().map(str::to_owned);
    let lambda_default =
        subcommand.is_none() && std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    // `serve` too: behind a load balancer it reads the Firehose access key
    // from RDSF_FIREHOSE_ACCESS_KEY_SECRET_ARN (deploy/firehose.yaml's secret).
    let takes_settings = lambda_default
        || matches!(
            subcommand.as_deref(),
            Some("lambda" | "replay" | "check" | "serve")
        );
    // `check` reads the secret references itself and reports each one
    // (a missing one is a finding there, not a reason to stop).
    let mut checked_secrets = None;
    let resolved = if !takes_settings {
        Vec::new()
    } else if subcommand.as_deref() == Some("check") {
        let outcome = resolve_secrets_for_check();
        let resolved = outcome.resolved.clone();
        checked_secrets = Some(outcome);
        resolved
    } else {
        match load_secrets() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("rds-forwarder: cannot read secrets: {e}");
                return Exit::Usage;
            }
        }
    };
    // The secrets reach the settings as flags in our own argument list,
    // never through the process environment (no `set_var`).
    let matches = if resolved.is_empty() || subcommand.is_none() {
        matches
    } else {
        let with_secrets = secret_args(&args, subcommand.as_deref(), &resolved);
        cli_command()
            .try_get_matches_from(&with_secrets)
            .unwrap_or_else(|e| e.exit())
    };
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let command = match cli.command {
        Some(c) => c,
        None if lambda_default => match Settings::from_env_with(&secret_flags(None, &resolved)) {
            Ok(settings) => Command::Lambda { settings },
            Err(e) => {
                eprintln!("rds-forwarder: configuration error: {e}");
                return Exit::Usage;
            }
        },
        None => {
            let _ = cli_command().print_help();
            return Exit::Usage;
        }
    };
    match command {
        Command::Lambda { settings } => run_lambda(settings),
        Command::Replay {
            settings,
            timeout_secs,
            paths,
        } => run_replay(settings, Duration::from_secs(timeout_secs), paths),
        Command::Wrap {
            log_group,
            log_stream,
            kind,
            batch,
            owner,
            rawfile,
        } => run_wrap(log_group, log_stream, kind, batch, owner, rawfile),
        Command::Serve { settings, args } => run_serve(settings, args),
        Command::Subscribe { args } => run_subscribe(args),
        Command::Unsubscribe { args } => run_unsubscribe(args),
        Command::Check {
            settings,
            show_wire,
        } => run_check(settings, show_wire, checked_secrets.unwrap_or_default()),
    }
}

/// `check`'s secrets: every reference read (when AWS credentials are at
/// hand), each outcome a check line.
fn resolve_secrets_for_check() -> check::SecretsOutcome {
    let aws = rdsf_aws::credentials::AwsContext::from_env()
        .map(|_| AwsSecrets::new())
        .map_err(|e| e.to_string());
    let source = match &aws {
        Ok(s) => Ok(s as &dyn rdsf_aws::SecretSource),
        Err(e) => Err(e.clone()),
    };
    runtime().block_on(check::resolve_secrets(|k| std::env::var(k).ok(), source))
}

/// `args` with each resolved secret as its setting's flag, right after the
/// subcommand (before any `--` or path). A flag the user gave on the command
/// line wins: its secret is not added.
fn secret_args(
    args: &[OsString],
    subcommand: Option<&str>,
    resolved: &[(&'static str, Secret)],
) -> Vec<OsString> {
    let at = args
        .iter()
        .position(|a| subcommand.is_some_and(|s| a == s))
        .map_or(args.len(), |i| i + 1);
    let given: Vec<&OsString> = args[at..].iter().collect();
    let flags = secret_flags(subcommand, resolved)
        .into_iter()
        .filter(|f| {
            let name = f.split('=').next().unwrap_or("");
            !given.iter().any(|a| {
                a.to_str()
                    .is_some_and(|a| a == name || a.starts_with(&format!("{name}=")))
            })
        })
        .map(OsString::from);
    let mut out: Vec<OsString> = args[..at].to_vec();
    out.extend(flags);
    out.extend(args[at..].iter().cloned());
    out
}

/// `--<long>=<value>` for each resolved secret, the flag found by the
/// environment variable its setting reads (`Settings` declares both).
fn secret_flags(subcommand: Option<&str>, resolved: &[(&'static str, Secret)]) -> Vec<String> {
    let cmd = cli_command();
    let scope = subcommand
        .and_then(|s| cmd.find_subcommand(s))
        .or_else(|| cmd.find_subcommand("lambda"));
    let Some(scope) = scope else {
        return Vec::new();
    };
    resolved
        .iter()
        .filter_map(|(var, secret)| {
            let arg = scope
                .get_arguments()
                .find(|a| a.get_env().is_some_and(|e| e == *var))?;
            Some(format!("--{}={}", arg.get_long()?, secret.expose()))
        })
        .collect()
}

fn run_check(settings: Settings, show_wire: bool, secrets: check::SecretsOutcome) -> Exit {
    init_tracing("warn", false);
    let (lines, config) = runtime().block_on(check::check_all(&settings, &secrets.unresolved));
    let lines: Vec<check::Line> = secrets.lines.into_iter().chain(lines).collect();
    let all_ok = lines.iter().all(|l| l.ok);
    let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    match (&config, show_wire) {
        (Some(config), true) => text.push_str(&check::show_wire(config)),
        (None, true) => {
            text.push_str("\n--show-wire: nothing to show until the settings are valid\n")
        }
        _ => {}
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if exit::is_closed_output(&e) {
            return Exit::StdoutClosed;
        }
        eprintln!("rds-forwarder: cannot write output: {e}");
        return Exit::Failed;
    }
    if all_ok {
        Exit::Ok
    } else {
        Exit::Failed
    }
}

const CHECK_EXAMPLES: &str = "\
Examples:
  # The settings you will deploy with, from the environment
  RDSF_SINKS=whatap WHATAP_HOST=10.0.0.1/10.0.0.2 WHATAP_LICENSE_SECRET_ARN=arn:... rds-forwarder check
  # An OTLP collector, and what it would receive
  rds-forwarder check --otlp-endpoint http://localhost:4318 --show-wire

  Each line is `ok` or `FAIL` and the reason; secret values are never printed.
  Exit 0: everything would work; 1: some check failed; 2: usage error.";

/// Resolves `<VAR>_SECRET_ARN` / `<VAR>_SSM_PARAMETER` (see
/// `aws::secrets`) once per process (a Lambda cold start). Makes no AWS call
/// when none is set.
fn load_secrets() -> Result<Vec<(&'static str, Secret)>, String> {
    let refs = secrets::references(rds_forwarder::config::secret_vars(), |k| {
        std::env::var(k).ok()
    })
    .map_err(|e| e.to_string())?;
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    runtime()
        .block_on(secrets::resolve(&AwsSecrets::new(), &refs))
        .map_err(|e| e.to_string())
}

fn run_subscribe(args: subscribe::SubscribeArgs) -> Exit {
    init_tracing("warn", false);
    subscribe_exit(runtime().block_on(subscribe::run(&AwsLogs::new(), &args)))
}

fn run_unsubscribe(args: subscribe::UnsubscribeArgs) -> Exit {
    init_tracing("warn", false);
    subscribe_exit(runtime().block_on(subscribe::run_unsubscribe(&AwsLogs::new(), &args)))
}

/// Prints what `subscribe` / `unsubscribe` did; the exit status it means.
fn subscribe_exit(result: Result<(String, bool), rdsf_aws::AwsError>) -> Exit {
    match result {
        Ok((text, all_ok)) => {
            print!("{text}");
            if all_ok {
                Exit::Ok
            } else {
                Exit::Failed
            }
        }
        Err(e) => {
            eprintln!("rds-forwarder: {e}");
            match e {
                rdsf_aws::AwsError::Invalid { .. } => Exit::Usage,
                rdsf_aws::AwsError::Call { .. } => Exit::Failed,
            }
        }
    }
}

/// Colour only for a person: stderr is a terminal and `NO_COLOR` is unset
/// (or empty, per no-color.org). Never escape codes in files or pipes.
fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn init_tracing(level: &str, json: bool) {
    // Libraries log at most at info: at debug/trace lambda_runtime logs
    // every raw event and hyper the bytes it moves — secrets included.
    let deps = if matches!(level, "debug" | "trace") {
        "info"
    } else {
        level
    };
    let filter = tracing_subscriber::EnvFilter::try_new(format!("{deps},rds_forwarder={level}"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        // lambda_runtime logs every handler error again as a Debug dump;
        // the pipeline and the handler have logged it once already (and a
        // panic gets its one line from our hook).
        .add_directive(
            "lambda_runtime::layers::panic=off"
                .parse()
                .expect("a valid directive"),
        );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(replay::stderr_writer)
        .with_ansi(use_colour())
        .with_target(false);
    if json {
        builder.json().without_time().init();
    } else {
        builder.init();
    }
}

fn build(settings: &Settings) -> Result<(Pipeline, Vec<Box<dyn sink::Sink>>), String> {
    let config =
        Config::from_settings(settings).map_err(|e| format!("configuration error: {e}"))?;
    let sinks = sink::build(&config.sinks).map_err(|e| format!("configuration error: {e}"))?;
    sink::announce_signals(&sinks);
    let options = config.rds_metadata.clone();
    let mut pipeline = Pipeline::new(config);
    // RDS metadata needs a region and credentials: Lambda always has them;
    // a command-line run without them (a local replay) looks nothing up.
    if options.enabled {
        match rdsf_aws::credentials::AwsContext::from_env() {
            Ok(_) => {
                let source = rdsf_aws::rds_metadata::RdsMetadataSource::from_env(&options);
                pipeline = pipeline.with_metadata(std::sync::Arc::new(source), options.budget);
            }
            Err(e) => {
                tracing::debug!(error = %e, "no AWS region or credentials: RDS metadata is off")
            }
        }
    }
    Ok((pipeline, sinks))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts")
}

fn run_lambda(settings: Settings) -> Exit {
    if let Err(e) = rds_forwarder::lambda::check_lambda_environment(|k| std::env::var(k).ok()) {
        eprintln!("rds-forwarder: lambda: {e}");
        return Exit::Usage;
    }
    let level = match settings.log_level() {
        Ok(l) => l,
        Err(e) => {
            init_tracing("info", true);
            tracing::error!("configuration error: {e}");
            return Exit::Usage;
        }
    };
    init_tracing(level, true);
    let (pipeline, sinks) = match build(&settings) {
        Ok(x) => x,
        Err(e) => {
            tracing::error!("{e}");
            return Exit::Usage;
        }
    };
    // Checked above: the Lambda service always sets the function's name.
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let handler = Arc::new(Handler {
        auto_subscribe: Some(settings.auto_subscribe.with(Box::new(AwsLogs::new()))),
        ..Handler::new(pipeline.under_lambda(&function), sinks)
    });
    let result = runtime().block_on(lambda_runtime::run(lambda_runtime::service_fn(
        move |event| handler.clone().handle_lambda(event),
    )));
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            tracing::error!("lambda runtime stopped: {e}");
            Exit::Failed
        }
    }
}

fn run_serve(settings: Settings, args: rds_forwarder::serve::ServeArgs) -> Exit {
    use rds_forwarder::serve;
    let (pipeline, sinks) = match start(&settings, true) {
        Ok(x) => x,
        Err(exit) => return exit,
    };
    if pipeline.config().firehose_access_key.is_none() {
        tracing::error!("RDSF_FIREHOSE_ACCESS_KEY is not set: every delivery would be refused");
        return Exit::Usage;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("no runtime: {e}");
            return Exit::Failed;
        }
    };
    let tls = match args.tls() {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("configuration error: {e}");
            return Exit::Usage;
        }
    };
    let server = serve::Server::new(pipeline, sinks, &args);
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(address = %args.listen, "cannot listen: {e}");
                return Exit::Failed;
            }
        };
        let address = listener.local_addr().map_or(args.listen, |a| a);
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%address, scheme, "listening for Firehose deliveries");
        match serve::run(listener, server, tls, serve::termination()).await {
            Ok(()) => {
                tracing::info!("stopped");
                Exit::Ok
            }
            Err(e) => {
                tracing::error!("server stopped: {e}");
                Exit::Failed
            }
        }
    })
}

/// Logging set up (JSON lines for a service) and the pipeline and sinks
/// built, or the exit for a configuration error, said once.
fn start(
    settings: &Settings,
    json_logs: bool,
) -> Result<(Pipeline, Vec<Box<dyn sink::Sink>>), Exit> {
    let level = settings.log_level().map_err(|e| {
        eprintln!("rds-forwarder: configuration error: {e}");
        Exit::Usage
    })?;
    init_tracing(level, json_logs);
    build(settings).map_err(|e| {
        if json_logs {
            tracing::error!("{e}");
        } else {
            eprintln!("rds-forwarder: {e}");
        }
        Exit::Usage
    })
}

fn run_replay(settings: Settings, timeout: Duration, paths: Vec<PathBuf>) -> Exit {
    let (pipeline, sinks) = match start(&settings, false) {
        Ok(x) => x,
        Err(exit) => return exit,
    };
    match runtime().block_on(replay::replay(&pipeline, &sinks, &paths, timeout)) {
        // Like grep or jq under `| head`: stop at once, quietly.
        Ok(summary) if summary.output_closed => Exit::StdoutClosed,
        Ok(summary) => {
            eprint!("{}", summary.render());
            if summary.failed() {
                Exit::Failed
            } else {
                Exit::Ok
            }
        }
        Err(e) => {
            eprintln!("rds-forwarder: cannot read input: {e}");
            Exit::Usage
        }
    }
}

fn run_wrap(
    log_group: String,
    log_stream: String,
    kind: Option<wrap::SplitKind>,
    batch: usize,
    owner: String,
    rawfile: PathBuf,
) -> Exit {
    let bytes = match std::fs::read(&rawfile) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("rds-forwarder: cannot read {}: {e}", rawfile.display());
            return Exit::Usage;
        }
    };
    // RDS publishes text; stray invalid bytes become U+FFFD as CloudWatch does.
    let text = String::from_utf8_lossy(&bytes);
    if let Some(w) = wrap::kind_warning(&log_group, kind) {
        eprintln!("rds-forwarder: warning: {w}");
    }
    let opts = wrap::WrapOptions {
        kind: kind.unwrap_or_else(|| wrap::SplitKind::for_log_group(&log_group)),
        log_group,
        log_stream,
        owner,
        batch,
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let wrapped = wrap::wrap_report(&text, &opts);
    if let Some(w) = wrapped.warning() {
        eprintln!("rds-forwarder: warning: {w}");
    }
    for payload in wrapped.payloads {
        if let Err(e) = writeln!(out, "{payload}").and_then(|()| out.flush()) {
            if exit::is_closed_output(&e) {
                return Exit::StdoutClosed;
            }
            eprintln!("rds-forwarder: cannot write output: {e}");
            return Exit::Failed;
        }
    }
    Exit::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    /// A resolved secret becomes its setting's flag right after the
    /// subcommand (so a path or `--` after it stays what it was), unless the
    /// user gave that flag on the command line.
    #[test]
    fn secrets_go_in_as_flags_after_the_subcommand_unless_given() {
        let resolved = [("WHATAP_LICENSE", Secret::new("s3cret"))];
        let got = secret_args(
            &os(&["rds-forwarder", "replay", "--", "-"]),
            Some("replay"),
            &resolved,
        );
        assert_eq!(
            got,
            os(&[
                "rds-forwarder",
                "replay",
                "--whatap-license=s3cret",
                "--",
                "-"
            ])
        );
        for given in [
            &[
                "rds-forwarder",
                "replay",
                "--whatap-license",
                "mine",
                "x.json",
            ][..],
            &["rds-forwarder", "replay", "--whatap-license=mine", "x.json"],
        ] {
            assert_eq!(
                secret_args(&os(given), Some("replay"), &resolved),
                os(given)
            );
        }
        // Lambda mode (no subcommand) finds the flag on the `lambda` command.
        assert_eq!(
            secret_flags(None, &resolved),
            ["--whatap-license=s3cret".to_owned()]
        );
    }
}
