# What deploy/setup.yaml does: a subscription filter per listed log group,
# an EventBridge rule for RDS events and, when enabled, auto-subscription
# of new log groups under the prefix (and of RDSOSMetrics, with
# subscribe_enhanced_monitoring).

resource "aws_cloudwatch_log_subscription_filter" "forwarder" {
  for_each        = toset(var.log_group_names)
  name            = "rds-forwarder"
  log_group_name  = each.value
  filter_pattern  = ""
  destination_arn = aws_lambda_function.forwarder.arn

  lifecycle {
    precondition {
      condition     = startswith(each.value, var.subscribed_log_group_prefix) || each.value == "RDSOSMetrics"
      error_message = "Log group ${each.value} is neither under subscribed_log_group_prefix ${var.subscribed_log_group_prefix} nor RDSOSMetrics: CloudWatch Logs may not invoke the function for it."
    }
  }

  depends_on = [aws_lambda_permission.logs, aws_lambda_permission.enhanced_monitoring]
}

locals {
  # Each identifier as given and with the `rds:` prefix some RDS events put before it.
  rds_event_detail = merge(
    length(var.rds_event_source_identifiers) == 0 ? {} : {
      SourceIdentifier = concat(var.rds_event_source_identifiers, [for id in var.rds_event_source_identifiers : "rds:${id}"])
    },
    length(var.rds_event_categories) == 0 ? {} : { EventCategories = var.rds_event_categories },
  )
  rds_event_pattern = merge(
    { source = ["aws.rds"] },
    length(var.rds_event_detail_types) == 0 ? {} : { "detail-type" = var.rds_event_detail_types },
    length(local.rds_event_detail) == 0 ? {} : { detail = local.rds_event_detail },
  )
}

resource "aws_cloudwatch_event_rule" "rds_events" {
  count         = var.enable_rds_events ? 1 : 0
  name          = "${var.name}-rds-events"
  description   = "RDS events to rds-forwarder"
  event_pattern = jsonencode(local.rds_event_pattern)
}

resource "aws_cloudwatch_event_target" "rds_events" {
  count     = var.enable_rds_events ? 1 : 0
  rule      = aws_cloudwatch_event_rule.rds_events[0].name
  target_id = "rds-forwarder"
  arn       = aws_lambda_function.forwarder.arn
}

resource "aws_lambda_permission" "rds_events" {
  count          = var.enable_rds_events ? 1 : 0
  statement_id   = "RdsEventsRule"
  function_name  = aws_lambda_function.forwarder.function_name
  action         = "lambda:InvokeFunction"
  principal      = "events.amazonaws.com"
  source_account = local.account
  source_arn     = aws_cloudwatch_event_rule.rds_events[0].arn
}

resource "aws_cloudwatch_event_rule" "auto_subscribe" {
  count       = var.enable_auto_subscription ? 1 : 0
  name        = "${var.name}-auto-subscribe"
  description = "New RDS log groups (CloudTrail CreateLogGroup) to rds-forwarder, which subscribes them"
  event_pattern = jsonencode({
    source        = ["aws.logs"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource = ["logs.amazonaws.com"]
      eventName   = ["CreateLogGroup"]
      errorCode   = [{ exists = false }]
      # With subscribe_enhanced_monitoring, RDSOSMetrics too (outside the prefix).
      requestParameters = {
        logGroupName = concat(
          [{ prefix = var.subscribed_log_group_prefix }],
          var.subscribe_enhanced_monitoring ? ["RDSOSMetrics"] : [],
        )
      }
    }
  })
}

resource "aws_cloudwatch_event_target" "auto_subscribe" {
  count     = var.enable_auto_subscription ? 1 : 0
  rule      = aws_cloudwatch_event_rule.auto_subscribe[0].name
  target_id = "rds-forwarder"
  arn       = aws_lambda_function.forwarder.arn
}

resource "aws_lambda_permission" "auto_subscribe" {
  count          = var.enable_auto_subscription ? 1 : 0
  statement_id   = "AutoSubscribeRule"
  function_name  = aws_lambda_function.forwarder.function_name
  action         = "lambda:InvokeFunction"
  principal      = "events.amazonaws.com"
  source_account = local.account
  source_arn     = aws_cloudwatch_event_rule.auto_subscribe[0].arn
}

data "aws_iam_policy_document" "auto_subscribe" {
  statement {
    sid       = "SubscribeNewRdsLogGroups"
    effect    = "Allow"
    actions   = ["logs:PutSubscriptionFilter"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${var.subscribed_log_group_prefix}*"]
  }

  dynamic "statement" {
    for_each = var.subscribe_enhanced_monitoring ? ["RDSOSMetrics"] : []
    content {
      sid     = "SubscribeEnhancedMonitoringGroup"
      effect  = "Allow"
      actions = ["logs:PutSubscriptionFilter"]
      resources = [
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${statement.value}",
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${statement.value}:*",
      ]
    }
  }
}

resource "aws_iam_role_policy" "auto_subscribe" {
  count  = var.enable_auto_subscription ? 1 : 0
  name   = "rds-forwarder-auto-subscribe"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.auto_subscribe.json
}
