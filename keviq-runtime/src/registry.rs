//! The registry: every metric declared anywhere in the binary, gathered through
//! `inventory`, checked for name clashes, and rendered on demand.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use keviq_model::Format;

use crate::descriptor::{Descriptor, Site};
use crate::encode::Encoder;
use crate::registration::Registration;

/// Two declarations that would render the same series name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The name both would render.
    pub name: String,
    /// The first declaration (in site order).
    pub first: Site,
    /// The second declaration.
    pub second: Site,
}

/// Why the registry cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Some names are declared more than once.
    #[error("{}", describe_clashes(.0))]
    DuplicateNames(Vec<Clash>),
}

fn describe_clashes(clashes: &[Clash]) -> String {
    let lines: Vec<String> = clashes
        .iter()
        .map(|c| {
            format!(
                "metric name `{}` is declared twice, at {} and at {}; rename one of them",
                c.name, c.first, c.second
            )
        })
        .collect();
    lines.join("\n")
}

/// Every registered metric, sorted by name.
#[derive(Debug)]
pub struct Registry {
    entries: Vec<Registration>,
    /// Size of the last render, to allocate the next one at once.
    last_len: AtomicUsize,
}

impl Registry {
    /// The registry of every metric declared in this binary, built (and checked) on
    /// first use.
    ///
    /// # Errors
    /// [`RegistryError::DuplicateNames`] when two declarations use one name, with both
    /// declaration sites.
    pub fn global() -> Result<&'static Registry, &'static RegistryError> {
        static GLOBAL: OnceLock<Result<Registry, RegistryError>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| Registry::from_registrations(inventory::iter::<Registration>))
            .as_ref()
    }

    /// A registry of the given registrations.
    ///
    /// # Errors
    /// [`RegistryError::DuplicateNames`] when two of them clash.
    pub fn from_registrations<'a>(
        registrations: impl IntoIterator<Item = &'a Registration>,
    ) -> Result<Self, RegistryError> {
        let mut entries: Vec<Registration> = registrations.into_iter().copied().collect();
        sort(&mut entries);
        let mut names: Vec<(String, usize)> = entries
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                r.descriptor()
                    .occupied_names()
                    .into_iter()
                    .map(move |n| (n, i))
            })
            .collect();
        names.sort();
        let mut clashes: Vec<Clash> = Vec::new();
        for pair in names.windows(2) {
            let ((name, a), (other, b)) = (&pair[0], &pair[1]);
            if name == other && a != b {
                let (da, db) = (entries[*a].descriptor(), entries[*b].descriptor());
                let (first, second) = (da.site, db.site);
                // Name the clash by what was declared when both declared the same
                // name, not by a derived family or sample name.
                let name = if da.name == db.name {
                    da.name.to_owned()
                } else {
                    name.clone()
                };
                let clash = Clash {
                    name,
                    first,
                    second,
                };
                // A counter clashes on both `x_total` and `x`: report the pair once.
                if !clashes
                    .iter()
                    .any(|c| c.first == first && c.second == second)
                {
                    clashes.push(clash);
                }
            }
        }
        if clashes.is_empty() {
            Ok(Self {
                entries,
                last_len: AtomicUsize::new(0),
            })
        } else {
            Err(RegistryError::DuplicateNames(clashes))
        }
    }

    /// Every registration, in render order.
    pub fn registrations(&self) -> impl Iterator<Item = &Registration> {
        self.entries.iter()
    }

    /// The descriptors of every metric, in render order.
    pub fn descriptors(&self) -> impl Iterator<Item = &Descriptor> {
        self.entries.iter().map(|r| r.descriptor())
    }

    /// Renders every metric.
    ///
    /// Families appear sorted by name; within a family, series with fixed-cardinality
    /// labels appear in label order and those with free-form labels in the order
    /// they were first used, so consecutive renders list series identically.
    pub fn render(&self, format: Format) -> String {
        // A little over the last size: growing a large buffer by doubling would
        // copy it several times per render.
        let hint = self.last_len.load(Ordering::Relaxed);
        let mut out = String::with_capacity((hint + hint / 8).max(4096));
        self.render_into(&mut out, format);
        self.last_len.store(out.len(), Ordering::Relaxed);
        out
    }

    /// Renders every metric, appending to `out`.
    pub fn render_into(&self, out: &mut String, format: Format) {
        let mut enc = Encoder::new(out, format);
        for r in &self.entries {
            enc.family(r.descriptor());
            r.metric().collect(&mut enc);
        }
        enc.finish();
    }
}

/// Render order: by name, then by declaration site.
fn sort(entries: &mut [Registration]) {
    entries.sort_by(|a, b| {
        let key = |r: &Registration| {
            (
                r.descriptor().name,
                r.descriptor().site.file,
                r.descriptor().site.line,
            )
        };
        key(a).cmp(&key(b))
    });
}
