//! What a file really is, from its bytes (S3): PDF, DOCX, JPEG or PNG, never trusting the
//! name or the declared type. Magic numbers come from `infer`; the structural checks that no
//! crate does for us are written here: a PDF must end with `%%EOF` and carry no active
//! content (JavaScript, launch actions, embedded files), a PNG must end with its `IEND`
//! chunk, a JPEG with its EOI marker, and a DOCX must be a Word package within zip-bomb
//! limits and without macros. JPEG metadata (EXIF, with any GPS position, and XMP) is
//! removed before storage — stripped, not refused, so a phone photo of a paper result works.

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
/// called `.pdf`); names without a known extension are accepted.
pub fn check_name(filename: &str, format: Format) -> Result<()> {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let expected: &[&str] = match format {
        Format::Pdf => &["pdf"],
        Format::Docx => &["docx"],
        Format::Jpeg => &["jpg", "jpeg"],
        Format::Png => &["png"],
        Format::Text => &["txt"],
    };
    let known = ["pdf", "docx", "doc", "jpg", "jpeg", "png", "gif", "html", "htm", "txt", "exe", "zip"];
    if known.contains(&ext.as_str()) && !expected.contains(&ext.as_str()) {
        return Err(refuse(Reason::Mismatch));
    }
    Ok(())
}

fn pdf(b: &[u8]) -> Result<()> {
    let tail = &b[b.len().saturating_sub(1024)..];
    if !contains(tail, b"%%EOF") {
        return Err(refuse(Reason::Length));
    }
    // Active content: scripts, actions that launch programs, embedded files, rich media.
    for needle in [&b"/JavaScript"[..], b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA"] {
        if contains(b, needle) {
            return Err(refuse(Reason::Format));
        }
    }
    Ok(())
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
    hay.windows(needle.len()).any(|w| w == needle)
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
