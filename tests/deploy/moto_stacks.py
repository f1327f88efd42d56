"""Creates the install and setup stacks in moto_server and checks what they made.

Run by tests/deploy_moto.rs (which starts moto_server and owns the Rust side):
    python moto_stacks.py ENDPOINT deploy        -> prints a JSON summary
    python moto_stacks.py ENDPOINT filters       -> prints {log group: [filters]}
    python moto_stacks.py ENDPOINT put-filter GROUP NAME DESTINATION
                                                 -> creates GROUP with one subscription filter
                                                    (DESTINATION kinesis:NAME: a new stream)
    python moto_stacks.py ENDPOINT create-group NAME -> creates a log group
    python moto_stacks.py ENDPOINT create-groups PREFIX N -> creates N log groups
    python moto_stacks.py ENDPOINT failure QURL OUT -> puts a Lambda on-failure
        record on the queue, reads it back, writes its requestPayload to OUT

What moto (5.x) lacks, and how this script covers it:
  * the AWS::LanguageExtensions transform (Fn::ForEach, `&{}` logical ids):
    render_setup() expands Fn::ForEach here exactly as CloudFormation does
    and drops the Transform, so the rendered setup stack is what AWS creates;
  * AWS::Logs::SubscriptionFilter and AWS::Lambda::EventInvokeConfig have no
    CloudFormation model in moto (it skips them with a warning):
    apply_unsupported() makes the same API calls CloudFormation would
    (PutSubscriptionFilter, PutFunctionEventInvokeConfig) with the
    properties taken from the rendered templates, then the checks read them
    back through the APIs.
"""

import ast
import io
import json
import re
import sys
import urllib.parse
import zipfile
from pathlib import Path

import boto3
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from cfn_yaml import CfnLoader  # noqa: E402 (after the path it lives on)

REGION = "us-east-1"
ACCOUNT = "123456789012"
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
INSTALL_STACK = "rds-forwarder"
SETUP_STACK = "rds-forwarder-orders"
LOG_GROUPS = ["/aws/rds/instance/orders-db/postgresql", "/aws/rds/cluster/shop-aurora/error"]
EXISTING_UNLISTED = "/aws/rds/instance/legacy-db/error"
OTHER_GROUP = "/aws/lambda/unrelated"
# golib's public test licence (net/oneway/OneWayTcpClient_test.go): it carries pcode 78,
# and start-up rejects a licence that carries none.
LICENSE = "x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth"
HEADERS = "authorization=Bearer otlp-token-7f1e"
LOKI_TOKEN = "loki-token-3b9c"
# Without a leading `/`: the other form of SSM parameter ARN (the OTLP one has it).
LOKI_TOKEN_PARAMETER = "rds-forwarder-loki-token"

MOTO_LACKS = [
    "Transform AWS::LanguageExtensions (Fn::ForEach): expanded by render_setup()",
    "AWS::Logs::SubscriptionFilter in CloudFormation: applied through PutSubscriptionFilter",
    "AWS::Lambda::EventInvokeConfig in CloudFormation: applied through PutFunctionEventInvokeConfig",
    "AWS::CloudWatch::Alarm in CloudFormation: applied through PutMetricAlarm",
    "AWS::SNS::Subscription in CloudFormation: the template subscribes through the topic's Subscription property",
    "AWS::Lambda::Function Architectures/LoggingConfig via CloudFormation: checked in the template only",
    "AWS::NoValue inside a list (conditional IAM statements): moto keeps a null, which policy_document() drops",
    "invoking the function (needs Docker): on-failure delivery simulated by sending Lambda's record shape",
]

# deploy/firehose.yaml: what moto's CloudFormation has no model for, made
# through the APIs with the template's properties (deploy_firehose()).
FIREHOSE_STACK = "rds-forwarder-firehose"
FIREHOSE_GROUPS = ["/aws/rds/instance/orders-db/postgresql", "RDSOSMetrics"]
FIREHOSE_UNSUPPORTED = {
    "AWS::SecretsManager::Secret", "AWS::Lambda::Url", "AWS::S3::BucketPolicy", "AWS::Logs::LogStream",
    "AWS::KinesisFirehose::DeliveryStream", "AWS::Logs::SubscriptionFilter", "AWS::Logs::AccountPolicy",
}
FIREHOSE_MOTO_LACKS = [
    "AWS::SecretsManager::Secret (GenerateSecretString) in CloudFormation: GetRandomPassword + CreateSecret with the template's rules",
    "AWS::Lambda::Url in CloudFormation: CreateFunctionUrlConfig",
    "AWS::S3::BucketPolicy and AWS::Logs::LogStream in CloudFormation: PutBucketPolicy, CreateLogStream",
    "AWS::S3::Bucket PublicAccessBlockConfiguration/OwnershipControls/LifecycleConfiguration in CloudFormation"
    " (moto applies BucketEncryption only): PutPublicAccessBlock, PutBucketOwnershipControls, PutBucketLifecycleConfiguration",
    "AWS::KinesisFirehose::DeliveryStream in CloudFormation: CreateDeliveryStream with the rendered properties",
    "AWS::Logs::SubscriptionFilter in CloudFormation: PutSubscriptionFilter (destination the stream, with the role)",
    "AWS::Logs::AccountPolicy (and PutAccountPolicy): its rendered SelectionCriteria and PolicyDocument are checked only",
    "Firehose's own HTTP delivery (moto posts plain JSON, no access key or gzip): the test sends the request the stream's configuration describes",
    "UpdateStack of install.yaml (GetAtt FunctionLogGroup unresolved): FirehoseAccessKeySecretArn checked on a second install stack",
]

