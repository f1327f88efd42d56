//! CloudTrail `CreateLogGroup` calls delivered by EventBridge (`source:
//! aws.logs`, detail-type `AWS API Call via CloudTrail`): the signal that a
//! new RDS log group exists and should be subscribed. Decoding only; the
//! Lambda handler does the subscribing (core stays free of AWS calls).

use serde::Deserialize;

use super::InputError;

pub const SOURCE: &str = "aws.logs";
pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
pub const EVENT_NAME: &str = "CreateLogGroup";

/// A log group someone (usually RDS itself) created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupCreated {
    /// The EventBridge event id, to find the event again.
    pub event_id: String,
    pub log_group_name: String,
    pub account: String,
    pub region: String,
    /// Set when the API call itself failed (e.g. the group already
    /// existed); such an event subscribes nothing.
    pub error_code: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    id: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    region: String,
    detail: Detail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    #[serde(default)]
    event_name: String,
    #[serde(default)]
    request_parameters: Option<RequestParameters>,
    #[serde(default)]
    error_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestParameters {
    #[serde(default)]
    log_group_name: Option<String>,
}

/// Whether an EventBridge envelope is a CloudTrail call from CloudWatch Logs.
pub fn is_cloudtrail_logs_call(source: Option<&str>, detail_type: Option<&str>) -> bool {
    source == Some(SOURCE) && detail_type == Some(DETAIL_TYPE)
}

/// Reads a `CreateLogGroup` call; any other call is an error naming it.
pub fn decode(value: serde_json::Value) -> Result<LogGroupCreated, InputError> {
    let id = value
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or("<no id>")
        .to_owned();
    let invalid = |detail: String| InputError::CloudTrail {
        id: id.clone(),
        detail,
    };
    let env: Envelope = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    if env.detail.event_name != EVENT_NAME {
        return Err(invalid(format!(
            "CloudTrail call {} is not handled (only {EVENT_NAME})",
            env.detail.event_name
        )));
    }
    let log_group_name = env
        .detail
        .request_parameters
        .and_then(|p| p.log_group_name)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            invalid("CreateLogGroup without requestParameters.logGroupName".to_owned())
        })?;
    Ok(LogGroupCreated {
        event_id: env.id,
        log_group_name,
        account: env.account,
        region: env.region,
        error_code: env.detail.error_code.filter(|c| !c.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/deploy/cloudtrail-create-log-group.json"
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn reads_the_new_log_group() {
        let got = decode(fixture()).unwrap();
        assert_eq!(got.log_group_name, "/aws/rds/instance/orders-db/postgresql");
        assert_eq!(got.account, "123456789012");
        assert_eq!(got.error_code, None);
    }

    #[test]
    fn other_calls_and_missing_names_are_errors() {
        let mut v = fixture();
        v["detail"]["eventName"] = "DeleteLogGroup".into();
        assert!(decode(v)
            .unwrap_err()
            .to_string()
            .contains("DeleteLogGroup"));
        let mut v = fixture();
        v["detail"]["requestParameters"] = serde_json::Value::Null;
        assert!(decode(v).unwrap_err().to_string().contains("logGroupName"));
    }

    #[test]
    fn input_decode_recognises_it() {
        let bytes = serde_json::to_vec(&fixture()).unwrap();
        let decoded = crate::input::decode(&bytes, 1 << 20).unwrap();
        assert_eq!(decoded.kind, crate::input::EventKind::CloudTrail);
        match &decoded.units[0].content {
            Ok(crate::input::Content::LogGroupCreated(g)) => {
                assert_eq!(g.log_group_name, "/aws/rds/instance/orders-db/postgresql")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn failed_calls_keep_their_error_code() {
        let mut v = fixture();
        v["detail"]["errorCode"] = "ResourceAlreadyExistsException".into();
        assert_eq!(
            decode(v).unwrap().error_code.as_deref(),
            Some("ResourceAlreadyExistsException")
        );
    }
}
