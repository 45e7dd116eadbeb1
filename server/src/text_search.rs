//! Words for full-text search in the widget's four languages, the same on
//! both backends. A text's words are lower-cased and each is indexed with
//! its Snowball stems (`rust-stemmers`): English and Dutch for words in
//! Latin letters, Russian for Cyrillic; Bengali, which neither database nor
//! Snowball stems, and anything else is indexed as written. So "returning"
//! finds "returned", "bestellingen" finds "bestelling", "заказа" finds
//! "заказ", and a Bengali word finds itself. Every form becomes one ASCII
//! token (as it is, or `x` and its UTF-8 in hex), so the databases' own
//! engines (SQLite FTS5, PostgreSQL `tsvector`) index and match exactly
//! these tokens, whatever their tokenizers would make of the script.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_segmentation::UnicodeSegmentation;

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));
static DUTCH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Dutch));
static RUSSIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Russian));

/// Words of a query at most; the rest are ignored.
pub const MAX_QUERY_WORDS: usize = 8;
/// Characters of a word at most: longer ones are not words people search.
const MAX_WORD_CHARS: usize = 40;

/// The words of a text, lower-cased, with where each is (bytes).
pub fn words(text: &str) -> impl Iterator<Item = (Range<usize>, String)> + '_ {
    text.unicode_word_indices()
        .filter(|(_, word)| word.chars().count() <= MAX_WORD_CHARS)
        .map(|(at, word)| (at..at + word.len(), word.to_lowercase()))
}

/// A form as one ASCII token.
fn token(form: &str) -> String {
    if form.chars().all(|c| c.is_ascii_alphanumeric()) {
        form.to_owned()
    } else {
        let mut hex = String::with_capacity(1 + form.len() * 2);
        hex.push('x');
        for byte in form.bytes() {
            hex.push_str(&format!("{byte:02x}"));
        }
        hex
    }
}

/// A lower-cased word's tokens: itself and its stems.
pub fn forms(word: &str) -> BTreeSet<String> {
    let mut forms = BTreeSet::new();
    forms.insert(token(word));
    let cyrillic = word.chars().any(|c| matches!(c, '\u{0400}'..='\u{04FF}'));
    let latin = word.chars().any(|c| c.is_ascii_alphabetic());
    if cyrillic {
        forms.insert(token(&RUSSIAN.stem(word)));
    } else if latin {
        forms.insert(token(&ENGLISH.stem(word)));
        forms.insert(token(&DUTCH.stem(word)));
    }
    forms.retain(|form| !form.is_empty());
    forms
}

/// What a text is indexed as: every form of every word, once, spaced.
pub fn index_terms(text: &str) -> String {
    let mut all = BTreeSet::new();
    for (_, word) in words(text) {
        all.extend(forms(&word));
    }
    all.into_iter().collect::<Vec<_>>().join(" ")
}

/// A query: each word must match, by any of its forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    words: Vec<BTreeSet<String>>,
}

impl Query {
    /// The query's words, or `None` if it has none.
    pub fn parse(text: &str) -> Option<Query> {
        let words: Vec<BTreeSet<String>> = words(text)
            .take(MAX_QUERY_WORDS)
            .map(|(_, word)| forms(&word))
            .collect();
        (!words.is_empty()).then_some(Query { words })
    }

    /// As an FTS5 `MATCH` expression.
    pub fn fts5(&self) -> String {
        self.joined(" OR ", " AND ")
    }

    /// As a PostgreSQL `tsquery`, for `to_tsquery('simple', …)`.
    pub fn tsquery(&self) -> String {
        self.joined(" | ", " & ")
    }

    fn joined(&self, any: &str, all: &str) -> String {
        self.words
            .iter()
            .map(|forms| format!("({})", forms.iter().cloned().collect::<Vec<_>>().join(any)))
            .collect::<Vec<_>>()
            .join(all)
    }

    /// Where a text's words match the query (bytes), to highlight.
    pub fn highlights(&self, text: &str) -> Vec<Range<usize>> {
        let wanted: BTreeSet<&String> = self.words.iter().flatten().collect();
        words(text)
            .filter(|(_, word)| forms(word).iter().any(|form| wanted.contains(form)))
            .map(|(range, _)| range)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(query: &str, text: &str) -> bool {
        let query = Query::parse(query).expect("words");
        let indexed: BTreeSet<String> = index_terms(text).split(' ').map(str::to_owned).collect();
        query
            .words
            .iter()
            .all(|forms| forms.iter().any(|form| indexed.contains(form)))
    }

    #[test]
    fn stemmed_forms_find_each_other_in_english_dutch_and_russian() {
        assert!(finds("returning", "I returned the shoes"));
        assert!(finds("Refunds", "when is my refund coming?"));
        assert!(finds("bestellingen", "Waar is mijn bestelling?"));
        assert!(finds("retourneren", "ik wil het retourneer"));
        assert!(finds("заказа", "Где мой заказ?"));
        assert!(finds("доставкой", "Проблема с доставку"));
        assert!(!finds("refund", "I returned the shoes"));
    }

    #[test]
    fn bengali_words_match_as_written() {
        assert!(finds("অর্ডার", "আমার অর্ডার কোথায়?"));
        assert!(finds("ফেরত", "জুতা ফেরত দিতে চাই"));
        assert!(!finds("ফেরত", "আমার অর্ডার কোথায়?"));
    }

    #[test]
    fn every_word_must_match_and_tokens_are_plain_ascii() {
        assert!(finds("blue shoes", "the blue suede shoes"));
        assert!(!finds("blue boots", "the blue suede shoes"));
        for form in index_terms("Где мой заказ? অর্ডার café 'quoted' <b>").split(' ')
        {
            assert!(form.chars().all(|c| c.is_ascii_alphanumeric()), "{form}");
        }
        assert_eq!(Query::parse("  ?! "), None);
    }

    #[test]
    fn highlights_are_the_matching_words() {
        let query = Query::parse("return").expect("words");
        let text = "Returned? I will return them.";
        let marked: Vec<&str> = query
            .highlights(text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(marked, ["Returned", "return"]);
    }

    #[test]
    fn queries_are_safe_for_both_engines() {
        let query = Query::parse("refund \"OR\" NEAR( x) ; drop").expect("words");
        let fts = query.fts5();
        assert!(fts.starts_with("(refund) AND ("), "{fts}");
        assert!(
            fts.chars()
                .all(|c| c.is_ascii_alphanumeric() || " ()".contains(c)),
            "{fts}"
        );
        let ts = query.tsquery();
        assert!(
            ts.chars()
                .all(|c| c.is_ascii_alphanumeric() || " ()|&".contains(c)),
            "{ts}"
        );
    }
}
