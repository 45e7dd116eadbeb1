//! Files attached to messages, and links found in a message's text.

use serde::{Deserialize, Serialize};

/// Files one message may carry at most.
pub const MAX_FILES_PER_MESSAGE: usize = 10;

/// Longest file name kept, in characters (longer ones are shortened,
/// keeping the extension).
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// The kinds of file a site may take (decided from each file's content).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// JPEG, PNG, GIF, WebP (shown) and HEIC/HEIF photos (a download).
    Images,
    Pdf,
    /// Plain text (`.txt`, `.csv`, logs), never markup.
    Text,
    /// Word, Excel, PowerPoint, OpenDocument, RTF.
    Office,
}

impl FileKind {
    /// What every site takes unless its owner says otherwise.
    pub const DEFAULT: &'static [FileKind] = &[
        FileKind::Images,
        FileKind::Pdf,
        FileKind::Text,
        FileKind::Office,
    ];
}

/// A file attached to a message, as its readers see it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileRef {
    pub id: String,
    pub name: String,
    /// Decided by the server from the bytes, never from the name.
    pub content_type: String,
    pub size: u64,
    /// Where its readers fetch it: signed and expiring, added when the
    /// event is delivered; never stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
}

impl FileRef {
    /// Shown as a picture (the server only keeps these image types, with
    /// their metadata stripped); anything else is a download.
    pub fn is_image(&self) -> bool {
        is_inline_image(&self.content_type)
    }

    /// "2.4 MB", "830 KB", "12 bytes".
    pub fn size_text(&self) -> String {
        size_text(self.size)
    }
}

/// The image types shown inline; everything else is served as a download.
pub fn is_inline_image(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/jpeg" | "image/png" | "image/gif" | "image/webp"
    )
}

/// A size as people read it. (In `u32` arithmetic: files are far below
/// 4 GB, and the widget then carries no 64-bit number formatting.)
pub fn size_text(bytes: u64) -> String {
    let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
    const KB: u32 = 1000;
    const MB: u32 = 1000 * KB;
    if bytes >= MB {
        format!("{}.{} MB", bytes / MB, (bytes % MB) / (MB / 10))
    } else if bytes >= KB {
        format!("{} KB", bytes.div_ceil(KB))
    } else if bytes == 1 {
        "1 byte".into()
    } else {
        format!("{bytes} bytes")
    }
}

/// A piece of a message's text: plain, or an `http`/`https` link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits a message into text and the `http://` and `https://` links in it.
/// Nothing else becomes a link (`javascript:`, `data:`, `www.` without a
/// scheme); a link ends at white space, `<`, `>` or `"`, and punctuation
/// that ends a sentence (`.`, `,`, `!`, `)` without its `(`…) stays text.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    // Indexes only at ASCII bytes found in `text` (so at character
    // boundaries), read through `get`: no slicing that could panic, which
    // keeps the panic's formatting code out of the widget.
    let piece = |from: usize, to: usize| text.get(from..to).unwrap_or_default();
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while let Some((found, scheme_len)) = next_scheme(text.as_bytes(), at) {
        let end = link_end(text.as_bytes(), found);
        if end > found + scheme_len {
            if found > plain_from {
                out.push(Segment::Text(piece(plain_from, found)));
            }
            out.push(Segment::Link(piece(found, end)));
            plain_from = end;
            at = end;
        } else {
            at = found + scheme_len;
        }
    }
    if plain_from < text.len() {
        out.push(Segment::Text(piece(plain_from, text.len())));
    }
    out
}

/// Where the next `http://` or `https://` starts at or after `from`, at the
/// start of a word (so `xhttp://` is not one), and its length.
fn next_scheme(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let starts = |at: usize, scheme: &[u8]| {
        bytes
            .get(at..at + scheme.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(scheme))
    };
    (from..bytes.len()).find_map(|at| {
        let word_start = at == 0
            || bytes
                .get(at - 1)
                .is_some_and(|b| !b.is_ascii_alphanumeric());
        if !word_start {
            None
        } else if starts(at, b"http://") {
            Some((at, 7))
        } else if starts(at, b"https://") {
            Some((at, 8))
        } else {
            None
        }
    })
}

