#!/usr/bin/env bash
# Uploads the release artefacts (dist/, from a release download or
# scripts/package.sh) to your own S3 bucket in each region you deploy to:
# Lambda takes a function's zip only from a bucket in the function's region.
#
# Usage: scripts/upload.sh [--dist DIR] BUCKET REGION [REGION...]
#   BUCKET may hold {region}, replaced by each region, e.g.
#     scripts/upload.sh 'my-artifacts-{region}' eu-west-1 us-east-1
#   and must, when more than one region is given. The buckets must exist.
# Each region's bucket receives dist/ under rds-forwarder/VERSION/ (the key
# install.yaml's CodeS3Key defaults to); SHA256SUMS is checked first.
# Needs the AWS CLI (v1 or v2) with credentials allowed s3:PutObject there.
set -euo pipefail

dist=dist
if [ "${1:-}" = "--dist" ]; then
  [ $# -ge 2 ] || { echo "upload.sh: --dist needs a directory" >&2; exit 2; }
  dist=$2
  shift 2
fi
case "${1:-}" in -h | --help | "")
  sed -n '2,/^set -euo/p' "$0" | sed '$d'
  [ -n "${1:-}" ]; exit $? ;;
esac
[ $# -ge 2 ] || { echo "upload.sh: give BUCKET and at least one REGION (see --help)" >&2; exit 2; }
bucket=$1
shift
case $bucket in
  *"{region}"*) ;;
  *) [ $# -eq 1 ] || { echo "upload.sh: several regions need a bucket per region: put {region} in BUCKET" >&2; exit 2; } ;;
esac
command -v aws >/dev/null 2>&1 || { echo "upload.sh: the AWS CLI (aws) is not on PATH" >&2; exit 1; }

[ -f "$dist/SHA256SUMS" ] || { echo "upload.sh: no $dist/SHA256SUMS: download a release or run scripts/package.sh" >&2; exit 1; }
(cd "$dist" && shasum -a 256 -c SHA256SUMS >/dev/null) || { echo "upload.sh: $dist/ does not match its SHA256SUMS" >&2; exit 1; }
# The version: the Terraform module's archive name (rds-forwarder-terraform-VERSION.tar.gz).
version=
for f in "$dist"/rds-forwarder-terraform-*.tar.gz; do
  [ -f "$f" ] || continue
  version=${f##*/rds-forwarder-terraform-}
  version=${version%.tar.gz}
done
[ -n "$version" ] || { echo "upload.sh: no rds-forwarder-terraform-VERSION.tar.gz in $dist" >&2; exit 1; }
files=$(cd "$dist" && awk '{ print $2 }' SHA256SUMS)

for region in "$@"; do
  case $region in
    *[!a-z0-9-]* | "") echo "upload.sh: '$region' is not a region name" >&2; exit 2 ;;
  esac
  b=$(printf '%s' "$bucket" | sed "s/{region}/$region/g")
  prefix="s3://$b/rds-forwarder/$version"
  for f in $files SHA256SUMS; do
    aws s3 cp --only-show-errors --region "$region" "$dist/$f" "$prefix/$f"
  done
  echo "upload.sh: $region: $prefix/ ($(printf '%s\n' "$files" | wc -l | tr -d ' ') files and SHA256SUMS)"
  echo "upload.sh:   aws cloudformation create-stack --region $region --stack-name rds-forwarder" \
    "--template-url https://$b.s3.$region.amazonaws.com/rds-forwarder/$version/install.yaml" \
    "--capabilities CAPABILITY_IAM --parameters ParameterKey=CodeS3Bucket,ParameterValue=$b"
done
