//! The Prometheus and OpenMetrics data model, as keviq reads it: the metric types,
//! which names and labels are valid, which suffixes and labels each type reserves,
//! histogram bucket rules, units and the two exposition formats.
//!
//! Everything is a plain function or a `const fn`, with no dependency, so that the
//! `metric!` macro (at expansion time), the runtime (in const context, for
//! descriptors built by hand), the exposition parser and `check-metrics` give one
//! verdict for one name.
//!
//! ```
//! use keviq_model::{MetricType, RuleError, check_metric_name};
//!
//! assert!(check_metric_name("mona_agent_turns_total", MetricType::Counter).is_ok());
//! assert_eq!(
//!     check_metric_name("mona_agent_turns", MetricType::Counter),
//!     Err(RuleError::CounterWithoutTotal),
//! );
//! ```
#![deny(missing_docs)]

mod buckets;
mod bytes;
mod case;
mod error;
mod family;
mod format;
mod kind;
mod label;
mod name;

pub use buckets::{DEFAULT_MS_BUCKETS, check_buckets, parse_bucket_bound};
pub use case::{RenameRule, words};
pub use error::RuleError;
pub use family::{
    check_family_unit, families_clash, is_reserved_name, point_label, sample_name_splits,
    sample_suffix, unit_allowed,
};
pub use format::Format;
pub use kind::MetricType;
pub use label::{
    BUCKET_LABEL, METRIC_NAME_LABEL, QUANTILE_LABEL, check_label_name, check_label_name_syntax,
};
pub use name::{
    check_metric_name, check_metric_name_syntax, check_service_name, check_unit, family_name,
    name_problems, occupied_names, type_in_name,
};
