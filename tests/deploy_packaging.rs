//! The other ways to install (issue 16): the Terraform module
//! (deploy/terraform) and the SAM templates scripts/sam_template.py makes
//! from install.yaml grant the same permissions and set the same
//! environment as the CloudFormation templates, read as they are when the
//! test runs; `terraform validate`, checkov, `sam validate` and actionlint
//! pass. Tools: scripts/deps/deploy.sh (virtualenvs under target/);
//! terraform and its AWS provider come with the machine (see README,
//! "Terraform").

use crate::deploy_support;

use deploy_support::moto::Moto;
use deploy_support::{ensure_tools, root, venv_bin};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The module's inputs that have no CloudFormation parameter: the stack
/// name's stand-in and the local zip. `install_stack_name` is the one
/// parameter the module needs not: it is install and setup in one.
const MODULE_ONLY: [&str; 2] = ["name", "filename"];
const CFN_ONLY: [&str; 1] = ["install_stack_name"];
/// install.yaml's parameters saying where the zip is; SAM takes the zip
/// from beside its template.
const CODE_INPUTS: [&str; 4] = [
    "code_s3_bucket",
    "code_s3_key",
    "code_s3_object_version",
    "architecture",
];
/// Where the machine keeps the AWS provider for `terraform init` (no
/// registry reachable): a filesystem mirror in Terraform's layout.
const PROVIDER_MIRROR: &str = "/opt/tf-plugins";

