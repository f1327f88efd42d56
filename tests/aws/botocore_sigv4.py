"""Signs the cases of tests/data/aws/sigv4-botocore.json with botocore's
SigV4Auth (the signer of boto3 and the AWS CLI), an implementation
independent of the Rust `aws-sigv4` crate the forwarder uses.

    python botocore_sigv4.py CASES.json           -> prints the cases, each
        with "botocore": the headers botocore set
    python botocore_sigv4.py CASES.json --write   -> rewrites CASES.json so

The unit test crates/aws/src/client.rs compares the Rust signer with the recorded
"botocore" fields, and with this script's live output when botocore is
installed (target/venv-moto, made by scripts/deps/deploy.sh).
"""

import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    fixed = datetime.datetime.fromtimestamp(case["epoch"], datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda: fixed
    url = case["endpoint"]
    if url.count("/") < 3:
        url += "/"
    prefix = {"secretsmanager": "secretsmanager", "ssm": "AmazonSSM", "logs": "Logs_20140328"}[case["service"]]
    request = AWSRequest(
        method="POST",
        url=url,
        data=case["body"].encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"{prefix}.{case['operation']}",
        },
    )
    credentials = Credentials(case["access_key_id"], case["secret_access_key"], case.get("session_token"))
    botocore.auth.SigV4Auth(credentials, case["service"], case["region"]).add_auth(request)
    return {
        "authorization": request.headers["Authorization"],
        "x-amz-date": request.headers["X-Amz-Date"],
        "x-amz-security-token": request.headers.get("X-Amz-Security-Token"),
        "x-amz-target": request.headers["X-Amz-Target"],
    }


if __name__ == "__main__":
    path = sys.argv[1]
    with open(path) as f:
        cases = json.load(f)
    for case in cases:
        case["botocore"] = sign(case)
    text = json.dumps(cases, indent=2, ensure_ascii=False) + "\n"
    if "--write" in sys.argv[2:]:
        with open(path, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
