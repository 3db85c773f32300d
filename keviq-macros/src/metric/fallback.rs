//! What keeps a block usable while part of it is wrong (thiserror's `fallback.rs`
//! idea, applied per piece): the input is cut into independent pieces before any
//! of it is parsed, so a syntax error in one option, label, field or static is
//! reported and the parse resumes at the next one; and a metric whose kind cannot
//! be read still gets a best-effort type, so uses of it elsewhere do not cascade
//! into errors about a mistake the user already sees.

use keviq_model::MetricType;
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// Cuts a token stream at each top-level `,`: the commas that separate options,
/// fields and labels. Commas inside groups or inside `<..>` (a generic label type
/// such as `Cow<'static, str>`) do not cut. Empty pieces (a trailing comma) are
/// dropped.
pub(crate) fn split_at_commas(tokens: TokenStream) -> Vec<TokenStream> {
    let mut pieces = Vec::new();
    let mut current = Vec::new();
    let mut angle = 0usize;
    let mut after_dash = false;
    for tt in tokens {
        let mut dash = false;
        if let TokenTree::Punct(p) = &tt {
            match p.as_char() {
                ',' if angle == 0 => {
                    pieces.push(current.drain(..).collect());
                    after_dash = false;
                    continue;
                }
                '<' => angle += 1,
                // `->` is not a closing angle bracket.
                '>' if !after_dash => angle = angle.saturating_sub(1),
                '-' => dash = p.spacing() == Spacing::Joint,
                _ => {}
            }
        }
        after_dash = dash;
        current.push(tt);
    }
    pieces.push(current.into_iter().collect());
    pieces.retain(|p: &TokenStream| !p.is_empty());
    pieces
}

/// Cuts the input of `metric!` into items, each to be parsed on its own. An item
/// ends after a top-level `;` or `{ .. }` (with an optional `;` after the braces),
/// or where the next one visibly starts (`#`, `pub`, `static`, `struct` after this
/// item's keyword): a forgotten `;` costs one error, not the rest of the block.
pub(crate) fn split_items(tokens: TokenStream) -> Vec<TokenStream> {
    let mut items: Vec<TokenStream> = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut keyword_seen = false;
    let mut closed_by_brace = false;
    for tt in tokens {
        let starts_item = match &tt {
            TokenTree::Punct(p) => p.as_char() == '#',
            TokenTree::Ident(i) => i == "pub" || i == "static" || i == "struct",
            _ => false,
        };
        let is_semi = matches!(&tt, TokenTree::Punct(p) if p.as_char() == ';');
        if closed_by_brace {
            closed_by_brace = false;
            // `static A: S { .. };`: the `;` belongs to the item just closed.
            if is_semi {
                if let Some(last) = items.last_mut() {
                    last.extend([tt]);
                }
                continue;
            }
        }
        if starts_item && keyword_seen {
            items.push(current.drain(..).collect());
            keyword_seen = false;
        }
        if matches!(&tt, TokenTree::Ident(i) if i == "static" || i == "struct") {
            keyword_seen = true;
        }
        let is_brace = matches!(&tt, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace);
        current.push(tt);
        if is_semi || (is_brace && keyword_seen) {
            items.push(current.drain(..).collect());
            keyword_seen = false;
            closed_by_brace = is_brace;
        }
    }
    if !current.is_empty() {
        items.push(current.into_iter().collect());
    }
    items
}

/// The metric type and float-ness a kind keyword stands for: the four kinds
/// `metric!` accepts.
pub(crate) fn known_kind(word: &str) -> Option<(MetricType, bool)> {
    Some(match word {
        "Counter" => (MetricType::Counter, false),
        "Gauge" => (MetricType::Gauge, false),
        "FloatGauge" => (MetricType::Gauge, true),
        "Histogram" => (MetricType::Histogram, false),
        _ => return None,
    })
}

/// A best-effort kind for a metric whose kind keyword is unknown or missing, so
/// that its uses (`.inc()`, `.observe(..)`) still type-check while the user fixes
/// the declaration: from a near-miss keyword (`IntCounter`, `Summary`), else from
/// the name (`_total` is a counter).
pub(crate) fn guess_kind(word: Option<&str>, name: Option<&str>) -> (MetricType, bool) {
    let word = word.unwrap_or_default().to_ascii_lowercase();
    if word.contains("counter") {
        (MetricType::Counter, false)
    } else if word.contains("histogram") || word.contains("summary") || word.contains("timer") {
        (MetricType::Histogram, false)
    } else if word.contains("float") {
        (MetricType::Gauge, true)
    } else if word.contains("gauge") {
        (MetricType::Gauge, false)
    } else if name.is_some_and(|n| n.ends_with("_total")) {
        (MetricType::Counter, false)
    } else {
        (MetricType::Gauge, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn texts(pieces: Vec<TokenStream>) -> Vec<String> {
        pieces.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn commas_inside_groups_and_generics_do_not_cut() {
        let pieces =
            split_at_commas(quote!(a: Cow<'static, str>, b: fn(u8, u8) -> u8, c: [u8; 2],));
        assert_eq!(
            texts(pieces),
            [
                "a : Cow < 'static , str >",
                "b : fn (u8 , u8) -> u8",
                "c : [u8 ; 2]"
            ]
        );
    }

    #[test]
    fn items_end_at_semicolons_braces_and_the_next_keyword() {
        let pieces = split_items(quote!(
            /// a
            pub static A: Counter = "a_total";
            static B: Group { x: Counter = "x_total", };
            pub struct C { y: Gauge = "y" }
            static D: Counter = "d_total"
            #[metric(unit = "ms")]
            static E: Histogram = "e_ms";
        ));
        let pieces = texts(pieces);
        assert_eq!(pieces.len(), 5, "{pieces:?}");
        assert!(pieces[1].ends_with("} ;"), "{pieces:?}");
        assert!(pieces[3].starts_with("static D"), "{pieces:?}");
        assert!(pieces[4].starts_with("# [metric"), "{pieces:?}");
    }

    #[test]
    fn guesses() {
        assert_eq!(
            guess_kind(Some("IntCounter"), None),
            (MetricType::Counter, false)
        );
        assert_eq!(
            guess_kind(Some("Summary"), None),
            (MetricType::Histogram, false)
        );
        assert_eq!(
            guess_kind(None, Some("x_total")),
            (MetricType::Counter, false)
        );
        assert_eq!(
            guess_kind(Some("Thing"), Some("x")),
            (MetricType::Gauge, false)
        );
    }
}