/// A directory under target/ for one test, emptied first, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = root()
            .join("target")
            .join(format!("scratch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// tests/deploy/iac_facts.py's reading of templates (`cfn`) or a module
/// directory (`terraform`).
fn facts(kind: &str, paths: &[&Path]) -> Value {
    ensure_tools();
    let out = Command::new(venv_bin("iac", "python"))
        .arg(root().join("tests/deploy/iac_facts.py"))
        .arg(kind)
        .args(paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "iac_facts.py {kind}:\n{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn cfn_templates() -> Value {
    let deploy = root().join("deploy");
    facts(
        "cfn",
        &[&deploy.join("install.yaml"), &deploy.join("setup.yaml")],
    )
}

/// What differs between two readings, each line naming the input, variable
/// or statement; `a_only`/`b_only` are inputs only one side is meant to have.
fn differences(
    a_name: &str,
    a: &Value,
    b_name: &str,
    b: &Value,
    a_only: &[&str],
    b_only: &[&str],
) -> Vec<String> {
    let mut found = Vec::new();
    let mut keyed = |what: &str, skip_a: &[&str], skip_b: &[&str]| {
        let (am, bm) = (a[what].as_object().unwrap(), b[what].as_object().unwrap());
        for (k, v) in am.iter().filter(|(k, _)| !skip_a.contains(&k.as_str())) {
            match bm.get(k) {
                None => found.push(format!("{what} `{k}`: in {a_name}, not in {b_name}")),
                Some(w) if w != v => {
                    found.push(format!("{what} `{k}`: {a_name} {v}, {b_name} {w}"))
                }
                Some(_) => {}
            }
        }
        for k in bm.keys().filter(|k| !skip_b.contains(&k.as_str())) {
            if !am.contains_key(k) {
                found.push(format!("{what} `{k}`: in {b_name}, not in {a_name}"));
            }
        }
    };
    keyed("inputs", a_only, b_only);
    keyed("environment", &[], &[]);
    keyed("statements", &[], &[]);
    keyed("resources", &[], &[]);
    keyed("conditional", &[], &[]);
    for what in ["invokers", "function"] {
        if a[what] != b[what] {
            found.push(format!(
                "{what}: {a_name} {}, {b_name} {}",
                a[what], b[what]
            ));
        }
    }
    found
}

/// The same inputs (and defaults), function environment, role statements
/// (Sid, actions, conditions, which inputs they name, only-when-set),
/// invoke permissions, kinds of resource and, for each resource made only
/// under a condition, the inputs that condition reads, as install.yaml +
/// setup.yaml hold now.
#[test]
fn the_terraform_module_grants_and_sets_what_the_templates_do() {
    let cfn = cfn_templates();
    let tf = facts("terraform", &[&root().join("deploy/terraform")]);
    let diff = differences(
        "CloudFormation",
        &cfn,
        "Terraform",
        &tf,
        &CFN_ONLY,
        &MODULE_ONLY,
    );
    assert!(
        diff.is_empty(),
        "the module and the templates differ:\n{}",
        diff.join("\n")
    );
    for name in MODULE_ONLY {
        assert!(tf["inputs"].get(name).is_some(), "{name}");
    }
    let statements = cfn["statements"].as_object().unwrap();
    assert!(statements.len() >= 11, "{statements:?}");
    println!(
        "terraform = cloudformation: {} inputs, {} variables, {} statements, {} invoke permissions",
        tf["inputs"].as_object().unwrap().len(),
        tf["environment"].as_object().unwrap().len(),
        statements.len(),
        tf["invokers"].as_array().unwrap().len()
    );
}

/// Copies `from` into `to` with each (pattern, replacement) applied once.
fn planted(from: &Path, to: &Path, plants: &[(&str, &str)]) {
    let mut s = std::fs::read_to_string(from).unwrap();
    for (pattern, replacement) in plants {
        assert!(s.contains(pattern), "{pattern} not in {}", from.display());
        s = s.replacen(pattern, replacement, 1);
    }
    std::fs::write(to, s).unwrap();
}

/// The comparison above fails when one side gains a permission, a variable
/// or a kind of resource the other lacks, or makes a resource under another
/// condition: planted in copies of each side.
#[test]
fn a_permission_or_variable_on_one_side_only_is_caught() {
    let scratch = Scratch::new("parity-plant");
    let cfn = cfn_templates();

    // Terraform gains an action and a variable.
    let module = scratch.0.join("terraform");
    std::fs::create_dir_all(&module).unwrap();
    for entry in std::fs::read_dir(root().join("deploy/terraform")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "tf") {
            std::fs::copy(&path, module.join(path.file_name().unwrap())).unwrap();
        }
    }
    planted(
        &root().join("deploy/terraform/main.tf"),
        &module.join("main.tf"),
        &[
            (
                r#"actions   = ["sqs:SendMessage"]"#,
                r#"actions   = ["sqs:SendMessage", "sqs:DeleteMessage"]"#,
            ),
            (
                "    RDSF_SINKS ",
                "    RDSF_PLANTED = var.log_level\n    RDSF_SINKS ",
            ),
        ],
    );
    // ...and makes the alarm topic under a condition reading fewer inputs.
    planted(
        &root().join("deploy/terraform/monitoring.tf"),
        &module.join("monitoring.tf"),
        &[(
            "count             = local.create_alarm_topic ? 1 : 0",
            "count             = var.alarm_email == \"\" ? 0 : 1",
        )],
    );
    let tf = facts("terraform", &[&module]);
    let diff = differences(
        "CloudFormation",
        &cfn,
        "Terraform",
        &tf,
        &CFN_ONLY,
        &MODULE_ONLY,
    )
    .join("\n");
    assert!(
        diff.contains("statements `FailureDestination`") && diff.contains("sqs:DeleteMessage"),
        "{diff}"
    );
    assert!(
        diff.contains("environment `RDSF_PLANTED`: in Terraform, not in CloudFormation"),
        "{diff}"
    );
    assert!(
        diff.contains(r#"conditional `aws_sns_topic`: CloudFormation ["alarm_email,alarm_topic_arn"], Terraform ["alarm_email"]"#),
        "{diff}"
    );

    // CloudFormation gains a statement and a variable.
    let install = scratch.0.join("install.yaml");
    planted(
        &root().join("deploy/install.yaml"),
        &install,
        &[
            (
                "              - Sid: FailureDestination\n",
                "              - Sid: PlantedDescribe\n                Effect: Allow\n                Action: rds:DescribeDBInstances\n                Resource: \"*\"\n              - Sid: FailureDestination\n",
            ),
            ("          RDSF_SINKS: !Ref Sinks\n", "          RDSF_SINKS: !Ref Sinks\n          RDSF_PLANTED: !Ref LogLevel\n"),
            ("\nResources:\n", "\nResources:\n  PlantedSchedule:\n    Type: AWS::Scheduler::Schedule\n"),
        ],
    );
    let cfn = facts("cfn", &[&install, &root().join("deploy/setup.yaml")]);
    let tf = facts("terraform", &[&root().join("deploy/terraform")]);
    let diff = differences(
        "CloudFormation",
        &cfn,
        "Terraform",
        &tf,
        &CFN_ONLY,
        &MODULE_ONLY,
    )
    .join("\n");
    assert!(
        diff.contains("statements `PlantedDescribe`: in CloudFormation, not in Terraform"),
        "{diff}"
    );
    assert!(
        diff.contains("environment `RDSF_PLANTED`: in CloudFormation, not in Terraform"),
        "{diff}"
    );
    assert!(
        diff.contains("resources `AWS::Scheduler::Schedule`: in CloudFormation, not in Terraform"),
        "{diff}"
    );
}

/// Runs `terraform ARGS` in `dir` with a CLI configuration that installs
/// providers only from the machine's mirror.
fn terraform(dir: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", config)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .unwrap_or_else(|e| {
            panic!("terraform: {e}: the suite needs terraform on PATH (README, \"Terraform\")")
        })
}

/// A CLI configuration in `dir` that installs providers only from the
/// machine's mirror.
fn mirror_config(dir: &Path) -> PathBuf {
    let config = dir.join("terraformrc");
    std::fs::write(
        &config,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{PROVIDER_MIRROR}\"\n    include = [\"registry.terraform.io/hashicorp/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/*/*\"]\n  }}\n}}\n"
        ),
    )
    .unwrap();
    config
}

