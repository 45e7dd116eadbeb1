//! What a file is, decided from its first bytes (`infer`'s magic numbers,
//! and a check for plain text), never from its name or the browser's word;
//! and what a site takes.

/// How many of a file's first bytes decide its type (office documents are
/// zip files whose first entries say which).
pub const SNIFF_BYTES: usize = 64 * 1024;

pub use protocol::FileKind;

/// A type this server keeps, as decided from the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub kind: FileKind,
    /// The extension a name of this type ends in.
    pub extension: &'static str,
}

/// Why a file is not taken, in words for the person who chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotTaken(pub String);

/// The type of a file that starts with `head` (at most [`SNIFF_BYTES`] of
/// it; all of it if shorter).
pub fn sniff(head: &[u8]) -> Result<Sniffed, NotTaken> {
    if let Some(found) = infer::get(head) {
        let mime = found.mime_type();
        let (content_type, kind, extension) = match mime {
            "image/jpeg" => ("image/jpeg", FileKind::Images, "jpg"),
            "image/png" => ("image/png", FileKind::Images, "png"),
            "image/gif" => ("image/gif", FileKind::Images, "gif"),
            "image/webp" => ("image/webp", FileKind::Images, "webp"),
            "image/heif" => ("image/heif", FileKind::Images, "heif"),
            "image/heic" => ("image/heic", FileKind::Images, "heic"),
            "application/pdf" => ("application/pdf", FileKind::Pdf, "pdf"),
            "application/msword" => ("application/msword", FileKind::Office, "doc"),
            "application/vnd.ms-excel" => ("application/vnd.ms-excel", FileKind::Office, "xls"),
            "application/vnd.ms-powerpoint" => {
                ("application/vnd.ms-powerpoint", FileKind::Office, "ppt")
            }
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                FileKind::Office,
                "docx",
            ),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                FileKind::Office,
                "xlsx",
            ),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation" => (
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                FileKind::Office,
                "pptx",
            ),
            "application/vnd.oasis.opendocument.text" => (
                "application/vnd.oasis.opendocument.text",
                FileKind::Office,
                "odt",
            ),
            "application/vnd.oasis.opendocument.spreadsheet" => (
                "application/vnd.oasis.opendocument.spreadsheet",
                FileKind::Office,
                "ods",
            ),
            "application/vnd.oasis.opendocument.presentation" => (
                "application/vnd.oasis.opendocument.presentation",
                FileKind::Office,
                "odp",
            ),
            "application/rtf" => ("application/rtf", FileKind::Office, "rtf"),
            "text/html" | "text/xml" | "image/svg+xml" => {
                return Err(NotTaken(
                    "Web pages, SVG and XML cannot be sent; send a screenshot or a PDF instead."
                        .into(),
                ));
            }
            other => {
                return Err(NotTaken(format!(
                    "This kind of file ({other}) cannot be sent; send a picture, a PDF, a text or an office document."
                )));
            }
        };
        return Ok(Sniffed {
            content_type,
            kind,
            extension,
        });
    }
    if is_plain_text(head) {
        return Ok(Sniffed {
            content_type: "text/plain; charset=utf-8",
            kind: FileKind::Text,
            extension: "txt",
        });
    }
    Err(NotTaken(
        "This kind of file cannot be sent; send a picture, a PDF, a text or an office document."
            .into(),
    ))
}

/// UTF-8 text with no control characters but tab, line breaks and form
/// feed, that does not open with markup (`<`): a browser shown it as
/// `text/plain` with `nosniff` renders nothing but the text.
fn is_plain_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // The head may end inside a character.
        Err(err) if err.error_len().is_none() && head.len() - err.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..err.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    let clean = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'));
    let opens_markup = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<');
    clean && !opens_markup
}

/// A file name fit to show and to download under: no folders, no control
/// characters, at most [`protocol::MAX_FILE_NAME_CHARS`] characters, and
/// ending in the extension of what the file really is.
pub fn clean_name(given: &str, sniffed: &Sniffed) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '*' | '?' | '|' | ':'))
        .collect();
    name = name.trim().trim_start_matches('.').to_owned();
    let given_extension = name
        .rsplit_once('.')
        .filter(|(stem, extension)| !stem.is_empty() && fits(extension, sniffed.extension))
        .map(|(_, extension)| format!(".{extension}"));
    let extension_fits = given_extension.is_some();
    if name.is_empty() {
        name = "file".to_owned();
    }
    let suffix = if extension_fits {
        String::new()
    } else {
        format!(".{}", sniffed.extension)
    };
    let room = protocol::MAX_FILE_NAME_CHARS.saturating_sub(suffix.chars().count());
    if name.chars().count() > room {
        // Keep the end (the extension) and the start.
        let extension = given_extension.unwrap_or_default();
        let keep = room.saturating_sub(extension.chars().count() + 1);
        name = format!(
            "{}…{extension}",
            name.chars().take(keep).collect::<String>()
        );
    }
    name + &suffix
}

/// Whether a name's extension is one for the type found.
fn fits(extension: &str, expected: &str) -> bool {
    let extension = extension.to_ascii_lowercase();
    extension == expected
        || matches!(
            (expected, extension.as_str()),
            ("jpg", "jpeg" | "jpe" | "jfif")
                | ("txt", "csv" | "log" | "md" | "tsv" | "text")
                | ("heic", "heif")
                | ("heif", "heic")
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_decides_not_the_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).map(|s| s.content_type), Ok("image/png"));
        assert!(sniff(b"<!DOCTYPE html><script>alert(1)</script>").is_err());
        assert!(sniff(b"  <svg xmlns=\"http://www.w3.org/2000/svg\"/>").is_err());
        assert!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff").is_err());
        assert_eq!(
            sniff("Order 1234, café\nline two\n".as_bytes()).map(|s| s.kind),
            Ok(FileKind::Text)
        );
        assert!(sniff(b"\0\x01\x02binary").is_err());
        // An iPhone photo the browser could not turn into a JPEG: kept, as a download.
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        let kept = sniff(heic).expect("an iPhone photo is taken");
        assert!(kept.content_type.starts_with("image/hei") && kept.kind == FileKind::Images);
        assert!(!protocol::is_inline_image(kept.content_type));
        // A PDF and a Word file, whatever they are called.
        assert_eq!(sniff(b"%PDF-1.7\n").map(|s| s.kind), Ok(FileKind::Pdf));
        assert!(sniff(b"").is_err());
    }

    #[test]
    fn names_end_in_what_the_file_is() {
        let jpeg = sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0").expect("a jpeg");
        assert_eq!(clean_name("IMG_0001.JPEG", &jpeg), "IMG_0001.JPEG");
        assert_eq!(clean_name("invoice.html", &jpeg), "invoice.html.jpg");
        assert_eq!(clean_name("../../etc/passwd", &jpeg), "passwd.jpg");
        assert_eq!(clean_name("C:\\x\\a\"b\u{7}.jpg", &jpeg), "ab.jpg");
        assert_eq!(clean_name("", &jpeg), "file.jpg");
        assert_eq!(clean_name(".jpg", &jpeg), "jpg.jpg");
        let long = format!("{}.jpg", "a".repeat(300));
        let cleaned = clean_name(&long, &jpeg);
        assert_eq!(cleaned.chars().count(), protocol::MAX_FILE_NAME_CHARS);
        assert!(cleaned.ends_with("….jpg"), "{cleaned}");
    }
}
