"""What a deployment grants and sets, read from CloudFormation templates or
from the Terraform module, in one shape so tests/deploy_packaging.rs can
compare them:

    python iac_facts.py cfn deploy/install.yaml [deploy/setup.yaml ...]
    python iac_facts.py terraform deploy/terraform

Facts (JSON):
  inputs      {snake_case input: default}: CloudFormation parameters in
              snake_case (Default normalised: CommaDelimitedList -> list,
              "true"/"false" -> bool), Terraform variables
  environment {VAR: {"inputs": [...], "unset_when_empty": bool}}
  statements  {Sid: {"effect", "actions", "conditions", "inputs",
              "only_when_set"}} of every IAM policy the deployment attaches
  invokers    sorted [principal, names SourceAccount] of invoke permissions
  function    runtime and handler
  resources   {Terraform resource type: how many resource blocks}, CloudFormation
              types translated by TERRAFORM_TWIN (an untranslated type stays
              `AWS::...`, which no module has: a new kind of resource in a
              template shows up as a difference until the module has it too)
  conditional {Terraform resource type: sorted ["input,input", ...]}: for each
              resource made only under a condition (CloudFormation Condition,
              Terraform count/for_each), the inputs that condition reads
Run with the virtualenv that has python-hcl2 and PyYAML (scripts/deps/deploy.sh).
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from cfn_yaml import load_path  # noqa: E402 (after the path it lives on)


def snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# ---- CloudFormation -----------------------------------------------------

# The Terraform resource a CloudFormation resource becomes. A role's inline
# policy is an aws_iam_role_policy, a rule's target an
# aws_cloudwatch_event_target and a topic's inline subscription an
# aws_sns_topic_subscription of their own in Terraform; counted below.
TERRAFORM_TWIN = {
    "AWS::Lambda::Function": "aws_lambda_function",
    "AWS::Serverless::Function": "aws_lambda_function",
    "AWS::IAM::Role": "aws_iam_role",
    "AWS::IAM::Policy": "aws_iam_role_policy",
    "AWS::Logs::LogGroup": "aws_cloudwatch_log_group",
    "AWS::Logs::SubscriptionFilter": "aws_cloudwatch_log_subscription_filter",
    "AWS::SQS::Queue": "aws_sqs_queue",
    "AWS::Lambda::EventInvokeConfig": "aws_lambda_function_event_invoke_config",
    "AWS::Lambda::Permission": "aws_lambda_permission",
    "AWS::Events::Rule": "aws_cloudwatch_event_rule",
    "AWS::CloudWatch::Alarm": "aws_cloudwatch_metric_alarm",
    "AWS::CloudWatch::Dashboard": "aws_cloudwatch_dashboard",
    "AWS::SNS::Topic": "aws_sns_topic",
    "AWS::SNS::Subscription": "aws_sns_topic_subscription",
}


def count(resources, kind, n=1):
    resources[kind] = resources.get(kind, 0) + n


def conditional(facts, kind, inputs, n=1):
    for _ in range(n):
        facts["conditional"].setdefault(kind, []).append(",".join(sorted(set(inputs))))


def cfn_refs(value, params, conditions, outputs):
    """Parameters a value reads: Ref, ${Param} in Sub, the parameters of a
    condition it names, and an install-stack export read through its output."""
    found = set()
    imported = set()

    def walk(v):
        if isinstance(v, dict):
            if "Fn::ImportValue" in v:
                text = json.dumps(v["Fn::ImportValue"])
                for out, out_inputs in outputs.items():
                    if ("-" + out + '"') in text:
                        imported.update(out_inputs)
                return
            for k, x in v.items():
                if k == "Ref" and x in params:
                    found.add(x)
                elif k == "Fn::If":
                    walk(conditions.get(x[0], {}))
                    walk(x[1:])
                elif k == "Condition" and isinstance(x, str):
                    walk(conditions.get(x, {}))
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            for p in re.findall(r"\$\{([A-Za-z0-9]+)\}", v):
                if p in params:
                    found.add(p)

    walk(value)
    return sorted({snake(p) for p in found} | imported)


def cfn_default(spec):
    if "Default" not in spec:
        return None
    d = spec["Default"]
    if spec.get("Type") == "CommaDelimitedList":
        return [x for x in str(d).split(",") if x]
    if spec.get("AllowedValues") == ["true", "false"]:
        return d == "true"
    if spec.get("Type") == "Number":
        return int(d) if float(d).is_integer() else float(d)
    return d


def cfn_statement(raw, params, conditions, outputs, only_when_set=False):
    if isinstance(raw, dict) and "Fn::If" in raw:
        branches = raw["Fn::If"]
        assert branches[2] == {"Ref": "AWS::NoValue"}, raw
        facts = cfn_statement(branches[1], params, conditions, outputs, True)
        facts["inputs"] = cfn_refs(raw, params, conditions, outputs)
        return facts
    actions = raw["Action"]
    actions = actions if isinstance(actions, list) else [actions]
    return {
        "effect": raw["Effect"],
        "actions": sorted(actions),
        "conditions": sorted(
            f"{op}:{key}" for op, keys in raw.get("Condition", {}).items() for key in keys
        ),
        "inputs": cfn_refs(raw, params, conditions, outputs),
        "only_when_set": only_when_set,
    }


def cfn_facts(paths):
    templates = [load_path(p) for p in paths]
    # Exports of the first template (the install stack) as the later ones import them.
    install = templates[0]
    outputs = {
        k: cfn_refs(v["Value"], install.get("Parameters", {}), install.get("Conditions", {}), {})
        for k, v in install.get("Outputs", {}).items()
    }
    facts = {
        "inputs": {},
        "environment": {},
        "statements": {},
        "invokers": [],
        "function": {},
        "resources": {},
        "conditional": {},
    }
    for t in templates:
        params = t.get("Parameters", {})
        conditions = t.get("Conditions", {})
        for name, spec in params.items():
            facts["inputs"][snake(name)] = cfn_default(spec)
        for res in t.get("Resources", {}).values():
            if not isinstance(res, dict):
                # Fn::ForEach: one Terraform block with for_each per template resource.
                for template_resource in res[2].values():
                    kind = template_resource["Type"]
                    count(facts["resources"], TERRAFORM_TWIN.get(kind, kind))
                    # The list it repeats over decides whether there is any.
                    over = cfn_refs(res[1], params, conditions, outputs)
                    if "Condition" in template_resource:
                        over += cfn_refs({"Condition": template_resource["Condition"]}, params, conditions, outputs)
                    conditional(facts, TERRAFORM_TWIN.get(kind, kind), over)
                continue
            kind, props = res.get("Type"), res.get("Properties", {})
            count(facts["resources"], TERRAFORM_TWIN.get(kind, kind))
            if "Condition" in res:
                when = cfn_refs({"Condition": res["Condition"]}, params, conditions, outputs)
                conditional(facts, TERRAFORM_TWIN.get(kind, kind), when)
                conditional(facts, "aws_iam_role_policy", when, len(props.get("Policies", [])))
                conditional(facts, "aws_sns_topic_subscription", when, len(props.get("Subscription", [])))
                conditional(facts, "aws_cloudwatch_event_target", when, len(props.get("Targets", [])))
            if kind == "AWS::IAM::Role":
                count(facts["resources"], "aws_iam_role_policy", len(props.get("Policies", [])))
            if kind == "AWS::SNS::Topic":
                count(facts["resources"], "aws_sns_topic_subscription", len(props.get("Subscription", [])))
            if kind == "AWS::Events::Rule":
                count(facts["resources"], "aws_cloudwatch_event_target", len(props.get("Targets", [])))
            docs = []
            if kind == "AWS::IAM::Role":
                docs = [p["PolicyDocument"] for p in props.get("Policies", [])]
            elif kind == "AWS::IAM::Policy":
                docs = [props["PolicyDocument"]]
            for doc in docs:
                for raw in doc["Statement"]:
                    sid = (raw.get("Fn::If", [None, {}])[1] if "Fn::If" in raw else raw)["Sid"]
                    assert sid not in facts["statements"], f"Sid {sid} twice"
                    s = cfn_statement(raw, params, conditions, outputs)
                    if "Condition" in res:  # the whole policy is conditional
                        s["only_when_set"] = True
                        s["inputs"] = sorted(
                            set(s["inputs"]) | set(cfn_refs({"Condition": res["Condition"]}, params, conditions, outputs))
                        )
                    facts["statements"][sid] = s
            if kind == "AWS::Lambda::Permission":
                facts["invokers"].append([props["Principal"], "SourceAccount" in props])
            if kind in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
                facts["function"] = {"runtime": props["Runtime"], "handler": props["Handler"]}
                for var, value in props.get("Environment", {}).get("Variables", {}).items():
                    facts["environment"][var] = {
                        "inputs": cfn_refs(value, params, conditions, outputs),
                        "unset_when_empty": "AWS::NoValue" in json.dumps(value),
                    }
    facts["invokers"].sort()
    for kinds in facts["conditional"].values():
        kinds.sort()
    return facts


# ---- Terraform ------------------------------------------------------------


def unquote(v):
    """python-hcl2 keeps a string literal's quotes; expressions are ${...}."""
    if isinstance(v, str) and len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        try:
            return json.loads(v)
        except ValueError:
            return v[1:-1]
    if isinstance(v, list):
        return [unquote(x) for x in v]
    return v


