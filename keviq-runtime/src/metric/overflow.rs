//! `keviq_series_overflow_total`: how many label sets each family folded into its
//! overflow series.

use crate::descriptor::{Descriptor, Site};
use crate::label::Str;
use crate::metric::{Family, LabeledCounter};
use crate::registration::Registration;
use keviq_model::MetricType;

/// Label sets folded into a family's overflow series, per family.
pub(crate) static SERIES_OVERFLOW: Family<(Str,), LabeledCounter> =
    Family::new("keviq_series_overflow_total", (), 10_000);

inventory::submit! {
    Registration::new(
        Descriptor::new(
            "keviq_series_overflow_total",
            "Label sets recorded into a family's overflow series because the family reached its series cap",
            MetricType::Counter,
            &["metric"],
            Site { file: file!(), line: line!() },
        ),
        &SERIES_OVERFLOW,
    )
}
