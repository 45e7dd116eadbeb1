//! Finding the article a shopper needs, from a search or from the question
//! they sent. Words are the inbox search's own ([`crate::text_search`]:
//! lower-cased, with their Snowball stems in English, Dutch and Russian),
//! and in Bengali also without their case or plural ending; a site's published articles in one language are
//! few, so they are ranked here, the same on both databases: each query
//! word that is not a stop word of the language (NLTK's lists) scores its
//! rarest matching form's inverse document frequency, twice in a title. An
//! English or Dutch word found in no article is taken as a typo of a word
//! one edit away (letters swapped, one missing, added or wrong), at a
//! discount.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::store::PublishedText;
use crate::text_search::{forms, words};

/// Query words read at most (a question may be long; its start says most).
const MAX_QUESTION_WORDS: usize = 24;
/// A title's match counts this many times a body's.
const TITLE_WEIGHT: f64 = 2.0;
/// A typo's match counts this share of an exact one.
const TYPO_WEIGHT: f64 = 0.7;
/// Languages whose words are read past a typo: those in Latin letters,
/// where one wrong letter is one edit (and a Dutch compound's plural one
/// letter from its singular: "cadeaubon", "cadeaubonnen").
const TYPO_LANGUAGES: [&str; 2] = ["en", "nl"];
/// Shortest word taken as a typo of another (shorter ones are too
/// close to too many words).
const MIN_TYPO_CHARS: usize = 4;

/// Bengali case and plural endings, longest first: neither Snowball nor
/// either database stems Bengali, and "পার্সেলের" (the parcel's) should
/// find "পার্সেল". Taken off a word in both the articles and the search.
const BENGALI_ENDINGS: [&str; 14] = [
    "গুলোর",
    "গুলির",
    "গুলো",
    "গুলি",
    "দের",
    "টির",
    "টার",
    "টি",
    "টা",
    "কে",
    "তে",
    "ের",
    "রা",
    "র",
];

/// A Bengali word without its ending, if it has one and enough is left.
fn bengali_stem(word: &str) -> Option<&str> {
    if !word.chars().any(|c| matches!(c, '\u{0980}'..='\u{09FF}')) {
        return None;
    }
    BENGALI_ENDINGS.iter().find_map(|ending| {
        word.strip_suffix(ending)
            .filter(|stem| stem.chars().count() >= 2)
    })
}

/// A word's forms as searched in `language`: the inbox search's, and in
/// Bengali the word without its ending.
fn searched_forms(word: &str, language: &str) -> BTreeSet<String> {
    let mut all = forms(word);
    if language == "bn"
        && let Some(stem) = bengali_stem(word)
    {
        all.extend(forms(stem));
    }
    all
}

/// What an article's `text` in `language` is indexed as (see
/// [`crate::text_search::index_terms`], with Bengali endings taken off).
pub fn terms(text: &str, language: &str) -> String {
    let mut all = BTreeSet::new();
    for (_, word) in words(text) {
        all.extend(searched_forms(&word, language));
    }
    all.into_iter().collect::<Vec<_>>().join(" ")
}

/// An article's indexed words, as sets.
struct Indexed<'a> {
    title: HashSet<&'a str>,
    all: HashSet<&'a str>,
}

/// The articles of `texts` matching `query` in `language`, best first:
/// (index into `texts`, score). Articles matching no word are left out.
pub fn rank(texts: &[PublishedText], language: &str, query: &str) -> Vec<(usize, f64)> {
    let stop: HashSet<&str> = stop_words::lookup(language)
        .unwrap_or_default()
        .iter()
        .copied()
        .collect();
    let mut seen = HashSet::new();
    let query_words: Vec<String> = words(query)
        .map(|(_, word)| word)
        .filter(|word| !stop.contains(word.as_str()) && seen.insert(word.clone()))
        .take(MAX_QUESTION_WORDS)
        .collect();
    if query_words.is_empty() || texts.is_empty() {
        return Vec::new();
    }
    let indexed: Vec<Indexed> = texts
        .iter()
        .map(|text| Indexed {
            title: text.title_terms.split(' ').collect(),
            all: text.terms.split(' ').collect(),
        })
        .collect();
    let mut frequency: HashMap<&str, usize> = HashMap::new();
    for article in &indexed {
        for term in &article.all {
            *frequency.entry(term).or_default() += 1;
        }
    }
    let count = texts.len() as f64;
    let idf = |term: &str| {
        let found = frequency.get(term).copied().unwrap_or(0) as f64;
        (1.0 + (count - found + 0.5) / (found + 0.5)).ln()
    };
    let mut scores = vec![0.0_f64; texts.len()];
    for word in &query_words {
        let mut wanted: Vec<(String, f64)> = searched_forms(word, language)
            .into_iter()
            .map(|f| (f, 1.0))
            .collect();
        let known = wanted
            .iter()
            .any(|(form, _)| frequency.contains_key(form.as_str()));
        if !known && TYPO_LANGUAGES.contains(&language) && word.chars().count() >= MIN_TYPO_CHARS {
            wanted = typo_matches(word, frequency.keys().copied())
                .into_iter()
                .map(|term| (term, TYPO_WEIGHT))
                .collect();
        }
        for (at, article) in indexed.iter().enumerate() {
            let best = wanted
                .iter()
                .filter(|(form, _)| article.all.contains(form.as_str()))
                .map(|(form, weight)| {
                    let title = if article.title.contains(form.as_str()) {
                        TITLE_WEIGHT
                    } else {
                        1.0
                    };
                    idf(form) * weight * title
                })
                .fold(0.0, f64::max);
            scores[at] += best;
        }
    }
    let mut ranked: Vec<(usize, f64)> = scores
        .into_iter()
        .enumerate()
        .filter(|(_, score)| *score > 0.0)
        .collect();
    ranked.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| texts[b.0].updated_at.cmp(&texts[a.0].updated_at))
    });
    ranked
}

