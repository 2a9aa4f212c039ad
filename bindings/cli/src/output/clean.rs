//! Making text safe to print for people: whatever a stored field holds (a device name, a user
//! agent, metadata written by a client, an old database's rows), it must not be able to move the
//! cursor, recolour or clear the terminal, or reverse what follows it on screen.

use std::borrow::Cow;

/// `text` without control characters (terminal escape sequences start with one) and without
/// invisible or bidirectional formatting characters (see [`sessionkit::is_hidden_char`]), except
/// the line breaks the CLI writes itself. Text without any comes back borrowed.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|&c| !hidden(c)).collect())
}

/// [`clean`] for one value inside a line: line breaks go too.
pub fn clean_value(text: &str) -> Cow<'_, str> {
    if !text.chars().any(sessionkit::is_hidden_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter(|&c| !sessionkit::is_hidden_char(c))
            .collect(),
    )
}

fn hidden(c: char) -> bool {
    c != '\n' && sessionkit::is_hidden_char(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi_are_removed_and_line_breaks_kept() {
        let text = "a\u{1b}[2J\u{1b}]0;title\u{7}b\u{9b}31mc\u{202e}d\u{200b}e\r\nf\tg";
        assert_eq!(clean(text), "a[2J]0;titleb31mcde\nfg");
        assert_eq!(clean_value("x\ny\u{2066}z"), "xyz");
        assert!(matches!(clean("plain ünïcode 🙂\n"), Cow::Borrowed(_)));
    }
}
