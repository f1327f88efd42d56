"""Creates RDS resources with tags in moto_server for tests/rds_metadata.rs.

    python moto_rds.py ENDPOINT -> creates them, prints a JSON summary

Made with boto3 (an independent client, not ours): a PostgreSQL instance
alone, a MariaDB instance and its read replica, an Aurora MySQL cluster with
a writer and a reader, and a proxy; tags on each. The summary gives what the
Rust side cannot know beforehand (resource ids, ARNs) and what it expects.
"""

import json
import sys

import boto3

REGION = "us-east-1"


def main():
    endpoint = sys.argv[1]
    rds = boto3.client(
        "rds",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def tags(**kv):
        return [{"Key": k, "Value": v} for k, v in kv.items()]

    rds.create_db_instance(
        DBInstanceIdentifier="orders-db",
        Engine="postgres",
        EngineVersion="16.3",
        DBInstanceClass="db.t3.micro",
        AvailabilityZone="us-east-1a",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        Tags=tags(team="orders", env="prod", cost_center="42"),
    )
    rds.create_db_instance(
        DBInstanceIdentifier="shop-maria",
        Engine="mariadb",
        EngineVersion="10.11.6",
        DBInstanceClass="db.t3.small",
        AvailabilityZone="us-east-1b",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-2",
        AllocatedStorage=20,
        Tags=tags(team="shop"),
    )
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="shop-maria-replica",
        SourceDBInstanceIdentifier="shop-maria",
        DBInstanceClass="db.t3.small",
        AvailabilityZone="us-east-1c",
        Tags=tags(team="shop", role="replica"),
    )
    rds.create_db_cluster(
        DBClusterIdentifier="shop-aurora",
        Engine="aurora-mysql",
        EngineVersion="8.0.mysql_aurora.3.05.2",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-3",
        Tags=tags(team="shop", env="prod"),
    )
    for name, zone in [("shop-aurora-1", "us-east-1a"), ("shop-aurora-2", "us-east-1b")]:
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier="shop-aurora",
            Engine="aurora-mysql",
            DBInstanceClass="db.r6g.large",
            AvailabilityZone=zone,
            Tags=tags(team="shop"),
        )
    ec2 = boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in [("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b")]
    ]
    proxy = rds.create_db_proxy(
        DBProxyName="front",
        EngineFamily="POSTGRESQL",
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"}],
        RoleArn="arn:aws:iam::123456789012:role/proxy",
        VpcSubnetIds=subnets,
        Tags=tags(team="edge"),
    )["DBProxy"]

    instances = {
        i["DBInstanceIdentifier"]: {
            "resource_id": i["DbiResourceId"],
            "arn": i["DBInstanceArn"],
        }
        for i in rds.describe_db_instances()["DBInstances"]
    }
    cluster = rds.describe_db_clusters(DBClusterIdentifier="shop-aurora")["DBClusters"][0]
    writers = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in cluster["DBClusterMembers"]}
    print(
        json.dumps(
            {
                "instances": instances,
                "cluster": {
                    "resource_id": cluster["DbClusterResourceId"],
                    "arn": cluster["DBClusterArn"],
                    "writers": writers,
                },
                "proxy": {"arn": proxy["DBProxyArn"]},
            }
        )
    )


if __name__ == "__main__":
    main()
