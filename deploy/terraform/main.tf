# What deploy/install.yaml makes: the function, its role, its own log group,
# the invoke permission for CloudWatch Logs and the failure queue.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id
  ssm_arn   = "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter"

  # The same variables install.yaml sets: secrets only by reference.
  environment = {
    RDSF_SINKS                               = var.sinks
    RDSF_LOG_LEVEL                           = var.log_level
    RDSF_AUTO_SUBSCRIBE_PREFIX               = var.subscribed_log_group_prefix
    RDSF_RDS_METADATA                        = var.rds_metadata
    RDSF_RDS_TAG_KEYS                        = var.rds_tag_keys
    WHATAP_HOST                              = var.whatap_host
    WHATAP_PORT                              = tostring(var.whatap_port)
    WHATAP_PCODE                             = var.whatap_pcode
    WHATAP_LICENSE_SECRET_ARN                = var.whatap_license_secret_arn
    WHATAP_LICENSE_SSM_PARAMETER             = var.whatap_license_ssm_parameter
    OTEL_EXPORTER_OTLP_ENDPOINT              = var.otlp_endpoint
    OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN    = var.otlp_headers_secret_arn
    OTEL_EXPORTER_OTLP_HEADERS_SSM_PARAMETER = var.otlp_headers_ssm_parameter
    LOKI_URL                                 = var.loki_url
    LOKI_TENANT_ID                           = var.loki_tenant_id
    LOKI_BASIC_AUTH_SECRET_ARN               = var.loki_basic_auth_secret_arn
    LOKI_BASIC_AUTH_SSM_PARAMETER            = var.loki_basic_auth_ssm_parameter
    LOKI_BEARER_TOKEN_SECRET_ARN             = var.loki_bearer_token_secret_arn
    LOKI_BEARER_TOKEN_SSM_PARAMETER          = var.loki_bearer_token_ssm_parameter
    LOKI_ENCODING                            = var.loki_encoding
    LOKI_TIMEOUT                             = tostring(var.loki_timeout_ms)
    LOKI_LABELS                              = var.loki_labels
    RDSF_FIREHOSE_ACCESS_KEY_SECRET_ARN      = var.firehose_access_key_secret_arn
    RDSF_FIREHOSE_ACCESS_KEY_SSM_PARAMETER   = var.firehose_access_key_ssm_parameter
    RDSF_METRICS                             = var.metrics
    RDSF_OS_TOP_PROCESSES                    = tostring(var.os_top_processes)
    RDSF_QUERY_METRICS_TOP                   = tostring(var.query_metrics_top)
    RDSF_SELF_METRICS                        = var.self_metrics
    RDSF_METRICS_NAMESPACE                   = var.metrics_namespace
  }
  # Unset when empty: an empty LOKI_LABELS would mean no labels, not the default.
  unset_when_empty = ["LOKI_LABELS"]
}

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:The group holds the forwarder's diagnostics (no secrets, which are never logged); CloudWatch Logs encrypts at rest by default.
  #checkov:skip=CKV_AWS_338:Retention is log_retention_days (30 by default, as in install.yaml); a year of diagnostics is the user's choice, not the module's.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_sqs_queue" "failures" {
  name                      = "${var.name}-failures"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = var.failure_retention_seconds
}

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = var.name
  description        = "rds-forwarder execution role (own log group, failure queue, named secrets, read-only RDS metadata)"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# The role's statements, each with the Sid install.yaml gives it; a secret's
