//! The real [`SecretSource`] and [`LogGroupSubscriber`]: the four AWS
//! operations the forwarder needs, as signed JSON-1.1 calls ([`client`]).
//! Region, credentials and `AWS_ENDPOINT_URL` come from the environment as
//! in the SDK, so Lambda, a shell and the emulator test behave alike.

use serde_json::{json, Value};
use tokio::sync::OnceCell;

use super::client::{AwsClient, LOGS, SECRETS_MANAGER, SSM};
use super::{AwsError, LogGroupSubscriber, SecretRef, SecretSource};
use rdsf_core::boxed::BoxFuture;
use rdsf_core::secret::Secret;

/// Builds the client on first use, so invocations that never call AWS pay
/// nothing at cold start; a failed build is tried again next time.
#[derive(Default)]
struct LazyClient(OnceCell<AwsClient>);

impl LazyClient {
    async fn get(&self) -> Result<&AwsClient, AwsError> {
        self.0
            .get_or_try_init(|| async { AwsClient::from_env() })
            .await
    }
}

/// Secrets Manager and SSM Parameter Store.
#[derive(Default)]
pub struct AwsSecrets {
    client: LazyClient,
}

impl AwsSecrets {
    pub fn new() -> Self {
        Self::default()
    }
}

impl SecretSource for AwsSecrets {
    fn get<'a>(&'a self, secret: &'a SecretRef) -> BoxFuture<'a, Result<Secret, AwsError>> {
        Box::pin(async move {
            let client = self.client.get().await?;
            match secret {
                SecretRef::SecretsManager(id) => {
                    let out = client
                        .call(
                            &SECRETS_MANAGER,
                            "GetSecretValue",
                            &json!({ "SecretId": id }),
                            "secretsmanager:GetSecretValue",
                            id,
                        )
                        .await?;
                    out.get("SecretString")
                        .and_then(Value::as_str)
                        .map(Secret::new)
                        .ok_or_else(|| AwsError::Invalid {
                            target: secret.to_string(),
                            detail: "has no SecretString (binary secrets are not supported)"
                                .to_owned(),
                        })
                }
                SecretRef::SsmParameter(name) => {
                    let out = client
                        .call(
                            &SSM,
                            "GetParameter",
                            &json!({ "Name": name, "WithDecryption": true }),
                            "ssm:GetParameter",
                            name,
                        )
                        .await?;
                    out.pointer("/Parameter/Value")
                        .and_then(Value::as_str)
                        .map(Secret::new)
                        .ok_or_else(|| AwsError::Invalid {
                            target: secret.to_string(),
                            detail: "has no value".to_owned(),
                        })
                }
            }
        })
    }
}

/// CloudWatch Logs.
#[derive(Default)]
pub struct AwsLogs {
    client: LazyClient,
}

impl AwsLogs {
    pub fn new() -> Self {
        Self::default()
    }
}

impl LogGroupSubscriber for AwsLogs {
    fn put_subscription_filter<'a>(
        &'a self,
        log_group: &'a str,
        filter_name: &'a str,
        destination_arn: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            let input = json!({
                "logGroupName": log_group,
                "filterName": filter_name,
                // Every event: parsing and filtering happen in the function.
                "filterPattern": "",
                "destinationArn": destination_arn,
            });
            self.client
                .get()
                .await?
                .call(
                    &LOGS,
                    "PutSubscriptionFilter",
                    &input,
                    "logs:PutSubscriptionFilter",
                    log_group,
                )
                .await?;
            Ok(())
        })
    }

    fn list_log_groups<'a>(
        &'a self,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, AwsError>> {
        Box::pin(async move {
            let client = self.client.get().await?;
            let target = format!("prefix {prefix}");
            let mut names = Vec::new();
            let mut next_token: Option<String> = None;
            loop {
                let mut input = json!({ "logGroupNamePrefix": prefix });
                if let Some(token) = &next_token {
                    input["nextToken"] = Value::from(token.as_str());
                }
                let page = client
                    .call(
                        &LOGS,
                        "DescribeLogGroups",
                        &input,
                        "logs:DescribeLogGroups",
                        &target,
                    )
                    .await?;
                names.extend(
                    page.get("logGroups")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|g| g.get("logGroupName").and_then(Value::as_str))
                        .map(str::to_owned),
                );
                match page.get("nextToken").and_then(Value::as_str) {
                    // A repeated token would loop forever; the SDK's
                    // paginator stops on it too.
                    Some(token) if !token.is_empty() && next_token.as_deref() != Some(token) => {
                        next_token = Some(token.to_owned());
                    }
                    _ => return Ok(names),
                }
            }
        })
    }

    fn list_subscription_filters<'a>(
        &'a self,
        log_group: &'a str,
        name_prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, AwsError>> {
        Box::pin(async move {
            let client = self.client.get().await?;
            let mut filters = Vec::new();
            let mut next_token: Option<String> = None;
            loop {
                let mut input = json!({
                    "logGroupName": log_group,
                    "filterNamePrefix": name_prefix,
                });
                if let Some(token) = &next_token {
                    input["nextToken"] = Value::from(token.as_str());
                }
                let page = client
                    .call(
                        &LOGS,
                        "DescribeSubscriptionFilters",
                        &input,
                        "logs:DescribeSubscriptionFilters",
                        log_group,
                    )
                    .await?;
                filters.extend(
                    page.get("subscriptionFilters")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|f| {
                            let name = f.get("filterName")?.as_str()?;
                            let destination = f.get("destinationArn")?.as_str()?;
                            Some((name.to_owned(), destination.to_owned()))
                        }),
                );
                match page.get("nextToken").and_then(Value::as_str) {
                    Some(token) if !token.is_empty() && next_token.as_deref() != Some(token) => {
                        next_token = Some(token.to_owned());
                    }
                    _ => return Ok(filters),
                }
            }
        })
    }

    fn delete_subscription_filter<'a>(
        &'a self,
        log_group: &'a str,
        filter_name: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            let input = json!({ "logGroupName": log_group, "filterName": filter_name });
            self.client
                .get()
                .await?
                .call(
                    &LOGS,
                    "DeleteSubscriptionFilter",
                    &input,
                    "logs:DeleteSubscriptionFilter",
                    log_group,
                )
                .await?;
            Ok(())
        })
    }
}
