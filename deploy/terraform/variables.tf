# Inputs. Each one is the snake_case twin of a parameter of deploy/install.yaml
# or deploy/setup.yaml with the same meaning and default (a test compares
# them); `name` and `filename` are the module's own.

variable "name" {
  description = "Function name; also names the role, the queue and the log group /aws/lambda/<name> (the stack name in the CloudFormation install)."
  type        = string
  default     = "rds-forwarder"
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name: 1-64 letters, digits, - or _ (a Lambda function name)."
  }
}

# --- Code -------------------------------------------------------------------

variable "filename" {
  description = "Local path of the release zip (rds-forwarder-arm64.zip or rds-forwarder-x86_64.zip); Terraform uploads it. Leave null to use code_s3_bucket/code_s3_key instead."
  type        = string
  default     = null
}

variable "code_s3_bucket" {
  description = "Bucket (in this region) holding the release zip, as scripts/upload.sh puts it. Ignored when filename is set."
  type        = string
  default     = null
}

variable "code_s3_key" {
  description = "Key of the zip, e.g. rds-forwarder/0.1.0/rds-forwarder-arm64.zip."
  type        = string
  default     = null
}

variable "code_s3_object_version" {
  description = "Optional object version of the zip (versioned buckets)."
  type        = string
  default     = ""
}

variable "architecture" {
  description = "arm64 or x86_64; must match the zip."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture: arm64 or x86_64."
  }
}

# --- Function ---------------------------------------------------------------

variable "memory_size" {
  description = "Function memory in MB (CPU grows with it)."
  type        = number
  default     = 128
  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size: 128 to 10240 MB."
  }
}

variable "timeout" {
  description = "Seconds one invocation may take."
  type        = number
  default     = 60
  validation {
    condition     = var.timeout >= 3 && var.timeout <= 900
    error_message = "timeout: 3 to 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions; -1 leaves the function on the account's unreserved pool."
  type        = number
  default     = -1
  validation {
    condition     = var.reserved_concurrency >= -1
    error_message = "reserved_concurrency: -1 (none) or a count."
  }
}

variable "log_level" {
  description = "The forwarder's own diagnostics in its log group (RDSF_LOG_LEVEL)."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["error", "warn", "info", "debug", "trace", "off"], var.log_level)
    error_message = "log_level: error, warn, info, debug, trace or off."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's own log group."
  type        = number
  default     = 30
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ... 3653)."
  }
}

variable "subscribed_log_group_prefix" {
  description = "CloudWatch Logs may invoke the function only for log groups under this prefix; auto-subscription uses it too."
  type        = string
  default     = "/aws/rds/"
  validation {
    condition     = can(regex("^/[\\w./#-]*$", var.subscribed_log_group_prefix))
    error_message = "subscribed_log_group_prefix: a log group name prefix starting with /."
  }
}

# --- Sinks ------------------------------------------------------------------

variable "sinks" {
  description = "Comma-separated sinks: stdout, whatap, otlp, loki (RDSF_SINKS)."
  type        = string
  default     = "stdout"
  validation {
    condition     = can(regex("^(stdout|whatap|otlp|loki)(,(stdout|whatap|otlp|loki))*$", var.sinks))
    error_message = "sinks: comma-separated stdout, whatap, otlp, loki."
  }
}

variable "whatap_host" {
  description = "WhaTap collector host(s), separated by / or , (WHATAP_HOST)."
  type        = string
  default     = ""
}

variable "whatap_port" {
  description = "WhaTap collector port (WHATAP_PORT)."
  type        = number
  default     = 6600
  validation {
    condition     = var.whatap_port >= 1 && var.whatap_port <= 65535
    error_message = "whatap_port: 1 to 65535."
  }
}

variable "whatap_pcode" {
  description = "WhaTap project code (WHATAP_PCODE)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[0-9]*$", var.whatap_pcode))
    error_message = "whatap_pcode: digits only."
  }
}

