//! RDS metadata for the enrich stage: [`RdsMetadataSource`] answers the
//! core's [`MetadataSource`] from a per-execution-environment cache (TTL,
//! default 15 min), asks RDS ([`rds::fetch`]) on a miss, lets concurrent
//! lookups of one resource share one request, and backs off after a
//! failure (throttling first of all) instead of asking again at once. The
//! request runs in its own task: a caller that stops waiting (its budget is
//! spent) leaves it to finish and fill the cache for the next invocation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, OnceCell};

use super::client::AwsClient;
use super::rds::{self, TagKeys};
use super::AwsError;
use rdsf_core::boxed::BoxFuture;
use rdsf_core::config_error::ConfigError;
use rdsf_core::enrich::metadata::{MetadataCounters, MetadataSource, RdsMetadata, ResourceKey};

/// Default of `RDSF_RDS_METADATA_TTL_SECONDS`: 15 minutes.
pub const DEFAULT_TTL_SECONDS: u64 = 900;
/// Default of `RDSF_RDS_METADATA_BUDGET_MS`.
pub const DEFAULT_BUDGET_MS: u64 = 300;
/// Bounds of the settings.
pub const MAX_TTL_SECONDS: u64 = 86_400;
pub const MAX_BUDGET_MS: u64 = 5_000;
/// Longest tag key RDS accepts.
const MAX_TAG_KEY_CHARS: usize = 128;
/// First back-off after a retryable failure, doubled each time up to
/// [`MAX_BACKOFF`]; a final failure (access denied, no credentials) backs
/// off the longest at once.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Resources remembered; past it expired entries go, then all (bounded
/// memory in a long-lived `serve`).
const MAX_ENTRIES: usize = 10_000;

/// RDS metadata settings, as given.
#[derive(Debug, Clone, clap::Args)]
pub struct RdsMetadataSettings {
    /// RDS metadata: `on` looks up each resource's engine, version, class, zone, cluster,
    /// role and tags with the RDS API (read-only, cached) and adds them to its resource;
    /// `off` never calls RDS.
    #[arg(
        help_heading = "RDS metadata",
        long = "rds-metadata",
        env = "RDSF_RDS_METADATA",
        default_value = "on"
    )]
    pub rds_metadata: String,

    /// RDS metadata: how long an answer is kept, in seconds (1 to 86400).
    #[arg(help_heading = "RDS metadata", long = "rds-metadata-ttl-seconds", env = "RDSF_RDS_METADATA_TTL_SECONDS", default_value_t = DEFAULT_TTL_SECONDS.to_string())]
    pub rds_metadata_ttl_seconds: String,

    /// RDS metadata: the longest an invocation waits for lookups before delivering
    /// without them, in milliseconds (1 to 5000; never past the invocation's deadline).
    #[arg(help_heading = "RDS metadata", long = "rds-metadata-budget-ms", env = "RDSF_RDS_METADATA_BUDGET_MS", default_value_t = DEFAULT_BUDGET_MS.to_string())]
    pub rds_metadata_budget_ms: String,

    /// RDS metadata: tag keys that become `aws.rds.tag.<key>` attributes, comma-separated;
    /// `*` for every tag, `none` for no tags.
    #[arg(
        help_heading = "RDS metadata",
        long = "rds-tag-keys",
        env = "RDSF_RDS_TAG_KEYS",
        default_value = "*"
    )]
    pub rds_tag_keys: String,
}

impl Default for RdsMetadataSettings {
    fn default() -> Self {
        RdsMetadataSettings {
            rds_metadata: "on".to_owned(),
            rds_metadata_ttl_seconds: DEFAULT_TTL_SECONDS.to_string(),
            rds_metadata_budget_ms: DEFAULT_BUDGET_MS.to_string(),
            rds_tag_keys: "*".to_owned(),
        }
    }
}

/// Validated RDS metadata settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdsMetadataOptions {
    pub enabled: bool,
    pub ttl: Duration,
    pub budget: Duration,
    pub tag_keys: TagKeys,
}