# statement exists only when its reference is set, and names only it.
data "aws_iam_policy_document" "function" {
  statement {
    sid       = "OwnLogGroupOnly"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }

  statement {
    sid       = "FailureDestination"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }

  dynamic "statement" {
    for_each = var.whatap_license_secret_arn == "" ? [] : [var.whatap_license_secret_arn]
    content {
      sid       = "WhatapLicenseSecret"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.whatap_license_ssm_parameter == "" ? [] : [var.whatap_license_ssm_parameter]
    content {
      sid       = "WhatapLicenseParameter"
      effect    = "Allow"
      actions   = ["ssm:GetParameter"]
      resources = ["${local.ssm_arn}/${trimprefix(statement.value, "/")}"]
    }
  }

  dynamic "statement" {
    for_each = var.otlp_headers_secret_arn == "" ? [] : [var.otlp_headers_secret_arn]
    content {
      sid       = "OtlpHeadersSecret"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.otlp_headers_ssm_parameter == "" ? [] : [var.otlp_headers_ssm_parameter]
    content {
      sid       = "OtlpHeadersParameter"
      effect    = "Allow"
      actions   = ["ssm:GetParameter"]
      resources = ["${local.ssm_arn}/${trimprefix(statement.value, "/")}"]
    }
  }

  dynamic "statement" {
    for_each = var.loki_basic_auth_secret_arn == "" ? [] : [var.loki_basic_auth_secret_arn]
    content {
      sid       = "LokiBasicAuthSecret"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.loki_basic_auth_ssm_parameter == "" ? [] : [var.loki_basic_auth_ssm_parameter]
    content {
      sid       = "LokiBasicAuthParameter"
      effect    = "Allow"
      actions   = ["ssm:GetParameter"]
      resources = ["${local.ssm_arn}/${trimprefix(statement.value, "/")}"]
    }
  }

  dynamic "statement" {
    for_each = var.loki_bearer_token_secret_arn == "" ? [] : [var.loki_bearer_token_secret_arn]
    content {
      sid       = "LokiBearerTokenSecret"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.loki_bearer_token_ssm_parameter == "" ? [] : [var.loki_bearer_token_ssm_parameter]
    content {
      sid       = "LokiBearerTokenParameter"
      effect    = "Allow"
      actions   = ["ssm:GetParameter"]
      resources = ["${local.ssm_arn}/${trimprefix(statement.value, "/")}"]
    }
  }

  dynamic "statement" {
    for_each = var.firehose_access_key_secret_arn == "" ? [] : [var.firehose_access_key_secret_arn]
    content {
      sid       = "FirehoseAccessKeySecret"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.firehose_access_key_ssm_parameter == "" ? [] : [var.firehose_access_key_ssm_parameter]
    content {
      sid       = "FirehoseAccessKeyParameter"
      effect    = "Allow"
      actions   = ["ssm:GetParameter"]
      resources = ["${local.ssm_arn}/${trimprefix(statement.value, "/")}"]
    }
  }

  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == "" ? [] : [var.secrets_kms_key_arn]
    content {
      sid       = "DecryptSecretsViaTheirServices"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com", "ssm.${local.region}.amazonaws.com"]
      }
    }
  }

  # Read-only RDS metadata: each Describe action takes its own resource type
  # (db, cluster, db-proxy), scoped to this account and region; which
  # instances the logs name is not known here. None with rds_metadata = "off".
  dynamic "statement" {
    for_each = var.rds_metadata == "on" ? [var.rds_metadata] : []
    content {
      sid     = "RdsMetadataReadOnly"
      effect  = "Allow"
      actions = ["rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:DescribeDBProxies", "rds:ListTagsForResource"]
      resources = [
        "arn:${local.partition}:rds:${local.region}:${local.account}:db:*",
        "arn:${local.partition}:rds:${local.region}:${local.account}:cluster:*",
        "arn:${local.partition}:rds:${local.region}:${local.account}:db-proxy:*",
      ]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "rds-forwarder"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

resource "aws_lambda_function" "forwarder" {
  #checkov:skip=CKV_AWS_116:Asynchronous failures go to the on-failure destination (the failure queue), which keeps the whole event plus the error; a dead-letter queue would duplicate it.
  #checkov:skip=CKV_AWS_117:The function only calls public endpoints (WhaTap, OTLP, Loki, AWS APIs); a VPC adds NAT cost and cold-start latency without protecting anything.
  #checkov:skip=CKV_AWS_173:The environment holds no secrets (they come from Secrets Manager / SSM at cold start); Lambda encrypts variables at rest with its AWS-managed key.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is the reserved_concurrency input; reserving by default would take capacity from the account's other functions.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile the user owns; the release publishes SHA256SUMS for the zips instead.
  #checkov:skip=CKV_AWS_50:X-Ray tracing is PassThrough as in install.yaml; the forwarder emits no segments of its own.
  function_name = var.name
  description   = "Forwards Amazon RDS / Aurora logs and events to WhaTap, OTLP, Loki or stdout"
  role          = aws_iam_role.function.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.architecture]

  filename          = var.filename
  source_code_hash  = var.filename == null ? null : filebase64sha256(var.filename)
  s3_bucket         = var.filename == null ? var.code_s3_bucket : null
  s3_key            = var.filename == null ? var.code_s3_key : null
  s3_object_version = var.filename == null && var.code_s3_object_version != "" ? var.code_s3_object_version : null

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tracing_config {
    mode = "PassThrough"
  }

  environment {
    variables = { for k, v in local.environment : k => v if !(contains(local.unset_when_empty, k) && v == "") }
  }

  lifecycle {
    precondition {
      condition     = var.filename != null || (var.code_s3_bucket != null && var.code_s3_key != null)
      error_message = "Give filename (a local release zip) or code_s3_bucket and code_s3_key."
    }
  }

  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_function_event_invoke_config" "forwarder" {
  function_name                = aws_lambda_function.forwarder.function_name
  qualifier                    = "$LATEST"
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}

resource "aws_lambda_permission" "logs" {
  statement_id   = "CloudWatchLogsUnderPrefix"
  function_name  = aws_lambda_function.forwarder.function_name
  action         = "lambda:InvokeFunction"
  principal      = "logs.amazonaws.com"
  source_account = local.account
  source_arn     = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${var.subscribed_log_group_prefix}*"
}

# RDS Enhanced Monitoring writes one region-wide group outside /aws/rds/.
resource "aws_lambda_permission" "enhanced_monitoring" {
  statement_id   = "CloudWatchLogsEnhancedMonitoring"
  function_name  = aws_lambda_function.forwarder.function_name
  action         = "lambda:InvokeFunction"
  principal      = "logs.amazonaws.com"
  source_account = local.account
  source_arn     = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:RDSOSMetrics:*"
}
