//! What a file really is, from its bytes (S3): PDF, DOCX, JPEG or PNG, never trusting the
//! name or the declared type. Magic numbers come from `infer`; the structural checks that no
//! crate does for us are written here. A PDF is parsed as an object graph with `lopdf` and
//! must carry no active content (scripts, actions, embedded files, rich media, XFA) and be
//! nothing else as well (see `pdf`); a PNG must end with its `IEND` chunk, a JPEG with its
//! EOI marker, and a DOCX must be a Word package within zip-bomb limits and without macros.
//! JPEG metadata (EXIF, with any GPS position, and XMP) is removed before storage —
//! stripped, not refused, so a phone photo of a paper result works. File names are cleaned
//! ([`safe_filename`]) and must not claim another format ([`check_name`]).

use std::io::Read;

use crate::error::Result;
use crate::ids::{Reason, ValidationError};

/// A DOCX may expand to at most this many bytes.
pub const DOCX_MAX_EXPANDED: u64 = 200 * 1024 * 1024;
/// … and at most this many times its compressed size.
pub const DOCX_MAX_RATIO: u64 = 100;
/// … with at most this many entries.
pub const DOCX_MAX_ENTRIES: usize = 5_000;

/// An accepted file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PDF.
    Pdf,
    /// Word (Office Open XML).
    Docx,
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// Plain UTF-8 text, accepted only from FHIR imports that declare `text/plain`
    /// ([`check_declared`]): clinical notes travel that way between hospital systems.
    Text,
}

impl Format {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Text => "text/plain; charset=utf-8",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Text => "txt",
        }
    }
}

fn refuse(reason: Reason) -> crate::Error {
    ValidationError::new("content", reason).into()
}

/// Checks `bytes` and returns the format and the bytes to store (JPEG metadata removed).
/// Refused: empty, over `max_bytes`, unknown or other types (HTML, scripts, executables…),
/// truncated files, active content, zip bombs.
pub fn check(bytes: &[u8], max_bytes: usize) -> Result<(Format, Vec<u8>)> {
    if bytes.is_empty() {
        return Err(refuse(Reason::Empty));
    }
    if bytes.len() > max_bytes {
        return Err(refuse(Reason::TooLong));
    }
    let kind = infer::get(bytes).map(|t| t.mime_type());
    match kind {
        Some("application/pdf") => pdf(bytes).map(|()| (Format::Pdf, bytes.to_vec())),
        Some("image/png") => png(bytes).map(|()| (Format::Png, bytes.to_vec())),
        Some("image/jpeg") => jpeg(bytes).map(|clean| (Format::Jpeg, clean)),
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document") | Some("application/zip") => {
            docx(bytes).map(|()| (Format::Docx, bytes.to_vec()))
        }
        _ => Err(refuse(Reason::UnknownValue)),
    }
}

/// Checks content that arrives with a declared type (a FHIR `Binary` or attachment): plain
/// text is accepted when declared as `text/plain`, valid UTF-8, free of control characters
/// other than tab and line breaks, and not markup (nothing that starts with `<`, so HTML,
/// SVG and XML stay refused); everything else goes through [`check`].
pub fn check_declared(bytes: &[u8], declared: &str, max_bytes: usize) -> Result<(Format, Vec<u8>)> {
    let declared = declared.split(';').next().unwrap_or_default().trim();
    if !declared.eq_ignore_ascii_case("text/plain") || infer::get(bytes).is_some() {
        return check(bytes, max_bytes);
    }
    if bytes.is_empty() {
        return Err(refuse(Reason::Empty));
    }
    if bytes.len() > max_bytes {
        return Err(refuse(Reason::TooLong));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| refuse(Reason::Format))?;
    if text.trim_start().starts_with('<') || text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(refuse(Reason::Format));
    }
    Ok((Format::Text, bytes.to_vec()))
}

/// A file name whose extension names another format than the content is refused (a PNG
/// called `.pdf` or `.svg`): an extension, when there is one, must be the content's own.
/// Names without an extension, or ending in digits (`Анализы 12.11`), are accepted.
pub fn check_name(filename: &str, format: Format) -> Result<()> {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.trim().to_lowercase()).unwrap_or_default();
    let expected: &[&str] = match format {
        Format::Pdf => &["pdf"],
        Format::Docx => &["docx"],
        Format::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
        Format::Png => &["png"],
        Format::Text => &["txt", "text"],
    };
    let no_extension = ext.is_empty() || ext.chars().all(|c| c.is_ascii_digit());
    if !no_extension && !expected.contains(&ext.as_str()) {
        return Err(refuse(Reason::Mismatch));
    }
    Ok(())
}

