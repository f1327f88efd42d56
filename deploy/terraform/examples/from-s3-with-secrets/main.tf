# WhaTap and Loki, the zip from the bucket scripts/upload.sh filled, the
# credentials by reference only, new RDS log groups subscribed as RDS
# creates them, query metrics, two RDS tags as attributes, and the alarms
# mailed to the on-call address.
#   terraform init && terraform apply -var whatap_license_secret_arn=arn:...

provider "aws" {
  region = "eu-west-1"
}

variable "whatap_license_secret_arn" {
  description = "Full ARN (with its six-character suffix) of the secret holding the WhaTap licence."
  type        = string
}

variable "loki_basic_auth_ssm_parameter" {
  description = "SSM SecureString parameter holding user:password for Loki."
  type        = string
  default     = "/rds-forwarder/loki-basic-auth"
}

module "rds_forwarder" {
  source = "../.."

  code_s3_bucket = "my-artifacts-eu-west-1"
  code_s3_key    = "rds-forwarder/0.1.0/rds-forwarder-arm64.zip"
  architecture   = "arm64"

  sinks                         = "whatap,loki"
  whatap_host                   = "13.124.11.223/13.209.172.35"
  whatap_pcode                  = "12345"
  whatap_license_secret_arn     = var.whatap_license_secret_arn
  loki_url                      = "https://logs-prod-006.grafana.net"
  loki_basic_auth_ssm_parameter = var.loki_basic_auth_ssm_parameter

  enable_rds_events        = true
  rds_event_categories     = ["failover", "failure", "notification"]
  enable_auto_subscription = true

  metrics      = "os,queries"
  rds_tag_keys = "team,env"
  alarm_email  = "dba-oncall@example.com"
}

output "failure_queue_url" {
  value = module.rds_forwarder.failure_queue_url
}
