terraform {
  # 1.5: startswith() and lifecycle preconditions; OpenTofu 1.6+ reads the
  # same files.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x: aws_lambda_function.logging_config and SSE-SQS on aws_sqs_queue.
      version = ">= 5.30, < 7"
    }
  }
}
