# Self-monitoring, as install.yaml makes it: three alarms on the EMF metrics
# the function writes (README, "Watching the forwarder") and Lambda's own
# Errors, a dashboard, and an SNS topic mailing the alarms when alarm_email
# is given and alarm_topic_arn is not.

locals {
  create_alarm_topic = var.alarm_email != "" && var.alarm_topic_arn == ""
  alarm_actions = (
    var.alarm_topic_arn != "" ? [var.alarm_topic_arn] :
    local.create_alarm_topic ? [aws_sns_topic.alarms[0].arn] : []
  )
  ns = var.metrics_namespace
  fn = aws_lambda_function.forwarder.function_name
}

resource "aws_sns_topic" "alarms" {
  count             = local.create_alarm_topic ? 1 : 0
  name              = "${var.name}-alarms"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = local.create_alarm_topic ? 1 : 0
  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "undelivered" {
  alarm_name          = "${var.name}-undelivered"
  alarm_description   = "Records some sink did not confirm (the source sends them again; repeated, they end in the failure queue)."
  namespace           = local.ns
  metric_name         = "RecordsUndelivered"
  dimensions          = { Function = local.fn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "lag" {
  alarm_name          = "${var.name}-lag"
  alarm_description   = "Logs reach the forwarder late (invocation start minus the newest database timestamp)."
  namespace           = local.ns
  metric_name         = "Lag"
  dimensions          = { Function = local.fn }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.lag_alarm_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-errors"
  alarm_description   = "Failed invocations (Lambda's own count, which also sees crashes and timeouts)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = local.fn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_dashboard" "forwarder" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title = "In and out", region = local.region, stat = "Sum", period = 300
          metrics = [
            [local.ns, "EventsIn", "Function", local.fn],
            [".", "RecordsOut", ".", "."],
            [".", "RecordsUndelivered", ".", "."],
            [".", "ParseErrors", ".", "."],
            [".", "Redactions", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title = "Failed and dropped", region = local.region, stat = "Sum", period = 300
          metrics = [
            [local.ns, "Failed", "Function", local.fn],
            [".", "Dropped", ".", "."],
            [{ expression = "SEARCH('{${local.ns},Function,Reason} Function=\"${local.fn}\" MetricName=\"Failed\"', 'Sum', 300)", id = "byreason" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title = "Delivered per sink", region = local.region, period = 300
          metrics = [
            [{ expression = "SEARCH('{${local.ns},Function,Sink} Function=\"${local.fn}\" MetricName=\"RecordsDelivered\"', 'Sum', 300)", id = "delivered" }],
            [{ expression = "SEARCH('{${local.ns},Function,Sink} Function=\"${local.fn}\" MetricName=\"Retries\"', 'Sum', 300)", id = "retries" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title = "Lag and sink latency (ms)", region = local.region, period = 300
          metrics = [
            [local.ns, "Lag", "Function", local.fn, { stat = "Maximum" }],
            [{ expression = "SEARCH('{${local.ns},Function,Sink} Function=\"${local.fn}\" MetricName=\"SinkLatency\"', 'p99', 300)", id = "latency" }],
          ]
        }
      },
    ]
  })
}
