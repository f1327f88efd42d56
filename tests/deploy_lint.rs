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
    assert_eq!(templates.len(), 2, "{templates:?}");
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
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "checkov failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let summary = &report["summary"];
    assert_eq!(summary["failed"], 0, "{summary}");
    assert!(summary["passed"].as_u64().unwrap() > 0, "{summary}");
    for skipped in report["results"]["skipped_checks"].as_array().unwrap() {
        let reason = skipped["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or("");
        assert!(
            reason.len() > 40,
            "skip without a written reason: {skipped}"
        );
    }
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

/// Every environment variable the binary reads: each setting (`Settings`,
/// the CLI definition Lambda mode parses too) and, for each secret setting,
/// its two references (`aws::secrets`).
fn variables_the_binary_reads() -> Vec<String> {
    use clap::Args;
    let cmd = <rds_forwarder::config::Settings as Args>::augment_args(clap::Command::new("x"));
    let mut known: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect();
    for var in rds_forwarder::config::secret_vars() {
        known.push(format!("{var}_SECRET_ARN"));
        known.push(format!("{var}_SSM_PARAMETER"));
    }
    known
}

/// The secret settings the install template fills from a Secrets Manager
/// secret or an SSM SecureString parameter: one parameter of each kind.
const OFFERED_BY_REFERENCE: [&str; 4] = [
    "WHATAP_LICENSE",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "LOKI_BASIC_AUTH",
    "LOKI_BEARER_TOKEN",
];

/// The other secret settings (`config::secret_vars`), and why the template
/// has no reference for them. A new secret setting fails the test below
/// until it is in one list or the other.
const NOT_OFFERED_BY_REFERENCE: [(&str, &str); 3] = [
    (
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        "OTEL_EXPORTER_OTLP_HEADERS covers the logs signal too",
    ),
    (
        "LOKI_URL",
        "secret only when it carries user:password@, which LokiUrl refuses (credentials go in LOKI_BASIC_AUTH)",
    ),
    (
        "RDSF_FIREHOSE_ACCESS_KEY",
        "the Firehose input's function URL and delivery stream come with their own template (issue 15); the install stack takes no Firehose deliveries",
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
    let known = variables_the_binary_reads();
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

    // Every parameter is shown in exactly one group of the console form.
    let mut grouped: Vec<&str> = t["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["Parameters"].as_array().unwrap())
        .map(|p| p.as_str().unwrap())
        .collect();
    grouped.sort_unstable();
    let mut parameters: Vec<&str> = t["Parameters"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    parameters.sort_unstable();
    assert_eq!(grouped, parameters);
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
