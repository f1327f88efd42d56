//! Subscribing RDS log groups to the forwarder: one group (a CloudTrail
//! `CreateLogGroup` event, handled by the Lambda) or every group under a
//! prefix (`rds-forwarder subscribe`). Idempotent: the filter always has the
//! same name, and putting it again replaces it. `rds-forwarder unsubscribe`
//! deletes exactly those filters again (that name, that destination).

use super::{AwsError, LogGroupSubscriber, SUBSCRIPTION_FILTER_NAME};

/// Auto-subscription settings, as given.
#[derive(Debug, Clone, clap::Args)]
pub struct AutoSubscribeSettings {
    /// Auto-subscription (Lambda): only new log groups under this prefix get a subscription filter.
    #[arg(
        help_heading = "Auto-subscription",
        long,
        env = "RDSF_AUTO_SUBSCRIBE_PREFIX",
        default_value = "/aws/rds/"
    )]
    pub auto_subscribe_prefix: String,

    /// Auto-subscription (Lambda): where new groups' filters send events; default: this function.
    #[arg(
        help_heading = "Auto-subscription",
        long,
        env = "RDSF_SUBSCRIPTION_DESTINATION_ARN"
    )]
    pub subscription_destination_arn: Option<String>,
}

impl AutoSubscribeSettings {
    /// What the handler needs, with `subscriber` making the calls.
    pub fn with(&self, subscriber: Box<dyn LogGroupSubscriber>) -> AutoSubscribe {
        AutoSubscribe {
            subscriber,
            prefix: self.auto_subscribe_prefix.clone(),
            destination_arn: self
                .subscription_destination_arn
                .clone()
                .filter(|a| !a.is_empty()),
        }
    }
}

/// What the Lambda handler needs to subscribe new log groups.
pub struct AutoSubscribe {
    pub subscriber: Box<dyn LogGroupSubscriber>,
    /// Only groups under this prefix are subscribed (the rule filters too;
    /// this is the second line of defence).
    pub prefix: String,
    /// Where the filter sends events; `None` means the invoked function
    /// itself (its ARN from the Lambda context).
    pub destination_arn: Option<String>,
}

impl AutoSubscribe {
    /// Whether a new log group is one to subscribe: under the prefix, or
    /// the one group RDS Enhanced Monitoring writes (`RDSOSMetrics`, a
    /// region-wide group outside `/aws/rds/`). Whether its creation reaches
    /// the function at all is setup.yaml's switch
    /// (`SubscribeEnhancedMonitoring`: the rule's pattern and the role's
    /// permission); this is the second line of defence for both.
    pub fn wants(&self, log_group: &str) -> bool {
        log_group.starts_with(&self.prefix)
            || log_group == rdsf_core::enhanced_monitoring::LOG_GROUP
    }
}

/// The outcome of one `subscribe` run.
#[derive(Debug, Default)]
pub struct SubscribeReport {
    /// Groups subscribed (or, in a dry run, that would be).
    pub subscribed: Vec<String>,
    /// Groups whose filter could not be put, with why.
    pub failed: Vec<(String, AwsError)>,
}

/// Lists every log group under `prefix` and puts the forwarder's filter on
/// each. A group that fails (e.g. it already has two other filters) is
/// reported and the rest go on.
pub async fn subscribe_prefix(
    subscriber: &dyn LogGroupSubscriber,
    prefix: &str,
    destination_arn: &str,
    dry_run: bool,
) -> Result<SubscribeReport, AwsError> {
    let mut report = SubscribeReport::default();
    for group in subscriber.list_log_groups(prefix).await? {
        // DescribeLogGroups matches the prefix already; a fake or a future
        // API change must not widen what we touch.
        if !group.starts_with(prefix) {
            continue;
        }
        if dry_run {
            report.subscribed.push(group);
            continue;
        }
        match subscriber
            .put_subscription_filter(&group, SUBSCRIPTION_FILTER_NAME, destination_arn)
            .await
        {
            Ok(()) => report.subscribed.push(group),
            Err(e) => report.failed.push((group, e)),
        }
    }
    Ok(report)
}

/// The outcome of one `unsubscribe` run.
#[derive(Debug, Default)]
pub struct UnsubscribeReport {
    /// Groups whose forwarder filter was deleted (or, in a dry run, would be).
    pub removed: Vec<String>,
    /// Groups with a filter of the forwarder's name that sends elsewhere:
    /// not ours to delete. (group, its destination)
    pub left: Vec<(String, String)>,
    /// Groups whose filters could not be listed or deleted, with why.
    pub failed: Vec<(String, AwsError)>,
}

