//! The sinks there are, and the one line each takes to register.
//!
//! A sink owns its configuration: a clap `Args` struct (flags, environment
//! variables, defaults, help), the rules that validate it, what selects it,
//! how it is built, what `check` contacts and what `check --show-wire` shows.
//! [`SinkComponent`] is that contract; `registry!` declares each sink's
//! module, flattens its settings into the CLI and lists it, so adding a sink
//! is its folder plus one line in the invocation in `sink/mod.rs`. Nothing
//! here or in `config` names a particular sink.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::{BoxFuture, Sink, SinkSettings};
use rdsf_core::config_error::ConfigError;
use rdsf_core::record::ResourceRecords;

/// One line of `check`'s report: what was checked, whether it passed, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

/// `ok   what: detail`, one line of `rds-forwarder check`.
impl std::fmt::Display for CheckLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = if self.ok { "ok" } else { "FAIL" };
        write!(f, "{status:<4} {}: {}", self.what, self.detail)
    }
}

impl CheckLine {
    pub fn ok(what: impl Into<String>, detail: impl Into<String>) -> Self {
        CheckLine {
            what: what.into(),
            ok: true,
            detail: detail.into(),
        }
    }

    pub fn fail(what: impl Into<String>, detail: impl Into<String>) -> Self {
        CheckLine {
            what: what.into(),
            ok: false,
            detail: detail.into(),
        }
    }
}

/// A sink's settings, as the CLI and the environment gave them.
pub trait SinkComponent: Send + Sync {
    /// Its name in `RDSF_SINKS`.
    fn name(&self) -> &'static str;

    /// Its settings name a backend, so it is selected when `RDSF_SINKS` is
    /// not given (stdout is chosen only when no sink is).
    fn configured(&self) -> bool;

    /// Validates the settings: what builds the sink when `selected`, and
    /// every problem found. A sink may report problems with settings that are
    /// set even when it is not selected (a typo in a WhaTap host should not
    /// wait for the day WhaTap is switched on).
    fn validate(&self, selected: bool) -> Result<Option<SinkSpec>, Vec<ConfigError>>;

    /// `check`: contacts what its settings point at, as far as they are
    /// valid, without sending records. `selected` is false when the
    /// configuration as a whole is invalid: a sink then checks what its own
    /// settings name, if anything, so one run shows as much as it can.
    fn check(&self, selected: bool) -> BoxFuture<'_, Vec<CheckLine>>;
}

/// A validated sink configuration: builds the sink and describes its wire.
pub trait BuildSink: fmt::Debug + Send + Sync + Any {
    fn name(&self) -> &'static str;
    fn build(&self) -> Result<Box<dyn Sink>, ConfigError>;
    /// What the sink would send for `batch`, readable (`check --show-wire`).
    fn show_wire(&self, batch: &[ResourceRecords<'_>]) -> String;
    fn as_any(&self) -> &dyn Any;
}

/// A selected, validated sink: cheap to clone (the configuration travels in
/// [`crate::config::Config`]).
#[derive(Debug, Clone)]
pub struct SinkSpec(Arc<dyn BuildSink>);

impl SinkSpec {
    pub fn new(spec: impl BuildSink) -> Self {
        SinkSpec(Arc::new(spec))
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn build(&self) -> Result<Box<dyn Sink>, ConfigError> {
        self.0.build()
    }

    pub fn show_wire(&self, batch: &[ResourceRecords<'_>]) -> String {
        self.0.show_wire(batch)
    }

    /// The sink's own configuration type, when it is `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref()
    }
}

/// Declares each sink's module, [`SinkSettings`] (every sink's settings,
/// flattened into the CLI) and their list, in order (the order `RDSF_SINKS`'
/// default picks). Invoked once, in `sink/mod.rs`: a sink is one line there.
macro_rules! registry {
    ($($module:ident => $settings:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every sink's settings.
        #[derive(Debug, Clone, Default, clap::Args)]
        pub struct SinkSettings {
            $(
                #[command(flatten)]
                pub $module: $module::$settings,
            )*
        }

        impl SinkSettings {
            /// Each sink, in registration order.
            pub fn components(&self) -> Vec<&dyn $crate::registry::SinkComponent> {
                vec![$(&self.$module),*]
            }
        }
    };
}
pub(crate) use registry;

impl SinkSettings {
    /// The names `RDSF_SINKS` accepts.
    pub fn names(&self) -> Vec<&'static str> {
        self.components().iter().map(|c| c.name()).collect()
    }

    /// Validates the sinks `named` (`RDSF_SINKS`; when empty, every
    /// configured one, else stdout) and every other sink's set settings:
    /// the selected sinks in order, or every problem.
    pub fn select(&self, named: &[String]) -> Result<Vec<SinkSpec>, Vec<ConfigError>> {
        let components = self.components();
        let mut errors = Vec::new();
        let mut chosen: Vec<&'static str> = Vec::new();
        for name in named.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let lower = name.to_ascii_lowercase();
            match components.iter().find(|c| c.name() == lower) {
                Some(c) if !chosen.contains(&c.name()) => chosen.push(c.name()),
                Some(_) => {}
                None => errors.push(ConfigError::Invalid {
                    setting: "RDSF_SINKS",
                    detail: format!(
                        "unknown sink `{lower}` (known: {})",
                        self.names().join(", ")
                    ),
                }),
            }
        }
        let named_any = !chosen.is_empty() || !errors.is_empty();
        if !named_any {
            chosen = components
                .iter()
                .filter(|c| c.configured())
                .map(|c| c.name())
                .collect();
        }
        if chosen.is_empty() && errors.is_empty() {
            chosen.push(super::stdout::NAME);
        }
        let mut specs: Vec<(usize, SinkSpec)> = Vec::new();
        for c in &components {
            let position = chosen.iter().position(|n| *n == c.name());
            match c.validate(position.is_some()) {
                Ok(Some(spec)) => specs.extend(position.map(|p| (p, spec))),
                Ok(None) => {}
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        specs.sort_by_key(|(p, _)| *p);
        Ok(specs.into_iter().map(|(_, s)| s).collect())
    }
}

/// The sinks' own tests select sinks as start-up does (`--sinks` plus every
/// sink's settings) without the binary's whole configuration.
#[cfg(test)]
pub(crate) mod select_for_tests {
    use super::*;

    /// The selected sinks, in order.
    #[derive(Debug)]
    pub struct Selected(Vec<SinkSpec>);

    impl Selected {
        pub fn sink_names(&self) -> Vec<&'static str> {
            self.0.iter().map(SinkSpec::name).collect()
        }

        pub fn sink<T: 'static>(&self) -> Option<&T> {
            self.0.iter().find_map(|s| s.get::<T>())
        }
    }

    /// The sink settings as parsed from `args`.
    pub fn settings(args: &[&str]) -> (crate::SinkSettings, Vec<String>) {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            sink: crate::SinkSettings,
            #[arg(long, value_delimiter = ',')]
            sinks: Vec<String>,
        }
        let argv = std::iter::once("rds-forwarder").chain(args.iter().copied());
        let flags = <Flags as clap::Parser>::try_parse_from(argv).unwrap();
        (flags.sink, flags.sinks)
    }

    /// What start-up selects from `args`; the first problem is the error.
    pub fn select(args: &[&str]) -> Result<Selected, ConfigError> {
        let (sink, sinks) = settings(args);
        sink.select(&sinks)
            .map(Selected)
            .map_err(|mut errors| errors.swap_remove(0))
    }
}