/// A file name safe to store, show and hand to a browser or a file system: control
/// characters and bidirectional overrides removed (a hidden `exe` behind RTLO becomes
/// visible), path separators and reserved characters replaced by `_`, no leading dots or
/// surrounding spaces, at most 200 characters with the extension kept. Never empty
/// (`document` plus the content's extension).
pub fn safe_filename(name: &str, format: Format) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| {
            !c.is_control() && !crate::ids::is_bidi_control(*c) && !matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}')
        })
        .map(|c| if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let cleaned = cleaned.trim_start_matches(['.', ' ']).trim_end_matches([' ', '.']).to_owned();
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 10 => (stem.to_owned(), format!(".{ext}")),
        _ => (cleaned.clone(), String::new()),
    };
    let keep = 200usize.saturating_sub(ext.chars().count());
    let stem: String = stem.chars().take(keep).collect();
    if stem.trim().is_empty() {
        format!("document.{}", format.extension())
    } else {
        format!("{}{ext}", stem.trim_end())
    }
}

/// Keys whose presence anywhere in a PDF's object graph makes it active: scripts, actions
/// that run, submit or import, automatic actions (on open, on page or field events),
/// embedded files, rich media and XFA forms.
const ACTIVE_KEYS: &[&[u8]] = &[
    b"JS",
    b"JavaScript",
    b"OpenAction",
    b"AA",
    b"Launch",
    b"SubmitForm",
    b"ImportData",
    b"EmbeddedFile",
    b"EmbeddedFiles",
    b"EF",
    b"RichMedia",
    b"RichMediaContent",
    b"XFA",
];

/// Action types (`/S /…`) that run something rather than move within the document or open
/// a link the reader clicks.
const ACTIVE_ACTIONS: &[&[u8]] = &[
    b"JavaScript",
    b"Launch",
    b"SubmitForm",
    b"ImportData",
    b"ResetForm",
    b"GoToE",
    b"RichMediaExecute",
    b"Rendition",
    b"Movie",
    b"Sound",
];

/// A PDF is read as what it is — an object graph — by `lopdf` (names with `#xx` escapes
/// decoded, compressed object streams opened, nesting and decompression bounded), and
/// refused when any object carries active content ([`ACTIVE_KEYS`], [`ACTIVE_ACTIONS`]), when
/// it is encrypted (it cannot be inspected), or when it is also another format: bytes after
/// the final `%%EOF` (an appended ZIP or HTML), a ZIP directory at its end, or markup in its
/// first kilobyte, where browsers sniff.
fn pdf(b: &[u8]) -> Result<()> {
    if !b.starts_with(b"%PDF-") {
        return Err(refuse(Reason::Format));
    }
    let Some(eof) = rfind(b, b"%%EOF") else { return Err(refuse(Reason::Length)) };
    if !b[eof + 5..].iter().all(u8::is_ascii_whitespace) {
        return Err(refuse(Reason::Format));
    }
    let tail = &b[b.len().saturating_sub(64 * 1024 + 22)..];
    if contains(tail, b"PK\x05\x06") {
        return Err(refuse(Reason::Format));
    }
    let head = b[..b.len().min(1024)].to_ascii_lowercase();
    for markup in [&b"<html"[..], b"<!doctype", b"<script", b"<body", b"<svg", b"<iframe", b"<?xml"] {
        if contains(&head, markup) {
            return Err(refuse(Reason::Format));
        }
    }
    // Belt and braces: the literal tokens anywhere in the raw bytes, reachable or not.
    for needle in [&b"/JavaScript"[..], b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA"] {
        if contains(b, needle) {
            return Err(refuse(Reason::Format));
        }
    }
    let options = lopdf::LoadOptions { max_decompressed_size: Some(64 * 1024 * 1024), ..Default::default() };
    let doc = lopdf::Document::load_mem_with_options(b, options).map_err(|_| refuse(Reason::Format))?;
    if doc.trailer.has(b"Encrypt") || doc.was_encrypted() {
        return Err(refuse(Reason::Format));
    }
    let trailer = lopdf::Object::Dictionary(doc.trailer.clone());
    if doc.objects.values().chain(std::iter::once(&trailer)).any(is_active) {
        return Err(refuse(Reason::Format));
    }
    Ok(())
}