variable "whatap_license_secret_arn" {
  description = "Secrets Manager secret ARN (full, with its suffix) whose SecretString is the WhaTap licence."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^(arn:[\\w-]+:secretsmanager:[\\w-]+:\\d{12}:secret:.+)?$", var.whatap_license_secret_arn))
    error_message = "whatap_license_secret_arn: a Secrets Manager secret ARN, or empty."
  }
}

variable "whatap_license_ssm_parameter" {
  description = "SSM SecureString parameter name holding the WhaTap licence."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[\\w./-]*$", var.whatap_license_ssm_parameter))
    error_message = "whatap_license_ssm_parameter: an SSM parameter name, or empty."
  }
}

variable "otlp_endpoint" {
  description = "OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)."
  type        = string
  default     = ""
}

variable "otlp_headers_secret_arn" {
  description = "Secrets Manager secret ARN whose SecretString is the OTLP headers (key=value,key=value)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^(arn:[\\w-]+:secretsmanager:[\\w-]+:\\d{12}:secret:.+)?$", var.otlp_headers_secret_arn))
    error_message = "otlp_headers_secret_arn: a Secrets Manager secret ARN, or empty."
  }
}

variable "otlp_headers_ssm_parameter" {
  description = "SSM SecureString parameter name holding the OTLP headers."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[\\w./-]*$", var.otlp_headers_ssm_parameter))
    error_message = "otlp_headers_ssm_parameter: an SSM parameter name, or empty."
  }
}

variable "loki_url" {
  description = "Loki base URL (LOKI_URL); never user:password@ in it (credentials go in a Loki secret)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^(https?://[^@\\s]+)?$", var.loki_url))
    error_message = "loki_url: http(s)://host[:port][/path] without user:password@ (use loki_basic_auth_*)."
  }
}

variable "loki_tenant_id" {
  description = "Tenant sent as X-Scope-OrgID (LOKI_TENANT_ID); empty for none."
  type        = string
  default     = ""
  validation {
    condition     = length(var.loki_tenant_id) <= 150 && can(regex("^[\\w!.*'()-]*$", var.loki_tenant_id))
    error_message = "loki_tenant_id: at most 150 of letters, digits and !.*'()-_ ."
  }
}

variable "loki_basic_auth_secret_arn" {
  description = "Secrets Manager secret ARN whose SecretString is the Loki basic auth, user:password (LOKI_BASIC_AUTH)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^(arn:[\\w-]+:secretsmanager:[\\w-]+:\\d{12}:secret:.+)?$", var.loki_basic_auth_secret_arn))
    error_message = "loki_basic_auth_secret_arn: a Secrets Manager secret ARN, or empty."
  }
}

variable "loki_basic_auth_ssm_parameter" {
  description = "SSM SecureString parameter name holding the Loki basic auth, user:password."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[\\w./-]*$", var.loki_basic_auth_ssm_parameter))
    error_message = "loki_basic_auth_ssm_parameter: an SSM parameter name, or empty."
  }
}

variable "loki_bearer_token_secret_arn" {
  description = "Secrets Manager secret ARN whose SecretString is a Loki bearer token (LOKI_BEARER_TOKEN)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^(arn:[\\w-]+:secretsmanager:[\\w-]+:\\d{12}:secret:.+)?$", var.loki_bearer_token_secret_arn))
    error_message = "loki_bearer_token_secret_arn: a Secrets Manager secret ARN, or empty."
  }
}

variable "loki_bearer_token_ssm_parameter" {
  description = "SSM SecureString parameter name holding a Loki bearer token."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[\\w./-]*$", var.loki_bearer_token_ssm_parameter))
    error_message = "loki_bearer_token_ssm_parameter: an SSM parameter name, or empty."
  }
}

variable "loki_encoding" {
  description = "Push body (LOKI_ENCODING): protobuf (snappy, as promtail sends) or json (gzip)."
  type        = string
  default     = "protobuf"
  validation {
    condition     = contains(["protobuf", "json"], var.loki_encoding)
    error_message = "loki_encoding: protobuf or json."
  }
}