/// `terraform fmt -check`, then `terraform init` (providers from the
/// mirror) and `terraform validate` on the module and each example, in a
/// copy; and a planted unknown argument fails validate.
#[test]
fn terraform_validate_passes_on_the_module_and_examples() {
    assert!(
        Path::new(PROVIDER_MIRROR).join("registry.terraform.io/hashicorp/aws").is_dir(),
        "no AWS provider at {PROVIDER_MIRROR}: terraform init cannot reach a registry here (README, \"Terraform\")"
    );
    let scratch = Scratch::new("terraform");
    let config = mirror_config(&scratch.0);
    let fmt = terraform(
        &root().join("deploy/terraform"),
        &config,
        &["fmt", "-check", "-recursive", "-diff", "-no-color"],
    );
    assert!(
        fmt.status.success(),
        "terraform fmt -check:\n{}",
        text(&fmt)
    );

    let copy = scratch.0.join("terraform");
    let cp = Command::new("cp")
        .arg("-R")
        .arg(root().join("deploy/terraform"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(cp.success());
    let mut dirs = vec![copy.clone()];
    for entry in std::fs::read_dir(copy.join("examples")).unwrap() {
        dirs.push(entry.unwrap().path());
    }
    dirs.sort();
    assert!(
        dirs.len() >= 3,
        "the module and at least two examples: {dirs:?}"
    );
    let validate = |dir: &Path| -> Value {
        let init = terraform(
            dir,
            &config,
            &["init", "-backend=false", "-input=false", "-no-color"],
        );
        assert!(
            init.status.success(),
            "terraform init in {}:\n{}",
            dir.display(),
            text(&init)
        );
        let out = terraform(dir, &config, &["validate", "-json", "-no-color"]);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
    };
    for dir in &dirs {
        let report = validate(dir);
        assert_eq!(report["valid"], true, "{}: {report:#}", dir.display());
        assert_eq!(report["warning_count"], 0, "{}: {report:#}", dir.display());
    }
    let version = terraform(&copy, &config, &["version", "-json"]);
    let version: Value = serde_json::from_slice(&version.stdout).unwrap();
    println!(
        "terraform {} validate: module and {} examples valid (aws provider {})",
        version["terraform_version"],
        dirs.len() - 1,
        version["provider_selections"]["registry.terraform.io/hashicorp/aws"]
    );

    planted(
        &root().join("deploy/terraform/main.tf"),
        &copy.join("main.tf"),
        &[(
            "  timeout                        = var.timeout\n",
            "  timeout_seconds = var.timeout\n",
        )],
    );
    let report = validate(&copy);
    assert_eq!(report["valid"], false, "{report:#}");
    assert!(report.to_string().contains("timeout_seconds"), "{report:#}");
}

/// A root module using deploy/terraform, its provider's STS (the caller
/// identity the module reads) at moto_server; the inputs whose conditions
/// the plans below exercise passed through.
const PLAN_ROOT: &str = r#"
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    sts = "ENDPOINT"
  }
}
variable "alarm_email" { default = "" }
variable "alarm_topic_arn" { default = "" }
variable "rds_metadata" { default = "on" }
variable "subscribe_enhanced_monitoring" { default = true }
module "rds_forwarder" {
  source                        = "MODULE"
  filename                      = "rds-forwarder.zip"
  alarm_email                   = var.alarm_email
  alarm_topic_arn               = var.alarm_topic_arn
  rds_metadata                  = var.rds_metadata
  subscribe_enhanced_monitoring = var.subscribe_enhanced_monitoring
  enable_auto_subscription      = true
}
"#;

