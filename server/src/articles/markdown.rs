//! An article's Markdown as safe HTML, rendered on the server: parsed by
//! pulldown-cmark (CommonMark, with tables and strikethrough), then cleaned
//! by ammonia's allow-list. Whatever an author (or someone who stole their
//! session) writes: no script, no style, no event handler, no frame or
//! form; links only to `http`, `https` and `mailto` (relative links are
//! dropped: an article is shown on many origins), each opening apart from
//! the page (`rel="noopener noreferrer nofollow"`); images only from
//! `https`.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Options, Parser, html};

/// The cleaner: `own_images` is this server's address for article
/// pictures (`…/help/KEY/images/`), taken even where the server itself is
/// plain `http` (a test or a private network); any other picture must be
/// `https`.
fn cleaner(own_images: Option<&str>) -> Builder<'static> {
    let own_images = own_images.map(str::to_owned);
    let mut builder = Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(move |element, attribute, value| {
            // An image may only come from a secure address (a page on
            // https must not mix in plain http, nor a `data:` blob).
            let own = own_images
                .as_deref()
                .is_some_and(|prefix| value.starts_with(prefix));
            if element == "img" && attribute == "src" && !value.starts_with("https://") && !own {
                None
            } else {
                Some(value.into())
            }
        });
    builder
}

/// `markdown` as HTML safe to put in any page.
pub fn render(markdown: &str) -> String {
    render_with(markdown, None)
}

/// HTML as the cleaner leaves it (what [`render`] does after the
/// Markdown): for the fuzz target's check that it is a fixed point.
pub fn clean(html: &str) -> String {
    cleaner(None).clean(html).to_string()
}

/// Like [`render`], also taking pictures from `own_images` (see [`cleaner`]).
pub fn render_with(markdown: &str, own_images: Option<&str>) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options));
    cleaner(own_images).clean(&raw).to_string()
}

/// The words of `markdown` as a reader sees them, without markup or link
/// targets: what search indexes and what a missing description is cut from.
pub fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, TagEnd};
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    ) {
        match event {
            Event::Text(words) | Event::Code(words) => text.push_str(&words),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell,
            ) => text.push(' '),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{plain_text, render};

    #[test]
    fn plain_text_keeps_words_not_markup() {
        assert_eq!(
            plain_text(
                "# Returns\n\nSend **shoes** [back](https://x.example/secret-path)\n\n- unworn\n- boxed"
            ),
            "Returns Send shoes back unworn boxed"
        );
    }

    #[test]
    fn markdown_becomes_html() {
        let html =
            render("# Returns\n\nSend **shoes** back within *30 days*.\n\n- unworn\n- boxed\n");
        assert!(html.contains("<h1>Returns</h1>"), "{html}");
        assert!(html.contains("<strong>shoes</strong>"), "{html}");
        assert!(html.contains("<li>unworn</li>"), "{html}");
    }

    #[test]
    fn script_handlers_and_frames_are_inert() {
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<a href=\"#\" onclick=\"alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<svg><script>alert(1)</script></svg>",
            "<style>body{display:none}</style>",
            "<form action=\"https://evil.example\"><input name=card></form>",
            "<div style=\"position:fixed\">cover</div>",
        ] {
            let html = render(hostile).to_lowercase();
            for bad in [
                "<script", "onerror", "onclick", "<iframe", "<style", "<form", "<input", "style=",
            ] {
                assert!(!html.contains(bad), "{hostile} → {html}");
            }
        }
    }

    #[test]
    fn links_only_to_the_web_and_mail() {
        for hostile in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "<a href=\"javascript&colon;alert(1)\">x</a>",
            "[x](/relative/path)",
        ] {
            let html = render(hostile);
            assert!(!html.contains("href"), "{hostile} → {html}");
        }
        let html =
            render("[Returns](https://shop.example/returns) or [mail](mailto:help@shop.example)");
        assert!(
            html.contains("href=\"https://shop.example/returns\""),
            "{html}"
        );
        assert!(html.contains("href=\"mailto:help@shop.example\""), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }

    #[test]
    fn images_only_from_secure_addresses() {
        assert!(
            render("![box](https://cdn.example/box.png)")
                .contains("src=\"https://cdn.example/box.png\"")
        );
        assert!(!render("![box](http://cdn.example/box.png)").contains("src="));
        assert!(!render("![x](data:image/png;base64,AAAA)").contains("src="));
    }
}
