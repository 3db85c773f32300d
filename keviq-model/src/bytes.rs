//! Byte-string helpers usable in `const fn`s, where `str` methods are not.

pub(crate) const fn ends_with(s: &[u8], suffix: &[u8]) -> bool {
    if suffix.len() > s.len() {
        return false;
    }
    let start = s.len() - suffix.len();
    let mut i = 0;
    while i < suffix.len() {
        if s[start + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

pub(crate) const fn eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && ends_with(a, b)
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, plus `:` where `colon_ok`.
pub(crate) const fn check_chars(name: &[u8], colon_ok: bool) -> Result<(), crate::RuleError> {
    use crate::RuleError;
    if name.is_empty() {
        return Err(RuleError::EmptyName);
    }
    if name[0].is_ascii_digit() {
        return Err(RuleError::LeadingDigit);
    }
    let mut i = 0;
    while i < name.len() {
        let c = name[i];
        if !(c.is_ascii_alphanumeric() || c == b'_' || (colon_ok && c == b':')) {
            return Err(if colon_ok {
                RuleError::InvalidChar
            } else {
                RuleError::InvalidLabelChar
            });
        }
        i += 1;
    }
    Ok(())
}

/// Whether `s` contains `needle`.
pub(crate) const fn contains(s: &[u8], needle: &[u8]) -> bool {
    if needle.len() > s.len() {
        return false;
    }
    let mut start = 0;
    while start + needle.len() <= s.len() {
        let mut i = 0;
        while i < needle.len() && s[start + i] == needle[i] {
            i += 1;
        }
        if i == needle.len() {
            return true;
        }
        start += 1;
    }
    false
}

/// Whether a lower-case letter is followed by an upper-case one: promlint's
/// camelCase test (`[a-z][A-Z]`).
pub(crate) const fn is_camel_case(s: &[u8]) -> bool {
    let mut i = 1;
    while i < s.len() {
        if s[i - 1].is_ascii_lowercase() && s[i].is_ascii_uppercase() {
            return true;
        }
        i += 1;
    }
    false
}
