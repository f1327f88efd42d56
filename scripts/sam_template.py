"""Writes the SAM template for one architecture from deploy/install.yaml, so
the two never drift: the same parameters, role, statements, environment,
queue and permissions, with the function as an AWS::Serverless::Function
whose CodeUri is the release zip beside the template (`sam package` /
`sam deploy` upload it) and the Serverless Application Repository metadata
pinned to the release version.

    python sam_template.py deploy/install.yaml arm64 0.1.0 > dist/sam-arm64.yaml

Needs PyYAML (scripts/package.sh runs it from its virtualenv).
"""

import sys

import yaml

from cfn_yaml import load_path

# The install template's parameters that only say where the zip is: SAM
# takes the zip from beside the template instead.
CODE_PARAMETERS = ["CodeS3Bucket", "CodeS3Key", "CodeS3ObjectVersion", "Architecture"]


def sam_template(install, arch, version):
    t = dict(install)
    t["Transform"] = "AWS::Serverless-2016-10-31"
    t["Description"] = f"{install['Description']} (rds-forwarder {version}, {arch}; SAM)"

    params = {k: v for k, v in install["Parameters"].items() if k not in CODE_PARAMETERS}
    t["Parameters"] = params
    metadata = dict(install.get("Metadata", {}))
    interface = metadata.get("AWS::CloudFormation::Interface")
    if interface:
        groups = []
        for g in interface["ParameterGroups"]:
            kept = [p for p in g["Parameters"] if p not in CODE_PARAMETERS]
            if kept:
                groups.append({**g, "Parameters": kept})
        metadata["AWS::CloudFormation::Interface"] = {**interface, "ParameterGroups": groups}
    metadata["AWS::ServerlessRepo::Application"] = {
        "Name": "rds-forwarder",
        "Description": "Forwards Amazon RDS / Aurora logs, events and Enhanced Monitoring to WhaTap, OTLP, Loki or stdout.",
        "Author": "rds-forwarder",
        "SpdxLicenseId": "Apache-2.0",
        "LicenseUrl": "LICENSE",
        "Labels": ["rds", "aurora", "logs", "opentelemetry", "loki", "whatap"],
        "SemanticVersion": version,
    }
    t["Metadata"] = metadata
    t["Conditions"] = {k: v for k, v in install["Conditions"].items() if k != "HasCodeVersion"}

    resources = dict(install["Resources"])
    function = dict(resources["Function"])
    assert function["Type"] == "AWS::Lambda::Function", function["Type"]
    props = dict(function["Properties"])
    props.pop("Code")
    props["CodeUri"] = f"rds-forwarder-{arch}.zip"
    props["Architectures"] = [arch]
    # SAM's name for TracingConfig.Mode.
    props["Tracing"] = props.pop("TracingConfig")["Mode"]
    function["Type"] = "AWS::Serverless::Function"
    function["Properties"] = props
    resources["Function"] = function
    t["Resources"] = resources

    text = yaml.safe_dump(t, sort_keys=False, width=120)
    for p in CODE_PARAMETERS:
        assert f"Ref: {p}\n" not in text and "${" + p + "}" not in text, f"{p} still used"
    return text


if __name__ == "__main__":
    install_path, arch, version = sys.argv[1:]
    assert arch in ("arm64", "x86_64"), arch
    sys.stdout.write(sam_template(load_path(install_path), arch, version))