variable "loki_timeout_ms" {
  description = "Milliseconds one Loki push may take (LOKI_TIMEOUT)."
  type        = number
  default     = 10000
  validation {
    condition     = var.loki_timeout_ms >= 1 && var.loki_timeout_ms <= 900000
    error_message = "loki_timeout_ms: 1 to 900000."
  }
}

variable "loki_labels" {
  description = "Record keys promoted to Loki stream labels, comma-separated (LOKI_LABELS); empty leaves the sink's default."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[\\w., -]*$", var.loki_labels))
    error_message = "loki_labels: comma-separated record keys."
  }
}

variable "secrets_kms_key_arn" {
  description = "Customer-managed KMS key encrypting the secrets above; empty for the AWS-managed keys."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^(arn:[\\w-]+:kms:[\\w-]+:\\d{12}:key/.+)?$", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn: a KMS key ARN, or empty."
  }
}

# --- Failed invocations -----------------------------------------------------

variable "maximum_retry_attempts" {
  description = "Retries of a failed asynchronous invocation before it goes to the failure queue."
  type        = number
  default     = 2
  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2
    error_message = "maximum_retry_attempts: 0 to 2."
  }
}

variable "maximum_event_age_seconds" {
  description = "Oldest event Lambda still retries before sending it to the failure queue."
  type        = number
  default     = 21600
  validation {
    condition     = var.maximum_event_age_seconds >= 60 && var.maximum_event_age_seconds <= 21600
    error_message = "maximum_event_age_seconds: 60 to 21600."
  }
}

variable "failure_retention_seconds" {
  description = "How long the failure queue keeps events (maximum 14 days)."
  type        = number
  default     = 1209600
  validation {
    condition     = var.failure_retention_seconds >= 60 && var.failure_retention_seconds <= 1209600
    error_message = "failure_retention_seconds: 60 to 1209600."
  }
}

# --- Connecting databases (what setup.yaml does) -----------------------------

variable "log_group_names" {
  description = "Log groups to subscribe (one subscription filter each), under subscribed_log_group_prefix."
  type        = list(string)
  default     = []
}

variable "enable_rds_events" {
  description = "Forward RDS events (source aws.rds) through an EventBridge rule."
  type        = bool
  default     = true
}

variable "rds_event_source_identifiers" {
  description = "Only events of these DB instances / clusters / snapshots (also matched with the rds: prefix); empty for all."
  type        = list(string)
  default     = []
}

variable "rds_event_detail_types" {
  description = "Only these detail-types, e.g. [\"RDS DB Instance Event\"]; empty for all."
  type        = list(string)
  default     = []
}

variable "rds_event_categories" {
  description = "Only these event categories, e.g. [\"failover\", \"failure\"]; empty for all."
  type        = list(string)
  default     = []
}

variable "enable_auto_subscription" {
  description = "Subscribe new log groups under the prefix automatically (EventBridge rule on CloudTrail CreateLogGroup; needs a trail logging management events)."
  type        = bool
  default     = false
}

variable "subscribe_enhanced_monitoring" {
  description = "With enable_auto_subscription, also subscribe RDSOSMetrics when RDS creates it (Enhanced Monitoring turned on for the first time in this region). An RDSOSMetrics group that exists already goes in log_group_names."
  type        = bool
  default     = true
}

# --- Firehose input (deploy/firehose.yaml, which has no Terraform twin yet) ---

variable "firehose_access_key_secret_arn" {
  description = "The firehose.yaml stack's AccessKeySecretArn output ({\"api_key\":...}, the key Firehose presents); empty while no Firehose stream delivers here."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^(arn:[\\w-]+:secretsmanager:[\\w-]+:\\d{12}:secret:.+)?$", var.firehose_access_key_secret_arn))
    error_message = "firehose_access_key_secret_arn: a Secrets Manager secret ARN, or empty."
  }
}