UNSUPPORTED = {"AWS::Logs::SubscriptionFilter", "AWS::Lambda::EventInvokeConfig", "AWS::CloudWatch::Alarm"}


def client(endpoint, name):
    return boto3.client(
        name,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def load(name):
    return yaml.load((DEPLOY / name).read_text(), Loader=CfnLoader)


def _substitute(value, var, item):
    if isinstance(value, dict):
        if value == {"Ref": var}:
            return item
        return {_substitute(k, var, item): _substitute(v, var, item) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, var, item) for v in value]
    if isinstance(value, str):
        return value.replace("${" + var + "}", item).replace(
            "&{" + var + "}", re.sub(r"[^A-Za-z0-9]", "", item)
        )
    return value


def render_setup(params):
    return render("setup.yaml", params)


def render(name, params):
    """Expands Fn::ForEach (AWS::LanguageExtensions) for the given parameters."""
    template = load(name)
    assert template.pop("Transform") == "AWS::LanguageExtensions"
    resources = {}
    for key, value in template["Resources"].items():
        if not key.startswith("Fn::ForEach::"):
            resources[key] = value
            continue
        var, collection, body = value
        assert collection == {"Ref": "LogGroupNames"}, collection
        items = [s.strip() for s in params["LogGroupNames"].split(",")]
        for item in items:
            for logical_id, resource in body.items():
                resources[_substitute(logical_id, var, item)] = _substitute(resource, var, item)
    template["Resources"] = resources
    return template


def policy_document(doc):
    """IAM returns documents URL-encoded; boto3 decodes them, moto sometimes leaves a string."""
    if isinstance(doc, str):
        text = urllib.parse.unquote(doc)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            # moto stores inline policies created by CloudFormation as a Python repr.
            doc = ast.literal_eval(text)
    # moto keeps `!Ref AWS::NoValue` list items as null where CloudFormation drops them.
    doc["Statement"] = [s for s in doc["Statement"] if s is not None]
    return doc


def create_stack(cfn, name, template, params):
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    resources = {
        r["LogicalResourceId"]: r for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    }
    return outputs, resources


def resolve(value, env):
    """Just enough intrinsic resolution for the unsupported resources' properties."""
    if isinstance(value, dict) and len(value) == 1:
        (k, v), = value.items()
        if k == "Ref":
            return env[v]
        if k == "Fn::GetAtt":
            return env[".".join(v)]
        if k == "Fn::ImportValue":
            return env["import:" + resolve(v, env)]
        if k == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: env[m.group(1)], v)
        if k == "Fn::If":
            cond, yes, no = v
            return resolve(yes if env["condition:" + cond] else no, env)
    if isinstance(value, list):
        return [resolve(x, env) for x in value]
    return value


def apply_unsupported(endpoint, template, env):
    logs, lam = client(endpoint, "logs"), client(endpoint, "lambda")
    applied = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in UNSUPPORTED:
            continue
        p = {k: resolve(v, env) for k, v in resource.get("Properties", {}).items()}
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            actions = p.get("AlarmActions")
            client(endpoint, "cloudwatch").put_metric_alarm(
                AlarmName=f"{env['AWS::StackName']}-{logical_id}",
                AlarmDescription=p["AlarmDescription"],
                Namespace=resolve(p["Namespace"], env) if isinstance(p["Namespace"], dict) else p["Namespace"],
                MetricName=p["MetricName"],
                Dimensions=[{"Name": d["Name"], "Value": resolve(d["Value"], env)} for d in p["Dimensions"]],
                Statistic=p["Statistic"],
                Period=int(p["Period"]),
                EvaluationPeriods=int(p["EvaluationPeriods"]),
                Threshold=float(p["Threshold"]),
                ComparisonOperator=p["ComparisonOperator"],
                TreatMissingData=p["TreatMissingData"],
                **({"AlarmActions": [a for a in actions if a]} if actions else {}),
            )
        elif resource["Type"] == "AWS::Logs::SubscriptionFilter":
            logs.put_subscription_filter(
                logGroupName=p["LogGroupName"],
                filterName=p["FilterName"],
                filterPattern=p["FilterPattern"],
                destinationArn=p["DestinationArn"],
            )
        else:
            on_failure = resolve(p["DestinationConfig"]["OnFailure"]["Destination"], env)
            lam.put_function_event_invoke_config(
                FunctionName=p["FunctionName"],
                Qualifier=p["Qualifier"],
                MaximumRetryAttempts=int(resolve(p["MaximumRetryAttempts"], env)),
                MaximumEventAgeInSeconds=int(resolve(p["MaximumEventAgeInSeconds"], env)),
                DestinationConfig={"OnFailure": {"Destination": on_failure}},
            )
        applied.append(f"{logical_id} ({resource['Type']})")
    return applied


