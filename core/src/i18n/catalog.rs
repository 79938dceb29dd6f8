//! The message catalogs: `ru.ftl` and `en.ftl` (Project Fluent), compiled into the crate and
//! parsed once. Ids are the stable codes with `.` written as `-` (Fluent identifiers cannot
//! hold dots). Texts without variables are formatted once and handed out as `&'static str`;
//! templates with variables (`{ $code }`) are formatted per call with their arguments.

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

use super::Locale;

const RU: &str = include_str!("ru.ftl");
const EN: &str = include_str!("en.ftl");

struct Catalog {
    ru: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
    /// code → (Russian, English), formatted without arguments, in file order.
    plain: Vec<(&'static str, &'static str, &'static str)>,
    index: HashMap<&'static str, usize>,
}

fn bundle(lang: &str, source: &str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    b.set_use_isolating(false);
    // The catalogs are part of the crate and checked by tests; a syntax error would show up
    // there as missing texts rather than as a panic here.
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, _)| partial);
    let _ = b.add_resource(resource);
    b
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn format(b: &FluentBundle<FluentResource>, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    let pattern = b.get_message(id)?.value()?;
    let mut errors = Vec::new();
    Some(b.format_pattern(pattern, args, &mut errors).into_owned())
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let ru = bundle("ru", RU);
    let en = bundle("en", EN);
    let mut plain = Vec::new();
    let mut index = HashMap::new();
    for line in RU.lines() {
        let Some((id, _)) = line.split_once(" = ") else { continue };
        if id.starts_with('#') || id.contains(' ') {
            continue;
        }
        let (Some(r), Some(e)) = (format(&ru, id, None), format(&en, id, None)) else { continue };
        let code = leak(id.replace('-', "."));
        index.insert(code, plain.len());
        plain.push((code, leak(r), leak(e)));
    }
    Catalog { ru, en, plain, index }
});

/// Every code with its Russian and English text (variables shown as `{$name}`).
pub fn codes() -> &'static [(&'static str, &'static str, &'static str)] {
    &CATALOG.plain
}

/// Finds the texts of `code`.
pub(super) fn lookup(code: &str) -> Option<(&'static str, &'static str)> {
    let c = &*CATALOG;
    c.index.get(code).map(|i| (c.plain[*i].1, c.plain[*i].2))
}

/// Formats `code` in `locale` with named arguments.
pub(super) fn format_with(locale: Locale, code: &str, args: &[(&str, String)]) -> Option<String> {
    let mut fa = FluentArgs::new();
    for (name, value) in args {
        fa.set(*name, value.clone());
    }
    let c = &*CATALOG;
    let bundle = match locale {
        Locale::Ru => &c.ru,
        Locale::En => &c.en,
    };
    format(bundle, &code.replace('.', "-"), Some(&fa))
}