fn number(setting: &'static str, given: &str, max: u64, unit: &str) -> Result<u64, ConfigError> {
    match given.trim().parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            setting,
            detail: format!("`{given}` is not a whole number of {unit} from 1 to {max}"),
        }),
    }
}

impl RdsMetadataSettings {
    /// The validated options; a wrong value names its setting.
    pub fn options(&self) -> Result<RdsMetadataOptions, ConfigError> {
        let enabled = match self.rds_metadata.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => true,
            "off" | "false" | "0" => false,
            _ => {
                return Err(ConfigError::Invalid {
                    setting: "RDSF_RDS_METADATA",
                    detail: format!("`{}` is neither on nor off", self.rds_metadata),
                })
            }
        };
        let ttl = number(
            "RDSF_RDS_METADATA_TTL_SECONDS",
            &self.rds_metadata_ttl_seconds,
            MAX_TTL_SECONDS,
            "seconds",
        )?;
        let budget = number(
            "RDSF_RDS_METADATA_BUDGET_MS",
            &self.rds_metadata_budget_ms,
            MAX_BUDGET_MS,
            "milliseconds",
        )?;
        Ok(RdsMetadataOptions {
            enabled,
            ttl: Duration::from_secs(ttl),
            budget: Duration::from_millis(budget),
            tag_keys: tag_keys(&self.rds_tag_keys)?,
        })
    }
}

fn tag_keys(given: &str) -> Result<TagKeys, ConfigError> {
    let bad = |detail: String| ConfigError::Invalid {
        setting: "RDSF_RDS_TAG_KEYS",
        detail,
    };
    match given.trim() {
        "*" => return Ok(TagKeys::All),
        "" => {
            return Err(bad(
                "is empty (use `*` for every tag, `none` for no tags)".to_owned()
            ))
        }
        t if t.eq_ignore_ascii_case("none") => return Ok(TagKeys::Only(Vec::new())),
        _ => {}
    }
    let mut keys = Vec::new();
    for key in given.split(',').map(str::trim) {
        if key.is_empty() {
            return Err(bad(format!("`{given}` has an empty key")));
        }
        if key == "*" {
            return Err(bad("`*` stands alone (every tag), not in a list".to_owned()));
        }
        if key.chars().count() > MAX_TAG_KEY_CHARS {
            return Err(bad(format!(
                "a key is longer than {MAX_TAG_KEY_CHARS} characters, RDS's limit"
            )));
        }
        keys.push(key.to_owned());
    }
    Ok(TagKeys::Only(keys))
}

/// Asks RDS; the real one or one bound to a test endpoint.
enum Client {
    /// Built on first use from the environment (credentials, region,
    /// `AWS_ENDPOINT_URL`), so turning metadata on costs nothing until a
    /// resource is looked up; a failed build is tried again after back-off.
    FromEnv(OnceCell<AwsClient>),
    Given(AwsClient),
}

impl Client {
    async fn get(&self) -> Result<&AwsClient, AwsError> {
        match self {
            Client::FromEnv(cell) => {
                cell.get_or_try_init(|| async { AwsClient::from_env() })
                    .await
            }
            Client::Given(c) => Ok(c),
        }
    }
}

/// What one lookup settled on: the metadata, or `None` (unknown for now).
type Answer = Option<Arc<RdsMetadata>>;

#[derive(Default)]
struct State {
    /// Key → (when fetched, answer). A "not found" is an answer too.
    cache: HashMap<ResourceKey, (Instant, Answer)>,
    /// Lookups asking RDS now: later callers wait on the same channel.
    in_flight: HashMap<ResourceKey, watch::Receiver<Option<Answer>>>,
    /// No request before this (after a failure), and failures in a row.
    backoff_until: Option<Instant>,
    failures_in_a_row: u32,
}

