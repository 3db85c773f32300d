//! `#[keviq::service]`: parse, validate, expand.

mod expand;
mod parse;
mod valid;

use proc_macro2::TokenStream;

use crate::errors::Errors;

pub(crate) fn service(args: TokenStream, item: TokenStream) -> TokenStream {
    let func = match parse::item(item.clone()) {
        Ok(func) => func,
        Err(e) => {
            // Keep the item so the rest of the crate still type-checks.
            let mut out = e.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let args: parse::Args = match syn::parse2(args) {
        Ok(args) => args,
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(quote::quote!(#func));
            return out;
        }
    };
    let mut errors = Errors::default();
    let service = valid::check(&args, &func, &mut errors);
    if errors.len() > 0 {
        // The user's function as written: callers still compile; only the
        // instrumentation is missing until the errors are fixed.
        let mut out = errors.to_compile_errors();
        out.extend(quote::quote!(#func));
        return out;
    }
    expand::expand(&func, &service)
}
