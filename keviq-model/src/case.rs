//! How a Rust name becomes a label value: the `rename_all` rules of
//! `#[derive(LabelValue)]`.
//!
//! The rules carry serde's names (`snake_case`, `kebab-case`, ...), and the words
//! are split as the `heck` crate splits them (as `strum` and `clap` do), so
//! acronyms and digits come out readable: `HTTP` is one word, `GRPCStream` is
//! `GRPC` then `Stream`, and a digit stays in the word it follows (`V2Api` is `V2`
//! then `Api`, `Http2` one word). serde's own `snake_case` puts a `_` before every
//! capital (`h_t_t_p`).
//!
//! ```
//! use keviq_model::{RenameRule, words};
//!
//! assert_eq!(words("GRPCStream"), ["GRPC", "Stream"]);
//! assert_eq!(RenameRule::SnakeCase.apply("GRPCStream"), "grpc_stream");
//! assert_eq!(RenameRule::from_name("kebab-case"), Some(RenameRule::KebabCase));
//! assert_eq!(RenameRule::KebabCase.apply("V2Api"), "v2-api");
//! ```

/// A `rename_all` rule: how the name of a variant becomes its label value.
///
/// Every rule but `lowercase` and `UPPERCASE` splits the name into [`words`] and
/// joins them again; those two only change the case of the name as written, as
/// serde's do.
///
/// | rule | `GRPCStream` | `WebSocket` | `V2Api` | `Http2` |
/// |---|---|---|---|---|
/// | `lowercase` | `grpcstream` | `websocket` | `v2api` | `http2` |
/// | `UPPERCASE` | `GRPCSTREAM` | `WEBSOCKET` | `V2API` | `HTTP2` |
/// | `snake_case` (the default) | `grpc_stream` | `web_socket` | `v2_api` | `http2` |
/// | `kebab-case` | `grpc-stream` | `web-socket` | `v2-api` | `http2` |
/// | `SCREAMING_SNAKE_CASE` | `GRPC_STREAM` | `WEB_SOCKET` | `V2_API` | `HTTP2` |
/// | `SCREAMING-KEBAB-CASE` | `GRPC-STREAM` | `WEB-SOCKET` | `V2-API` | `HTTP2` |
/// | `camelCase` | `grpcStream` | `webSocket` | `v2Api` | `http2` |
/// | `PascalCase` | `GrpcStream` | `WebSocket` | `V2Api` | `Http2` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RenameRule {
    /// `lowercase`: the name as written, in lower case.
    LowerCase,
    /// `UPPERCASE`: the name as written, in upper case.
    UpperCase,
    /// `snake_case`: lower-case words joined by `_`; what `#[derive(LabelValue)]`
    /// applies when no rule is given.
    #[default]
    SnakeCase,
    /// `kebab-case`: lower-case words joined by `-`.
    KebabCase,
    /// `SCREAMING_SNAKE_CASE`: upper-case words joined by `_`.
    ScreamingSnakeCase,
    /// `SCREAMING-KEBAB-CASE`: upper-case words joined by `-`.
    ScreamingKebabCase,
    /// `camelCase`: the first word in lower case, the others capitalized, joined.
    CamelCase,
    /// `PascalCase`: every word capitalized, joined.
    PascalCase,
}

impl RenameRule {
    /// Every rule, in the order the errors and docs list them.
    pub const ALL: [Self; 8] = [
        Self::LowerCase,
        Self::UpperCase,
        Self::SnakeCase,
        Self::KebabCase,
        Self::ScreamingSnakeCase,
        Self::ScreamingKebabCase,
        Self::CamelCase,
        Self::PascalCase,
    ];

