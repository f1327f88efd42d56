# The smallest install: the release zip beside this file, records to the
# function's own log group (stdout sink), two log groups subscribed.
#   terraform init && terraform apply

provider "aws" {
  region = "eu-west-1"
}

module "rds_forwarder" {
  source = "../.."

  filename     = "${path.module}/rds-forwarder-arm64.zip"
  architecture = "arm64"
  sinks        = "stdout"

  log_group_names = [
    "/aws/rds/instance/orders/postgresql",
    "/aws/rds/cluster/shop/slowquery",
  ]
}

output "function_arn" {
  value = module.rds_forwarder.function_arn
}
