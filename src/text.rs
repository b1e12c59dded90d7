//! Making untrusted text (token strings, model output) safe and visible in a
//! terminal: control characters and escape sequences are never sent raw.
//! [`wrap`]: breaking lines by display width, Chinese included.

pub mod wrap;

/// A token as it is drawn in the token strip: spaces as `·`, newline as `\n`,
/// tab as `\t`, ESC as `␛`, other control and invisible characters as `\u{..}`.
pub fn visible_token(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        match ch {
            ' ' => out.push('·'),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push('␛'),
            c if is_invisible(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Running text for a terminal: keeps newlines and tabs, escapes every other
/// control or invisible character.
pub fn safe_text(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        match ch {
            '\n' | '\t' => out.push(ch),
            '\u{1b}' => out.push('␛'),
            c if is_invisible(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Control characters, zero-width and bidi controls, and lone combining marks.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF | 0x00AD)
        || matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x20D0..=0x20FF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invisible_characters_become_visible() {
        assert_eq!(visible_token(" the\n"), "·the\\n");
        assert_eq!(visible_token("\u{1b}[31m"), "␛[31m");
        assert_eq!(visible_token("a\u{200b}"), "a\\u{200b}");
        assert_eq!(safe_text("ok\n\u{7}"), "ok\n\\u{7}");
        assert!(!safe_text("\u{1b}]0;x\u{7}").contains('\u{1b}'));
    }
}
