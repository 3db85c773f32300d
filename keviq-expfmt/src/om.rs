//! The OpenMetrics 1.0 text format: single spaces, no blank lines or comments,
//! `# TYPE`, `# HELP` and `# UNIT` metadata, exemplars, and `# EOF` at the end.

use super::error::{ErrorReason, Expected, Keyword, NumberField, ParseError};
use super::parser::{ParsedLabels, Parser, scan_metric_name, scan_token};
use super::{Exemplar, Format, MetricType, Sample, Timestamp};

/// The most characters of label names and values an exemplar may carry.
const MAX_EXEMPLAR_CHARS: usize = 128;

impl<'a> Parser<'a> {
    pub(super) fn run_openmetrics(&mut self) -> Result<(), ParseError> {
        let b = self.b;
        let mut i = 0;
        loop {
            i = match b.get(i) {
                None => return Err(self.err(i, ErrorReason::MissingEof)),
                Some(b'\n') => return Err(self.err(i, ErrorReason::EmptyLine)),
                Some(b'#') => match self.om_descriptor(i)? {
                    Some(next) => next,
                    None => return Ok(()),
                },
                Some(_) => self.om_sample(i)?,
            };
        }
    }

    /// A line starting with `#` at `hash`; `None` for the final `# EOF`.
    fn om_descriptor(&mut self, hash: usize) -> Result<Option<usize>, ParseError> {
        let b = self.b;
        let line = b.get(hash..).unwrap_or(&[]);
        let keyword = if line.starts_with(b"# TYPE ") {
            Keyword::Type
        } else if line.starts_with(b"# HELP ") {
            Keyword::Help
        } else if line.starts_with(b"# UNIT ") {
            Keyword::Unit
        } else if line.starts_with(b"# EOF") {
            let after = hash + 5;
            return match b.get(after) {
                None => Ok(None),
                Some(b'\n') if after + 1 == b.len() => Ok(None),
                Some(b'\n') => Err(self.err(after + 1, ErrorReason::TextAfterEof)),
                Some(_) => Err(self.err(after, ErrorReason::TextAfterEof)),
            };
        } else {
            return Err(self.err(hash, ErrorReason::InvalidComment));
        };

        let name_start = hash + 7;
        let name_end = scan_metric_name(b, name_start);
        if name_end == name_start {
            return Err(self.expected(name_start, Expected::MetricName));
        }
        if b.get(name_end) != Some(&b' ') {
            return Err(self.expected(name_end, Expected::Space));
        }
        let name = self.text(name_start, name_end);
        let family = self.metadata_family(keyword, name, name_start)?;
        let text = name_end + 1;
        let end = match keyword {
            Keyword::Type => {
                let type_end = scan_token(b, text);
                let word = self.text(text, type_end);
                let Some(kind) = MetricType::from_keyword(word, Format::OpenMetrics) else {
                    let line_end = self.skip_line(text).map_or(b.len(), |next| next - 1);
                    let unknown = ErrorReason::UnknownType(self.text(text, line_end).to_owned());
                    return Err(self.err(text, unknown));
                };
                self.expect_line_end(type_end)?;
                if matches!(kind, MetricType::Info | MetricType::StateSet)
                    && self.families.get(family).is_some_and(|f| f.unit.is_some())
                {
                    return Err(self.err(text, ErrorReason::UnitNotAllowed(kind)));
                }
                if let Some(f) = self.families.get_mut(family) {
                    f.kind = kind;
                }
                type_end
            }
            Keyword::Help => {
                let (help, end) = self.help_text(text)?;
                if let Some(f) = self.families.get_mut(family) {
                    f.help = Some(help).filter(|h| !h.is_empty());
                }
                end
            }
            Keyword::Unit => {
                // `*metricname-char`: a metric name, or digits first.
                let mut unit_end = text;
                while matches!(b.get(unit_end), Some(c) if c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
                {
                    unit_end += 1;
                }
                self.expect_line_end(unit_end)?;
                let unit = self.text(text, unit_end);
                if !unit.is_empty() {
                    let fits = name
                        .strip_suffix(unit)
                        .and_then(|rest| rest.strip_suffix('_'))
                        .is_some_and(|base| !base.is_empty());
                    if !fits {
                        let unit = unit.to_owned();
                        let family = name.to_owned();
                        return Err(self.err(text, ErrorReason::UnitNotSuffix { unit, family }));
                    }
                    if let Some(f) = self.families.get_mut(family) {
                        if matches!(f.kind, MetricType::Info | MetricType::StateSet) {
                            let kind = f.kind;
                            return Err(self.err(text, ErrorReason::UnitNotAllowed(kind)));
                        }
                        f.unit = Some(unit);
                    }
                }
                unit_end
            }
        };
        if let Some(meta) = self.meta.get_mut(family) {
            meta.set(keyword);
        }
        Ok(Some(end + 1))
    }

    /// A sample line starting at `start`.
    #[inline]
    fn om_sample(&mut self, start: usize) -> Result<usize, ParseError> {
        let b = self.b;
        let name_end = scan_metric_name(b, start);
        if name_end == start {
            return Err(self.expected(start, Expected::MetricName));
        }
        let name = self.text(start, name_end);
        let (family, suffix) = self.sample_family(name, start)?;

        let mut i = name_end;
        let mut labels = ParsedLabels::default();
        if b.get(i) == Some(&b'{') {
            labels = self.labels(i)?;
            i = labels.end;
        }
        match b.get(i) {
            Some(b' ') => i += 1,
            Some(b'\n') | None => return Err(self.err(i, ErrorReason::MissingValue)),
            Some(_) => return Err(self.expected(i, Expected::Space)),
        }
        if self.at_token_end(i) {
            return Err(match b.get(i) {
                Some(b'\n') | None => self.err(i, ErrorReason::MissingValue),
                Some(_) => self.expected(i, Expected::Number),
            });
        }
        let (value, value_end) = self.number_token(i, NumberField::Value, true)?;
        i = value_end;

        let mut timestamp = None;
        let mut exemplar = None;
        if b.get(i) == Some(&b' ') {
            i += 1;
            if b.get(i) != Some(&b'#') {
                let end = scan_token(b, i);
                if end == i {
                    return Err(self.expected(i, Expected::Number));
                }
                let seconds = self.number(i, end, NumberField::Timestamp, false)?;
                timestamp = Some(Timestamp::Seconds(seconds));
                i = end;
                if b.get(i) == Some(&b' ') {
                    i += 1;
                    if b.get(i) != Some(&b'#') {
                        return Err(self.expected(i, Expected::Exemplar));
                    }
                }
            }
            if b.get(i) == Some(&b'#') {
                let (parsed, end) = self.om_exemplar(i, family, suffix)?;
                exemplar = Some(Box::new(parsed));
                i = end;
            }
        }
        self.expect_line_end(i)?;
        self.check_special_labels(family, suffix, &labels, start)?;

        self.samples.push(Sample {
            name,
            labels: labels.set,
            value,
            timestamp,
            exemplar,
            family,
        });
        Ok(i + 1)
    }

    /// The exemplar whose `#` is at `hash`; returns it and the index just past it.
    fn om_exemplar(
        &mut self,
        hash: usize,
        family: usize,
        suffix: &str,
    ) -> Result<(Exemplar<'a>, usize), ParseError> {
        let b = self.b;
        if b.get(hash + 1) != Some(&b' ') {
            return Err(self.expected(hash + 1, Expected::Space));
        }
        if b.get(hash + 2) != Some(&b'{') {
            return Err(self.expected(hash + 2, Expected::Exemplar));
        }
        let allowed = match self.families.get(family).map(|f| f.kind) {
            Some(MetricType::Counter) => suffix == "_total",
            Some(MetricType::Histogram | MetricType::GaugeHistogram) => suffix == "_bucket",
            _ => false,
        };
        if !allowed {
            return Err(self.err(hash, ErrorReason::ExemplarNotAllowed));
        }
        let labels = self.labels(hash + 2)?;
        let chars: usize = labels
            .set
            .iter()
            .map(|(name, value)| name.len() + value.chars().count())
            .sum();
        if chars > MAX_EXEMPLAR_CHARS {
            return Err(self.err(hash + 2, ErrorReason::ExemplarTooLong(chars)));
        }
        let mut i = labels.end;
        if b.get(i) != Some(&b' ') {
            return Err(self.expected(i, Expected::Space));
        }
        i += 1;
        let value_end = scan_token(b, i);
        if value_end == i {
            return Err(self.expected(i, Expected::Number));
        }
        let value = self.number(i, value_end, NumberField::ExemplarValue, true)?;
        i = value_end;
        let mut timestamp = None;
        if b.get(i) == Some(&b' ') {
            i += 1;
            let end = scan_token(b, i);
            if end == i {
                return Err(self.expected(i, Expected::Number));
            }
            timestamp = Some(self.number(i, end, NumberField::ExemplarTimestamp, false)?);
            i = end;
        }
        let exemplar = Exemplar {
            labels: labels.set,
            value,
            timestamp,
        };
        Ok((exemplar, i))
    }
}