    /// The rule's name, as `rename_all = "..."` spells it (serde's spelling).
    pub const fn name(self) -> &'static str {
        match self {
            Self::LowerCase => "lowercase",
            Self::UpperCase => "UPPERCASE",
            Self::SnakeCase => "snake_case",
            Self::KebabCase => "kebab-case",
            Self::ScreamingSnakeCase => "SCREAMING_SNAKE_CASE",
            Self::ScreamingKebabCase => "SCREAMING-KEBAB-CASE",
            Self::CamelCase => "camelCase",
            Self::PascalCase => "PascalCase",
        }
    }

    /// The rule named `name`, spelled exactly as [`name`](Self::name) spells it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rule| rule.name() == name)
    }

    /// `name` (a Rust identifier, without `r#`) renamed by this rule.
    pub fn apply(self, name: &str) -> String {
        let mut out = String::with_capacity(name.len() + 4);
        match self {
            Self::LowerCase => push_lower(&mut out, name),
            Self::UpperCase => push_upper(&mut out, name),
            Self::SnakeCase => join(&mut out, name, "_", push_lower),
            Self::KebabCase => join(&mut out, name, "-", push_lower),
            Self::ScreamingSnakeCase => join(&mut out, name, "_", push_upper),
            Self::ScreamingKebabCase => join(&mut out, name, "-", push_upper),
            Self::PascalCase => join(&mut out, name, "", push_capitalized),
            Self::CamelCase => {
                for (i, word) in words(name).into_iter().enumerate() {
                    if i == 0 {
                        push_lower(&mut out, word);
                    } else {
                        push_capitalized(&mut out, word);
                    }
                }
            }
        }
        out
    }
}

/// The words of `name`, as `heck` splits them: every character that is not
/// alphanumeric separates words (and is dropped); a lower-case letter followed by
/// a capital ends a word (`Web|Socket`); in a run of capitals, the last one starts
/// a word when a lower-case letter follows it (`GRPC|Stream`). A digit takes the
/// case of what precedes it, so it never starts a word (`V2|Api`, `Http2`,
/// `abc123|Def`). No word is empty.
///
/// ```
/// use keviq_model::words;
///
/// assert_eq!(words("XMLHttpRequest"), ["XML", "Http", "Request"]);
/// assert_eq!(words("Http2"), ["Http2"]);
/// assert_eq!(words("V2Api"), ["V2", "Api"]);
/// assert_eq!(words("Web_socket"), ["Web", "socket"]);
/// ```
pub fn words(name: &str) -> Vec<&str> {
    /// The case of the word so far, digits counting as the case before them.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mode {
        Boundary,
        Lower,
        Upper,
    }

    let mut out = Vec::new();
    for part in name.split(|c: char| !c.is_alphanumeric()) {
        let mut chars = part.char_indices().peekable();
        let mut start = 0;
        let mut mode = Mode::Boundary;
        while let Some((i, c)) = chars.next() {
            let Some(&(next_i, next)) = chars.peek() else {
                out.push(&part[start..]);
                break;
            };
            let next_mode = if c.is_lowercase() {
                Mode::Lower
            } else if c.is_uppercase() {
                Mode::Upper
            } else {
                mode
            };
            if next_mode == Mode::Lower && next.is_uppercase() {
                // `Web|Socket`, `Foo2|Bar`: a boundary after this character.
                out.push(&part[start..next_i]);
                start = next_i;
                mode = Mode::Boundary;
            } else if mode == Mode::Upper && c.is_uppercase() && next.is_lowercase() {
                // `GRPC|Stream`: the capital before a lower-case letter starts a word.
                out.push(&part[start..i]);
                start = i;
                mode = Mode::Boundary;
            } else {
                mode = next_mode;
            }
        }
    }
    out
}

fn join(out: &mut String, name: &str, separator: &str, push: fn(&mut String, &str)) {
    for (i, word) in words(name).into_iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        push(out, word);
    }
}

