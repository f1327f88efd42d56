//! `rds-forwarder subscribe`: puts the forwarder's subscription filter on
//! every existing log group under a prefix — the one-off catch-up beside
//! auto-subscription, which only sees groups created after it was enabled.

use std::fmt::Write as _;

use clap::Args;

use crate::aws::subscribe::{subscribe_prefix, SubscribeReport};
use crate::aws::{AwsError, LogGroupSubscriber, RDS_LOG_GROUP_PREFIX, SUBSCRIPTION_FILTER_NAME};

#[derive(Debug, Clone, Args)]
pub struct SubscribeArgs {
    /// Log groups whose names start with this are subscribed.
    #[arg(long, default_value = RDS_LOG_GROUP_PREFIX)]
    pub prefix: String,
    /// The forwarder function's ARN (the install stack's FunctionArn output).
    #[arg(long)]
    pub destination_arn: String,
    /// List what would be subscribed without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs the command; the text is what to print (one line per group, then a
/// summary) and the flag says whether every group succeeded.
pub async fn run(
    subscriber: &dyn LogGroupSubscriber,
    args: &SubscribeArgs,
) -> Result<(String, bool), AwsError> {
    if args.prefix.is_empty() {
        return Err(AwsError::Invalid {
            target: "--prefix".to_owned(),
            detail: "must not be empty (it would subscribe every log group in the account)"
                .to_owned(),
        });
    }
    let report = subscribe_prefix(
        subscriber,
        &args.prefix,
        &args.destination_arn,
        args.dry_run,
    )
    .await?;
    Ok((render(&report, args), report.failed.is_empty()))
}

fn render(report: &SubscribeReport, args: &SubscribeArgs) -> String {
    let verb = if args.dry_run {
        "would subscribe"
    } else {
        "subscribed"
    };
    let mut out = String::new();
    for group in &report.subscribed {
        let _ = writeln!(out, "{verb} {group}");
    }
    for (group, e) in &report.failed {
        let _ = writeln!(out, "FAILED {group}: {e}");
    }
    let _ = writeln!(
        out,
        "{} log group(s) under {} {verb} (filter {SUBSCRIPTION_FILTER_NAME} -> {}), {} failed",
        report.subscribed.len(),
        args.prefix,
        args.destination_arn,
        report.failed.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::subscribe::fake::FakeLogs;

    #[test]
    fn prints_each_group_and_refuses_an_empty_prefix() {
        let logs = FakeLogs {
            groups: vec!["/aws/rds/instance/a/error".into()],
            ..Default::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let args = SubscribeArgs {
            prefix: "/aws/rds/".into(),
            destination_arn: "arn:aws:lambda:us-east-1:1:function:f".into(),
            dry_run: true,
        };
        let (text, ok) = rt.block_on(run(&logs, &args)).unwrap();
        assert!(ok);
        assert!(
            text.starts_with("would subscribe /aws/rds/instance/a/error\n"),
            "{text}"
        );
        let empty = SubscribeArgs {
            prefix: String::new(),
            ..args
        };
        assert!(rt.block_on(run(&logs, &empty)).is_err());
    }
}
