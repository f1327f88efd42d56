//! The real [`SecretSource`] and [`LogGroupSubscriber`], over the official
//! AWS SDK crates (lean features: no SSO, no credential process). The
//! region, credentials and `AWS_ENDPOINT_URL` come from the environment as
//! in any SDK, so Lambda, a shell and the emulator test behave alike.

use aws_config::BehaviorVersion;
use aws_sdk_cloudwatchlogs::error::DisplayErrorContext;
use tokio::sync::OnceCell;

use super::{AwsError, LogGroupSubscriber, SecretRef, SecretSource};
use crate::secret::Secret;
use crate::sink::BoxFuture;

async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// Secrets Manager and SSM Parameter Store; clients built on first use.
#[derive(Default)]
pub struct SdkSecrets {
    config: OnceCell<aws_config::SdkConfig>,
}

impl SdkSecrets {
    pub fn new() -> Self {
        Self::default()
    }

    async fn config(&self) -> &aws_config::SdkConfig {
        self.config.get_or_init(sdk_config).await
    }
}

impl SecretSource for SdkSecrets {
    fn get<'a>(&'a self, secret: &'a SecretRef) -> BoxFuture<'a, Result<Secret, AwsError>> {
        Box::pin(async move {
            let config = self.config().await;
            match secret {
                SecretRef::SecretsManager(id) => {
                    let client = aws_sdk_secretsmanager::Client::new(config);
                    let out = client
                        .get_secret_value()
                        .secret_id(id)
                        .send()
                        .await
                        .map_err(|e| AwsError::Call {
                            call: "secretsmanager:GetSecretValue",
                            target: id.clone(),
                            detail: DisplayErrorContext(e).to_string(),
                        })?;
                    out.secret_string()
                        .map(Secret::new)
                        .ok_or_else(|| AwsError::Invalid {
                            target: secret.to_string(),
                            detail: "has no SecretString (binary secrets are not supported)"
                                .to_owned(),
                        })
                }
                SecretRef::SsmParameter(name) => {
                    let client = aws_sdk_ssm::Client::new(config);
                    let out = client
                        .get_parameter()
                        .name(name)
                        .with_decryption(true)
                        .send()
                        .await
                        .map_err(|e| AwsError::Call {
                            call: "ssm:GetParameter",
                            target: name.clone(),
                            detail: DisplayErrorContext(e).to_string(),
                        })?;
                    out.parameter()
                        .and_then(|p| p.value())
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

/// CloudWatch Logs; the client is built on first use so invocations that
/// never subscribe anything pay nothing at cold start.
#[derive(Default)]
pub struct SdkLogs {
    client: OnceCell<aws_sdk_cloudwatchlogs::Client>,
}

impl SdkLogs {
    pub fn new() -> Self {
        Self::default()
    }

    async fn client(&self) -> &aws_sdk_cloudwatchlogs::Client {
        self.client
            .get_or_init(|| async { aws_sdk_cloudwatchlogs::Client::new(&sdk_config().await) })
            .await
    }
}

impl LogGroupSubscriber for SdkLogs {
    fn put_subscription_filter<'a>(
        &'a self,
        log_group: &'a str,
        filter_name: &'a str,
        destination_arn: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            self.client()
                .await
                .put_subscription_filter()
                .log_group_name(log_group)
                .filter_name(filter_name)
                // Every event: parsing and filtering happen in the function.
                .filter_pattern("")
                .destination_arn(destination_arn)
                .send()
                .await
                .map_err(|e| AwsError::Call {
                    call: "logs:PutSubscriptionFilter",
                    target: log_group.to_owned(),
                    detail: DisplayErrorContext(e).to_string(),
                })?;
            Ok(())
        })
    }

    fn list_log_groups<'a>(
        &'a self,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, AwsError>> {
        Box::pin(async move {
            let mut pages = self
                .client()
                .await
                .describe_log_groups()
                .log_group_name_prefix(prefix)
                .into_paginator()
                .send();
            let mut names = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::Call {
                    call: "logs:DescribeLogGroups",
                    target: format!("prefix {prefix}"),
                    detail: DisplayErrorContext(e).to_string(),
                })?;
                names.extend(
                    page.log_groups()
                        .iter()
                        .filter_map(|g| g.log_group_name().map(str::to_owned)),
                );
            }
            Ok(names)
        })
    }
}
