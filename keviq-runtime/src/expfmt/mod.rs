//! The exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0 text.

mod encode;
mod parse;

pub use encode::{Encoder, Format};
pub use parse::{
    ErrorReason, Exemplar, Expected, Exposition, Family, FamilyType, Found, Keyword, LabelSet,
    Labels, NumberField, ParseError, Place, Sample, Timestamp, format_from_content_type, parse,
};
