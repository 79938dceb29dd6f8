//! PDF rendering for certificates, extracts, confirmations, lab reports, correspondence and
//! visit cards, with `krilla` and the embedded DejaVu Sans (covers Cyrillic; text stays
//! extractable — `krilla` writes a ToUnicode map). Layout is deliberately simple: A4,
//! a title, then headings, label–value lines, paragraphs and tables, wrapped by width.

use krilla::Document;
use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};

use crate::error::Result;
use crate::i18n::Locale;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const SIZE: f32 = 10.5;
const LINE: f32 = 15.0;

/// One block of a document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    /// A section heading.
    Heading(String),
    /// "Label: value".
    Field(String, String),
    /// A paragraph.
    Text(String),
    /// A table: header and rows (cells joined with column spacing).
    Table(Vec<String>, Vec<Vec<String>>),
}

/// Wraps `text` into lines of at most `chars` characters, at spaces where possible.
fn wrap(text: &str, chars: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let word_len = word.chars().count();
            let line_len = line.chars().count();
            if line_len > 0 && line_len + 1 + word_len > chars {
                lines.push(std::mem::take(&mut line));
            }
            if word_len > chars {
                let mut rest: Vec<char> = word.chars().collect();
                while rest.len() > chars {
                    lines.push(rest.drain(..chars).collect());
                }
                line = rest.into_iter().collect();
                continue;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

struct Writer {
    font: Font,
    lines: Vec<Vec<(f32, f32, String)>>,
    y: f32,
}

impl Writer {
    fn line(&mut self, size: f32, text: String) {
        if self.y + LINE > HEIGHT - MARGIN {
            self.lines.push(Vec::new());
            self.y = MARGIN;
        }
        self.y += LINE * size / SIZE;
        if let Some(page) = self.lines.last_mut() {
            page.push((self.y, size, text));
        }
    }

    fn wrapped(&mut self, size: f32, text: &str) {
        // DejaVu Sans averages about 0.55 em per character.
        let chars = ((WIDTH - 2.0 * MARGIN) / (size * 0.55)) as usize;
        for l in wrap(text, chars.max(10)) {
            self.line(size, l);
        }
    }
}

/// Renders a document: `title`, a subtitle line, then `blocks`; metadata title and language
/// set. Returns the PDF bytes.
pub(crate) fn render(title: &str, subtitle: &str, locale: Locale, blocks: &[Block]) -> Result<Vec<u8>> {
    let font = Font::new(FONT.into(), 0).ok_or(crate::CryptoError::Internal("pdf font"))?;
    let mut w = Writer { font: font.clone(), lines: vec![Vec::new()], y: MARGIN };
    w.wrapped(16.0, title);
    w.wrapped(SIZE, subtitle);
    w.line(SIZE, String::new());
    for b in blocks {
        match b {
            Block::Heading(h) => {
                w.line(SIZE, String::new());
                w.wrapped(12.5, h);
            }
            Block::Field(label, value) => w.wrapped(SIZE, &format!("{label}: {value}")),
            Block::Text(t) => w.wrapped(SIZE, t),
            Block::Table(header, rows) => {
                w.wrapped(SIZE, &header.join("  |  "));
                for r in rows {
                    w.wrapped(SIZE, &r.join("  |  "));
                }
            }
        }
    }
    let mut doc = Document::new();
    doc.set_metadata(
        krilla::metadata::Metadata::new()
            .title(title.to_owned())
            .language(locale.tag().to_owned())
            .creator("Kabinet".to_owned()),
    );
    let pages = std::mem::take(&mut w.lines);
    let total = pages.len();
    for (n, page_lines) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or(crate::CryptoError::Internal("pdf page"))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        for (y, size, text) in page_lines {
            surface.draw_text(Point::from_xy(MARGIN, y), w.font.clone(), size, &text, false, TextDirection::Auto);
        }
        let footer = format!("{} / {}", n + 1, total);
        surface.draw_text(
            Point::from_xy(WIDTH - MARGIN - 30.0, HEIGHT - 30.0),
            font.clone(),
            8.0,
            &footer,
            false,
            TextDirection::Auto,
        );
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|_| crate::CryptoError::Internal("pdf").into())
}
