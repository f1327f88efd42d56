//! The four RDS calls metadata needs (`DescribeDBInstances`,
//! `DescribeDBClusters`, `DescribeDBProxies`, `ListTagsForResource`) over
//! the Query protocol, and their XML answers read with quick-xml's serde
//! support into [`RdsMetadata`]. Only the fields we use are declared;
//! everything else in an answer is skipped.

use std::sync::Arc;

use serde::Deserialize;

use super::client::{AwsClient, RDS};
use super::AwsError;
use rdsf_core::enrich::metadata::{RdsMetadata, ResourceKey, Role};

/// The RDS API version every call names.
const VERSION: &str = "2014-10-31";

/// Which tags become attributes: all, none, or these keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagKeys {
    All,
    Only(Vec<String>),
}

impl TagKeys {
    fn allows(&self, key: &str) -> bool {
        match self {
            TagKeys::All => true,
            TagKeys::Only(keys) => keys.iter().any(|k| k == key),
        }
    }

    fn none(&self) -> bool {
        matches!(self, TagKeys::Only(keys) if keys.is_empty())
    }
}

#[derive(Debug, Deserialize, Default)]
struct TagList {
    #[serde(rename = "Tag", default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
struct Tag {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value", default)]
    value: String,
}

#[derive(Debug, Deserialize)]
struct DescribeDbInstancesResponse {
    #[serde(rename = "DescribeDBInstancesResult")]
    result: DescribeDbInstancesResult,
}

#[derive(Debug, Deserialize)]
struct DescribeDbInstancesResult {
    #[serde(rename = "DBInstances", default)]
    instances: DbInstanceList,
}

#[derive(Debug, Deserialize, Default)]
struct DbInstanceList {
    #[serde(rename = "DBInstance", default)]
    items: Vec<DbInstance>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DbInstance {
    #[serde(rename = "DBInstanceIdentifier")]
    identifier: Option<String>,
    engine: Option<String>,
    engine_version: Option<String>,
    #[serde(rename = "DBInstanceClass")]
    instance_class: Option<String>,
    availability_zone: Option<String>,
    #[serde(rename = "DBClusterIdentifier")]
    cluster_identifier: Option<String>,
    dbi_resource_id: Option<String>,
    #[serde(rename = "DBInstanceArn")]
    arn: Option<String>,
    #[serde(rename = "ReadReplicaSourceDBInstanceIdentifier")]
    replica_source: Option<String>,
    tag_list: Option<TagList>,
}

#[derive(Debug, Deserialize)]
struct DescribeDbClustersResponse {
    #[serde(rename = "DescribeDBClustersResult")]
    result: DescribeDbClustersResult,
}

#[derive(Debug, Deserialize)]
struct DescribeDbClustersResult {
    #[serde(rename = "DBClusters", default)]
    clusters: DbClusterList,
}

#[derive(Debug, Deserialize, Default)]
struct DbClusterList {
    #[serde(rename = "DBCluster", default)]
    items: Vec<DbCluster>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DbCluster {
    #[serde(rename = "DBClusterIdentifier")]
    identifier: Option<String>,
    engine: Option<String>,
    engine_version: Option<String>,
    #[serde(rename = "DBClusterInstanceClass")]
    instance_class: Option<String>,
    db_cluster_resource_id: Option<String>,
    #[serde(rename = "DBClusterArn")]
    arn: Option<String>,
    #[serde(rename = "DBClusterMembers", default)]
    members: MemberList,
    tag_list: Option<TagList>,
}

#[derive(Debug, Deserialize, Default)]
struct MemberList {
    #[serde(rename = "DBClusterMember", default)]
    items: Vec<ClusterMember>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClusterMember {
    #[serde(rename = "DBInstanceIdentifier")]
    instance: String,
    #[serde(default)]
    is_cluster_writer: bool,
}

#[derive(Debug, Deserialize)]
struct DescribeDbProxiesResponse {
    #[serde(rename = "DescribeDBProxiesResult")]
    result: DescribeDbProxiesResult,
}

#[derive(Debug, Deserialize)]
struct DescribeDbProxiesResult {
    #[serde(rename = "DBProxies", default)]
    proxies: ProxyList,
}

#[derive(Debug, Deserialize, Default)]
struct ProxyList {
    #[serde(rename = "member", default)]
    items: Vec<DbProxy>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DbProxy {
    #[serde(rename = "DBProxyArn")]
    arn: Option<String>,
    engine_family: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ListTagsForResourceResponse {
    #[serde(rename = "ListTagsForResourceResult")]
    result: ListTagsForResourceResult,
}

#[derive(Debug, Deserialize)]
struct ListTagsForResourceResult {
    #[serde(rename = "TagList", default)]
    tags: TagList,
}

fn read<T: for<'de> Deserialize<'de>>(
    xml: &[u8],
    call: &'static str,
    target: &str,
) -> Result<T, AwsError> {
    let text = std::str::from_utf8(xml).map_err(|e| AwsError::Call {
        call,
        target: target.to_owned(),
        detail: format!("answer is not UTF-8: {e}"),
        retryable: false,
    })?;
    quick_xml::de::from_str(text).map_err(|e| AwsError::Call {
        call,
        target: target.to_owned(),
        detail: format!("unreadable answer: {e}"),
        retryable: false,
    })
}

fn tags(list: TagList, keys: &TagKeys) -> Vec<(String, String)> {
    list.tags
        .into_iter()
        .filter(|t| keys.allows(&t.key))
        .map(|t| (t.key, t.value))
        .collect()
}

/// The instance's metadata from one `DescribeDBInstances` answer, the role
/// still unknown when it is in a cluster; the cluster's id.
fn instance_metadata(i: DbInstance, keys: &TagKeys) -> RdsMetadata {
    // Alone, an instance writes unless it replicates another.
    let role = match (&i.cluster_identifier, &i.replica_source) {
        (Some(_), _) => None,
        (None, Some(_)) => Some(Role::Reader),
        (None, None) => Some(Role::Writer),
    };
    RdsMetadata {
        engine: i.engine,
        engine_version: i.engine_version,
        instance_class: i.instance_class,
        availability_zone: i.availability_zone,
        instance_identifier: i.identifier,
        cluster_identifier: i.cluster_identifier,
        role,
        resource_id: i.dbi_resource_id,
        arn: i.arn,
        tags: i.tag_list.map(|l| tags(l, keys)).unwrap_or_default(),
        proxy_engine_family: None,
    }
}

fn cluster_metadata(c: DbCluster, keys: &TagKeys) -> RdsMetadata {
    RdsMetadata {
        engine: c.engine,
        engine_version: c.engine_version,
        instance_class: c.instance_class,
        cluster_identifier: c.identifier,
        resource_id: c.db_cluster_resource_id,
        arn: c.arn,
        tags: c.tag_list.map(|l| tags(l, keys)).unwrap_or_default(),
        ..Default::default()
    }
}

/// Error codes that mean "no such resource": an answer, not a failure.
fn not_found(e: &AwsError) -> bool {
    matches!(e, AwsError::Call { detail, .. }
        if ["DBInstanceNotFound", "DBClusterNotFoundFault", "DBProxyNotFoundFault"]
            .iter()
            .any(|code| detail.starts_with(code)))
}

/// Looks `key` up with `client`; `Ok(None)` when RDS has no such resource.
/// Each call is tried once: the caller backs off on failure.
pub async fn fetch(
    client: &AwsClient,
    key: &ResourceKey,
    keys: &TagKeys,
) -> Result<Option<Arc<RdsMetadata>>, AwsError> {
    let found = match key {
        ResourceKey::Instance(id) => {
            describe_instance(client, InstanceBy::Identifier, id, keys).await
        }
        ResourceKey::InstanceResourceId(id) => {
            describe_instance(client, InstanceBy::ResourceId, id, keys).await
        }
        ResourceKey::Cluster(id) => describe_cluster(client, id, keys)
            .await
            .map(|c| c.map(|c| cluster_metadata(c, keys))),
        ResourceKey::Proxy(name) => describe_proxy(client, name, keys).await,
    };
    match found {
        Ok(m) => Ok(m.map(Arc::new)),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// How `DescribeDBInstances` finds the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InstanceBy {
    /// `DBInstanceIdentifier` (log groups).
    Identifier,
    /// The `dbi-resource-id` filter (Enhanced Monitoring streams).
    ResourceId,
}

/// `DescribeDBInstances` by identifier, or by resource id (a filter); then
/// the instance's role from its cluster's members, and its tags from
/// `ListTagsForResource` if the answer had no `TagList`.
async fn describe_instance(
    client: &AwsClient,
    by: InstanceBy,
    id: &str,
    keys: &TagKeys,
) -> Result<Option<RdsMetadata>, AwsError> {
    const CALL: &str = "rds:DescribeDBInstances";
    let form: Vec<(&str, &str)> = if by == InstanceBy::ResourceId {
        vec![
            ("Action", "DescribeDBInstances"),
            ("Version", VERSION),
            ("Filters.Filter.1.Name", "dbi-resource-id"),
            ("Filters.Filter.1.Values.Value.1", id),
        ]
    } else {
        vec![
            ("Action", "DescribeDBInstances"),
            ("Version", VERSION),
            ("DBInstanceIdentifier", id),
        ]
    };
    let xml = client.query(&RDS, &form, 1, CALL, id).await?;
    let answer: DescribeDbInstancesResponse = read(&xml, CALL, id)?;
    // The instance asked for, not merely the first: a filter an endpoint
    // ignored must not name another instance.
    let Some(instance) = answer
        .result
        .instances
        .items
        .into_iter()
        .find(|i| match by {
            InstanceBy::Identifier => i.identifier.as_deref() == Some(id),
            InstanceBy::ResourceId => i.dbi_resource_id.as_deref() == Some(id),
        })
    else {
        return Ok(None);
    };
    let had_tags = instance.tag_list.is_some();
    let mut md = instance_metadata(instance, keys);
    if !had_tags && !keys.none() {
        if let Some(arn) = md.arn.clone() {
            md.tags = list_tags(client, &arn, keys).await?;
        }
    }
    if let Some(cluster_id) = md.cluster_identifier.clone() {
        if let Some(cluster) =
            describe_cluster(client, &cluster_id, &TagKeys::Only(Vec::new())).await?
        {
            let instance_id = md.instance_identifier.as_deref().unwrap_or(id);
            md.role = cluster
                .members
                .items
                .iter()
                .find(|m| m.instance == instance_id)
                .map(|m| {
                    if m.is_cluster_writer {
                        Role::Writer
                    } else {
                        Role::Reader
                    }
                });
        }
    }
    Ok(Some(md))
}

/// `DescribeDBClusters` by identifier (tags from `ListTagsForResource` if
/// the answer had none and `keys` wants some).
async fn describe_cluster(
    client: &AwsClient,
    id: &str,
    keys: &TagKeys,
) -> Result<Option<DbCluster>, AwsError> {
    const CALL: &str = "rds:DescribeDBClusters";
    let form = [
        ("Action", "DescribeDBClusters"),
        ("Version", VERSION),
        ("DBClusterIdentifier", id),
    ];
    let xml = client.query(&RDS, &form, 1, CALL, id).await?;
    let answer: DescribeDbClustersResponse = read(&xml, CALL, id)?;
    let Some(mut cluster) = answer.result.clusters.items.into_iter().next() else {
        return Ok(None);
    };
    if cluster.tag_list.is_none() && !keys.none() {
        if let Some(arn) = cluster.arn.clone() {
            let tags = list_tags_raw(client, &arn).await?;
            cluster.tag_list = Some(tags);
        }
    }
    Ok(Some(cluster))
}

/// `DescribeDBProxies` by name, then `ListTagsForResource` on its ARN (the
/// proxy answer has no tags).
async fn describe_proxy(
    client: &AwsClient,
    name: &str,
    keys: &TagKeys,
) -> Result<Option<RdsMetadata>, AwsError> {
    const CALL: &str = "rds:DescribeDBProxies";
    let form = [
        ("Action", "DescribeDBProxies"),
        ("Version", VERSION),
        ("DBProxyName", name),
    ];
    let xml = client.query(&RDS, &form, 1, CALL, name).await?;
    let answer: DescribeDbProxiesResponse = read(&xml, CALL, name)?;
    let Some(proxy) = answer.result.proxies.items.into_iter().next() else {
        return Ok(None);
    };
    let tags = match (&proxy.arn, keys.none()) {
        (Some(arn), false) => list_tags(client, arn, keys).await?,
        _ => Vec::new(),
    };
    Ok(Some(RdsMetadata {
        proxy_engine_family: proxy.engine_family,
        arn: proxy.arn,
        tags,
        ..Default::default()
    }))
}

async fn list_tags(
    client: &AwsClient,
    arn: &str,
    keys: &TagKeys,
) -> Result<Vec<(String, String)>, AwsError> {
    Ok(tags(list_tags_raw(client, arn).await?, keys))
}

async fn list_tags_raw(client: &AwsClient, arn: &str) -> Result<TagList, AwsError> {
    const CALL: &str = "rds:ListTagsForResource";
    let form = [
        ("Action", "ListTagsForResource"),
        ("Version", VERSION),
        ("ResourceName", arn),
    ];
    let xml = client.query(&RDS, &form, 1, CALL, arn).await?;
    let answer: ListTagsForResourceResponse = read(&xml, CALL, arn)?;
    Ok(answer.result.tags)
}

#[cfg(test)]
mod tests;