/// The end of the link starting at `start`: at white space, `<`, `>`, `"`
/// or a backquote; then without the sentence's punctuation after it (a
/// closing bracket stays when the link opened one, as Wikipedia's
/// `_(film)`). Only ASCII bytes end a link, so the end is a character
/// boundary.
fn link_end(bytes: &[u8], start: usize) -> usize {
    let mut end = (start..bytes.len())
        .find(|&i| {
            bytes
                .get(i)
                .is_some_and(|b| b.is_ascii_whitespace() || matches!(b, b'<' | b'>' | b'"' | b'`'))
        })
        .unwrap_or(bytes.len());
    let count = |from: usize, to: usize, wanted: u8| {
        bytes
            .get(from..to)
            .map_or(0, |b| b.iter().filter(|&&c| c == wanted).count())
    };
    while end > start {
        let Some(&last) = bytes.get(end - 1) else {
            break;
        };
        let trailing = match last {
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b'\'' | b'*' => true,
            b')' => count(start, end, b'(') < count(start, end, b')'),
            b']' => count(start, end, b'[') < count(start, end, b']'),
            _ => false,
        };
        if !trailing {
            break;
        }
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::{Link, Text};

    #[test]
    fn http_and_https_become_links_and_nothing_else() {
        assert_eq!(
            segments("see https://shop.example/a?b=1 and javascript:alert(1)"),
            vec![
                Text("see "),
                Link("https://shop.example/a?b=1"),
                Text(" and javascript:alert(1)"),
            ]
        );
        assert_eq!(
            segments("data:text/html,x www.shop.example"),
            vec![Text("data:text/html,x www.shop.example")]
        );
        assert_eq!(segments("HTTP://A.example"), vec![Link("HTTP://A.example")]);
    }

    #[test]
    fn trailing_punctuation_stays_text() {
        assert_eq!(
            segments("Go to http://a.example/x. Then (https://b.example/y)!"),
            vec![
                Text("Go to "),
                Link("http://a.example/x"),
                Text(". Then ("),
                Link("https://b.example/y"),
                Text(")!"),
            ]
        );
        assert_eq!(
            segments("https://en.wikipedia.org/wiki/Up_(film),"),
            vec![Link("https://en.wikipedia.org/wiki/Up_(film)"), Text(",")]
        );
    }

    #[test]
    fn a_bare_scheme_or_one_inside_a_word_is_text() {
        assert_eq!(segments("https:// nothing"), vec![Text("https:// nothing")]);
        assert_eq!(
            segments("xhttp://a.example"),
            vec![Text("xhttp://a.example")]
        );
        assert_eq!(segments(""), Vec::<Segment<'_>>::new());
    }

    #[test]
    fn markup_ends_a_link() {
        assert_eq!(
            segments("<a href=\"https://a.example\">x</a>"),
            vec![
                Text("<a href=\""),
                Link("https://a.example"),
                Text("\">x</a>")
            ]
        );
    }

    #[test]
    fn the_pieces_put_together_are_the_text() {
        for text in [
            "é https://ü.example/ö… ok",
            "https://a.example",
            "(http://a.example) http://b.example.",
            "🎉https://a.example🎉",
        ] {
            let joined: String = segments(text)
                .iter()
                .map(|s| match s {
                    Text(t) | Link(t) => *t,
                })
                .collect();
            assert_eq!(joined, text);
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(0), "0 bytes");
        assert_eq!(size_text(1), "1 byte");
        assert_eq!(size_text(1500), "2 KB");
        assert_eq!(size_text(2_450_000), "2.4 MB");
        assert_eq!(size_text(10_000_000), "10.0 MB");
    }
}
