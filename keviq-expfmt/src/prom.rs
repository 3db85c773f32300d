//! The Prometheus text format 0.0.4: lines separated by `\n`, tokens by any number of
//! spaces and tabs, `#` comments, `# HELP` and `# TYPE` metadata.

use keviq_model::{Format, MetricType};

use crate::error::{ErrorReason, Expected, Keyword, NumberField, ParseError, excerpt};
use crate::exposition::{Sample, Timestamp};
use crate::number::parse_i64;
use crate::parser::{ParsedLabels, Parser};
use crate::scan::{scan_metric_name, scan_token, skip_blanks};

impl<'a> Parser<'a> {
    pub(crate) fn run_prometheus(&mut self) -> Result<(), ParseError> {
        let b = self.b;
        let mut i = 0;
        while i < b.len() {
            i = skip_blanks(b, i);
            i = match b.get(i) {
                None => {
                    self.missing_newline(i)?;
                    return Ok(());
                }
                Some(b'\n') => i + 1,
                Some(b'#') => self.prom_comment(i + 1)?,
                Some(_) => self.prom_sample(i)?,
            };
        }
        Ok(())
    }

    /// A line starting with `#` (at `start - 1`): `# HELP`, `# TYPE`, or a comment.
    fn prom_comment(&mut self, start: usize) -> Result<usize, ParseError> {
        let b = self.b;
        let word = skip_blanks(b, start);
        let word_end = scan_token(b, word);
        let keyword = match b.get(word..word_end) {
            Some(b"HELP") => Keyword::Help,
            Some(b"TYPE") => Keyword::Type,
            _ => return self.skip_line(word_end),
        };
        if !matches!(b.get(word_end), Some(b' ' | b'\t')) {
            // `# HELP` alone: no metric name, but a comment to Prometheus.
            self.tolerate(word_end, ErrorReason::MissingMetadataName(keyword))?;
            return self.skip_line(word_end);
        }
        let name_start = skip_blanks(b, word_end);
        let (name, name_end) = if b.get(name_start) == Some(&b'"') {
            let (end, escaped) = self.quoted(name_start)?;
            self.quoted_metadata_name(name_start, end)?;
            if escaped {
                self.escaped_name(name_start)?;
                return self.skip_line(end);
            }
            (self.text(name_start + 1, end), end + 1)
        } else {
            let end = scan_metric_name(b, name_start);
            (self.text(name_start, end), end)
        };
        let line_end = |i: usize| matches!(b.get(i), Some(b'\n') | None);
        match b.get(name_end) {
            // `# HELP` and blanks: Prometheus rejects the line too.
            _ if name_end == name_start && line_end(name_end) => {
                let reason = ErrorReason::MissingMetadataName(keyword);
                return Err(self.err(name_start, reason));
            }
            Some(b'\n') | None => {}
            Some(b' ' | b'\t') if name_end > name_start => {}
            Some(_) if name_end == name_start => {
                return Err(self.expected(name_start, Expected::MetricName));
            }
            Some(_) => return Err(self.expected(name_end, Expected::Blank)),
        }
        let text = skip_blanks(b, name_end);
        if keyword == Keyword::Type && line_end(text) {
            // Prometheus rejects it too.
            return Err(self.err(text, ErrorReason::MissingType(excerpt(name))));
        }
        // `# HELP name` without text: a HELP line, with no help text.
        let family = self.metadata_family(keyword, name, name_start)?;
        let end = match keyword {
            Keyword::Help => {
                let (help, end) = self.help_text(text)?;
                if let Some(f) = family.and_then(|f| self.families.get_mut(f)) {
                    f.help = Some(help).filter(|h| !h.is_empty());
                }
                end
            }
            _ => {
                let type_end = scan_token(b, text);
                let word = self.text(text, type_end);
                if word.is_empty() {
                    return Err(self.expected(text, Expected::LineEnd));
                }
                let Some(kind) = MetricType::from_keyword(word, Format::Prometheus) else {
                    let unknown = ErrorReason::UnknownType(excerpt(word));
                    return Err(self.err(text, unknown));
                };
                let end = skip_blanks(b, type_end);
                self.expect_line_end(end)?;
                if let Some(f) = family.and_then(|f| self.families.get_mut(f)) {
                    f.kind = kind;
                }
                end
            }
        };
        if let Some(meta) = family.and_then(|f| self.meta.get_mut(f)) {
            meta.set(keyword);
        }
        Ok(end + 1)
    }

    /// A sample line whose name (or `{`) starts at `start`.
    #[inline]
    fn prom_sample(&mut self, start: usize) -> Result<usize, ParseError> {
        let b = self.b;
        let mut labels = ParsedLabels::default();
        let (name, family, suffix, mut i) = if b.get(start) == Some(&b'{') {
            // `{"name", labels}`: the name first in the braces.
            labels = self.labels(start, true)?;
            let Some((name_start, name_end)) = labels.name else {
                return Err(self.expected(start, Expected::MetricName));
            };
            if let Some(at) = labels.escaped_name {
                self.escaped_name(at)?;
                return self.skip_line(labels.end);
            }
            let name = self.text(name_start, name_end);
            let (family, suffix) = self.sample_family(name, name_start)?;
            (name, family, suffix, skip_blanks(b, labels.end))
        } else {
            let name_end = scan_metric_name(b, start);
            if name_end == start {
                return Err(self.expected(start, Expected::MetricName));
            }
            let name = self.text(start, name_end);
            let (family, suffix) = self.sample_family(name, start)?;
            let mut i = skip_blanks(b, name_end);
            if b.get(i) == Some(&b'{') {
                labels = self.labels(i, false)?;
                if let Some(at) = labels.escaped_name {
                    self.escaped_name(at)?;
                    return self.skip_line(labels.end);
                }
                i = skip_blanks(b, labels.end);
            }
            (name, family, suffix, i)
        };
        let name_pos = labels.name.map_or(start, |(s, _)| s);

        if self.at_token_end(i) {
            return Err(match b.get(i) {
                Some(b'\n') | None => self.err(i, ErrorReason::MissingValue),
                Some(_) => self.expected(i, Expected::Number),
            });
        }
        let (value, value_end) = self.number_token(i, NumberField::Value, true)?;

        i = skip_blanks(b, value_end);
        let mut timestamp = None;
        if !matches!(b.get(i), Some(b'\n' | b'\r') | None) {
            let end = scan_token(b, i);
            let ms = parse_i64(b.get(i..end).unwrap_or(&[]))
                .map_err(|e| self.number_error(i, end, NumberField::Timestamp, e))?;
            timestamp = Some(Timestamp::Millis(ms));
            i = skip_blanks(b, end);
        }
        self.expect_line_end(i)?;
        self.check_special_labels(family, suffix, &labels, name_pos)?;
        self.note_point(family, &labels);

        self.push_sample(
            Sample {
                name,
                labels: labels.set,
                value,
                timestamp,
                exemplar: None,
                family,
            },
            start,
        );
        Ok(i + 1)
    }
}
