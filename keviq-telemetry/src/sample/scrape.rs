//! One scrape as the pipeline carries it: from the scraper to the writer, the store
//! and remote write.

use std::time::SystemTime;

use super::{Exemplar, Sample, Target};

/// The sample every scrape ends with: `1` when it succeeded, `0` when it failed.
pub const UP: &str = "up";
/// The sample holding how long a scrape took, in seconds.
pub const SCRAPE_DURATION_SECONDS: &str = "scrape_duration_seconds";
/// The sample holding how many samples a scrape returned.
pub const SCRAPE_SAMPLES_SCRAPED: &str = "scrape_samples_scraped";

/// The samples of one successful scrape.
#[derive(Debug, Clone)]
pub struct Scrape {
    /// Where they come from.
    pub target: Target,
    /// When the scrape started.
    pub at: SystemTime,
    /// What was scraped.
    pub samples: Vec<Sample>,
    /// The OpenMetrics exemplars that changed since the target's previous scrape
    /// (a service shows the last exemplar of each bucket until a new request
    /// replaces it: kept once, not once per scrape), at most
    /// the scraper's `MAX_EXEMPLARS_PER_SCRAPE`.
    pub exemplars: Vec<Exemplar>,
}

impl Scrape {
    /// The memory the scrape holds (its samples and exemplars, as
    /// [`Sample::heap_bytes`] counts them): what the write buffer is bounded by.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.samples.iter().map(Sample::heap_bytes).sum::<usize>()
            + self
                .exemplars
                .iter()
                .map(Exemplar::heap_bytes)
                .sum::<usize>()
            + (self.samples.capacity() - self.samples.len()) * std::mem::size_of::<Sample>()
            + (self.exemplars.capacity() - self.exemplars.len()) * std::mem::size_of::<Exemplar>()
    }
}
