//! `metric!`: parse, validate, expand.
//!
//! A mistake in one piece of a block is reported and the rest of the block is
//! still expanded (see `fallback.rs`), so the statics the user did not touch keep
//! compiling, and an IDE keeps seeing them while one line is being typed.

mod expand;
mod fallback;
mod labeled;
mod options;
mod parse;
mod valid;

use proc_macro2::TokenStream;

use crate::errors::Errors;

pub(crate) fn metric(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let input = parse::parse(input, &mut errors);
    let registrable = valid::check(&input, &mut errors);
    // Expand even when some fields are wrong, so call sites still type-check and
    // the user sees the real mistakes rather than a cascade.
    let mut out = expand::expand(&input, &registrable);
    out.extend(errors.to_compile_errors());
    out
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// The expansion as text, and the messages of its `compile_error!`s.
    fn expand(input: proc_macro2::TokenStream) -> (String, Vec<String>) {
        let out = super::metric(input).to_string();
        let errors = out
            .split("compile_error !")
            .skip(1)
            .map(|rest| rest.split(')').next().unwrap_or_default().to_owned())
            .collect();
        (out, errors)
    }

    #[test]
    fn a_bad_option_leaves_the_rest_of_the_block() {
        let (out, errors) = expand(quote! {
            /// Agent
            pub static AGENT: AgentMetrics {
                /// Invocations
                invocations: Counter = "invocations_total",
                /// Turns
                #[metric(buckets = [1, 5,, 25], unit = "ms")]
                turn_duration: Histogram = "turn_duration_ms",
            }
            /// Jobs
            pub static JOBS: Counter = "jobs_total";
        });
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(out.contains("pub static AGENT"), "{out}");
        assert!(out.contains("pub static JOBS"), "{out}");
        assert!(out.contains("turn_duration :"), "{out}");
        // The broken metric is emitted but not registered; the others are.
        assert_eq!(out.matches("inventory :: submit").count(), 2, "{out}");
    }

    #[test]
    fn a_broken_declaration_keeps_its_static_when_the_name_is_known() {
        for input in [
            quote!(
                /// D
                pub static DURATION: Summary = "duration_ms";
            ),
            quote!(/// D
                pub static DURATION Histogram = "duration_ms";),
            quote!(/// D
                pub static DURATION = "duration_ms";),
            quote!(
                /// D
                pub static DURATION: Histogram = duration_ms;
            ),
            quote!(/// D
                pub static DURATION: Histogram "duration_ms";),
            quote!(/// D
                pub static DURATION: { /// x
                    x: Counter = "x_total" }),
        ] {
            let (out, errors) = expand(quote!(#input /// J
                static JOBS: Counter = "jobs_total";));
            assert_eq!(errors.len(), 1, "{input}: {errors:?}");
            assert!(out.contains("pub static DURATION"), "{input}: {out}");
            assert!(out.contains("static JOBS"), "{input}: {out}");
        }
    }

    #[test]
    fn a_static_without_a_name_is_left_out_alone() {
        let (out, errors) = expand(quote! {
            pub static : Counter = "x_total";
            /// Jobs
            static JOBS: Counter = "jobs_total";
        });
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(out.contains("static JOBS"), "{out}");
    }

    #[test]
    fn a_bad_field_leaves_the_other_fields() {
        let (out, errors) = expand(quote! {
            /// Agent
            pub struct AgentMetrics {
                /// A
                a: Counter(method HttpMethod) = "a_total",
                /// B
                b: Counter = "b_total",
                42,
                /// C
                c: Gauge = "c",
            }
        });
        assert_eq!(errors.len(), 2, "{errors:?}");
        for field in ["a :", "b :", "c :"] {
            assert!(out.contains(field), "{field}: {out}");
        }
        // The struct form registers nothing globally.
        assert!(!out.contains("inventory"), "{out}");
    }
}
