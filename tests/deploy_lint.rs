//! The CloudFormation templates pass cfn-lint and checkov (installed by
//! scripts/deps/deploy.sh into virtualenvs under target/ when missing).

use crate::deploy_support;

use deploy_support::{ensure_tools, root, venv_bin};
use std::process::Command;

fn templates() -> Vec<String> {
    let mut t: Vec<String> = std::fs::read_dir(root().join("deploy"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    t.sort();
    t
}

#[test]
fn cfn_lint_reports_nothing() {
    ensure_tools();
    let templates = templates();
    assert_eq!(templates.len(), 3, "{templates:?}");
    let out = Command::new(venv_bin("cfn-lint", "cfn-lint"))
        .args(&templates)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.trim().is_empty(),
        "cfn-lint:\n{text}"
    );
    println!("cfn-lint: {} templates, no findings", templates.len());
}

#[test]
fn checkov_passes_with_only_documented_skips() {
    ensure_tools();
    let out = Command::new(venv_bin("checkov", "checkov"))
        .args([
            "--framework",
            "cloudformation",
            "-d",
            "deploy",
            "--skip-download",
        ])
        .args(["--output", "json"])
        .current_dir(root())
        // Offline: no guideline download, no platform mapping.
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .unwrap();
    let summary = deploy_support::checkov_clean(&out, 0);
    println!("checkov: {summary}");
}

/// The scripts a user runs (`scripts/*.sh`; not `scripts/deps/`, which are
/// Debian's apt steps) work on macOS too: no GNU-only flags (issue 12:
/// `package.sh` used `stat -c`).
#[test]
fn user_scripts_use_no_gnu_only_flags() {
    let gnu_only = [
        ("stat -c", "use `wc -c < FILE`"),
        ("stat --format", "use `wc -c < FILE`"),
        ("readlink -f", "use `cd \"$(dirname …)\" && pwd`"),
        ("date -d", "BSD date has no -d"),
        ("grep -P", "BSD grep has no -P"),
        ("xargs -r", "BSD xargs has no -r"),
        ("-printf", "BSD find has no -printf"),
        ("sed -i '", "BSD sed needs `sed -i '' …` or `sed -i.bak`"),
        ("sed -i \"", "BSD sed needs `sed -i '' …` or `sed -i.bak`"),
        ("sed -i s", "BSD sed needs `sed -i '' …` or `sed -i.bak`"),
    ];
    let mut found = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("scripts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "sh") {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split(" #").next().unwrap_or("");
            if code.trim_start().starts_with('#') {
                continue;
            }
            for (flag, why) in gnu_only {
                if code.contains(flag) {
                    found.push(format!("{}:{}: `{flag}`: {why}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(checked >= 3, "scripts/*.sh not found");
    assert!(found.is_empty(), "GNU-only flags:\n{}", found.join("\n"));
}

/// Cargo.toml says Apache-2.0; the licence text ships with the source.
#[test]
fn the_licence_cargo_names_is_in_the_repository() {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(cargo.contains("license = \"Apache-2.0\""));
    let text = std::fs::read_to_string(root().join("LICENSE")).expect("LICENSE file");
    assert!(text.contains("Apache License") && text.contains("Version 2.0, January 2004"));
    assert!(text.contains("END OF TERMS AND CONDITIONS"), "full text");
}

/// deploy/`name` as JSON, CloudFormation's short tags in their long form
/// (`!Ref X` is `{"Ref": "X"}`, `!If [...]` is `{"Fn::If": [...]}`), read by
/// PyYAML in the moto virtualenv with moto_stacks.py's loader.
fn template_json(name: &str) -> serde_json::Value {
    ensure_tools();
    let out = Command::new(venv_bin("moto", "python"))
        .arg(root().join("tests/deploy/template_json.py"))
        .arg(name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "template_json.py {name}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The secret settings the install template fills from a Secrets Manager
/// secret or an SSM SecureString parameter: one parameter of each kind.
const OFFERED_BY_REFERENCE: [&str; 5] = [
    "WHATAP_LICENSE",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "LOKI_BASIC_AUTH",
    "LOKI_BEARER_TOKEN",
    // The secret firehose.yaml generates (its AccessKeySecretArn output).
    "RDSF_FIREHOSE_ACCESS_KEY",
];

/// The other secret settings (`config::secret_vars`), and why the template
/// has no reference for them. A new secret setting fails the test below
/// until it is in one list or the other.
const NOT_OFFERED_BY_REFERENCE: [(&str, &str); 2] = [
    (
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        "OTEL_EXPORTER_OTLP_HEADERS covers the logs signal too",
    ),
    (
        "LOKI_URL",
        "secret only when it carries user:password@, which LokiUrl refuses (credentials go in LOKI_BASIC_AUTH)",
    ),
];

/// The install stack's function environment holds only variables the
/// binary reads (a misspelt one would be silently ignored), offers every
/// sink the binary has, and offers each credential only by reference.
#[test]
fn the_function_environment_holds_only_settings_the_binary_reads() {
    let t = template_json("install.yaml");
    let env = t["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
        .as_object()
        .unwrap();
    let known = deploy_support::variables_the_binary_reads(false);
    let unknown: Vec<&String> = env.keys().filter(|k| !known.contains(k)).collect();
    assert!(unknown.is_empty(), "not read by rds-forwarder: {unknown:?}");

    // Every sink the binary has can be chosen, and is named.
    let sinks = &t["Parameters"]["Sinks"];
    let pattern = regex::Regex::new(sinks["AllowedPattern"].as_str().unwrap()).unwrap();
    let description = sinks["Description"].as_str().unwrap();
    let names = rdsf_sinks::SinkSettings::default().names();
    for name in &names {
        assert!(pattern.is_match(name), "Sinks refuses {name}");
        assert!(description.contains(name), "Sinks does not name {name}");
    }
    assert!(pattern.is_match(&names.join(",")));
    assert!(!pattern.is_match("stdout,lokki") && !pattern.is_match(""));

    // Every secret setting is either offered by reference or deliberately not.
    let mut decided: Vec<&str> = OFFERED_BY_REFERENCE.to_vec();
    decided.extend(NOT_OFFERED_BY_REFERENCE.iter().map(|(v, _)| *v));
    decided.sort_unstable();
    let mut secret = rds_forwarder::config::secret_vars().to_vec();
    secret.sort_unstable();
    assert_eq!(
        decided, secret,
        "decide how the template offers each secret"
    );
    for var in OFFERED_BY_REFERENCE {
        assert!(!env.contains_key(var), "{var} set as a plain value");
        for suffix in ["_SECRET_ARN", "_SSM_PARAMETER"] {
            let reference = format!("{var}{suffix}");
            assert!(
                env.get(&reference).is_some_and(|v| v["Ref"].is_string()),
                "{reference} is not set from a parameter"
            );
        }
    }
    // The one secret setting set plainly: its parameter refuses credentials.
    assert_eq!(env["LOKI_URL"]["Ref"], "LokiUrl");
    let url = regex::Regex::new(
        t["Parameters"]["LokiUrl"]["AllowedPattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    for ok in [
        "",
        "http://loki:3100",
        "https://logs-prod-006.grafana.net/loki/api/v1/push",
    ] {
        assert!(url.is_match(ok), "LokiUrl refuses {ok}");
    }
    for bad in ["https://123456:glc_token@logs.grafana.net", "loki:3100"] {
        assert!(!url.is_match(bad), "LokiUrl accepts {bad}");
    }
    // A default the template repeats is the binary's own.
    assert_eq!(
        t["Parameters"]["LokiTimeoutMs"]["Default"],
        rdsf_sinks::loki::DEFAULT_TIMEOUT_MS
    );
    // Metrics: the binary's defaults and bounds, and every value offered valid.
    {
        use rdsf_core::enhanced_monitoring::{settings, MetricsSettings};
        let p = &t["Parameters"];
        assert_eq!(env["RDSF_METRICS"]["Ref"], "Metrics");
        assert_eq!(env["RDSF_OS_TOP_PROCESSES"]["Ref"], "OsTopProcesses");
        assert_eq!(
            p["Metrics"]["Default"].as_str().unwrap(),
            MetricsSettings::default().metrics.join(",")
        );
        for value in p["Metrics"]["AllowedValues"].as_array().unwrap() {
            let s = MetricsSettings {
                // Split as the binary splits the variable (`value_delimiter`).
                metrics: value
                    .as_str()
                    .unwrap()
                    .split(',')
                    .map(str::to_owned)
                    .collect(),
                ..MetricsSettings::default()
            };
            assert!(s.options().is_ok(), "Metrics offers {value}");
        }
        let top = &p["OsTopProcesses"];
        assert_eq!(top["Default"], settings::DEFAULT_TOP_PROCESSES);
        assert_eq!(top["MinValue"], 0);
        assert_eq!(top["MaxValue"], settings::MAX_TOP_PROCESSES);
        let over = MetricsSettings {
            os_top_processes: settings::MAX_TOP_PROCESSES + 1,
            ..MetricsSettings::default()
        };
        assert!(over.options().is_err(), "the binary's bound moved");
        assert_eq!(env["RDSF_QUERY_METRICS_TOP"]["Ref"], "QueryMetricsTop");
        let top = &p["QueryMetricsTop"];
        assert_eq!(top["Default"], settings::DEFAULT_QUERY_TOP);
        assert_eq!(top["MinValue"], 0);
        assert_eq!(top["MaxValue"], settings::MAX_QUERY_TOP);
        let over = MetricsSettings {
            query_metrics_top: settings::MAX_QUERY_TOP + 1,
            ..MetricsSettings::default()
        };
        assert!(over.options().is_err(), "the binary's bound moved");
    }

    // Every parameter is shown in exactly one group of the console form.
    deploy_support::assert_every_parameter_grouped(&t);
}

/// Each secret reference parameter grants the function exactly what it
/// names and only when set: `secretsmanager:GetSecretValue` on that secret
/// ARN, `ssm:GetParameter` on that parameter (a name with or without its
/// leading `/`), never a wildcard; and no other statement reads secrets.
#[test]
fn each_secret_reference_grants_only_what_it_names() {
    use serde_json::{json, Value};
    let t = template_json("install.yaml");
    let env = &t["Resources"]["Function"]["Properties"]["Environment"]["Variables"];
    let conditions = &t["Conditions"];
    let statements = t["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array()
        .unwrap();
    let reads_secrets = |s: &Value| {
        let text = s.to_string();
        text.contains("secretsmanager:") || text.contains("ssm:")
    };
    let mut matched = 0;
    // `{"Fn::If": [condition, statement, NoValue]}` with the condition
    // "`parameter` is not empty", and that statement.
    let conditional = |parameter: &str| -> Value {
        let found: Vec<&Value> = statements
            .iter()
            .filter(|s| {
                let text = s.to_string();
                text.contains(&json!({ "Ref": parameter }).to_string())
                    || text.contains(&format!("${{{parameter}}}"))
            })
            .collect();
        assert_eq!(found.len(), 1, "{parameter}: {found:?}");
        let branches = found[0]["Fn::If"]
            .as_array()
            .expect("a conditional statement");
        assert_eq!(branches[2], json!({ "Ref": "AWS::NoValue" }), "{parameter}");
        let condition = branches[0].as_str().unwrap();
        assert_eq!(
            conditions[condition],
            json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": parameter }, ""] }] }),
            "{parameter}: condition {condition}"
        );
        branches[1].clone()
    };
    for var in OFFERED_BY_REFERENCE {
        let arn_param = env[format!("{var}_SECRET_ARN")]["Ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{var}_SECRET_ARN is not set from a parameter"));
        let statement = conditional(arn_param);
        let mut keys: Vec<&String> = statement.as_object().unwrap().keys().collect();
        keys.sort_unstable();
        assert_eq!(keys, ["Action", "Effect", "Resource", "Sid"], "{arn_param}");
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(statement["Action"], "secretsmanager:GetSecretValue");
        assert_eq!(statement["Resource"], json!({ "Ref": arn_param }));
        assert!(
            t["Parameters"][arn_param]["AllowedPattern"]
                .as_str()
                .unwrap()
                .contains(":secretsmanager:"),
            "{arn_param} takes more than a secret ARN"
        );
        matched += 1;

        let ssm_param = env[format!("{var}_SSM_PARAMETER")]["Ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{var}_SSM_PARAMETER is not set from a parameter"));
        let statement = conditional(ssm_param);
        let mut keys: Vec<&String> = statement.as_object().unwrap().keys().collect();
        keys.sort_unstable();
        assert_eq!(keys, ["Action", "Effect", "Resource", "Sid"], "{ssm_param}");
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(statement["Action"], "ssm:GetParameter");
        let arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter";
        let resource = statement["Resource"]["Fn::If"].as_array().unwrap();
        assert_eq!(
            resource[1..],
            [
                json!({ "Fn::Sub": format!("{arn}${{{ssm_param}}}") }),
                json!({ "Fn::Sub": format!("{arn}/${{{ssm_param}}}") }),
            ],
            "{ssm_param}"
        );
        // The first form only when the name starts with `/`.
        assert_eq!(
            conditions[resource[0].as_str().unwrap()],
            json!({ "Fn::Equals": [
                { "Fn::Select": [0, { "Fn::Split": ["/", { "Fn::Join": ["", [{ "Ref": ssm_param }, "/"]] }] }] },
                ""
            ] }),
            "{ssm_param}"
        );
        matched += 1;
    }
    // Nothing else reads secrets (kms:Decrypt via those services aside).
    let readers = statements
        .iter()
        .filter(|s| reads_secrets(s) && !s.to_string().contains("kms:Decrypt"))
        .count();
    assert_eq!(readers, matched);
    println!("{matched} secret reference parameters, each granting only what it names");
}

/// firehose.yaml: the stream reads the access key from the secret it
/// generates, in the JSON shape the forwarder reads too (the key name is the
/// secret loader's); requests are gzip and sized within what the forwarder
/// takes; what is not delivered goes to an encrypted, private bucket that
/// expires it; every grant names its one resource; and the account-level
/// policy never subscribes the forwarder's or the stream's own log groups.
#[test]
fn the_firehose_stream_shares_its_key_with_the_forwarder_and_stays_within_its_bounds() {
    use serde_json::{json, Value};
    let t = template_json("firehose.yaml");
    let r = &t["Resources"];
    let p = &t["Parameters"];

    // The generated secret is `{"<key>": "..."}` with the key the forwarder takes.
    let (var, key) = rdsf_aws::secrets::JSON_KEY_OF[0];
    assert_eq!(var, "RDSF_FIREHOSE_ACCESS_KEY");
    let generate = &r["AccessKeySecret"]["Properties"]["GenerateSecretString"];
    assert_eq!(generate["GenerateStringKey"], key);
    assert_eq!(generate["SecretStringTemplate"], "{}");
    // Within the forwarder's bound on the key (RDSF_FIREHOSE_ACCESS_KEY <= 4096).
    assert!(generate["PasswordLength"].as_u64().unwrap() <= 4096);
    let http = &r["DeliveryStream"]["Properties"]["HttpEndpointDestinationConfiguration"];
    assert_eq!(
        http["SecretsManagerConfiguration"],
        json!({"Enabled": true, "SecretARN": {"Ref": "AccessKeySecret"},
               "RoleARN": {"Fn::GetAtt": ["DeliveryRole", "Arn"]}})
    );
    assert!(http["EndpointConfiguration"].get("AccessKey").is_none());
    assert_eq!(
        t["Outputs"]["AccessKeySecretArn"]["Value"],
        json!({"Ref": "AccessKeySecret"})
    );
    // The install stack takes that output as a secret ARN.
    let install = template_json("install.yaml");
    let arn_pattern = regex::Regex::new(
        install["Parameters"]["FirehoseAccessKeySecretArn"]["AllowedPattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(arn_pattern.is_match(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:AccessKeySecret-x1Yz2AbC3dEf-AbC123"
    ));

    // The request: gzip, the buffer within what the forwarder reads. Firehose
    // base64s each record into the JSON body (4/3), which the forwarder bounds
    // by RDSF_MAX_DECOMPRESSED_BYTES once inflated.
    assert_eq!(http["RequestConfiguration"]["ContentEncoding"], "GZIP");
    assert_eq!(
        http["BufferingHints"]["SizeInMBs"],
        json!({"Ref": "BufferSizeMiB"})
    );
    let max_mib = p["BufferSizeMiB"]["MaxValue"].as_u64().unwrap() as usize;
    assert!(p["BufferSizeMiB"]["MinValue"].as_u64().unwrap() >= 1);
    assert!(
        max_mib * (1 << 20) * 4 / 3 + (1 << 20)
            < rds_forwarder::config::DEFAULT_MAX_DECOMPRESSED_BYTES,
        "{max_mib} MiB buffers inflate past the forwarder's default bound"
    );
    // With the function URL, Lambda's 6 MB request: the rule allows 1-3 MiB only.
    let rule = &t["Rules"]["FunctionUrlTakesSixMegabytes"];
    assert_eq!(
        rule["RuleCondition"],
        json!({"Fn::Equals": [{"Ref": "EndpointUrl"}, ""]})
    );
    assert_eq!(
        rule["Assertions"][0]["Assert"],
        json!({"Fn::Contains": [["1", "2", "3"], {"Ref": "BufferSizeMiB"}]})
    );
    let largest_for_url = rule["Assertions"][0]["Assert"]["Fn::Contains"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse::<usize>().unwrap())
        .max()
        .unwrap();
    assert!(largest_for_url * (1 << 20) * 4 / 3 < 6_000_000);
    // Retries within the window the forwarder remembers delivered request ids.
    assert!(
        p["RetryDurationSeconds"]["MaxValue"].as_u64().unwrap()
            <= rds_forwarder::firehose::REMEMBER_FOR.as_secs()
    );

    // The endpoint: a function URL (AuthType NONE: Firehose cannot sign) on
    // the installed function, or the given https URL.
    assert_eq!(
        http["EndpointConfiguration"]["Url"],
        json!({"Fn::If": ["UseFunctionUrl", {"Fn::GetAtt": ["FunctionUrl", "FunctionUrl"]}, {"Ref": "EndpointUrl"}]})
    );
    assert_eq!(r["FunctionUrl"]["Properties"]["AuthType"], "NONE");
    let url = regex::Regex::new(p["EndpointUrl"]["AllowedPattern"].as_str().unwrap()).unwrap();
    for ok in ["", "https://rdsf.example.com/"] {
        assert!(url.is_match(ok), "{ok}");
    }
    for bad in ["http://rdsf.example.com/", "https://u:p@rdsf.example.com/"] {
        assert!(!url.is_match(bad), "{bad}");
    }

    // Failed data only, to a private, encrypted bucket that expires it.
    assert_eq!(http["S3BackupMode"], "FailedDataOnly");
    let bucket = &r["BackupBucket"]["Properties"];
    assert_eq!(
        bucket["PublicAccessBlockConfiguration"],
        json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true})
    );
    assert!(bucket["BucketEncryption"].to_string().contains("AES256"));
    assert_eq!(
        bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"],
        json!({"Ref": "BackupRetentionDays"})
    );
    assert_eq!(http["CloudWatchLoggingOptions"]["Enabled"], true);

    // Encrypted at rest; CloudWatch Logs may assume its role only for this account's groups.
    assert_eq!(
        r["DeliveryStream"]["Properties"]["DeliveryStreamEncryptionConfigurationInput"],
        json!({"KeyType": "AWS_OWNED_CMK"})
    );
    assert_eq!(
        r["LogsToFirehoseRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
            ["Condition"],
        json!({"StringLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"}}})
    );
    assert_eq!(
        r["DeliveryRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"],
        json!({"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}})
    );

    // Least privilege: every statement names its resources, no wildcard action.
    for role in ["DeliveryRole", "LogsToFirehoseRole"] {
        let policies = r[role]["Properties"]["Policies"].as_array().unwrap();
        for s in policies
            .iter()
            .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap())
        {
            let text = s.to_string();
            assert!(
                s["Resource"] != json!("*") && !text.contains("\"*\""),
                "{role}: {s}"
            );
        }
    }
    let delivery: Vec<&Value> = r["DeliveryRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let secret_readers: Vec<&&Value> = delivery
        .iter()
        .filter(|s| s.to_string().contains("secretsmanager:"))
        .collect();
    assert_eq!(secret_readers.len(), 1);
    assert_eq!(secret_readers[0]["Action"], "secretsmanager:GetSecretValue");
    assert_eq!(
        secret_readers[0]["Resource"],
        json!({"Ref": "AccessKeySecret"})
    );

    // The account-level policy leaves out the forwarder's and the stream's own groups.
    let policy = &r["AccountPolicy"]["Properties"];
    assert_eq!(policy["PolicyType"], "SUBSCRIPTION_FILTER_POLICY");
    let criteria = policy["SelectionCriteria"]["Fn::Sub"][0].as_str().unwrap();
    assert!(
        criteria.starts_with(
            "LogGroupName NOT IN [\"/aws/lambda/${InstallStackName}\", \"${DeliveryLogGroup}\""
        ),
        "{criteria}"
    );
    // The forwarder's log group is that name (install.yaml).
    assert_eq!(
        install["Resources"]["FunctionLogGroup"]["Properties"]["LogGroupName"],
        json!({"Fn::Sub": "/aws/lambda/${AWS::StackName}"})
    );
}

/// RDS metadata's permissions: one statement, only under `RdsMetadata=on`,
/// the four read-only actions, each resource pattern within the stack's own
/// account and region; the switch and the tag keys reach the function.
#[test]
fn rds_metadata_grants_read_only_actions_only_when_on() {
    use serde_json::json;
    let t = template_json("install.yaml");
    let statements = t["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array()
        .unwrap();
    let rds: Vec<_> = statements
        .iter()
        .filter(|s| s.to_string().contains("\"rds:"))
        .collect();
    assert_eq!(rds.len(), 1, "{rds:?}");
    let branches = rds[0]["Fn::If"]
        .as_array()
        .expect("a conditional statement");
    assert_eq!(branches[2], json!({ "Ref": "AWS::NoValue" }));
    let condition = branches[0].as_str().unwrap();
    assert_eq!(
        t["Conditions"][condition],
        json!({ "Fn::Equals": [{ "Ref": "RdsMetadata" }, "on"] })
    );
    assert_eq!(
        t["Parameters"]["RdsMetadata"]["AllowedValues"],
        json!(["on", "off"])
    );
    let statement = &branches[1];
    let mut actions: Vec<&str> = statement["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "rds:DescribeDBClusters",
            "rds:DescribeDBInstances",
            "rds:DescribeDBProxies",
            "rds:ListTagsForResource"
        ]
    );
    for resource in statement["Resource"].as_array().unwrap() {
        let sub = resource["Fn::Sub"].as_str().unwrap();
        assert!(
            sub.starts_with("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:"),
            "{sub}"
        );
    }
    let env = &t["Resources"]["Function"]["Properties"]["Environment"]["Variables"];
    assert_eq!(env["RDSF_RDS_METADATA"], json!({ "Ref": "RdsMetadata" }));
    assert_eq!(env["RDSF_RDS_TAG_KEYS"], json!({ "Ref": "RdsTagKeys" }));
}
