//! User-facing texts in Russian and English (R17).
//!
//! Texts live in Fluent message catalogs (`ru.ftl`, `en.ftl`) and are looked up by stable
//! code, so every message that reaches a person has both languages; a test checks that
//! every code the sources use has both.

mod catalog;

pub use catalog::codes;

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

/// The text for `code` in `locale` with `{ $name }` variables filled from `args`; the
/// generic error text if the catalog has none.
pub fn format(locale: Locale, code: &str, args: &[(&str, String)]) -> String {
    catalog::format_with(locale, code, args).unwrap_or_else(|| text(locale, code).to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r17_templates_fill_their_variables_in_both_languages() {
        let args = [
            ("doctor", "Петров П. П.".to_owned()),
            ("clinic", "Поликлиника № 1".to_owned()),
            ("when", "01.12.2026 09:00 UTC".to_owned()),
            ("code", "K7M2-9QXD".to_owned()),
        ];
        for locale in [Locale::Ru, Locale::En] {
            let text = format(locale, "msg.appointment_booked.text", &args);
            for (_, v) in &args {
                assert!(text.contains(v.as_str()), "{text}");
            }
            assert!(!text.contains('{') && !text.contains('\u{2068}'), "no leftovers or isolation marks: {text}");
        }
        assert_ne!(text(Locale::Ru, "slot.taken"), text(Locale::En, "slot.taken"));
        assert_eq!(text(Locale::En, "no.such.code"), "Error");
        assert!(codes().len() > 250);
    }
}
