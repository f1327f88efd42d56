//! The XML answers read into metadata. The documents follow the response
//! shapes of the RDS API reference (namespace, `…Result` wrapper, list
//! member names: `DBInstance`, `DBCluster`, `DBClusterMember`, `Tag`, and
//! `member` for proxies), with fields we do not read left in to show they
//! are skipped.

use super::*;

const INSTANCE_IN_CLUSTER: &str = r#"<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstancesResult>
    <DBInstances>
      <DBInstance>
        <DBInstanceIdentifier>orders-1</DBInstanceIdentifier>
        <DBInstanceClass>db.r6g.large</DBInstanceClass>
        <Engine>aurora-mysql</Engine>
        <DBInstanceStatus>available</DBInstanceStatus>
        <Endpoint><Address>orders-1.abc.us-east-1.rds.amazonaws.com</Address><Port>3306</Port></Endpoint>
        <AvailabilityZone>us-east-1b</AvailabilityZone>
        <EngineVersion>8.0.mysql_aurora.3.05.2</EngineVersion>
        <DBClusterIdentifier>orders</DBClusterIdentifier>
        <DbiResourceId>db-ABCDEFGHIJKLMNOPQRSTUVWXY</DbiResourceId>
        <DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:orders-1</DBInstanceArn>
        <VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId></VpcSecurityGroupMembership></VpcSecurityGroups>
        <TagList>
          <Tag><Key>team</Key><Value>payments</Value></Tag>
          <Tag><Key>env</Key><Value>prod</Value></Tag>
          <Tag><Key>empty</Key><Value></Value></Tag>
        </TagList>
      </DBInstance>
    </DBInstances>
  </DescribeDBInstancesResult>
  <ResponseMetadata><RequestId>5e60c46d-a844-11e4-bb68-17f36418e58f</RequestId></ResponseMetadata>
</DescribeDBInstancesResponse>"#;

const REPLICA: &str = r#"<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstancesResult>
    <DBInstances>
      <DBInstance>
        <DBInstanceIdentifier>shop-replica</DBInstanceIdentifier>
        <DBInstanceClass>db.t3.micro</DBInstanceClass>
        <Engine>mariadb</Engine>
        <EngineVersion>10.11.6</EngineVersion>
        <AvailabilityZone>eu-west-1a</AvailabilityZone>
        <ReadReplicaSourceDBInstanceIdentifier>shop</ReadReplicaSourceDBInstanceIdentifier>
        <DbiResourceId>db-REPLICA</DbiResourceId>
        <DBInstanceArn>arn:aws:rds:eu-west-1:123456789012:db:shop-replica</DBInstanceArn>
        <TagList/>
      </DBInstance>
    </DBInstances>
  </DescribeDBInstancesResult>
</DescribeDBInstancesResponse>"#;

const NO_INSTANCES: &str = r#"<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstancesResult>
    <DBInstances/>
  </DescribeDBInstancesResult>
</DescribeDBInstancesResponse>"#;

const CLUSTER: &str = r#"<DescribeDBClustersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBClustersResult>
    <DBClusters>
      <DBCluster>
        <Engine>aurora-postgresql</Engine>
        <EngineVersion>15.4</EngineVersion>
        <AvailabilityZones><AvailabilityZone>us-east-1a</AvailabilityZone><AvailabilityZone>us-east-1b</AvailabilityZone></AvailabilityZones>
        <DBClusterIdentifier>ledger</DBClusterIdentifier>
        <DbClusterResourceId>cluster-XYZ</DbClusterResourceId>
        <DBClusterArn>arn:aws:rds:us-east-1:123456789012:cluster:ledger</DBClusterArn>
        <DBClusterMembers>
          <DBClusterMember>
            <DBInstanceIdentifier>ledger-1</DBInstanceIdentifier>
            <IsClusterWriter>true</IsClusterWriter>
            <PromotionTier>1</PromotionTier>
          </DBClusterMember>
          <DBClusterMember>
            <DBInstanceIdentifier>ledger-2</DBInstanceIdentifier>
            <IsClusterWriter>false</IsClusterWriter>
          </DBClusterMember>
        </DBClusterMembers>
        <TagList><Tag><Key>team</Key><Value>ledger</Value></Tag></TagList>
      </DBCluster>
    </DBClusters>
  </DescribeDBClustersResult>
</DescribeDBClustersResponse>"#;

const PROXY: &str = r#"<DescribeDBProxiesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBProxiesResult>
    <DBProxies>
      <member>
        <DBProxyName>front</DBProxyName>
        <DBProxyArn>arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0123456789abcdef0</DBProxyArn>
        <Status>available</Status>
        <EngineFamily>POSTGRESQL</EngineFamily>
        <VpcSubnetIds><member>subnet-1</member></VpcSubnetIds>
      </member>
    </DBProxies>
  </DescribeDBProxiesResult>
</DescribeDBProxiesResponse>"#;

const TAGS: &str = r#"<ListTagsForResourceResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <ListTagsForResourceResult>
    <TagList>
      <Tag><Key>owner</Key><Value>dba</Value></Tag>
    </TagList>
  </ListTagsForResourceResult>
</ListTagsForResourceResponse>"#;

fn instance(xml: &str) -> Option<DbInstance> {
    let r: DescribeDbInstancesResponse = read(xml.as_bytes(), "t", "t").unwrap();
    r.result.instances.items.into_iter().next()
}