struct Shared {
    client: Client,
    tag_keys: TagKeys,
    ttl: Duration,
    state: Mutex<State>,
    counters: MetadataCounters,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Each change under the lock is one insert or remove: a panic
        // elsewhere cannot leave the maps inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The cache in front of RDS (one per execution environment).
#[derive(Clone)]
pub struct RdsMetadataSource {
    shared: Arc<Shared>,
}

impl RdsMetadataSource {
    /// Asks the RDS endpoint of the environment (`AWS_REGION`,
    /// `AWS_ENDPOINT_URL[_RDS]`, credentials as every AWS call here).
    pub fn from_env(options: &RdsMetadataOptions) -> Self {
        Self::build(Client::FromEnv(OnceCell::new()), options)
    }

    /// Asks through `client` (tests point it at a local server).
    pub fn with_client(client: AwsClient, options: &RdsMetadataOptions) -> Self {
        Self::build(Client::Given(client), options)
    }

    fn build(client: Client, options: &RdsMetadataOptions) -> Self {
        RdsMetadataSource {
            shared: Arc::new(Shared {
                client,
                tag_keys: options.tag_keys.clone(),
                ttl: options.ttl,
                state: Mutex::new(State::default()),
                counters: MetadataCounters::default(),
            }),
        }
    }

    /// When the back-off after the last failure ends (`None`: not backing off).
    pub fn backoff_until(&self) -> Option<Instant> {
        let now = Instant::now();
        self.shared.lock().backoff_until.filter(|t| *t > now)
    }

    async fn lookup(&self, key: &ResourceKey) -> Answer {
        let shared = &self.shared;
        let now = Instant::now();
        let mut rx = {
            let mut state = shared.lock();
            let cached = state.cache.get(key).cloned();
            if let Some((at, answer)) = &cached {
                if now.duration_since(*at) < shared.ttl {
                    MetadataCounters::add(&shared.counters.hits, 1);
                    return answer.clone();
                }
            }
            if let Some(rx) = state.in_flight.get(key) {
                MetadataCounters::add(&shared.counters.misses, 1);
                rx.clone()
            } else if state.backoff_until.is_some_and(|t| t > now) {
                MetadataCounters::add(&shared.counters.backed_off, 1);
                // What we knew before is better than nothing meanwhile.
                return cached.and_then(|(_, a)| a);
            } else {
                MetadataCounters::add(&shared.counters.misses, 1);
                let (tx, rx) = watch::channel(None);
                state.in_flight.insert(key.clone(), rx.clone());
                tokio::spawn(fetch(shared.clone(), key.clone(), tx));
                rx
            }
        };
        let answer = match rx.wait_for(Option::is_some).await {
            Ok(answer) => answer.clone().flatten(),
            // The task ended without a word (it panicked): unknown for now.
            Err(_) => None,
        };
        answer
    }
}

/// Asks RDS for `key` once, settles the cache or the back-off, and tells
/// every waiter.
async fn fetch(shared: Arc<Shared>, key: ResourceKey, tx: watch::Sender<Option<Answer>>) {
    let result = match shared.client.get().await {
        Ok(client) => rds::fetch(client, &key, &shared.tag_keys).await,
        Err(e) => Err(e),
    };
    let answer = {
        let mut state = shared.lock();
        state.in_flight.remove(&key);
        let now = Instant::now();
        match result {
            Ok(answer) => {
                state.failures_in_a_row = 0;
                state.backoff_until = None;
                if state.cache.len() >= MAX_ENTRIES {
                    let ttl = shared.ttl;
                    state
                        .cache
                        .retain(|_, (at, _)| now.duration_since(*at) < ttl);
                    if state.cache.len() >= MAX_ENTRIES {
                        state.cache.clear();
                    }
                }
                state.cache.insert(key.clone(), (now, answer.clone()));
                if answer.is_none() {
                    tracing::debug!(resource = %key, "RDS has no such resource; no metadata for it");
                }
                answer
            }
            Err(e) => {
                MetadataCounters::add(&shared.counters.failures, 1);
                state.failures_in_a_row = state.failures_in_a_row.saturating_add(1);
                let wait = backoff(state.failures_in_a_row, e.is_retryable());
                state.backoff_until = Some(now + wait);
                // The error names the call and resource, never credentials.
                tracing::warn!(
                    error = %e,
                    backoff_ms = wait.as_millis() as u64,
                    "RDS metadata lookup failed; records go out without it"
                );
                // A stale answer still serves until RDS answers again.
                state.cache.get(&key).and_then(|(_, a)| a.clone())
            }
        }
    };
    tx.send_replace(Some(answer));
}

/// How long to wait after the `n`th failure in a row: exponential from
/// [`FIRST_BACKOFF`] with jitter (half fixed, half random), capped at
/// [`MAX_BACKOFF`]; a failure that cannot pass by itself waits the most.
pub fn backoff(n: u32, retryable: bool) -> Duration {
    let full = if retryable {
        FIRST_BACKOFF
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(MAX_BACKOFF)
    } else {
        MAX_BACKOFF
    };
    full / 2 + full.mul_f64(fastrand::f64() / 2.0)
}

impl MetadataSource for RdsMetadataSource {
    fn metadata<'a>(&'a self, key: &'a ResourceKey) -> BoxFuture<'a, Option<Arc<RdsMetadata>>> {
        Box::pin(self.lookup(key))
    }

