//! `metric!`: parse, validate, expand.

mod expand;
mod parse;
mod valid;

use proc_macro2::TokenStream;

use crate::errors::Errors;

pub(crate) fn metric(input: TokenStream) -> TokenStream {
    let input: parse::Input = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let registrable = valid::check(&input, &mut errors);
    // Expand even when some fields are wrong, so call sites still type-check and
    // the user sees the real mistakes rather than a cascade.
    let mut out = expand::expand(&input, &registrable);
    out.extend(errors.to_compile_errors());
    out
}
