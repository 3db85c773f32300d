//! What scrape mode tolerated, as it is found: kept with its byte offset (lines
//! and columns are counted once, at the end), capped per kind and in all.

use crate::error::{ErrorReason, Finding, ParseError};
use crate::mode::Mode;

/// At most this many findings are kept, and at most [`MAX_FINDINGS_PER_KIND`] of
/// one kind; the rest are only counted.
pub(crate) const MAX_FINDINGS: usize = 100;
/// See [`MAX_FINDINGS`].
pub(crate) const MAX_FINDINGS_PER_KIND: u32 = 10;

/// What scrape mode tolerated so far, and the mode that decides.
#[derive(Debug)]
pub(crate) struct Findings<'a> {
    b: &'a [u8],
    mode: Mode,
    /// Byte offset and reason; located (line, column) once, at the end.
    pending: Vec<(usize, ErrorReason)>,
    /// How many findings of each kind were seen.
    counts: Vec<(&'static str, u32)>,
    omitted: usize,
    /// Whether a quoted name was noted: one finding says it for the exposition.
    pub(crate) quoted_noted: bool,
}

impl<'a> Findings<'a> {
    /// No findings yet, for a parse of `b` in `mode`.
    pub(crate) fn new(b: &'a [u8], mode: Mode) -> Self {
        Self {
            b,
            mode,
            pending: Vec::new(),
            counts: Vec::new(),
            omitted: 0,
            quoted_noted: false,
        }
    }

    /// The findings kept, located and in input order, and how many were omitted.
    pub(crate) fn into_parts(self) -> (Vec<Finding>, usize) {
        (Finding::locate(self.b, self.pending), self.omitted)
    }

    /// In strict mode, the error `reason` at byte offset `pos`; in scrape mode, a
    /// finding, and `Ok`.
    #[cold]
    #[inline(never)]
    pub(crate) fn tolerate(&mut self, pos: usize, reason: ErrorReason) -> Result<(), ParseError> {
        match self.mode {
            Mode::Strict => Err(ParseError::at(self.b, pos, reason)),
            Mode::Scrape => {
                self.note(pos, reason);
                Ok(())
            }
        }
    }

    fn note(&mut self, pos: usize, reason: ErrorReason) {
        let code = reason.code();
        let seen = match self.counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.counts.push((code, 1));
                1
            }
        };
        if seen > MAX_FINDINGS_PER_KIND || self.pending.len() >= MAX_FINDINGS {
            self.omitted += 1;
        } else {
            self.pending.push((pos, reason));
        }
    }

    pub(crate) fn strict(&self) -> bool {
        self.mode == Mode::Strict
    }
}
