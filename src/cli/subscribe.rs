//! `rds-forwarder subscribe`: puts the forwarder's subscription filter on
//! every existing log group under a prefix — the one-off catch-up beside
//! auto-subscription, which only sees groups created after it was enabled;
//! and `rds-forwarder unsubscribe`, which removes those filters again (they
//! are outside CloudFormation, so deleting the stacks leaves them).

use std::fmt::Write as _;

use clap::Args;

use rdsf_aws::subscribe::{
    subscribe_prefix, unsubscribe_prefix, SubscribeReport, UnsubscribeReport,
};
use rdsf_aws::{AwsError, LogGroupSubscriber, RDS_LOG_GROUP_PREFIX, SUBSCRIPTION_FILTER_NAME};

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

#[derive(Debug, Clone, Args)]
pub struct UnsubscribeArgs {
    /// Log groups whose names start with this lose the forwarder's filter.
    #[arg(long, default_value = RDS_LOG_GROUP_PREFIX)]
    pub prefix: String,
    /// The forwarder function's ARN: only filters named `rds-forwarder` that send
    /// here are deleted (any other filter is left alone).
    #[arg(long)]
    pub destination_arn: String,
    /// List what would be removed without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `unsubscribe`; as [`run`], the text to print and whether every
/// group succeeded.
pub async fn run_unsubscribe(
    logs: &dyn LogGroupSubscriber,
    args: &UnsubscribeArgs,
) -> Result<(String, bool), AwsError> {
    if args.prefix.is_empty() {
        return Err(AwsError::Invalid {
            target: "--prefix".to_owned(),
            detail: "must not be empty (it would look at every log group in the account)"
                .to_owned(),
        });
    }
    if args.destination_arn.trim().is_empty() {
        return Err(AwsError::Invalid {
            target: "--destination-arn".to_owned(),
            detail: "must name the function whose filters to remove".to_owned(),
        });
    }
    let report =
        unsubscribe_prefix(logs, &args.prefix, &args.destination_arn, args.dry_run).await?;
    Ok((render_unsubscribe(&report, args), report.failed.is_empty()))
}

fn render_unsubscribe(report: &UnsubscribeReport, args: &UnsubscribeArgs) -> String {
    let verb = if args.dry_run {
        "would unsubscribe"
    } else {
        "unsubscribed"
    };
    let mut out = String::new();
    for group in &report.removed {
        let _ = writeln!(out, "{verb} {group}");
    }
    for (group, destination) in &report.left {
        let _ = writeln!(
            out,
            "left {group}: its {SUBSCRIPTION_FILTER_NAME} filter sends to {destination}"
        );
    }
    for (group, e) in &report.failed {
        let _ = writeln!(out, "FAILED {group}: {e}");
    }
    let _ = writeln!(
        out,
        "{} log group(s) under {} {verb} (filter {SUBSCRIPTION_FILTER_NAME} -> {}), {} left alone, {} failed",
        report.removed.len(),
        args.prefix,
        args.destination_arn,
        report.left.len(),
        report.failed.len()
    );
    out
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
    use rdsf_aws::subscribe::fake::FakeLogs;

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

    #[test]
    fn unsubscribe_deletes_only_the_filter_subscribe_put() {
        let fwd = "arn:aws:lambda:us-east-1:1:function:rds-forwarder";
        let other = "arn:aws:lambda:us-east-1:1:function:someone-else";
        let logs = FakeLogs {
            groups: vec![
                "/aws/rds/instance/a/error".into(),
                "/aws/rds/instance/b/error".into(),
                "/aws/rds/instance/c/error".into(),
            ],
            ..Default::default()
        };
        let filters = [
            ("/aws/rds/instance/a/error", "rds-forwarder", fwd),
            ("/aws/rds/instance/a/error", "audit", other),
            ("/aws/rds/instance/b/error", "rds-forwarder", other),
            ("/aws/rds/instance/c/error", "rds-forwarder-old", fwd),
        ];
        *logs.filters.lock().unwrap() = filters
            .iter()
            .map(|(g, n, d)| (g.to_string(), n.to_string(), d.to_string()))
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut args = UnsubscribeArgs {
            prefix: "/aws/rds/".into(),
            destination_arn: fwd.into(),
            dry_run: true,
        };
        let (text, ok) = rt.block_on(run_unsubscribe(&logs, &args)).unwrap();
        assert!(ok);
        assert_eq!(
            text,
            format!(
                "would unsubscribe /aws/rds/instance/a/error\n\
                 left /aws/rds/instance/b/error: its rds-forwarder filter sends to {other}\n\
                 1 log group(s) under /aws/rds/ would unsubscribe (filter rds-forwarder -> {fwd}), 1 left alone, 0 failed\n"
            )
        );
        assert_eq!(logs.filters.lock().unwrap().len(), 4, "dry run");
        args.dry_run = false;
        rt.block_on(run_unsubscribe(&logs, &args)).unwrap();
        let left: Vec<_> = logs.filters.lock().unwrap().clone();
        assert_eq!(left.len(), 3);
        assert!(!left
            .iter()
            .any(|(g, n, _)| g == "/aws/rds/instance/a/error" && n == "rds-forwarder"));
        args.destination_arn = " ".into();
        assert!(rt.block_on(run_unsubscribe(&logs, &args)).is_err());
    }
}