def tf_vars(value):
    return sorted(set(re.findall(r"\bvar\.([a-z0-9_]+)", json.dumps(value))))


def tf_inputs(value, locals_, seen=()):
    """Variables an expression reads, also through the locals it names."""
    found = set(tf_vars(value))
    for name in set(re.findall(r"\blocal\.([a-z0-9_]+)", json.dumps(value))):
        if name in locals_ and name not in seen:
            found |= set(tf_inputs(locals_[name], locals_, seen + (name,)))
    return sorted(found)


def tf_statement(block, only_when_set, extra_inputs):
    return {
        "effect": unquote(block.get("effect", '"Allow"')),
        "actions": sorted(unquote(block["actions"])),
        "conditions": sorted(
            f"{unquote(c['test'])}:{unquote(c['variable'])}" for c in block.get("condition", [])
        ),
        "inputs": sorted(set(tf_vars(block.get("resources", [])) + extra_inputs)),
        "only_when_set": only_when_set,
    }


def tf_facts(directory):
    import hcl2

    files = sorted(Path(directory).glob("*.tf"))
    parsed = [hcl2.load(open(f, encoding="utf-8")) for f in files]
    facts = {
        "inputs": {},
        "environment": {},
        "statements": {},
        "invokers": [],
        "function": {},
        "resources": {},
        "conditional": {},
    }
    blocks = lambda kind: [b for p in parsed for b in p.get(kind, [])]

    for v in blocks("variable"):
        for name, spec in v.items():
            facts["inputs"][unquote(name)] = unquote(spec.get("default"))

    locals_ = {k: v for block in blocks("locals") for k, v in block.items()}
    unset = unquote(locals_.get("unset_when_empty", []))
    for var, value in locals_["environment"].items():
        facts["environment"][var] = {"inputs": tf_vars(value), "unset_when_empty": var in unset}

    # Which policy documents the role gets, and whether only under a count.
    attached = {}
    for r in blocks("resource"):
        for kind, named in r.items():
            for name, body in named.items():
                kind, name = unquote(kind), unquote(name)
                count(facts["resources"], kind)
                if "count" in body or "for_each" in body:
                    conditional(facts, kind, tf_inputs(body.get("count", body.get("for_each")), locals_))
                if kind == "aws_iam_role_policy":
                    doc = re.search(r"data\.aws_iam_policy_document\.(\w+)\.json", body["policy"]).group(1)
                    attached[doc] = tf_vars(body.get("count", ""))
                if kind == "aws_lambda_permission":
                    facts["invokers"].append([unquote(body["principal"]), "source_account" in body])
                if kind == "aws_lambda_function":
                    facts["function"] = {"runtime": unquote(body["runtime"]), "handler": unquote(body["handler"])}
    for d in blocks("data"):
        for kind, named in d.items():
            if unquote(kind) != "aws_iam_policy_document":
                continue
            for name, body in named.items():
                name = unquote(name)
                if name not in attached:
                    continue  # e.g. the trust policy
                under_count = attached[name]
                for s in body.get("statement", []):
                    facts["statements"][unquote(s["sid"])] = tf_statement(s, bool(under_count), under_count)
                for dyn in body.get("dynamic", []):
                    for label, spec in dyn.items():
                        assert unquote(label) == "statement", label
                        for s in spec["content"]:
                            extra = tf_vars(spec["for_each"]) + under_count
                            facts["statements"][unquote(s["sid"])] = tf_statement(s, True, extra)
    facts["invokers"].sort()
    for kinds in facts["conditional"].values():
        kinds.sort()
    return facts


if __name__ == "__main__":
    kind, *paths = sys.argv[1:]
    print(json.dumps(cfn_facts(paths) if kind == "cfn" else tf_facts(paths[0]), indent=1, sort_keys=True))