    fn counters(&self) -> &MetadataCounters {
        &self.shared.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(on: &str, ttl: &str, budget: &str, tags: &str) -> RdsMetadataSettings {
        RdsMetadataSettings {
            rds_metadata: on.into(),
            rds_metadata_ttl_seconds: ttl.into(),
            rds_metadata_budget_ms: budget.into(),
            rds_tag_keys: tags.into(),
        }
    }

    #[test]
    fn defaults_are_on_15_minutes_300_ms_every_tag() {
        let o = RdsMetadataSettings::default().options().unwrap();
        assert_eq!(
            o,
            RdsMetadataOptions {
                enabled: true,
                ttl: Duration::from_secs(900),
                budget: Duration::from_millis(300),
                tag_keys: TagKeys::All,
            }
        );
        let o = settings("OFF", "60", "50", " env, team ")
            .options()
            .unwrap();
        assert!(!o.enabled);
        assert_eq!(o.tag_keys, TagKeys::Only(vec!["env".into(), "team".into()]));
        assert_eq!(
            settings("on", "1", "1", "none").options().unwrap().tag_keys,
            TagKeys::Only(Vec::new())
        );
    }

    #[test]
    fn bad_values_name_their_setting() {
        let err = |s: RdsMetadataSettings| s.options().unwrap_err().to_string();
        assert!(err(settings("maybe", "900", "300", "*")).starts_with("RDSF_RDS_METADATA: `maybe`"));
        assert!(
            err(settings("on", "0", "300", "*")).starts_with("RDSF_RDS_METADATA_TTL_SECONDS: `0`")
        );
        assert!(err(settings("on", "15m", "300", "*")).starts_with("RDSF_RDS_METADATA_TTL_SECONDS"));
        assert!(err(settings("on", "900", "9000", "*"))
            .starts_with("RDSF_RDS_METADATA_BUDGET_MS: `9000`"));
        assert!(err(settings("on", "900", "300", "a,,b")).starts_with("RDSF_RDS_TAG_KEYS"));
        assert!(err(settings("on", "900", "300", "")).starts_with("RDSF_RDS_TAG_KEYS"));
        assert!(err(settings("on", "900", "300", "a,*")).starts_with("RDSF_RDS_TAG_KEYS"));
        let long = "k".repeat(129);
        assert!(err(settings("on", "900", "300", &long)).starts_with("RDSF_RDS_TAG_KEYS"));
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        for n in 1..=12u32 {
            let full = FIRST_BACKOFF.saturating_mul(1 << (n - 1)).min(MAX_BACKOFF);
            let b = backoff(n, true);
            assert!(b >= full / 2 && b <= full, "{n}: {b:?}");
        }
        assert!(backoff(1, false) >= MAX_BACKOFF / 2);
        assert!(backoff(u32::MAX, true) <= MAX_BACKOFF);
    }
}