variable "firehose_access_key_ssm_parameter" {
  description = "SSM SecureString parameter name holding the Firehose access key instead (RDSF_FIREHOSE_ACCESS_KEY)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[\\w./-]*$", var.firehose_access_key_ssm_parameter))
    error_message = "firehose_access_key_ssm_parameter: an SSM parameter name, or empty."
  }
}

# --- Metrics ----------------------------------------------------------------

variable "metrics" {
  description = "Metric sources (RDSF_METRICS): os (Enhanced Monitoring documents as metric points), os,queries (plus per-minute query, error and connection metrics from the logs), queries, or none."
  type        = string
  default     = "os"
  validation {
    condition     = contains(["os", "os,queries", "queries", "none"], var.metrics)
    error_message = "metrics: os, os,queries, queries or none."
  }
}

variable "os_top_processes" {
  description = "Enhanced Monitoring processes kept per document, top N by CPU and top N by memory (RDSF_OS_TOP_PROCESSES)."
  type        = number
  default     = 10
  validation {
    condition     = var.os_top_processes >= 0 && var.os_top_processes <= 100
    error_message = "os_top_processes: 0 to 100."
  }
}

variable "query_metrics_top" {
  description = "Query metrics: fingerprints kept per instance and batch, the rest summed into one other series (RDSF_QUERY_METRICS_TOP)."
  type        = number
  default     = 20
  validation {
    condition     = var.query_metrics_top >= 0 && var.query_metrics_top <= 1000
    error_message = "query_metrics_top: 0 to 1000."
  }
}

# --- RDS metadata -------------------------------------------------------------

variable "rds_metadata" {
  description = "on: add each resource's engine, version, class, zone, cluster, role and tags from the RDS API (read-only Describe calls, cached 15 min); off never calls RDS and grants no RDS permission (RDSF_RDS_METADATA)."
  type        = string
  default     = "on"
  validation {
    condition     = contains(["on", "off"], var.rds_metadata)
    error_message = "rds_metadata: on or off."
  }
}

variable "rds_tag_keys" {
  description = "Tag keys that become aws.rds.tag.<key> attributes, comma-separated; * for all, none for no tags (RDSF_RDS_TAG_KEYS)."
  type        = string
  default     = "*"
  validation {
    condition     = length(var.rds_tag_keys) >= 1
    error_message = "rds_tag_keys: tag keys, * or none (not empty)."
  }
}

# --- Self-monitoring ------------------------------------------------------------

variable "self_metrics" {
  description = "The forwarder's own metrics (RDSF_SELF_METRICS): emf, sinks, emf,sinks or off; emf feeds the dashboard and alarms."
  type        = string
  default     = "emf"
  validation {
    condition     = contains(["emf", "sinks", "emf,sinks", "off"], var.self_metrics)
    error_message = "self_metrics: emf, sinks, emf,sinks or off."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the forwarder's metrics (RDSF_METRICS_NAMESPACE); not under AWS/."
  type        = string
  default     = "RdsForwarder"
  validation {
    condition     = !startswith(var.metrics_namespace, "AWS/") && can(regex("^[A-Za-z0-9._/#: -]{1,255}$", var.metrics_namespace))
    error_message = "metrics_namespace: 1-255 of letters, digits and ._/#: - , not starting with AWS/."
  }
}

variable "lag_alarm_threshold_ms" {
  description = "Alarm when an invocation starts this many ms after its newest database timestamp."
  type        = number
  default     = 900000
  validation {
    condition     = var.lag_alarm_threshold_ms >= 1000
    error_message = "lag_alarm_threshold_ms: at least 1000."
  }
}

variable "alarm_email" {
  description = "Optional address a new SNS topic mails alarms to (ignored when alarm_topic_arn is set)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^([^@\\s]+@[^@\\s]+)?$", var.alarm_email))
    error_message = "alarm_email: an e-mail address, or empty."
  }
}

variable "alarm_topic_arn" {
  description = "Optional existing SNS topic for the alarms."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^(arn:[\\w-]+:sns:[\\w-]+:\\d{12}:.+)?$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn: an SNS topic ARN, or empty."
  }
}
