# The install stack's outputs, under the same names in snake_case.

output "function_arn" {
  description = "Subscription-filter and EventBridge target (for `rds-forwarder subscribe --destination-arn`)."
  value       = aws_lambda_function.forwarder.arn
}

output "function_name" {
  value = aws_lambda_function.forwarder.function_name
}

output "function_role_name" {
  value = aws_iam_role.function.name
}

output "subscribed_log_group_prefix" {
  value = var.subscribed_log_group_prefix
}

output "function_log_group_name" {
  description = "Where the forwarder's own diagnostics (and stdout records) go."
  value       = aws_cloudwatch_log_group.function.name
}

output "failure_queue_url" {
  description = "Failed asynchronous invocations (original event in requestPayload); deploy/README.md says how to replay them."
  value       = aws_sqs_queue.failures.url
}

output "failure_queue_arn" {
  value = aws_sqs_queue.failures.arn
}

output "rds_event_rule_arn" {
  value = var.enable_rds_events ? aws_cloudwatch_event_rule.rds_events[0].arn : null
}

output "auto_subscribe_rule_arn" {
  value = var.enable_auto_subscription ? aws_cloudwatch_event_rule.auto_subscribe[0].arn : null
}

output "dashboard_name" {
  description = "The CloudWatch dashboard of the forwarder's own metrics."
  value       = aws_cloudwatch_dashboard.forwarder.dashboard_name
}