/// Whether an object (walked with an explicit stack: no recursion on hostile nesting)
/// holds an active key or an active action type.
fn is_active(root: &lopdf::Object) -> bool {
    use lopdf::Object;
    let mut stack = vec![root];
    while let Some(obj) = stack.pop() {
        let dict = match obj {
            Object::Array(items) => {
                stack.extend(items.iter());
                continue;
            }
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            _ => continue,
        };
        for (key, value) in dict.iter() {
            if ACTIVE_KEYS.contains(&key.as_slice()) {
                return true;
            }
            if key.as_slice() == b"S"
                && let Object::Name(action) = value
                && ACTIVE_ACTIONS.contains(&action.as_slice())
            {
                return true;
            }
            stack.push(value);
        }
    }
    false
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(hay, needle)
}

fn png(b: &[u8]) -> Result<()> {
    // The last chunk is IEND: length 0, type "IEND", CRC AE 42 60 82.
    if b.len() < 8 + 12 || &b[b.len() - 12..] != b"\0\0\0\0IEND\xAE\x42\x60\x82" {
        return Err(refuse(Reason::Length));
    }
    Ok(())
}

fn jpeg(b: &[u8]) -> Result<Vec<u8>> {
    if b.len() < 4 || b[b.len() - 2..] != [0xFF, 0xD9] {
        return Err(refuse(Reason::Length));
    }
    let mut image =
        img_parts::jpeg::Jpeg::from_bytes(img_parts::Bytes::copy_from_slice(b)).map_err(|_| refuse(Reason::Format))?;
    // APP1 holds EXIF (camera, time, GPS position) and XMP.
    image.remove_segments_by_marker(img_parts::jpeg::markers::APP1);
    Ok(image.encoder().bytes().to_vec())
}

