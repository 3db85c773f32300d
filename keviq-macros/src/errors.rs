//! Collects independent errors so one build reports all of them (as serde_derive's
//! `Ctxt` does).

use proc_macro2::TokenStream;

#[derive(Default)]
pub(crate) struct Errors(Vec<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, e: syn::Error) {
        self.0.push(e);
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// `compile_error!` invocations for every error, to emit next to the fallback
    /// expansion.
    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.0.iter().map(syn::Error::to_compile_error).collect()
    }
}