#[test]
fn instance_answer_gives_engine_class_zone_cluster_and_tags() {
    let md = instance_metadata(instance(INSTANCE_IN_CLUSTER).unwrap(), &TagKeys::All);
    assert_eq!(md.engine.as_deref(), Some("aurora-mysql"));
    assert_eq!(
        md.engine_version.as_deref(),
        Some("8.0.mysql_aurora.3.05.2")
    );
    assert_eq!(md.instance_class.as_deref(), Some("db.r6g.large"));
    assert_eq!(md.availability_zone.as_deref(), Some("us-east-1b"));
    assert_eq!(md.cluster_identifier.as_deref(), Some("orders"));
    assert_eq!(md.instance_identifier.as_deref(), Some("orders-1"));
    assert_eq!(
        md.resource_id.as_deref(),
        Some("db-ABCDEFGHIJKLMNOPQRSTUVWXY")
    );
    assert_eq!(
        md.arn.as_deref(),
        Some("arn:aws:rds:us-east-1:123456789012:db:orders-1")
    );
    // In a cluster, the role comes from the cluster's members.
    assert_eq!(md.role, None);
    assert_eq!(
        md.tags,
        vec![
            ("team".to_owned(), "payments".to_owned()),
            ("env".to_owned(), "prod".to_owned()),
            ("empty".to_owned(), String::new()),
        ]
    );
    assert_eq!(md.db_system(), Some("mysql"));
}

#[test]
fn the_allow_list_keeps_only_named_tags() {
    let keys = TagKeys::Only(vec!["env".into()]);
    let md = instance_metadata(instance(INSTANCE_IN_CLUSTER).unwrap(), &keys);
    assert_eq!(md.tags, vec![("env".to_owned(), "prod".to_owned())]);
    let none = TagKeys::Only(Vec::new());
    assert!(
        instance_metadata(instance(INSTANCE_IN_CLUSTER).unwrap(), &none)
            .tags
            .is_empty()
    );
}

#[test]
fn a_lone_instance_writes_and_a_replica_reads() {
    let md = instance_metadata(instance(REPLICA).unwrap(), &TagKeys::All);
    assert_eq!(md.role, Some(Role::Reader));
    assert_eq!(md.db_system(), Some("mariadb"));
    assert!(md.tags.is_empty());
    let writer = REPLICA.replace(
        "<ReadReplicaSourceDBInstanceIdentifier>shop</ReadReplicaSourceDBInstanceIdentifier>",
        "",
    );
    assert_eq!(
        instance_metadata(instance(&writer).unwrap(), &TagKeys::All).role,
        Some(Role::Writer)
    );
    assert!(instance(NO_INSTANCES).is_none());
}

#[test]
fn cluster_answer_gives_members_and_tags() {
    let r: DescribeDbClustersResponse = read(CLUSTER.as_bytes(), "t", "t").unwrap();
    let c = r.result.clusters.items.into_iter().next().unwrap();
    let members: Vec<(&str, bool)> = c
        .members
        .items
        .iter()
        .map(|m| (m.instance.as_str(), m.is_cluster_writer))
        .collect();
    assert_eq!(members, vec![("ledger-1", true), ("ledger-2", false)]);
    let md = cluster_metadata(c, &TagKeys::All);
    assert_eq!(md.engine.as_deref(), Some("aurora-postgresql"));
    assert_eq!(md.cluster_identifier.as_deref(), Some("ledger"));
    assert_eq!(md.resource_id.as_deref(), Some("cluster-XYZ"));
    assert_eq!(md.availability_zone, None);
    assert_eq!(md.tags, vec![("team".to_owned(), "ledger".to_owned())]);
    assert_eq!(md.db_system(), Some("postgresql"));
}

#[test]
fn proxy_and_tag_answers() {
    let r: DescribeDbProxiesResponse = read(PROXY.as_bytes(), "t", "t").unwrap();
    let p = &r.result.proxies.items[0];
    assert_eq!(p.engine_family.as_deref(), Some("POSTGRESQL"));
    assert_eq!(
        p.arn.as_deref(),
        Some("arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0123456789abcdef0")
    );
    let t: ListTagsForResourceResponse = read(TAGS.as_bytes(), "t", "t").unwrap();
    assert_eq!(
        tags(t.result.tags, &TagKeys::All),
        vec![("owner".to_owned(), "dba".to_owned())]
    );
}

#[test]
fn unreadable_answers_are_errors_naming_the_call() {
    let e =
        read::<DescribeDbInstancesResponse>(b"<html>busy</html>", "rds:DescribeDBInstances", "db1")
            .unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("rds:DescribeDBInstances on db1: unreadable answer"),
        "{text}"
    );
    assert!(!e.is_retryable());
}

#[test]
fn error_answers_are_classified() {
    use crate::client::classify_xml;
    let throttled = br#"<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
  <RequestId>a1b2</RequestId>
</ErrorResponse>"#;
    let f = classify_xml(400, throttled);
    assert_eq!(f.detail, "Throttling: Rate exceeded (HTTP 400)");
    assert!(f.retryable);
    let missing = br#"<ErrorResponse><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>DBInstance gone not found.</Message></Error></ErrorResponse>"#;
    let f = classify_xml(404, missing);
    assert!(!f.retryable);
    let e = AwsError::Call {
        call: "rds:DescribeDBInstances",
        target: "gone".into(),
        detail: f.detail,
        retryable: false,
    };
    assert!(not_found(&e));
    let denied = br#"<ErrorResponse><Error><Code>AccessDenied</Code><Message>not authorized</Message></Error></ErrorResponse>"#;
    let f = classify_xml(403, denied);
    assert!(!f.retryable);
    assert!(!not_found(&AwsError::Call {
        call: "c",
        target: "t".into(),
        detail: f.detail,
        retryable: false
    }));
    assert!(classify_xml(503, b"").retryable);
}
