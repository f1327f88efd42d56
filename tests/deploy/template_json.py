"""Prints a template of deploy/ as JSON, CloudFormation's short tags (!Ref,
!If, !Sub, ...) in their long form, read with moto_stacks.py's loader.
Run by tests/deploy_lint.rs with the moto virtualenv's python:
    python template_json.py install.yaml
"""

import json
import sys

from moto_stacks import load

if __name__ == "__main__":
    print(json.dumps(load(sys.argv[1])))