/// `terraform plan` with `vars`, as JSON (`terraform show -json`).
fn plan(dir: &Path, config: &Path, vars: &[&str]) -> Value {
    let mut args = vec!["plan", "-input=false", "-no-color", "-out", "plan.bin"];
    for v in vars {
        args.extend(["-var", v]);
    }
    let out = terraform(dir, config, &args);
    assert!(
        out.status.success(),
        "terraform plan {vars:?}:\n{}",
        text(&out)
    );
    let show = terraform(dir, config, &["show", "-json", "plan.bin"]);
    assert!(show.status.success(), "{}", text(&show));
    serde_json::from_slice(&show.stdout).unwrap()
}

/// What a plan would make, by address within the module, with its planned
/// values.
fn planned(plan: &Value) -> std::collections::BTreeMap<String, Value> {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let address = r["address"].as_str().unwrap();
            let address = address.trim_start_matches("module.rds_forwarder.");
            (address.to_string(), r["change"]["after"].clone())
        })
        .collect()
}

/// The module's optional parts follow their inputs as install.yaml's
/// conditions do, in two `terraform plan`s (provider from the mirror, STS at
/// moto_server): an alarm e-mail alone makes the SNS topic and its e-mail
/// subscription, with an existing topic too makes none and the alarms act
/// on that topic; rds_metadata off drops the RDS statement;
/// subscribe_enhanced_monitoring false takes RDSOSMetrics out of the
/// auto-subscription rule and its statement.
#[test]
fn terraform_plan_makes_the_optional_parts_under_their_conditions() {
    let scratch = Scratch::new("terraform-plan");
    let config = mirror_config(&scratch.0);
    let moto = Moto::start();
    let dir = scratch.0.join("root");
    std::fs::create_dir_all(&dir).unwrap();
    let module = root().join("deploy/terraform");
    std::fs::write(
        dir.join("main.tf"),
        PLAN_ROOT
            .replace("ENDPOINT", &moto.endpoint)
            .replace("MODULE", module.to_str().unwrap()),
    )
    .unwrap();
    std::fs::write(dir.join("rds-forwarder.zip"), b"a zip").unwrap();
    let init = terraform(
        &dir,
        &config,
        &["init", "-backend=false", "-input=false", "-no-color"],
    );
    assert!(init.status.success(), "terraform init:\n{}", text(&init));
    let sids = |r: &Value| -> Vec<String> {
        r["statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sid"].as_str().unwrap().to_string())
            .collect()
    };

    let defaults = planned(&plan(&dir, &config, &["alarm_email=oncall@example.com"]));
    for address in [
        "aws_sns_topic.alarms[0]",
        "aws_sns_topic_subscription.alarm_email[0]",
        "aws_cloudwatch_dashboard.forwarder",
        "aws_lambda_permission.enhanced_monitoring",
    ] {
        assert!(
            defaults.contains_key(address),
            "{address}: {:?}",
            defaults.keys()
        );
    }
    assert_eq!(
        defaults["aws_sns_topic_subscription.alarm_email[0]"]["endpoint"],
        "oncall@example.com"
    );
    assert_eq!(
        defaults["aws_sns_topic.alarms[0]"]["kms_master_key_id"],
        "alias/aws/sns"
    );
    let function_policy = &defaults["data.aws_iam_policy_document.function"];
    assert!(sids(function_policy).contains(&"RdsMetadataReadOnly".to_string()));
    let rule = defaults["aws_cloudwatch_event_rule.auto_subscribe[0]"]["event_pattern"]
        .as_str()
        .unwrap();
    assert!(rule.contains(r#""RDSOSMetrics""#), "{rule}");
    let policy = defaults["aws_iam_role_policy.auto_subscribe[0]"]["policy"]
        .as_str()
        .unwrap();
    assert!(
        policy.contains("SubscribeEnhancedMonitoringGroup"),
        "{policy}"
    );

    let topic = "arn:aws:sns:us-east-1:123456789012:oncall";
    let others = planned(&plan(
        &dir,
        &config,
        &[
            "alarm_email=oncall@example.com",
            &format!("alarm_topic_arn={topic}"),
            "rds_metadata=off",
            "subscribe_enhanced_monitoring=false",
        ],
    ));
    assert!(
        !others.keys().any(|a| a.starts_with("aws_sns_topic")),
        "{:?}",
        others.keys()
    );
    for alarm in ["undelivered", "lag", "errors"] {
        let after = &others[&format!("aws_cloudwatch_metric_alarm.{alarm}")];
        assert_eq!(
            after["alarm_actions"],
            serde_json::json!([topic]),
            "{alarm}"
        );
    }
    let function_policy = &others["data.aws_iam_policy_document.function"];
    assert!(!sids(function_policy).contains(&"RdsMetadataReadOnly".to_string()));
    let rule = others["aws_cloudwatch_event_rule.auto_subscribe[0]"]["event_pattern"]
        .as_str()
        .unwrap();
    assert!(!rule.contains("RDSOSMetrics"), "{rule}");
    let policy = others["aws_iam_role_policy.auto_subscribe[0]"]["policy"]
        .as_str()
        .unwrap();
    assert!(
        policy.contains("SubscribeNewRdsLogGroups") && !policy.contains("RDSOSMetrics"),
        "{policy}"
    );
    println!("terraform plan: alarm topic, RDS metadata and Enhanced Monitoring subscription follow their inputs");
}

/// checkov's Terraform checks pass on the module; each skip says why.
#[test]
fn checkov_passes_on_the_terraform_module() {
    ensure_tools();
    let out = Command::new(venv_bin("checkov", "checkov"))
        .args([
            "--framework",
            "terraform",
            "-d",
            "deploy/terraform",
            "--skip-download",
        ])
        .args(["--output", "json"])
        .current_dir(root())
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .unwrap();
    let summary = deploy_support::checkov_clean(&out, 10);
    println!("checkov (terraform): {summary}");
}

/// scripts/sam_template.py's template for `arch`, written into `dir` with
/// the LICENSE its SAR metadata names.
pub fn sam_template(dir: &Path, arch: &str) -> PathBuf {
    ensure_tools();
    let out = Command::new(venv_bin("iac", "python"))
        .arg(root().join("scripts/sam_template.py"))
        .args([
            root().join("deploy/install.yaml").to_str().unwrap(),
            arch,
            "0.0.0-test",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "sam_template.py:\n{}", text(&out));
    let path = dir.join(format!("sam-{arch}.yaml"));
    std::fs::write(&path, &out.stdout).unwrap();
    std::fs::copy(root().join("LICENSE"), dir.join("LICENSE")).unwrap();
    path
}

/// `sam validate` and `sam validate --lint`, offline: a region and fake
/// credentials, no metadata lookups, no telemetry.
fn sam_validate(template: &Path, lint: bool) -> Output {
    Command::new(venv_bin("sam", "sam"))
        .args(["validate", "-t"])
        .arg(template)
        .args(lint.then_some("--lint"))
        .env("SAM_CLI_TELEMETRY", "0")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

/// Both SAM templates pass `sam validate` (with and without --lint) and
/// cfn-lint, and hold install.yaml's environment, statements and invoke
/// permissions; a planted error fails `sam validate`.
#[test]
fn sam_templates_validate_and_match_install_yaml() {
    let scratch = Scratch::new("sam");
    let install = facts("cfn", &[&root().join("deploy/install.yaml")]);
    for arch in ["arm64", "x86_64"] {
        let template = sam_template(&scratch.0, arch);
        for lint in [false, true] {
            let out = sam_validate(&template, lint);
            assert!(
                out.status.success() && text(&out).contains("is a valid SAM Template"),
                "sam validate{}:\n{}",
                if lint { " --lint" } else { "" },
                text(&out)
            );
        }
        let lint = Command::new(venv_bin("cfn-lint", "cfn-lint"))
            .arg(&template)
            .output()
            .unwrap();
        assert!(
            lint.status.success() && text(&lint).trim().is_empty(),
            "cfn-lint {arch}:\n{}",
            text(&lint)
        );

        let sam = facts("cfn", &[&template]);
        let diff = differences("install.yaml", &install, "SAM", &sam, &CODE_INPUTS, &[]);
        assert!(
            diff.is_empty(),
            "SAM ({arch}) and install.yaml differ:\n{}",
            diff.join("\n")
        );
        let yaml = std::fs::read_to_string(&template).unwrap();
        assert!(
            yaml.contains(&format!("CodeUri: rds-forwarder-{arch}.zip")),
            "{yaml}"
        );
        assert!(yaml.contains("SemanticVersion: 0.0.0-test"), "{yaml}");
    }
    let good = scratch.0.join("sam-arm64.yaml");
    let bad = scratch.0.join("bad.yaml");
    planted(
        &good,
        &bad,
        &[(
            "      Handler: bootstrap\n",
            "      Handler: bootstrap\n      EventInvokeConfig: 3\n",
        )],
    );
    let out = sam_validate(&bad, false);
    assert!(
        !out.status.success() || text(&out).contains("invalid"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("EventInvokeConfig"), "{}", text(&out));
    println!("sam validate (and --lint), cfn-lint: sam-arm64.yaml and sam-x86_64.yaml valid, same grants as install.yaml");
}

/// actionlint (with shellcheck for the `run:` scripts) finds nothing in
/// the workflows, and does find a planted script injection.
#[test]
fn actionlint_passes_on_the_workflows() {
    ensure_tools();
    let workflows = root().join(".github/workflows");
    let release = workflows.join("release.yml");
    assert!(release.is_file());
    let out = Command::new(venv_bin("actionlint", "actionlint"))
        .arg("-no-color")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success() && text(&out).trim().is_empty(),
        "actionlint:\n{}",
        text(&out)
    );

    let scratch = Scratch::new("actionlint");
    let bad = scratch.0.join("release.yml");
    planted(
        &release,
        &bad,
        &[(
            "        run: bash scripts/package.sh\n",
            "        run: echo ${{ github.event.head_commit.message }}\n",
        )],
    );
    let out = Command::new(venv_bin("actionlint", "actionlint"))
        .arg("-no-color")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !out.status.success() && text(&out).contains("potentially untrusted"),
        "{}",
        text(&out)
    );
}