def deploy(endpoint):
    s3, sm, ssm, logs = (client(endpoint, n) for n in ("s3", "secretsmanager", "ssm", "logs"))
    cfn, lam, iam, events, sqs = (client(endpoint, n) for n in ("cloudformation", "lambda", "iam", "events", "sqs"))

    # What exists before the stacks: the code zip, the secrets, RDS log groups.
    s3.create_bucket(Bucket="rdsf-artifacts")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\necho placeholder bootstrap for the emulator\n")
    s3.put_object(Bucket="rdsf-artifacts", Key="rds-forwarder/rds-forwarder-arm64.zip", Body=buf.getvalue())
    secret_arn = sm.create_secret(Name="rds-forwarder/whatap-license", SecretString=LICENSE)["ARN"]
    ssm.put_parameter(Name="/rds-forwarder/otlp-headers", Value=HEADERS, Type="SecureString")
    ssm.put_parameter(Name=LOKI_TOKEN_PARAMETER, Value=LOKI_TOKEN, Type="SecureString")
    for group in LOG_GROUPS + [EXISTING_UNLISTED, OTHER_GROUP]:
        logs.create_log_group(logGroupName=group)

    install_params = {
        "CodeS3Bucket": "rdsf-artifacts",
        "CodeS3Key": "rds-forwarder/rds-forwarder-arm64.zip",
        "Architecture": "arm64",
        "MemorySize": "256",
        "Timeout": "120",
        "ReservedConcurrency": "5",
        "Sinks": "stdout,whatap,otlp,loki",
        "WhatapHost": "COLLECTOR-HOST-1,COLLECTOR-HOST-2",
        "WhatapPort": "6600",
        "WhatapPcode": "78",
        "WhatapLicenseSecretArn": secret_arn,
        "OtlpEndpoint": "https://otlp.example.com:4318",
        "OtlpHeadersSsmParameter": "/rds-forwarder/otlp-headers",
        "LokiUrl": "https://logs.example.com",
        "LokiTenantId": "orders",
        "LokiBearerTokenSsmParameter": LOKI_TOKEN_PARAMETER,
        "MaximumRetryAttempts": "1",
        "MaximumEventAgeSeconds": "3600",
        "AlarmEmail": "ops@example.com",
        "LagAlarmThresholdMs": "600000",
    }
    install = load("install.yaml")
    out, res = create_stack(cfn, INSTALL_STACK, install, install_params)
    fn_arn = out["FunctionArn"]
    env = {k: v for k, v in install_params.items()}
    env.update({"Function": out["FunctionName"], "FailureQueue.Arn": out["FailureQueueArn"],
                "MaximumEventAgeSeconds": install_params["MaximumEventAgeSeconds"],
                "AWS::StackName": INSTALL_STACK, "AWS::NoValue": None,
                "MetricsNamespace": "RdsForwarder", "AlarmTopicArn": "",
                "AlarmTopic": res["AlarmTopic"]["PhysicalResourceId"],
                # AlarmEmail given, AlarmTopicArn not: a new topic (install.yaml's Conditions).
                "condition:HasAlarmTopicArn": False, "condition:HasAlarmAction": True})
    applied = apply_unsupported(endpoint, install, env)

    # The function and its configuration.
    fn = lam.get_function(FunctionName=fn_arn)
    conf = fn["Configuration"]
    assert conf["Runtime"] == "provided.al2023", conf["Runtime"]
    assert conf["Handler"] == "bootstrap"
    # moto's CloudFormation Lambda model copies only some properties;
    # Architectures and LoggingConfig are not among them (see MOTO_LACKS).
    assert install["Resources"]["Function"]["Properties"]["Architectures"] == [{"Ref": "Architecture"}]
    assert install["Resources"]["Function"]["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionLogGroup"}}
    assert conf["MemorySize"] == 256 and conf["Timeout"] == 120, conf
    variables = conf["Environment"]["Variables"]
    assert variables["WHATAP_LICENSE_SECRET_ARN"] == secret_arn
    assert variables["OTEL_EXPORTER_OTLP_HEADERS_SSM_PARAMETER"] == "/rds-forwarder/otlp-headers"
    assert variables["WHATAP_PCODE"] == "78" and variables["WHATAP_HOST"] == "COLLECTOR-HOST-1,COLLECTOR-HOST-2" and variables["RDSF_SINKS"] == "stdout,whatap,otlp,loki"
    assert variables["LOKI_URL"] == "https://logs.example.com" and variables["LOKI_TENANT_ID"] == "orders"
    assert variables["LOKI_BEARER_TOKEN_SSM_PARAMETER"] == LOKI_TOKEN_PARAMETER
    assert variables["LOKI_BEARER_TOKEN_SECRET_ARN"] == "" and variables["LOKI_BASIC_AUTH_SECRET_ARN"] == ""
    assert variables["LOKI_ENCODING"] == "protobuf" and str(variables["LOKI_TIMEOUT"]) == "10000", variables
    # Left unset when empty (an empty value would mean no labels at all).
    assert variables.get("LOKI_LABELS") is None, variables
    variables.pop("LOKI_LABELS", None)
    flat = json.dumps(variables)
    assert LICENSE not in flat and HEADERS not in flat and LOKI_TOKEN not in flat, "a secret value reached the environment"
    concurrency = lam.get_function_concurrency(FunctionName=fn_arn).get("ReservedConcurrentExecutions")
    assert concurrency == 5, concurrency

    # The role: exactly the named secrets, its own log group, the failure queue.
    role_name = out["FunctionRoleName"]
    policy = policy_document(iam.get_role_policy(RoleName=role_name, PolicyName="rds-forwarder")["PolicyDocument"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"OwnLogGroupOnly", "FailureDestination", "WhatapLicenseSecret", "OtlpHeadersParameter", "LokiBearerTokenParameter", "RdsMetadataReadOnly"}, by_sid
    # RDS metadata (on by default): the four read-only actions, this account and region only.
    rds = by_sid["RdsMetadataReadOnly"]
    assert sorted(rds["Action"]) == [
        "rds:DescribeDBClusters", "rds:DescribeDBInstances", "rds:DescribeDBProxies", "rds:ListTagsForResource",
    ], rds
    assert sorted(rds["Resource"]) == sorted(
        f"arn:aws:rds:{REGION}:{ACCOUNT}:{kind}:*" for kind in ("cluster", "db", "db-proxy")
    ), rds
    assert variables.get("RDSF_RDS_METADATA") == "on" and variables.get("RDSF_RDS_TAG_KEYS") == "*", variables
    assert by_sid["WhatapLicenseSecret"]["Resource"] == secret_arn
    assert by_sid["OtlpHeadersParameter"]["Resource"] == (
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/rds-forwarder/otlp-headers"
    ), by_sid["OtlpHeadersParameter"]
    assert by_sid["LokiBearerTokenParameter"]["Action"] == "ssm:GetParameter"
    assert by_sid["LokiBearerTokenParameter"]["Resource"] == (
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{LOKI_TOKEN_PARAMETER}"
    ), by_sid["LokiBearerTokenParameter"]
    assert by_sid["OwnLogGroupOnly"]["Resource"].startswith(
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{INSTALL_STACK}"
    ), by_sid["OwnLogGroupOnly"]
    for s in policy["Statement"]:
        assert "*" != s["Resource"], s
    retention = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{INSTALL_STACK}")["logGroups"][0]
    assert retention.get("retentionInDays") == 30, retention

    # The failure destination: encrypted queue, wired as on-failure.
    attrs = sqs.get_queue_attributes(QueueUrl=out["FailureQueueUrl"], AttributeNames=["All"])["Attributes"]
    assert attrs.get("SqsManagedSseEnabled") == "true", attrs
    invoke_conf = lam.get_function_event_invoke_config(FunctionName=out["FunctionName"], Qualifier="$LATEST")
    assert invoke_conf["MaximumRetryAttempts"] == 1
    assert invoke_conf["DestinationConfig"]["OnFailure"]["Destination"] == out["FailureQueueArn"]

    # Self-monitoring: EMF on by default, alarms on its metrics to a new
    # topic mailing AlarmEmail, and the dashboard of the same metrics.
    assert variables["RDSF_SELF_METRICS"] == "emf" and variables["RDSF_METRICS_NAMESPACE"] == "RdsForwarder", variables
    sns, cw = client(endpoint, "sns"), client(endpoint, "cloudwatch")
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert len(topics) == 1, topics
    subs = sns.list_subscriptions_by_topic(TopicArn=topics[0])["Subscriptions"]
    assert [(x["Protocol"], x["Endpoint"]) for x in subs] == [("email", "ops@example.com")], subs
    alarms = {a["MetricName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
    assert set(alarms) == {"RecordsUndelivered", "Lag", "Errors"}, sorted(alarms)
    for name, a in alarms.items():
        assert a["AlarmActions"] == topics, a
        dim = "FunctionName" if name == "Errors" else "Function"
        assert a["Dimensions"] == [{"Name": dim, "Value": out["FunctionName"]}], a
        assert a["Namespace"] == ("AWS/Lambda" if name == "Errors" else "RdsForwarder"), a
    assert alarms["Lag"]["Threshold"] == 600000 and alarms["RecordsUndelivered"]["Threshold"] == 0, alarms
    body = json.loads(cw.get_dashboard(DashboardName=out["DashboardName"])["DashboardBody"])
    dashboard = json.dumps(body)
    for metric in ("EventsIn", "RecordsUndelivered", "Failed", "Dropped", "RecordsDelivered", "Lag", "SinkLatency"):
        assert metric in dashboard, metric
    assert out["FunctionName"] in dashboard and "${" not in dashboard, dashboard

    # The setup stack, rendered (see the module docstring).
    setup_params = {
        "InstallStackName": INSTALL_STACK,
        "LogGroupNames": ",".join(LOG_GROUPS),
        "RdsEventSourceIdentifiers": "orders-db,shop-aurora",
        "RdsEventDetailTypes": "RDS DB Instance Event,RDS DB Cluster Event",
        "RdsEventCategories": "failover,failure,notification",
        "EnableAutoSubscription": "true",
    }
    setup = render_setup(setup_params)
    subs = [k for k, v in setup["Resources"].items() if v["Type"] == "AWS::Logs::SubscriptionFilter"]
    assert subs == ["Subscriptionawsrdsinstanceordersdbpostgresql", "Subscriptionawsrdsclustershopauroraerror"], subs
    setup_out, setup_res = create_stack(cfn, SETUP_STACK, setup, setup_params)
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    env = {"import:" + k: v for k, v in exports.items()}
    env.update(setup_params)
    env["AWS::StackName"] = SETUP_STACK
    for group in LOG_GROUPS:
        env["LogGroupName"] = group
    applied += apply_unsupported(endpoint, setup, env)

    # Rules and their invoke permissions.
    rds_rule = events.describe_rule(Name=setup_res["RdsEventRule"]["PhysicalResourceId"])
    pattern = json.loads(rds_rule["EventPattern"])
    assert pattern == {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Instance Event", "RDS DB Cluster Event"],
        "detail": {"SourceIdentifier": ["orders-db", "shop-aurora", "rds:orders-db", "rds:shop-aurora"], "EventCategories": ["failover", "failure", "notification"]},
    }, pattern
    auto_rule = events.describe_rule(Name=setup_res["AutoSubscribeRule"]["PhysicalResourceId"])
    auto_pattern = json.loads(auto_rule["EventPattern"])
    assert auto_pattern["detail"]["eventName"] == ["CreateLogGroup"], auto_pattern
    # SubscribeEnhancedMonitoring (default true): Enhanced Monitoring's group too.
    assert auto_pattern["detail"]["requestParameters"]["logGroupName"] == [{"prefix": "/aws/rds/"}, "RDSOSMetrics"], auto_pattern
    for rule in (rds_rule, auto_rule):
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        assert [t["Arn"] for t in targets] == [fn_arn], targets

    statements = json.loads(lam.get_policy(FunctionName=fn_arn)["Policy"])["Statement"]
    by_principal = {}
    for s in statements:
        by_principal.setdefault(s["Principal"]["Service"], []).append(s)
    logs_perm = by_principal["logs.amazonaws.com"]
    # The prefix, and Enhanced Monitoring's one group outside it.
    assert sorted(s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in logs_perm) == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/rds/*",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:RDSOSMetrics:*",
    ], logs_perm
    for s in logs_perm:
        assert s["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT, s
    event_sources = sorted(s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in by_principal["events.amazonaws.com"])
    assert event_sources == sorted([rds_rule["Arn"], auto_rule["Arn"]]), event_sources
    for s in by_principal["events.amazonaws.com"]:
        assert s["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT, s

    # Auto-subscription permission, added to the install stack's role.
    role_policies = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    extra = [p for p in role_policies if p != "rds-forwarder"]
    assert len(extra) == 1, role_policies
    doc = policy_document(iam.get_role_policy(RoleName=role_name, PolicyName=extra[0])["PolicyDocument"])
    assert [s["Action"] for s in doc["Statement"]] == ["logs:PutSubscriptionFilter"] * 2, doc
    assert doc["Statement"][0]["Resource"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/rds/*", doc
    assert doc["Statement"][1]["Resource"] == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:RDSOSMetrics",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:RDSOSMetrics:*",
    ], doc

    print(json.dumps({
        "function_arn": fn_arn,
        "function_name": out["FunctionName"],
        "function_environment": variables,
        "failure_queue_url": out["FailureQueueUrl"],
        "whatap_license_secret_arn": secret_arn,
        "otlp_headers_ssm_parameter": "/rds-forwarder/otlp-headers",
        "loki_token_ssm_parameter": LOKI_TOKEN_PARAMETER,
        "loki_token": LOKI_TOKEN,
        "license": LICENSE,
        "headers": HEADERS,
        "listed_groups": LOG_GROUPS,
        "unlisted_group": EXISTING_UNLISTED,
        "other_group": OTHER_GROUP,
        "applied_outside_cloudformation": applied,
        "moto_lacks": MOTO_LACKS,
        "install_resources": sorted(res),
        "setup_resources": sorted(setup_res),
    }))


def evaluate(value, env, conditions):
    """CloudFormation's intrinsic functions, enough for firehose.yaml."""
    if isinstance(value, list):
        return [evaluate(v, env, conditions) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (k, v), = value.items()
        if k == "Ref":
            return env[v]
        if k == "Fn::GetAtt":
            return env[".".join(v)]
        if k == "Fn::ImportValue":
            return env["import:" + evaluate(v, env, conditions)]
        if k == "Fn::If":
            return evaluate(v[1] if conditions[v[0]] else v[2], env, conditions)
        if k == "Fn::Join":
            return v[0].join(evaluate(v[1], env, conditions))
        if k == "Fn::Sub":
            text, extra = (v, {}) if isinstance(v, str) else (v[0], evaluate(v[1], env, conditions))
            local = dict(env, **extra)
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(local[m.group(1)]), text)
    return {k: evaluate(v, env, conditions) for k, v in value.items()}


def replace_refs(value, known):
    """The template with Ref/GetAtt/${...} of `known` logical ids replaced by their values."""
    if isinstance(value, list):
        return [replace_refs(v, known) for v in value]
    if isinstance(value, str):
        for name, val in known.items():
            value = value.replace("${" + name + "}", val)
        return value
    if isinstance(value, dict):
        if len(value) == 1:
            (k, v), = value.items()
            if k == "Ref" and v in known:
                return known[v]
            if k == "Fn::GetAtt" and ".".join(v) in known:
                return known[".".join(v)]
        return {k: replace_refs(v, known) for k, v in value.items()}
    return value


def deploy_firehose(endpoint, install_function_arn):
    """Creates firehose.yaml (function URL mode, two log groups, the account
    policy on) and checks what it made; prints what the Rust side needs."""
    sm, lam, cfn, iam = (client(endpoint, n) for n in ("secretsmanager", "lambda", "cloudformation", "iam"))
    s3, logs, firehose = (client(endpoint, n) for n in ("s3", "logs", "firehose"))
    if not logs.describe_log_groups(logGroupNamePrefix="RDSOSMetrics")["logGroups"]:
        logs.create_log_group(logGroupName="RDSOSMetrics")
    params = {
        "InstallStackName": INSTALL_STACK,
        "BufferSizeMiB": "2",
        "BufferIntervalSeconds": "60",
        "RetryDurationSeconds": "3600",
        "BackupRetentionDays": "7",
        "LogGroupNames": ",".join(FIREHOSE_GROUPS),
        "EnableAccountPolicy": "true",
        "AccountPolicyExcludedLogGroups": "/serve/rds-forwarder",
    }
    template = render("firehose.yaml", params)
    rules = template.pop("Rules")
    assert list(rules) == ["FunctionUrlTakesSixMegabytes"], rules
    resources = template["Resources"]
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    env = {"import:" + k: v for k, v in exports.items()}
    env.update(params)
    env.update({"AWS::StackName": FIREHOSE_STACK, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                "AWS::Partition": "aws", "AWS::NoValue": None})
    env["LogGroupNames"] = FIREHOSE_GROUPS
    env["AccountPolicyExcludedLogGroups"] = params["AccountPolicyExcludedLogGroups"].split(",")
    conditions = {
        "UseFunctionUrl": params.get("EndpointUrl", "") == "",
        "HasLogGroups": True,
        "CreateAccountPolicy": params["EnableAccountPolicy"] == "true",
        "HasExcludedLogGroups": True,
    }
    assert set(conditions) == set(template["Conditions"]), template["Conditions"]

    # 1. What others refer to and moto cannot make from the template.
    generate = resources["AccessKeySecret"]["Properties"]["GenerateSecretString"]
    password = sm.get_random_password(
        PasswordLength=generate["PasswordLength"], ExcludePunctuation=generate["ExcludePunctuation"]
    )["RandomPassword"]
    secret_value = dict(json.loads(generate["SecretStringTemplate"]), **{generate["GenerateStringKey"]: password})
    secret_arn = sm.create_secret(Name=f"{FIREHOSE_STACK}-AccessKeySecret", SecretString=json.dumps(secret_value))["ARN"]
    url_props = evaluate(resources["FunctionUrl"]["Properties"], env, conditions)
    url = lam.create_function_url_config(
        FunctionName=url_props["TargetFunctionArn"], AuthType=url_props["AuthType"], InvokeMode=url_props["InvokeMode"]
    )["FunctionUrl"]
    stream_name = f"{FIREHOSE_STACK}-DeliveryStream"
    stream_arn = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{stream_name}"
    known = {"AccessKeySecret": secret_arn, "FunctionUrl.FunctionUrl": url, "DeliveryStream.Arn": stream_arn}

    # 2. The rest through moto's CloudFormation.
    supported = {k: v for k, v in resources.items() if v["Type"] not in FIREHOSE_UNSUPPORTED}
    stack_template = replace_refs(dict(template, Resources=supported), known)
    stack_params = {k: v for k, v in params.items()}
    out, res = create_stack(cfn, FIREHOSE_STACK, stack_template, stack_params)
    env.update(known)
    for logical_id, r in res.items():
        env[logical_id] = r["PhysicalResourceId"]
    env["BackupBucket.Arn"] = f"arn:aws:s3:::{env['BackupBucket']}"
    for role in ("DeliveryRole", "LogsToFirehoseRole"):
        env[role + ".Arn"] = iam.get_role(RoleName=env[role])["Role"]["Arn"]
    env["DeliveryLogGroup.Arn"] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{env['DeliveryLogGroup']}:*"
    for stream in ("DestinationLogStream", "BackupLogStream"):
        env[stream] = resources[stream]["Properties"]["LogStreamName"]

    # 3. The unsupported resources (and bucket properties), their properties evaluated.
    applied = []
    b = evaluate(resources["BackupBucket"]["Properties"], env, conditions)
    s3.put_public_access_block(Bucket=env["BackupBucket"], PublicAccessBlockConfiguration=b["PublicAccessBlockConfiguration"])
    s3.put_bucket_ownership_controls(Bucket=env["BackupBucket"], OwnershipControls=b["OwnershipControls"])
    s3.put_bucket_lifecycle_configuration(Bucket=env["BackupBucket"], LifecycleConfiguration={"Rules": [
        {"ID": r["Id"], "Status": r["Status"], "Filter": {"Prefix": ""},
         "Expiration": {"Days": int(r["ExpirationInDays"])},
         "AbortIncompleteMultipartUpload": r["AbortIncompleteMultipartUpload"]}
        for r in b["LifecycleConfiguration"]["Rules"]
    ]})
    applied.append("BackupBucket (public access block, ownership, lifecycle)")
    policy_props = None
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        if kind not in FIREHOSE_UNSUPPORTED or logical_id in ("AccessKeySecret", "FunctionUrl"):
            continue
        p = evaluate(resource["Properties"], env, conditions)
        if kind == "AWS::S3::BucketPolicy":
            s3.put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(p["PolicyDocument"]))
        elif kind == "AWS::Logs::LogStream":
            logs.create_log_stream(logGroupName=p["LogGroupName"], logStreamName=p["LogStreamName"])
        elif kind == "AWS::KinesisFirehose::DeliveryStream":
            http = p["HttpEndpointDestinationConfiguration"]
            for section, field in (("BufferingHints", "SizeInMBs"), ("BufferingHints", "IntervalInSeconds"),
                                   ("RetryOptions", "DurationInSeconds")):
                http[section][field] = int(http[section][field])
            firehose.create_delivery_stream(
                DeliveryStreamName=stream_name,
                DeliveryStreamType=p["DeliveryStreamType"],
                DeliveryStreamEncryptionConfigurationInput=p["DeliveryStreamEncryptionConfigurationInput"],
                HttpEndpointDestinationConfiguration=http,
            )
        elif kind == "AWS::Logs::SubscriptionFilter":
            logs.put_subscription_filter(
                logGroupName=p["LogGroupName"], filterName=p["FilterName"], filterPattern=p["FilterPattern"],
                destinationArn=p["DestinationArn"], roleArn=p["RoleArn"],
            )
        elif kind == "AWS::Logs::AccountPolicy":
            policy_props = p
            continue
        applied.append(f"{logical_id} ({kind})")

    # 4. What it made.
    secret = json.loads(sm.get_secret_value(SecretId=secret_arn)["SecretString"])
    assert list(secret) == ["api_key"] and len(secret["api_key"]) == 64, "not Firehose's JSON shape"
    stream = firehose.describe_delivery_stream(DeliveryStreamName=stream_name)["DeliveryStreamDescription"]
    assert stream["DeliveryStreamARN"] == stream_arn, stream["DeliveryStreamARN"]
    (dest,) = stream["Destinations"]
    http = dest["HttpEndpointDestinationDescription"]
    assert http["EndpointConfiguration"]["Url"] == url, http
    assert url.startswith("https://"), url
    assert http["RequestConfiguration"]["ContentEncoding"] == "GZIP", http
    assert http["BufferingHints"] == {"SizeInMBs": 2, "IntervalInSeconds": 60}, http
    assert http["RetryOptions"] == {"DurationInSeconds": 3600}, http
    assert http["S3BackupMode"] == "FailedDataOnly", http
    assert http["SecretsManagerConfiguration"]["SecretARN"] == secret_arn, http
    assert http["SecretsManagerConfiguration"]["Enabled"] is True, http
    assert "AccessKey" not in http["EndpointConfiguration"], http
    backup = http.get("S3DestinationDescription") or {}
    assert backup.get("BucketARN") == env["BackupBucket.Arn"], http

    bucket = env["BackupBucket"]
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", rules
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4, block
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}], ownership
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle[0]["Expiration"]["Days"] == 7, lifecycle
    bucket_policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert bucket_policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, bucket_policy

    # Least privilege: each role reaches only what this stack made.
    delivery = policy_document(iam.get_role_policy(RoleName=env["DeliveryRole"], PolicyName="rds-forwarder-firehose")["PolicyDocument"])
    by_sid = {st["Sid"]: st for st in delivery["Statement"]}
    assert by_sid["AccessKeySecret"]["Resource"] == secret_arn, by_sid
    assert by_sid["BackupBucket"]["Resource"] == [env["BackupBucket.Arn"], env["BackupBucket.Arn"] + "/*"], by_sid
    # CloudFormation's LogGroup Arn ends in `:*` (covering its streams); moto's has no suffix.
    assert by_sid["ErrorLog"]["Resource"] in (env["DeliveryLogGroup.Arn"], env["DeliveryLogGroup.Arn"][:-2]), by_sid
    put = policy_document(iam.get_role_policy(RoleName=env["LogsToFirehoseRole"], PolicyName="rds-forwarder-put-records")["PolicyDocument"])
    assert [st["Resource"] for st in put["Statement"]] == [stream_arn], put
    trust = iam.get_role(RoleName=env["DeliveryRole"])["Role"]["AssumeRolePolicyDocument"]
    trust = policy_document(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": ACCOUNT}}, trust

    # The function URL: anyone may call it (the access key authenticates).
    statements = json.loads(lam.get_policy(FunctionName=install_function_arn)["Policy"])["Statement"]
    url_perms = [st for st in statements if st["Principal"] in ("*", {"AWS": "*"})]
    assert sorted(st["Action"] for st in url_perms) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"], url_perms
    assert lam.get_function_url_config(FunctionName=install_function_arn)["AuthType"] == "NONE"

    # Subscriptions: each listed group to the stream, with the role.
    for group in FIREHOSE_GROUPS:
        (f,) = [f for f in logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
                if f["filterName"] == "rds-forwarder-firehose"]
        assert f["destinationArn"] == stream_arn and f["roleArn"] == env["LogsToFirehoseRole.Arn"], f
    # The account-level policy (moto has no PutAccountPolicy), rendered.
    assert policy_props["SelectionCriteria"] == (
        f'LogGroupName NOT IN ["/aws/lambda/{INSTALL_STACK}", "/aws/kinesisfirehose/{FIREHOSE_STACK}", "/serve/rds-forwarder"]'
    ), policy_props["SelectionCriteria"]
    assert json.loads(policy_props["PolicyDocument"]) == {
        "DestinationArn": stream_arn, "RoleArn": env["LogsToFirehoseRole.Arn"], "FilterPattern": "", "Distribution": "Random",
    }, policy_props["PolicyDocument"]
    assert out["AccessKeySecretArn"] == secret_arn and out["EndpointUrl"] == url, out

    print(json.dumps({
        "access_key_secret_arn": secret_arn,
        "endpoint_url": url,
        "content_encoding": http["RequestConfiguration"]["ContentEncoding"],
        "stream_arn": stream_arn,
        "applied_outside_cloudformation": applied,
        "moto_lacks": FIREHOSE_MOTO_LACKS,
    }))


def access_key(endpoint, secret_arn):
    """The key as Firehose reads it: `api_key` of the secret (boto3, not our code)."""
    value = client(endpoint, "secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    print(json.dumps({"api_key": json.loads(value)["api_key"]}))


def use_firehose_key(endpoint, secret_arn):
    """An install stack given FirehoseAccessKeySecretArn, as deploy/README.md
    says (moto's UpdateStack fails on install.yaml, so a second install stack
    is created with it); prints the function's environment."""
    cfn, lam, iam = (client(endpoint, n) for n in ("cloudformation", "lambda", "iam"))
    stack = cfn.describe_stacks(StackName=INSTALL_STACK)["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    params["FirehoseAccessKeySecretArn"] = secret_arn
    outputs, _ = create_stack(cfn, INSTALL_STACK + "-fh", load("install.yaml"), params)
    conf = lam.get_function_configuration(FunctionName=outputs["FunctionName"])
    variables = conf["Environment"]["Variables"]
    assert variables["RDSF_FIREHOSE_ACCESS_KEY_SECRET_ARN"] == secret_arn, variables
    policy = policy_document(iam.get_role_policy(RoleName=outputs["FunctionRoleName"], PolicyName="rds-forwarder")["PolicyDocument"])
    by_sid = {st["Sid"]: st for st in policy["Statement"]}
    assert by_sid["FirehoseAccessKeySecret"] == {
        "Sid": "FirehoseAccessKeySecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn,
    }, by_sid
    print(json.dumps({"function_environment": variables}))


def filters(endpoint):
    logs = client(endpoint, "logs")
    pages = logs.get_paginator("describe_log_groups").paginate()
    groups = [g["logGroupName"] for page in pages for g in page["logGroups"]]
    print(json.dumps({
        g: [[f["filterName"], f["destinationArn"]] for f in logs.describe_subscription_filters(logGroupName=g)["subscriptionFilters"]]
        for g in groups
    }))


def failure(endpoint, queue_url, out_path, event_path, function_arn):
    """Puts what Lambda sends to an SQS on-failure destination, then reads it
    back as the README tells users to, keeping requestPayload for replay."""
    sqs = client(endpoint, "sqs")
    request_payload = json.loads(Path(event_path).read_text())
    record = {
        "version": "1.0",
        "timestamp": "2026-11-25T09:30:00.000Z",
        "requestContext": {
            "requestId": "5d1e7f3a-0000-4000-8000-000000000001",
            "functionArn": function_arn + ":$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 2,
        },
        "requestPayload": request_payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "RdsForwarder.retryable", "errorMessage": "whatap: delivery failed"},
    }
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1, messages
    body = json.loads(messages[0]["Body"])
    Path(out_path).write_text(json.dumps(body["requestPayload"]) + "\n")
    print(json.dumps({"condition": body["requestContext"]["condition"]}))


if __name__ == "__main__":
    endpoint, phase = sys.argv[1], sys.argv[2]
    if phase == "deploy":
        deploy(endpoint)
    elif phase == "filters":
        filters(endpoint)
    elif phase == "firehose":
        deploy_firehose(endpoint, sys.argv[3])
    elif phase == "access-key":
        access_key(endpoint, sys.argv[3])
    elif phase == "use-firehose-key":
        use_firehose_key(endpoint, sys.argv[3])
    elif phase == "create-group":
        client(endpoint, "logs").create_log_group(logGroupName=sys.argv[3])
        print(json.dumps({"created": sys.argv[3]}))
    elif phase == "put-filter":
        group, name, destination = sys.argv[3:6]
        logs = client(endpoint, "logs")
        extra = {}
        if destination.startswith("kinesis:"):
            # Another destination than the function: a Kinesis stream (moto
            # checks that a Lambda destination exists).
            kinesis = client(endpoint, "kinesis")
            kinesis.create_stream(StreamName=destination[len("kinesis:"):], ShardCount=1)
            destination = kinesis.describe_stream(StreamName=destination[len("kinesis:"):])["StreamDescription"]["StreamARN"]
            extra["roleArn"] = f"arn:aws:iam::{ACCOUNT}:role/cwl-to-kinesis"
        logs.create_log_group(logGroupName=group)
        logs.put_subscription_filter(logGroupName=group, filterName=name, filterPattern="", destinationArn=destination, **extra)
        print(json.dumps({"destination": destination}))
    elif phase == "create-groups":
        logs = client(endpoint, "logs")
        prefix, count = sys.argv[3], int(sys.argv[4])
        for i in range(count):
            logs.create_log_group(logGroupName=f"{prefix}{i:03}")
        print(json.dumps({"created": count}))
    elif phase == "failure":
        failure(endpoint, *sys.argv[3:7])
    else:
        sys.exit(f"unknown phase {phase}")