/// Lower case, with a final `Σ` as `ς` (as `heck` writes it).
fn push_lower(out: &mut String, s: &str) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == 'Σ' && chars.peek().is_none() {
            out.push('ς');
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

fn push_upper(out: &mut String, s: &str) {
    out.extend(s.chars().flat_map(char::to_uppercase));
}

/// The first character in upper case, the rest in lower case.
fn push_capitalized(out: &mut String, s: &str) {
    let mut chars = s.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        push_lower(out, chars.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::RenameRule::{self, *};
    use super::words;

    #[track_caller]
    fn check(rule: RenameRule, cases: &[(&str, &str)]) {
        for (name, want) in cases {
            assert_eq!(rule.apply(name), *want, "{} of {name}", rule.name());
        }
    }

    #[test]
    fn snake_case_keeps_acronyms_whole() {
        check(
            SnakeCase,
            &[
                ("HTTP", "http"),
                ("GRPCStream", "grpc_stream"),
                ("WebSocket", "web_socket"),
                ("ToolCall", "tool_call"),
                ("Get", "get"),
                ("A", "a"),
                ("XMLHttpRequest", "xml_http_request"),
                ("HttpAPI", "http_api"),
                ("IOError", "io_error"),
                ("ABcDE", "a_bc_de"),
                ("abcDEF", "abc_def"),
                ("SHOUTY_SNAKE_CASE", "shouty_snake_case"),
                ("snake_case", "snake_case"),
            ],
        );
    }

    #[test]
    fn snake_case_keeps_digits_with_the_word_before() {
        check(
            SnakeCase,
            &[
                ("V2Api", "v2_api"),
                ("Http2", "http2"),
                ("Http2Stream", "http2_stream"),
                ("HTTP2", "http2"),
                ("Ipv4", "ipv4"),
                ("IPv4", "i_pv4"),
                ("Status404", "status404"),
                ("Http_2", "http_2"),
                // heck's own cases.
                ("FIELD_NAME11", "field_name11"),
                ("99BOTTLES", "99bottles"),
                ("FieldNamE11", "field_nam_e11"),
                ("abc123def456", "abc123def456"),
                ("abc123DEF456", "abc123_def456"),
                ("abc123Def456", "abc123_def456"),
                ("abc123DEf456", "abc123_d_ef456"),
                ("ABC123def456", "abc123def456"),
                ("ABC123DEF456", "abc123def456"),
                ("ABC123Def456", "abc123_def456"),
                ("ABC123DEf456", "abc123d_ef456"),
                ("ABC123dEEf456FOO", "abc123d_e_ef456_foo"),
            ],
        );
    }

    #[test]
    fn snake_case_beyond_ascii() {
        check(SnakeCase, &[("XΣXΣ", "xσxς"), ("ÉtatCivil", "état_civil")]);
    }

    #[test]
    fn every_rule() {
        let names = [
            "GRPCStream",
            "WebSocket",
            "V2Api",
            "Http2",
            "HTTP",
            "Web_Socket",
        ];
        let table: [(RenameRule, [&str; 6]); 8] = [
            (
                LowerCase,
                [
                    "grpcstream",
                    "websocket",
                    "v2api",
                    "http2",
                    "http",
                    "web_socket",
                ],
            ),
            (
                UpperCase,
                [
                    "GRPCSTREAM",
                    "WEBSOCKET",
                    "V2API",
                    "HTTP2",
                    "HTTP",
                    "WEB_SOCKET",
                ],
            ),
            (
                SnakeCase,
                [
                    "grpc_stream",
                    "web_socket",
                    "v2_api",
                    "http2",
                    "http",
                    "web_socket",
                ],
            ),
            (
                KebabCase,
                [
                    "grpc-stream",
                    "web-socket",
                    "v2-api",
                    "http2",
                    "http",
                    "web-socket",
                ],
            ),
            (
                ScreamingSnakeCase,
                [
                    "GRPC_STREAM",
                    "WEB_SOCKET",
                    "V2_API",
                    "HTTP2",
                    "HTTP",
                    "WEB_SOCKET",
                ],
            ),
            (
                ScreamingKebabCase,
                [
                    "GRPC-STREAM",
                    "WEB-SOCKET",
                    "V2-API",
                    "HTTP2",
                    "HTTP",
                    "WEB-SOCKET",
                ],
            ),
            (
                CamelCase,
                [
                    "grpcStream",
                    "webSocket",
                    "v2Api",
                    "http2",
                    "http",
                    "webSocket",
                ],
            ),
            (
                PascalCase,
                [
                    "GrpcStream",
                    "WebSocket",
                    "V2Api",
                    "Http2",
                    "Http",
                    "WebSocket",
                ],
            ),
        ];
        for (rule, want) in table {
            let cases: Vec<_> = names.into_iter().zip(want).collect();
            check(rule, &cases);
        }
    }

    #[test]
    fn names_round_trip() {
        for rule in RenameRule::ALL {
            assert_eq!(RenameRule::from_name(rule.name()), Some(rule));
        }
        assert_eq!(RenameRule::default(), SnakeCase);
        assert_eq!(RenameRule::from_name("Snake_Case"), None);
        assert_eq!(RenameRule::from_name("snake-case"), None);
        assert_eq!(RenameRule::from_name(""), None);
    }

    #[test]
    fn words_are_never_empty() {
        assert_eq!(words(""), Vec::<&str>::new());
        assert_eq!(words("__"), Vec::<&str>::new());
        assert_eq!(words("_a__B_"), ["a", "B"]);
        assert_eq!(SnakeCase.apply("__"), "");
        for name in ["HTTP", "GRPCStream", "a1B2c3", "ΣΣ", "X_y"] {
            assert!(words(name).iter().all(|w| !w.is_empty()), "{name}");
        }
    }
}