fn docx(b: &[u8]) -> Result<()> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(b)).map_err(|_| refuse(Reason::Length))?;
    if zip.len() > DOCX_MAX_ENTRIES {
        return Err(refuse(Reason::TooLong));
    }
    let (mut has_types, mut has_document) = (false, false);
    let mut expanded: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| refuse(Reason::Format))?;
        let name = entry.name().to_owned();
        let lower = name.to_ascii_lowercase();
        if lower.ends_with("vbaproject.bin") || lower.ends_with(".bin") && lower.contains("activex") {
            return Err(refuse(Reason::Format));
        }
        has_types |= name == "[Content_Types].xml";
        has_document |= name == "word/document.xml";
        // Read every entry through a limit: declared sizes can lie.
        let budget = DOCX_MAX_EXPANDED.saturating_sub(expanded) + 1;
        let mut sink = Vec::new();
        let read = (&mut entry).take(budget).read_to_end(&mut sink).map_err(|_| refuse(Reason::Format))?;
        expanded += read as u64;
        if expanded > DOCX_MAX_EXPANDED {
            return Err(refuse(Reason::TooLong));
        }
        if name == "[Content_Types].xml" && contains(&sink, b"macroEnabled") {
            return Err(refuse(Reason::Format));
        }
    }
    if !(has_types && has_document) {
        return Err(refuse(Reason::UnknownValue));
    }
    if expanded > (b.len() as u64).saturating_mul(DOCX_MAX_RATIO) {
        return Err(refuse(Reason::TooLong));
    }
    Ok(())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<(Format, Vec<u8>)>) -> Reason {
        match r {
            Err(crate::Error::Validation(v)) => v.reason,
            other => panic!("expected a refusal, got {:?}", other.map(|(f, _)| f)),
        }
    }

    /// A small PDF built as an object graph: a catalog with `catalog_extra` entries and a
    /// page with `page_extra` entries; `compressed` puts the objects in a Flate object stream
    /// with a cross-reference stream (PDF 1.5), so nothing of them shows in the raw bytes.
    fn graph_pdf(
        catalog_extra: Vec<(&str, lopdf::Object)>,
        page_extra: Vec<(&str, lopdf::Object)>,
        compressed: bool,
    ) -> Vec<u8> {
        use lopdf::{Dictionary, Object, dictionary};
        let mut doc = lopdf::Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let mut page = dictionary! { "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 200.into(), 200.into()] };
        for (k, v) in page_extra {
            page.set(k, v);
        }
        let page_id = doc.add_object(page);
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
        );
        let mut catalog: Dictionary = dictionary! { "Type" => "Catalog", "Pages" => pages_id };
        for (k, v) in catalog_extra {
            catalog.set(k, v);
        }
        let catalog_id = doc.add_object(catalog);
        doc.trailer.set("Root", catalog_id);
        let mut out = Vec::new();
        let options = lopdf::SaveOptions::builder()
            .use_object_streams(compressed)
            .use_xref_streams(compressed)
            .compression_level(6)
            .build();
        doc.save_with_options(&mut out, options).unwrap();
        out
    }

    fn action(kind: &str, extra: Vec<(&str, lopdf::Object)>) -> lopdf::Object {
        let mut d = lopdf::dictionary! { "S" => lopdf::Object::Name(kind.as_bytes().to_vec()) };
        for (k, v) in extra {
            d.set(k, v);
        }
        lopdf::Object::Dictionary(d)
    }

    /// Issue 11, class 9: active content is found in the object graph, not by substring —
    /// behind name escapes, inside compressed object streams, as automatic actions — and
    /// files that are also another format are refused. Fresh inputs of each class.
    #[test]
    fn s3_pdf_active_content_and_polyglots_are_refused() {
        use lopdf::Object;
        let plain = graph_pdf(vec![], vec![], false);
        assert_eq!(check(&plain, 1 << 20).unwrap().0, Format::Pdf);
        assert_eq!(check(&graph_pdf(vec![], vec![], true), 1 << 20).unwrap().0, Format::Pdf);
        // A link the reader clicks is fine; an action that runs by itself is not.
        let link = lopdf::dictionary! { "Type" => "Annot", "Subtype" => "Link", "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()],
        "A" => action("URI", vec![("URI", Object::string_literal("https://example.ru"))]) };
        assert!(
            check(&graph_pdf(vec![], vec![("Annots", Object::Array(vec![Object::Dictionary(link)]))], false), 1 << 20)
                .is_ok()
        );
        let js = || action("JavaScript", vec![("JS", Object::string_literal("app.launchURL('x')"))]);
        let hostile: Vec<(&str, Vec<u8>)> = vec![
            (
                "script in an object stream",
                graph_pdf(vec![("Names", lopdf::dictionary! { "JavaScript" => js() }.into())], vec![], true),
            ),
            (
                "open action with a URI",
                graph_pdf(
                    vec![("OpenAction", action("URI", vec![("URI", Object::string_literal("http://x.example"))]))],
                    vec![],
                    true,
                ),
            ),
            (
                "page action submitting a form",
                graph_pdf(
                    vec![],
                    vec![("AA", lopdf::dictionary! { "O" => action("SubmitForm", vec![]) }.into())],
                    true,
                ),
            ),
            (
                "launch behind a link",
                graph_pdf(
                    vec![],
                    vec![(
                        "Annots",
                        Object::Array(vec![
                            lopdf::dictionary! { "Subtype" => "Link", "A" => action("Launch", vec![]) }.into(),
                        ]),
                    )],
                    true,
                ),
            ),
            (
                "embedded file",
                graph_pdf(
                    vec![("Names", lopdf::dictionary! { "EmbeddedFiles" => lopdf::dictionary! {} }.into())],
                    vec![],
                    true,
                ),
            ),
            (
                "xfa form",
                graph_pdf(
                    vec![("AcroForm", lopdf::dictionary! { "XFA" => Object::string_literal("<xdp/>") }.into())],
                    vec![],
                    true,
                ),
            ),
            ("import data", graph_pdf(vec![("OpenAction", action("ImportData", vec![]))], vec![], false)),
        ];
        for (what, bytes) in hostile {
            assert!(
                !contains(&bytes, b"JavaScript") || !what.contains("object stream"),
                "{what}: the test must hide the token"
            );
            assert_eq!(reason(check(&bytes, 1 << 20)), Reason::Format, "{what}");
        }
        // Name escapes: `/J#61vaScript` is `/JavaScript` once decoded.
        let escaped = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n3 0 obj << /S /J#61vaScript /J#53 (app.alert(1)) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
        assert_eq!(reason(check(escaped, 1 << 20)), Reason::Format);
        // … while the same file without the action parses and is taken: it is the decoded
        // name that refuses it, not a failure to read it.
        let inert = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAct#69on_ 3 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n3 0 obj << /S /GoTo /D [] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
        assert_eq!(check(inert, 1 << 20).unwrap().0, Format::Pdf);
        // Polyglots: HTML where browsers sniff, a ZIP appended, a ZIP directory at the end.
        let mut html = b"%PDF-1.7\n%<html><script>alert(1)</script>\n".to_vec();
        html.extend_from_slice(&plain[9..]);
        assert_eq!(reason(check(&html, 1 << 20)), Reason::Format);
        let mut zip_after = plain.clone();
        zip_after.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0payload PK\x05\x06\0\0\0\0");
        assert_eq!(reason(check(&zip_after, 1 << 20)), Reason::Format);
        let eof = rfind(&plain, b"%%EOF").unwrap();
        let mut zip_inside = plain[..eof].to_vec();
        zip_inside.extend_from_slice(b"%PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\n%%EOF\n");
        assert_eq!(reason(check(&zip_inside, 1 << 20)), Reason::Format);
        // Not a PDF object graph at all.
        assert_eq!(reason(check(b"%PDF-1.7\ngarbage\n%%EOF\n", 1 << 20)), Reason::Format);
    }

    #[test]
    fn s3_file_names_are_cleaned_and_must_not_claim_another_format() {
        let png = Format::Png;
        assert_eq!(safe_filename("photo\u{202E}gnp.exe", png), "photogng.exe".replace("gng", "gnp"));
        assert_eq!(safe_filename("a\0b\x1b[31mc.png", png), "ab[31mc.png");
        assert_eq!(safe_filename("../../etc/passwd", png), "_.._etc_passwd");
        assert_eq!(safe_filename("..", png), "document.png");
        assert_eq!(safe_filename("   ", png), "document.png");
        assert_eq!(safe_filename("C:\\Users\\a.png", png), "C__Users_a.png");
        let long = format!("{}.png", "я".repeat(500));
        let cut = safe_filename(&long, png);
        assert!(cut.chars().count() <= 200 && cut.ends_with(".png"), "{cut}");
        // The extension must be the content's own, whatever other format it names.
        for wrong in ["scan.svg", "scan.html", "scan.pdf", "scan.exe", "scan.webp"] {
            assert_eq!(reason(check_name(wrong, png).map(|()| (png, vec![]))), Reason::Mismatch, "{wrong}");
        }
        for fine in ["scan.png", "scan.PNG", "scan", "Анализы 12.11"] {
            assert!(check_name(fine, png).is_ok(), "{fine}");
        }
    }

    #[test]
    fn s3_declared_plain_text_is_taken_only_when_it_is_plain_text() {
        let (format, bytes) =
            check_declared("Осмотр терапевта.\r\nЖалоб нет.\t".as_bytes(), "text/plain", 1000).unwrap();
        assert_eq!((format, format.mime()), (Format::Text, "text/plain; charset=utf-8"));
        assert_eq!(bytes, "Осмотр терапевта.\r\nЖалоб нет.\t".as_bytes());
        assert_eq!(check_declared(b"abc", "text/plain; charset=utf-8", 1000).unwrap().0, Format::Text);
        // Markup, control characters and broken UTF-8 are refused even when declared text.
        for markup in [&b"  <html><script>x</script>"[..], b"<?xml version=\"1.0\"?><svg/>", b"\n<ClinicalDocument/>"] {
            // Refused as markup here, or as an unknown type where `infer` recognises it.
            let r = reason(check_declared(markup, "text/plain", 1000));
            assert!(matches!(r, Reason::Format | Reason::UnknownValue), "{r:?}");
        }
        assert_eq!(reason(check_declared(b"bell\x07", "text/plain", 1000)), Reason::Format);
        assert_eq!(reason(check_declared(b"ab\xc3\x28cd", "text/plain", 1000)), Reason::Format);
        assert_eq!(reason(check_declared(b"", "text/plain", 1000)), Reason::Empty);
        assert_eq!(reason(check_declared(b"too long", "text/plain", 3)), Reason::TooLong);
        // Text is never taken undeclared, and a real format declared as text is checked as itself.
        assert_eq!(reason(check_declared(b"plain", "application/pdf", 1000)), Reason::UnknownValue);
        assert_eq!(reason(check_declared(b"%PDF-1.7\n/JavaScript\n%%EOF", "text/plain", 1000)), Reason::Format);
        assert!(check_name("note.txt", Format::Text).is_ok());
        assert_eq!(reason(check_name("note.pdf", Format::Text).map(|()| (Format::Text, vec![]))), Reason::Mismatch);
    }
}