/// Indexed words in Latin letters one edit from `word` (or from its stems).
fn typo_matches<'a>(word: &str, vocabulary: impl Iterator<Item = &'a str>) -> Vec<String> {
    let stems: Vec<String> = forms(word).into_iter().collect();
    vocabulary
        .filter(|term| {
            term.len() >= MIN_TYPO_CHARS - 1 && term.bytes().all(|b| b.is_ascii_lowercase())
        })
        .filter(|term| {
            stems
                .iter()
                .any(|form| strsim::osa_distance(form, term) <= 1)
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text_search::index_terms;

    fn article(id: &str, title: &str, body: &str) -> PublishedText {
        PublishedText {
            article_id: id.into(),
            collection: String::new(),
            title: title.into(),
            description: String::new(),
            title_terms: index_terms(title),
            terms: index_terms(&format!("{title} {body}")),
            updated_at: 0,
        }
    }

    fn first(texts: &[PublishedText], language: &str, query: &str) -> Option<String> {
        rank(texts, language, query)
            .first()
            .map(|(at, _)| texts[*at].article_id.clone())
    }

    #[test]
    fn the_question_finds_its_article_not_its_small_words() {
        let texts = [
            article(
                "track",
                "How do I track my order?",
                "Use the link in your email to see where it is.",
            ),
            article(
                "returns",
                "Returning shoes",
                "Send shoes back within 30 days, unworn.",
            ),
        ];
        assert_eq!(
            first(&texts, "en", "how do I return shoes").as_deref(),
            Some("returns")
        );
        assert!(
            rank(&texts, "en", "how do I").is_empty(),
            "stop words alone find nothing"
        );
    }

    #[test]
    fn a_bengali_word_finds_its_inflected_forms() {
        let mut text = article(
            "parcel",
            "অর্ডার ট্র্যাক করা",
            "প্রতিটি পার্সেলের ট্র্যাকিং লিঙ্ক ইমেলে থাকে।",
        );
        text.terms = terms("অর্ডার ট্র্যাক করা প্রতিটি পার্সেলের ট্র্যাকিং লিঙ্ক ইমেলে থাকে।", "bn");
        let texts = [text, article("cards", "গিফট কার্ড", "মেয়াদ শেষ হয় না।")];
        assert_eq!(
            first(&texts, "bn", "আমার পার্সেল কোথায়").as_deref(),
            Some("parcel")
        );
        assert_eq!(bengali_stem("কার্ডের"), Some("কার্ড"));
        assert_eq!(bengali_stem("শুজ"), None, "nothing to take off");
        assert_eq!(bengali_stem("shoes"), None);
    }

    #[test]
    fn an_english_typo_still_finds() {
        let texts = [
            article(
                "returns",
                "Returning shoes",
                "Send them back within 30 days.",
            ),
            article("sizes", "Size guide", "Measure your foot."),
        ];
        assert_eq!(first(&texts, "en", "retrun").as_deref(), Some("returns"));
        assert_eq!(first(&texts, "en", "meazure").as_deref(), Some("sizes"));
        assert_eq!(first(&texts, "nl", "retrun").as_deref(), Some("returns"));
        assert!(
            rank(&texts, "ru", "retrun").is_empty(),
            "typos are read in Latin letters only"
        );
    }
}
