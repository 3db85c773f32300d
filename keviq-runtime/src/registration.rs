//! A descriptor paired with the metric it describes: what the registry gathers.

use std::fmt;

use crate::descriptor::Descriptor;
use crate::encode::Collect;

/// A metric's descriptor and its values, submitted to the global registry.
///
/// `metric!` builds these; build one by hand only for a metric type of your own.
#[derive(Clone, Copy)]
pub struct Registration {
    descriptor: Descriptor,
    metric: &'static dyn Collect,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("descriptor", &self.descriptor)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// Pairs a descriptor with the metric it describes.
    pub const fn new(descriptor: Descriptor, metric: &'static dyn Collect) -> Self {
        Self { descriptor, metric }
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The metric whose values are rendered.
    pub fn metric(&self) -> &'static dyn Collect {
        self.metric
    }
}

/// A static holding metrics: what `#[keviq::service(metrics = [..])]` lists to make
/// them that service's own. `metric!` implements it for every static it declares.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a metric static",
    label = "not declared with `keviq::metric!`",
    note = "list statics declared with `keviq::metric!`, as in `#[keviq::service(name = \"agent-runtime\", metrics = [AGENT])]`"
)]
pub trait MetricGroup: Sync + 'static {
    /// Whether `metric` is one of this static's metrics, that is, lies inside it.
    fn contains(&self, metric: &dyn Collect) -> bool {
        let start = std::ptr::from_ref(self).cast::<u8>().addr();
        let end = start + std::mem::size_of_val(self);
        let at = std::ptr::from_ref(metric).cast::<u8>().addr();
        (start..end).contains(&at)
    }
}

inventory::collect!(Registration);
