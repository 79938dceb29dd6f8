//! User-facing texts in Russian and English (R17).
//!
//! Texts are looked up by stable code, so every message that reaches a person has both
//! languages; a test checks that every code used by the error types has both.

mod catalog;

pub use catalog::CODES;

/// Language of user-facing texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    /// Russian (the default).
    #[default]
    Ru,
    /// English.
    En,
}

impl Locale {
    /// Parses `"ru"` or `"en"` (case-insensitive, region suffix ignored: `"en-GB"`).
    pub fn parse(tag: &str) -> Option<Locale> {
        let lang = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match lang.as_str() {
            "ru" => Some(Locale::Ru),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::Ru => "ru",
            Locale::En => "en",
        }
    }
}

/// The text for `code` in `locale`; unknown codes fall back to a generic text.
pub fn text(locale: Locale, code: &str) -> &'static str {
    match catalog::lookup(code) {
        Some((ru, en)) => match locale {
            Locale::Ru => ru,
            Locale::En => en,
        },
        None => match locale {
            Locale::Ru => "Ошибка",
            Locale::En => "Error",
        },
    }
}

/// The text for `code` in `locale`, or `None` if the catalog has none.
pub fn text_opt(locale: Locale, code: &str) -> Option<&'static str> {
    catalog::lookup(code).map(|(ru, en)| match locale {
        Locale::Ru => ru,
        Locale::En => en,
    })
}

/// Localized name of a kind of record (`"patient"`), used in not-found messages.
pub fn entity(locale: Locale, entity: &str) -> &'static str {
    text(locale, &format!("entity.{entity}"))
}