/// Deletes, from every log group under `prefix`, the filter `subscribe`
/// (and auto-subscription) put there: named [`SUBSCRIPTION_FILTER_NAME`]
/// and sending to `destination_arn`. Any other filter is left alone.
pub async fn unsubscribe_prefix(
    subscriber: &dyn LogGroupSubscriber,
    prefix: &str,
    destination_arn: &str,
    dry_run: bool,
) -> Result<UnsubscribeReport, AwsError> {
    let mut report = UnsubscribeReport::default();
    for group in subscriber.list_log_groups(prefix).await? {
        if !group.starts_with(prefix) {
            continue;
        }
        let filters = match subscriber
            .list_subscription_filters(&group, SUBSCRIPTION_FILTER_NAME)
            .await
        {
            Ok(f) => f,
            Err(e) => {
                report.failed.push((group, e));
                continue;
            }
        };
        // The prefix match may list `rds-forwarder-x` too: only the exact name.
        let Some((_, destination)) = filters
            .into_iter()
            .find(|(name, _)| name == SUBSCRIPTION_FILTER_NAME)
        else {
            continue;
        };
        if destination != destination_arn {
            report.left.push((group, destination));
            continue;
        }
        if dry_run {
            report.removed.push(group);
            continue;
        }
        match subscriber
            .delete_subscription_filter(&group, SUBSCRIPTION_FILTER_NAME)
            .await
        {
            Ok(()) => report.removed.push(group),
            Err(e) => report.failed.push((group, e)),
        }
    }
    Ok(report)
}

#[cfg(any(test, feature = "fake"))]
pub mod fake {
    //! An in-memory subscriber for handler and command tests (this crate's,
    //! and the binary's through the `fake` feature).
    use std::sync::{Arc, Mutex};

    use super::*;
    use rdsf_core::boxed::BoxFuture;

    #[derive(Default)]
    pub struct FakeLogs {
        pub groups: Vec<String>,
        /// (group, filter name, destination) for every put.
        pub puts: Arc<Mutex<Vec<(String, String, String)>>>,
        /// Groups whose put fails.
        pub refuse: Vec<String>,
        /// Existing filters: (group, filter name, destination).
        pub filters: Arc<Mutex<Vec<(String, String, String)>>>,
    }

    impl LogGroupSubscriber for FakeLogs {
        fn put_subscription_filter<'a>(
            &'a self,
            log_group: &'a str,
            filter_name: &'a str,
            destination_arn: &'a str,
        ) -> BoxFuture<'a, Result<(), AwsError>> {
            Box::pin(async move {
                if self.refuse.iter().any(|g| g == log_group) {
                    return Err(AwsError::Call {
                        call: "logs:PutSubscriptionFilter",
                        target: log_group.to_owned(),
                        detail: "LimitExceededException".to_owned(),
                        retryable: true,
                    });
                }
                self.puts.lock().unwrap().push((
                    log_group.to_owned(),
                    filter_name.to_owned(),
                    destination_arn.to_owned(),
                ));
                Ok(())
            })
        }

        fn list_log_groups<'a>(
            &'a self,
            prefix: &'a str,
        ) -> BoxFuture<'a, Result<Vec<String>, AwsError>> {
            Box::pin(async move {
                Ok(self
                    .groups
                    .iter()
                    .filter(|g| g.starts_with(prefix))
                    .cloned()
                    .collect())
            })
        }

        fn list_subscription_filters<'a>(
            &'a self,
            log_group: &'a str,
            name_prefix: &'a str,
        ) -> BoxFuture<'a, Result<Vec<(String, String)>, AwsError>> {
            Box::pin(async move {
                Ok(self
                    .filters
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(g, n, _)| g == log_group && n.starts_with(name_prefix))
                    .map(|(_, n, d)| (n.clone(), d.clone()))
                    .collect())
            })
        }

        fn delete_subscription_filter<'a>(
            &'a self,
            log_group: &'a str,
            filter_name: &'a str,
        ) -> BoxFuture<'a, Result<(), AwsError>> {
            Box::pin(async move {
                self.filters
                    .lock()
                    .unwrap()
                    .retain(|(g, n, _)| !(g == log_group && n == filter_name));
                Ok(())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeLogs;
    use super::*;

    #[test]
    fn auto_subscription_wants_the_prefix_and_enhanced_monitorings_group_only() {
        let auto = AutoSubscribe {
            subscriber: Box::new(FakeLogs::default()),
            prefix: "/aws/rds/".into(),
            destination_arn: None,
        };
        for yes in ["/aws/rds/instance/a/postgresql", "RDSOSMetrics"] {
            assert!(auto.wants(yes), "{yes}");
        }
        for no in [
            "/aws/lambda/x",
            "RDSOSMetricsX",
            "rdsosmetrics",
            "/RDSOSMetrics",
            "",
        ] {
            assert!(!auto.wants(no), "{no}");
        }
    }

    #[test]
    fn subscribes_every_group_under_the_prefix_and_reports_failures() {
        let logs = FakeLogs {
            groups: vec![
                "/aws/rds/instance/a/postgresql".into(),
                "/aws/rds/cluster/b/error".into(),
                "/aws/lambda/other".into(),
            ],
            refuse: vec!["/aws/rds/cluster/b/error".into()],
            ..Default::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let dry = rt
            .block_on(subscribe_prefix(&logs, "/aws/rds/", "arn:fn", true))
            .unwrap();
        assert_eq!(dry.subscribed.len(), 2);
        assert!(logs.puts.lock().unwrap().is_empty());

        let report = rt
            .block_on(subscribe_prefix(&logs, "/aws/rds/", "arn:fn", false))
            .unwrap();
        assert_eq!(
            report.subscribed,
            vec!["/aws/rds/instance/a/postgresql".to_owned()]
        );
        assert_eq!(report.failed.len(), 1);
        assert_eq!(
            *logs.puts.lock().unwrap(),
            vec![(
                "/aws/rds/instance/a/postgresql".to_owned(),
                "rds-forwarder".to_owned(),
                "arn:fn".to_owned()
            )]
        );
    }
}
