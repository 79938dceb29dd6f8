//! R7, S3 (documents from content, integrity), S2 (sharing with RSA-4096 OAEP), R10 (PDF
//! certificates with Cyrillic text, checked with `pdftotext`) on both engines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kabinet::{DocumentMeta, Error, ErrorCode, ErrorKind, ItemData, Me};
use support::{Harness, TestDb, device};
use time::macros::date;

on_both!(
    r7_files_are_judged_by_content_and_refusals_store_nothing,
    s3_one_changed_byte_blocks_the_download_and_is_journaled,
    s2_shared_package_opens_only_with_the_private_key,
    r10_certificates_confirmed_by_code_render_cyrillic_pdfs,
    r10_certificate_kinds_are_data_an_operator_registers,
    r10_built_in_kinds_follow_their_sections_and_period_rules,
    r11_r9_r13_r8_other_pdfs_carry_the_patients_name,
);

const WYCHEPROOF_OAEP: &str = include_str!("../../tests/vectors/wycheproof/rsa_oaep_4096_sha256_mgf1sha256_test.json");

fn code(e: Error) -> &'static str {
    e.code()
}

fn meta() -> DocumentMeta {
    DocumentMeta {
        created_on: date!(2026 - 11 - 20),
        institution: "Поликлиника № 1".into(),
        study_type: Some("УЗИ".into()),
    }
}

fn pdf_bytes(body: &str) -> Vec<u8> {
    format!("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n{body}\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes()
}

fn png_bytes() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    b.extend_from_slice(b"\0\0\0\0IEND\xAE\x42\x60\x82");
    b
}

fn jpeg_with_gps() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8];
    // APP1 EXIF segment carrying a (fake) GPS IFD.
    let exif = b"Exif\0\0MM\0*GPSLatitude55.7558N GPSLongitude37.6173E";
    b.extend_from_slice(&[0xFF, 0xE1]);
    b.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    b.extend_from_slice(exif);
    // A minimal quantization table segment and the end marker.
    b.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01]);
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}

fn docx_bytes(document_xml_len: usize, macro_enabled: bool) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let types = if macro_enabled {
        "<Types><Override ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/></Types>"
    } else {
        "<Types><Override ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>"
    };
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(types.as_bytes()).unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(&vec![b' '; document_xml_len]).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

/// Anna attached to clinic 0101, and a doctor of it.
async fn anna_and_doctor(h: &Harness) -> (Me, Me) {
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let doctor = h.staff(&c1, "doctor", 40).await;
    (anna, doctor)
}

async fn r7_files_are_judged_by_content_and_refusals_store_nothing(db: TestDb) {
    let h = db.harness().await;
    let (anna, doctor) = anna_and_doctor(&h).await;
    let pid = anna.patient_id().unwrap().to_owned();
    let docs = doctor.staff().unwrap().documents();
    let before = anna.documents().list(None, None, None).await.unwrap().len();
    let refused: Vec<(&str, Vec<u8>, &str)> = vec![
        ("снимок.pdf", png_bytes(), "mismatch"),
        ("page.pdf", b"<!DOCTYPE html><html><body>hi</body></html>".to_vec(), "unknown_value"),
        ("cut.pdf", pdf_bytes("stream")[..40].to_vec(), "length"),
        ("script.pdf", pdf_bytes("<< /S /JavaScript /JS (app.alert(1)) >>"), "format"),
        ("cut.png", png_bytes()[..20].to_vec(), "length"),
        ("empty.pdf", Vec::new(), "empty"),
        ("bomb.docx", docx_bytes(60 * 1024 * 1024, false), "too_long"),
        ("macro.docx", docx_bytes(100, true), "format"),
        ("run.exe", b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec(), "unknown_value"),
    ];
    for (name, bytes, reason) in refused {
        match docs.publish(&pid, kabinet::DocumentKind::Other, name, &bytes, meta()).await.unwrap_err() {
            Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("content", reason), "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(anna.documents().list(None, None, None).await.unwrap().len(), before, "nothing stored");
    // Accepted: PDF, PNG, DOCX, JPEG (EXIF with GPS removed), detected from content.
    let pdf =
        docs.publish(&pid, kabinet::DocumentKind::Extract, "выписка.pdf", &pdf_bytes("stream"), meta()).await.unwrap();
    assert_eq!(pdf.content_type, "application/pdf");
    let png = docs.publish(&pid, kabinet::DocumentKind::LabResult, "scan", &png_bytes(), meta()).await.unwrap();
    assert_eq!(png.content_type, "image/png");
    let docx = docs
        .publish(&pid, kabinet::DocumentKind::Conclusion, "заключение.docx", &docx_bytes(2000, false), meta())
        .await
        .unwrap();
    assert!(docx.content_type.contains("wordprocessingml"));
    let photo = docs.publish(&pid, kabinet::DocumentKind::Other, "photo.jpg", &jpeg_with_gps(), meta()).await.unwrap();
    let stored = anna.documents().download(&photo.id).await.unwrap();
    assert!(!stored.windows(4).any(|w| w == b"Exif") && !stored.windows(3).any(|w| w == b"GPS"), "metadata removed");
    assert_eq!(&stored[..2], &[0xFF, 0xD8]);
    assert_eq!(anna.documents().download(&pdf.id).await.unwrap(), pdf_bytes("stream"));
    // Pages walk the list in its order without gaps or repeats; hostile cursors and limits
    // are validation errors.
    let all: Vec<String> = anna.documents().list(None, None, None).await.unwrap().into_iter().map(|d| d.id).collect();
    let (mut paged, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = anna.documents().list_page(None, None, None, Some(1), cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= 1);
        paged.extend(page.items.into_iter().map(|d| d.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, all);
    assert!(all.len() >= 4);
    let whole = anna.documents().list_page(None, None, None, None, None).await.unwrap();
    assert_eq!((whole.items.len(), whole.next_cursor), (all.len(), None));
    for cursor in ["", "x", "!!", "AAAAAAAA"] {
        let e = anna.documents().list_page(None, None, None, Some(2), Some(cursor)).await.unwrap_err();
        assert_eq!(code(e), "validation", "{cursor:?}");
    }
    for limit in [0, kabinet::paging::MAX_LIMIT + 1] {
        let e = anna.documents().list_page(None, None, None, Some(limit), None).await.unwrap_err();
        assert_eq!(code(e), "validation");
    }
    // Lists filter by kind and period; metadata reads back.
    let extracts = anna.documents().list(Some(kabinet::DocumentKind::Extract), None, None).await.unwrap();
    assert_eq!(extracts.len(), 1);
    assert_eq!((extracts[0].filename.as_str(), extracts[0].institution.as_str()), ("выписка.pdf", "Поликлиника № 1"));
    assert_eq!(extracts[0].study_type.as_deref(), Some("УЗИ"));
    assert!(
        anna.documents()
            .list(Some(kabinet::DocumentKind::Extract), Some(date!(2026 - 11 - 21)), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        anna.documents()
            .list(Some(kabinet::DocumentKind::Extract), None, Some(date!(2026 - 11 - 20)))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(anna.documents().list(Some(kabinet::DocumentKind::LabResult), None, None).await.unwrap()[0].id, png.id);
    assert_eq!(code(kabinet::DocumentKind::parse("selfie").unwrap_err().into()), "validation");
    assert!(h.inbox.count("new_document") >= 4);
    // The size limit is the deployment's.
    let small = db
        .open_with(kabinet::Config {
            document_max_bytes: 100,
            clock: std::sync::Arc::new(h.clock.clone()),
            ..db.config()
        })
        .await;
    let clinic = anna.attachment().current().await.unwrap().unwrap().clinic_id;
    let staff_small = small.session(&h.staff_token(&clinic, "nurse", 41).await, &device()).await.unwrap();
    let big = pdf_bytes(&"x".repeat(200));
    match staff_small
        .staff()
        .unwrap()
        .documents()
        .publish(&pid, kabinet::DocumentKind::Other, "big.pdf", &big, meta())
        .await
        .unwrap_err()
    {
        Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("content", "too_long")),
        other => panic!("{other:?}"),
    }
    let _ = doctor;
}

async fn s3_one_changed_byte_blocks_the_download_and_is_journaled(db: TestDb) {
    let h = db.harness().await;
    let (anna, doctor) = anna_and_doctor(&h).await;
    let pid = anna.patient_id().unwrap().to_owned();
    let doc = doctor
        .staff()
        .unwrap()
        .documents()
        .publish(&pid, kabinet::DocumentKind::Extract, "x.pdf", &pdf_bytes("stream"), meta())
        .await
        .unwrap();
    assert_eq!(doc.sha256.len(), 64);
    let raw = db.raw().await;
    let mut content: Vec<u8> =
        sqlx::query_scalar("SELECT content FROM documents WHERE id = $1").bind(&doc.id).fetch_one(&raw).await.unwrap();
    let middle = content.len() / 2;
    content[middle] ^= 0x01;
    sqlx::query("UPDATE documents SET content = $1 WHERE id = $2")
        .bind(&content)
        .bind(&doc.id)
        .execute(&raw)
        .await
        .unwrap();
    let err = anna.documents().download(&doc.id).await.unwrap_err();
    assert_eq!((err.code(), err.kind()), ("crypto.integrity", ErrorKind::Integrity));
    let failures: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_entries WHERE resource_type = 'document' AND resource_id = $1 AND outcome = 'failure'",
    )
    .bind(&doc.id)
    .fetch_one(&raw)
    .await
    .unwrap();
    assert_eq!(failures, 1);
    // A stored hash that no longer matches the content is caught the same way.
    let second = doctor
        .staff()
        .unwrap()
        .documents()
        .publish(&pid, kabinet::DocumentKind::Extract, "y.pdf", &pdf_bytes("other"), meta())
        .await
        .unwrap();
    sqlx::query("UPDATE documents SET sha256 = $1 WHERE id = $2")
        .bind(vec![0u8; 32])
        .bind(&second.id)
        .execute(&raw)
        .await
        .unwrap();
    assert_eq!(code(anna.documents().download(&second.id).await.unwrap_err()), "crypto.integrity");
    assert!(h.cab.system().audit().verify().await.unwrap().ok);
    // Issue 14, item 11: both are quarantined. The patient sees them as being restored (a
    // download says so, typed); the issuing clinic has them in its re-upload list.
    assert_eq!(code(anna.documents().download(&doc.id).await.unwrap_err()), "document.restoring");
    let listed = anna.documents().list(None, None, None).await.unwrap();
    let restoring: Vec<&str> = listed.iter().filter(|d| d.restoring).map(|d| d.id.as_str()).collect();
    assert_eq!(restoring.len(), 2);
    let staff_docs = doctor.staff().unwrap().documents();
    let tasks = staff_docs.reupload_tasks().await.unwrap();
    let mut ids: Vec<&str> = tasks.iter().map(|t| t.document_id.as_str()).collect();
    ids.sort_unstable();
    let mut want = [doc.id.as_str(), second.id.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want);
    assert!(tasks.iter().all(|t| t.patient_id == pid));
    // Another clinic cannot replace it (nor learn it exists); bad content is refused.
    let c2 = anna.directory().find_clinic("0202").await.unwrap().id;
    let other_doctor = h.staff(&c2, "doctor", 77).await;
    let foreign = other_doctor.staff().unwrap().documents().reupload(&doc.id, &pdf_bytes("stream")).await;
    assert_eq!(foreign.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(other_doctor.staff().unwrap().documents().reupload_tasks().await.unwrap().is_empty());
    assert_eq!(staff_docs.reupload(&doc.id, b"<html></html>").await.unwrap_err().kind(), ErrorKind::Validation);
    // The issuing clinic uploads it again: it opens, the patient is told, the task is gone.
    let restored = staff_docs.reupload(&doc.id, &pdf_bytes("stream")).await.unwrap();
    assert!(!restored.restoring);
    assert_eq!(anna.documents().download(&doc.id).await.unwrap(), pdf_bytes("stream"));
    assert!(h.inbox.0.lock().unwrap().iter().any(|m| m.kind == "document_restored"));
    let left: Vec<String> = staff_docs.reupload_tasks().await.unwrap().into_iter().map(|t| t.document_id).collect();
    assert_eq!(left, std::slice::from_ref(&second.id));
    assert_eq!(staff_docs.reupload(&doc.id, &pdf_bytes("stream")).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn s2_shared_package_opens_only_with_the_private_key(db: TestDb) {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
    let h = db.harness().await;
    let (anna, doctor) = anna_and_doctor(&h).await;
    let pid = anna.patient_id().unwrap().to_owned();
    let doc = doctor
        .staff()
        .unwrap()
        .documents()
        .publish(&pid, kabinet::DocumentKind::Extract, "выписка.pdf", &pdf_bytes("stream"), meta())
        .await
        .unwrap();
    let vectors: serde_json::Value = serde_json::from_str(WYCHEPROOF_OAEP).unwrap();
    let private_pem = vectors["testGroups"][0]["privateKeyPem"].as_str().unwrap();
    let private = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem).unwrap();
    let public_pem = rsa::RsaPublicKey::from(&private).to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let package = anna.documents().share(&doc.id, &public_pem).await.unwrap();
    let signer = h.cab.system().audit().public_key();
    let (shared, content) = kabinet::documents::share::open_package(&package, private_pem, Some(&signer)).unwrap();
    assert_eq!(content, pdf_bytes("stream"));
    assert_eq!((shared.filename.as_str(), shared.sha256.as_str()), ("выписка.pdf", doc.sha256.as_str()));
    assert!(!package.windows(6).any(|w| w == b"stream"), "content not in clear");
    // Any changed byte, another signer, or a weak key is refused.
    let mut tampered = package.clone();
    let at = tampered.iter().rposition(|b| *b == b'A').unwrap();
    tampered[at] = b'B';
    assert_eq!(
        code(kabinet::documents::share::open_package(&tampered, private_pem, None).unwrap_err()),
        "crypto.integrity"
    );
    assert_eq!(
        code(kabinet::documents::share::open_package(&package, private_pem, Some("AAAA")).unwrap_err()),
        "crypto.integrity"
    );
    let weak = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let weak_pem = rsa::RsaPublicKey::from(&weak).to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    match anna.documents().share(&doc.id, &weak_pem).await.unwrap_err() {
        Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("recipient_public_key", "length")),
        other => panic!("{other:?}"),
    }
    assert_eq!(code(anna.documents().share(&doc.id, "not a key").await.unwrap_err()), "validation");
    let shares: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_entries WHERE action = 'share' AND resource_id = $1 AND outcome = 'success'",
    )
    .bind(&doc.id)
    .fetch_one(&db.raw().await)
    .await
    .unwrap();
    assert!(shares >= 1);
}

#[test]
fn s2_wycheproof_rsa_oaep_4096_sha256_vectors() {
    use rsa::pkcs8::DecodePrivateKey;
    let vectors: serde_json::Value = serde_json::from_str(WYCHEPROOF_OAEP).unwrap();
    let mut checked = 0;
    for group in vectors["testGroups"].as_array().unwrap() {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(group["privateKeyPem"].as_str().unwrap()).unwrap();
        for t in group["tests"].as_array().unwrap() {
            let ct = hex::decode(t["ct"].as_str().unwrap()).unwrap();
            let label = String::from_utf8(hex::decode(t["label"].as_str().unwrap()).unwrap());
            let Ok(label) = label else { continue };
            let padding = rsa::Oaep::new_with_label::<rsa::sha2::Sha256, _>(label);
            let got = key.decrypt(padding, &ct);
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(got.unwrap(), hex::decode(t["msg"].as_str().unwrap()).unwrap(), "tc {}", t["tcId"])
                }
                "invalid" => assert!(got.is_err(), "tc {}", t["tcId"]),
                _ => {}
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
}

fn pdftotext(pdf: &[u8]) -> String {
    support::pdf_text(pdf)
}

/// A Russian-language cabinet on the same database, sharing clock and inbox.
async fn russian(db: &TestDb, h: &Harness) -> kabinet::Cabinet {
    db.open_with(kabinet::Config {
        locale: kabinet::Locale::Ru,
        clock: std::sync::Arc::new(h.clock.clone()),
        notifier: Some(std::sync::Arc::new(h.inbox.clone())),
        identity_registry: Some(std::sync::Arc::new(support::TestRegistry::default())),
        ..db.config()
    })
    .await
}

async fn r10_certificates_confirmed_by_code_render_cyrillic_pdfs(db: TestDb) {
    let h = db.harness().await;
    let (anna, doctor) = anna_and_doctor(&h).await;
    let pid = anna.patient_id().unwrap().to_owned();
    let ru = russian(&db, &h).await;
    let me = ru.session(&h.signed_in().await.access_token, &device()).await.unwrap();
    // Nothing to certify yet: a clear error, no code sent.
    let sent = h.inbox.count("certificate_code");
    assert_eq!(
        code(me.certificates().request(kabinet::CertificateKind::Vaccination, None, None).await.unwrap_err()),
        "certificate.no_data"
    );
    assert_eq!(h.inbox.count("certificate_code"), sent);
    assert_eq!(code(kabinet::CertificateKind::parse("diploma").unwrap_err().into()), "validation");
    let imm = ItemData::Immunization(kabinet::Immunization {
        vaccine: "Спутник V".into(),
        date: date!(2025 - 10 - 01),
        dose: Some("1 из 2".into()),
        lot: None,
        performer: None,
        next_due: None,
    });
    doctor.staff().unwrap().records().add(&pid, imm).await.unwrap();
    // The certificate is in the patient's own language (issue 14, item 7): Anna reads Russian.
    me.profile().set_locale("ru").await.unwrap();
    let pending = me.certificates().request(kabinet::CertificateKind::Vaccination, None, None).await.unwrap();
    assert_eq!(code(me.certificates().confirm(&pending.id, "000000").await.unwrap_err()), "auth.invalid_code");
    let cert = me.certificates().confirm(&pending.id, &h.inbox.last_code("certificate_code")).await.unwrap();
    assert_eq!(cert.status, "ready");
    let pdf = me.certificates().download(&cert.id).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let text = pdftotext(&pdf);
    assert!(text.contains("Иванова Анна Сергеевна"), "{text}");
    assert!(text.contains("Сертификат о профилактических прививках"), "{text}");
    assert!(text.contains("Спутник V"), "{text}");
    // Issued by the clinic she is attached to, with its address and code — not "Kabinet".
    assert!(text.contains("Поликлиника № 1 (0101)") && text.contains("ул. Ленина, 1"), "{text}");
    assert!(!text.contains("Kabinet"), "{text}");
    let stored = anna.documents().list(Some(kabinet::DocumentKind::Certificate), None, None).await.unwrap();
    assert_eq!(stored[0].institution, "Поликлиника № 1");
    // Stored as a document (and checked like one); regenerated with other parameters.
    assert_eq!(anna.documents().list(Some(kabinet::DocumentKind::Certificate), None, None).await.unwrap().len(), 1);
    assert_eq!(code(me.certificates().confirm(&pending.id, "123456").await.unwrap_err()), "auth.code_expired");
    let later =
        me.certificates().request(kabinet::CertificateKind::Vaccination, Some(date!(2026 - 01 - 01)), None).await;
    assert_eq!(code(later.unwrap_err()), "certificate.no_data", "no vaccinations in that period");
    let visit = ItemData::Visit(kabinet::Visit {
        date: date!(2026 - 02 - 10),
        institution: "Поликлиника № 1".into(),
        diagnoses: vec![kabinet::Diagnosis { icd10: "J06.9".into(), text: "ОРВИ".into() }],
        procedures: vec![],
    });
    doctor.staff().unwrap().records().add(&pid, visit).await.unwrap();
    let p2 = me
        .certificates()
        .request(
            kabinet::CertificateKind::MedicalHistoryExtract,
            Some(date!(2026 - 01 - 01)),
            Some(date!(2026 - 12 - 31)),
        )
        .await
        .unwrap();
    let extract = me.certificates().confirm(&p2.id, &h.inbox.last_code("certificate_code")).await.unwrap();
    let text = pdftotext(&me.certificates().download(&extract.id).await.unwrap());
    assert!(text.contains("Выписка из медицинской карты") && text.contains("J06.9 ОРВИ"), "{text}");
    // Another language chosen: the next one follows it, whatever the cabinet's language.
    me.profile().set_locale("en").await.unwrap();
    let p3 = me.certificates().request(kabinet::CertificateKind::Vaccination, None, None).await.unwrap();
    let english = me.certificates().confirm(&p3.id, &h.inbox.last_code("certificate_code")).await.unwrap();
    let text = pdftotext(&me.certificates().download(&english.id).await.unwrap());
    assert!(text.contains("Issued by") && text.contains("Поликлиника № 1 (0101)"), "{text}");
    assert!(!text.contains("Сертификат о профилактических прививках"), "{text}");
    assert_eq!(me.certificates().list().await.unwrap().len(), 3);
}

fn sport_clearance() -> kabinet::CertificateKindDefinition {
    kabinet::CertificateKindDefinition {
        code: "sport_clearance".into(),
        title_ru: "Справка о допуске к занятиям спортом".into(),
        title_en: "Sports clearance".into(),
        sections: vec![kabinet::CertificateSection::Screenings, kabinet::CertificateSection::Allergies],
        period: kabinet::CertificatePeriod::Optional,
        max_period_days: Some(365),
        default_period_days: Some(365),
        validity_days: Some(180),
        document_kind: kabinet::DocumentKind::Certificate,
    }
}

async fn journaled(db: &TestDb, resource_type: &str, id: &str) -> i64 {
    let pool = db.raw().await;
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE resource_type = $1 AND resource_id = $2")
        .bind(resource_type)
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap()
}

/// Issue 14, item 7: an operator registers a kind (title, sections, period rule, validity);
/// patients see it in their language, ask for it, get a PDF that states its sections and
/// validity; changing a kind changes new certificates, retiring it stops new requests but
/// keeps the issued ones — and a pending one — usable. Every change is journaled.
async fn r10_certificate_kinds_are_data_an_operator_registers(db: TestDb) {
    let h = db.harness().await;
    let (anna, doctor) = anna_and_doctor(&h).await;
    let pid = anna.patient_id().unwrap().to_owned();
    let sys = h.cab.system().certificates();
    // The six built-in kinds are there from the start, offered to patients.
    let builtin: Vec<String> = sys.kinds().await.unwrap().into_iter().filter(|k| k.builtin).map(|k| k.code).collect();
    assert_eq!(builtin.len(), kabinet::CertificateKind::ALL.len());
    for k in kabinet::CertificateKind::ALL {
        assert!(builtin.iter().any(|b| b == k.as_str()), "{k}");
    }
    // Unknown and malformed codes are refused the same way, before any code is sent.
    let sent = h.inbox.count("certificate_code");
    for bad in ["sport_clearance", "diploma", "", "VACCINATION\0", &"x".repeat(10_000)] {
        let e = anna.certificates().request(bad, None, None).await.unwrap_err();
        assert_eq!(code(e), "validation", "{bad:?}");
    }
    assert_eq!(h.inbox.count("certificate_code"), sent);
    // A hostile definition is refused with the field named, and nothing is registered.
    let hostile = kabinet::CertificateKindDefinition { title_en: "Sports\u{202e}".into(), ..sport_clearance() };
    match sys.register_kind(hostile).await.unwrap_err() {
        Error::Validation(v) => assert_eq!(v.field, "title_en"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sys.kinds().await.unwrap().len(), 6);
    let info = sys.register_kind(sport_clearance()).await.unwrap();
    assert!(info.active && !info.builtin);
    assert_eq!(journaled(&db, "certificate_kind", "sport_clearance").await, 1);
    // The patient sees it, titled in the patient's language.
    anna.profile().set_locale("ru").await.unwrap();
    let offered = anna.certificates().kinds().await.unwrap();
    let sport = offered.iter().find(|k| k.code == "sport_clearance").expect("offered");
    assert_eq!(sport.title, "Справка о допуске к занятиям спортом");
    // Nothing to state yet: the kind's sections are empty.
    assert_eq!(
        code(anna.certificates().request("sport_clearance", None, None).await.unwrap_err()),
        "certificate.no_data"
    );
    let old = ItemData::Screening(kabinet::Screening {
        name: "Флюорография".into(),
        date: date!(2024 - 03 - 01),
        result: "без патологии".into(),
    });
    doctor.staff().unwrap().records().add(&pid, old).await.unwrap();
    // Outside the kind's default year: still nothing; a period longer than it allows is refused.
    assert_eq!(
        code(anna.certificates().request("sport_clearance", None, None).await.unwrap_err()),
        "certificate.no_data"
    );
    let long = anna.certificates().request("sport_clearance", Some(date!(2024 - 01 - 01)), None).await;
    assert_eq!(code(long.unwrap_err()), "certificate.period_too_long");
    let recent = ItemData::Screening(kabinet::Screening {
        name: "Осмотр терапевта".into(),
        date: date!(2026 - 10 - 15),
        result: "здоров".into(),
    });
    doctor.staff().unwrap().records().add(&pid, recent).await.unwrap();
    // Codes are case- and space-insensitive, as the closed sets are.
    let pending = anna.certificates().request(" Sport_Clearance ", None, None).await.unwrap();
    let cert = anna.certificates().confirm(&pending.id, &h.inbox.last_code("certificate_code")).await.unwrap();
    assert_eq!((cert.kind.as_str(), cert.title.as_str()), ("sport_clearance", "Справка о допуске к занятиям спортом"));
    // The default period: the year up to today at the clinic; valid for 180 days from issue.
    assert_eq!((cert.since, cert.until), (Some(date!(2025 - 11 - 28)), Some(date!(2026 - 11 - 28))));
    assert_eq!(cert.valid_until, Some(date!(2027 - 05 - 27)));
    let text = pdftotext(&anna.certificates().download(&cert.id).await.unwrap());
    assert!(text.contains("Справка о допуске к занятиям спортом"), "{text}");
    assert!(text.contains("Осмотр терапевта") && !text.contains("Флюорография"), "{text}");
    assert!(text.contains("Действительна до") && text.contains("2027-05-27"), "{text}");
    // A section with nothing in it says so under its heading.
    assert!(text.contains("Аллергии и реакции") && text.contains("записей нет"), "{text}");
    assert!(text.contains("Поликлиника № 1 (0101)"), "{text}");
    // A pending request, then the operator changes the kind and retires it.
    let waiting = anna.certificates().request("sport_clearance", None, None).await.unwrap();
    let waiting_code = h.inbox.last_code("certificate_code");
    let changed =
        kabinet::CertificateKindDefinition { title_ru: "Допуск к спорту".into(), ..sport_clearance() };
    assert_eq!(sys.register_kind(changed).await.unwrap().title_ru, "Допуск к спорту");
    sys.retire_kind("sport_clearance").await.unwrap();
    assert_eq!(journaled(&db, "certificate_kind", "sport_clearance").await, 3);
    // A Unicode look-alike of a code (the Kelvin sign folds to `k`) is not an alias.
    let e = anna.certificates().request("preventive_chec\u{212A}up", None, None).await.unwrap_err();
    assert_eq!(code(e), "validation");
    assert!(!anna.certificates().kinds().await.unwrap().iter().any(|k| k.code == "sport_clearance"));
    assert!(!sys.kinds().await.unwrap().iter().find(|k| k.code == "sport_clearance").unwrap().active);
    assert_eq!(code(anna.certificates().request("sport_clearance", None, None).await.unwrap_err()), "validation");
    for unknown in ["no_such_kind", "bad\0code", ""] {
        assert_eq!(code(sys.retire_kind(unknown).await.unwrap_err()), "not_found", "{unknown:?}");
    }
    // What was asked for is still issued; what was issued is still listed and readable.
    // It is issued as the kind stood when asked for (title, sections, validity) and listed
    // by that title, whatever the operator changed since.
    let late = anna.certificates().confirm(&waiting.id, &waiting_code).await.unwrap();
    assert_eq!(late.title, "Справка о допуске к занятиям спортом");
    let text = pdftotext(&anna.certificates().download(&late.id).await.unwrap());
    assert!(text.contains("Справка о допуске к занятиям спортом") && !text.contains("Допуск к спорту"), "{text}");
    let listed = anna.certificates().list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|c| c.kind == "sport_clearance" && c.valid_until.is_some()));
    assert!(listed.iter().all(|c| c.title == "Справка о допуске к занятиям спортом"));
    // A kind registered later under the same code: the new definition is what new requests get.
    sys.register_kind(kabinet::CertificateKindDefinition {
        title_ru: "Допуск к спорту".into(), ..sport_clearance()
    })
    .await
    .unwrap();
    let newer = anna.certificates().request("sport_clearance", None, None).await.unwrap();
    let newer = anna.certificates().confirm(&newer.id, &h.inbox.last_code("certificate_code")).await.unwrap();
    assert_eq!(newer.title, "Допуск к спорту");
    assert!(anna.certificates().download(&cert.id).await.unwrap().starts_with(b"%PDF"));
    // Registering it again offers it again; a built-in kind can be retired like any other.
    sys.register_kind(sport_clearance()).await.unwrap();
    assert!(anna.certificates().kinds().await.unwrap().iter().any(|k| k.code == "sport_clearance"));
    sys.retire_kind("vaccination_record").await.unwrap();
    let e = anna.certificates().request(kabinet::CertificateKind::VaccinationRecord, None, None).await.unwrap_err();
    assert_eq!(code(e), "validation");
}

/// Issue 14, item 7: the built-in kinds beyond the seed's three — an outpatient-card extract
/// with lab results, the whole vaccination record (no period), a completed preventive
/// check-up (the last year's screenings, valid a year) — stored as the document kind they
/// name.
async fn r10_built_in_kinds_follow_their_sections_and_period_rules(db: TestDb) {
    let h = db.harness().await;
    let (anna, doctor) = anna_and_doctor(&h).await;
    let pid = anna.patient_id().unwrap().to_owned();
    let staff = doctor.staff().unwrap();
    let report = kabinet::LabReport {
        title: "Биохимия крови".into(),
        laboratory: "ЦКДЛ".into(),
        issued_at: time::macros::datetime!(2026-11-20 08:00 UTC),
        results: vec![kabinet::LabResultInput {
            test_name: "Глюкоза".into(),
            code: "2345-7".into(),
            value: Some("7.9".parse().unwrap()),
            value_text: None,
            unit: Some("ммоль/л".into()),
            range_low: Some("3.9".parse().unwrap()),
            range_high: Some("6.1".parse().unwrap()),
            range_text: None,
            sampled_at: time::macros::datetime!(2026-11-19 08:00 UTC),
        }],
    };
    staff.labs().publish(&pid, report).await.unwrap();
    for (vaccine, day) in [("Гриппол", date!(2019 - 10 - 01)), ("Спутник V", date!(2025 - 10 - 01))] {
        let imm = ItemData::Immunization(kabinet::Immunization {
            vaccine: vaccine.into(),
            date: day,
            dose: None,
            lot: None,
            performer: None,
            next_due: None,
        });
        staff.records().add(&pid, imm).await.unwrap();
    }
    let issue = async |kind: kabinet::CertificateKind, since, until| {
        let p = anna.certificates().request(kind, since, until).await?;
        anna.certificates().confirm(&p.id, &h.inbox.last_code("certificate_code")).await
    };
    // The outpatient-card extract states lab results with their flags; stored as an extract.
    let card = issue(kabinet::CertificateKind::OutpatientCardExtract, None, None).await.unwrap();
    assert!(card.kind == kabinet::CertificateKind::OutpatientCardExtract, "a code compares with its member");
    let text = pdftotext(&anna.certificates().download(&card.id).await.unwrap());
    assert!(text.contains("Outpatient card extract (form 027/u)"), "{text}");
    assert!(text.contains("Laboratory results") && text.contains("Глюкоза") && text.contains("high"), "{text}");
    assert!(text.contains("Гриппол") && text.contains("Спутник V"), "{text}");
    let extracts = anna.documents().list(Some(kabinet::DocumentKind::Extract), None, None).await.unwrap();
    assert!(extracts.iter().any(|d| Some(&d.id) == card.document_id.as_ref()));
    // The vaccination record is always the whole record: a period is refused.
    let e = issue(kabinet::CertificateKind::VaccinationRecord, Some(date!(2025 - 01 - 01)), None).await.unwrap_err();
    assert_eq!(code(e), "certificate.period_not_allowed");
    let record = issue(kabinet::CertificateKind::VaccinationRecord, None, None).await.unwrap();
    assert_eq!((record.since, record.until), (None, None));
    let text = pdftotext(&anna.certificates().download(&record.id).await.unwrap());
    assert!(text.contains("Гриппол") && text.contains("Спутник V"), "{text}");
    // The check-up certificate needs a screening within the last year.
    let e = issue(kabinet::CertificateKind::PreventiveCheckup, None, None).await.unwrap_err();
    assert_eq!(code(e), "certificate.no_data");
    let checkup = ItemData::Screening(kabinet::Screening {
        name: "Диспансеризация".into(),
        date: date!(2026 - 06 - 01),
        result: "I группа здоровья".into(),
    });
    staff.records().add(&pid, checkup).await.unwrap();
    let done = issue(kabinet::CertificateKind::PreventiveCheckup, None, None).await.unwrap();
    assert_eq!(done.valid_until, Some(date!(2027 - 11 - 28)));
    let text = pdftotext(&anna.certificates().download(&done.id).await.unwrap());
    assert!(text.contains("Диспансеризация") && text.contains("Valid until"), "{text}");
    // Reading lab results for a certificate is journaled like any other read of them.
    let pool = db.raw().await;
    let lab_reads = async || -> (i64, i64) {
        let count = |outcome: &'static str| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_entries WHERE resource_type = 'lab_result' AND action = 'read' \
                 AND outcome = $1 AND patient_id = $2",
            )
            .bind(outcome)
            .bind(&pid)
            .fetch_one(&pool)
        };
        (count("success").await.unwrap(), count("failure").await.unwrap())
    };
    // One outpatient-card extract: its request and its confirmation each read the results;
    // the vaccination record and the check-up never touch them.
    assert_eq!(lab_reads().await, (2, 0));
    // A refused request still leaves its reads in the journal, as a failure.
    let year_2000 = (Some(date!(2000 - 01 - 01)), Some(date!(2000 - 12 - 31)));
    let e = issue(kabinet::CertificateKind::OutpatientCardExtract, year_2000.0, year_2000.1).await.unwrap_err();
    assert_eq!(code(e), "certificate.no_data");
    assert_eq!(lab_reads().await, (2, 1));
    // A proxy holding `certificates` but not `labs` cannot get lab results through a
    // certificate; with `labs` too it can.
    let grant = |scopes: &'static [&'static str]| {
        let h = &h;
        let anna = &anna;
        async move {
            let n = 80 + u32::try_from(scopes.len()).unwrap();
            let p = h.cab.session(&h.patient(support::registration_n(n)).await.access_token, &device()).await.unwrap();
            let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
            let pending = anna.proxies().grant(&support::snils_for(n), &scopes, None).await.unwrap();
            anna.proxies().confirm(&pending.id, &h.inbox.last_code("proxy_code")).await.unwrap();
            p.as_ward(anna.patient_id().unwrap()).await.unwrap()
        }
    };
    let narrow = grant(&["certificates"]).await;
    let e = narrow.certificates().request(kabinet::CertificateKind::OutpatientCardExtract, None, None).await;
    assert_eq!(code(e.unwrap_err()), "proxy.scope");
    assert!(narrow.certificates().request(kabinet::CertificateKind::VaccinationRecord, None, None).await.is_ok());
    let wide = grant(&["certificates", "labs"]).await;
    assert!(wide.certificates().request(kabinet::CertificateKind::OutpatientCardExtract, None, None).await.is_ok());
}

async fn r11_r9_r13_r8_other_pdfs_carry_the_patients_name(db: TestDb) {
    let h = db.harness().await;
    let (anna, doctor) = anna_and_doctor(&h).await;
    let pid = anna.patient_id().unwrap().to_owned();
    // Attachment confirmation (made when Anna attached).
    let attached = anna.attachment().current().await.unwrap().unwrap();
    let doc = attached.document_id.clone().expect("attachment confirmation stored");
    let text = pdftotext(&anna.documents().download(&doc).await.unwrap());
    assert!(text.contains("Иванова Анна Сергеевна") && text.contains("Clinic attachment confirmation"), "{text}");
    // Lab report.
    let lab = kabinet::LabReport {
        title: "Общий анализ крови".into(),
        laboratory: "ЦКДЛ".into(),
        issued_at: time::macros::datetime!(2026-11-28 08:00 UTC),
        results: vec![kabinet::LabResultInput {
            test_name: "Гемоглобин".into(),
            code: "718-7".into(),
            value: Some("98".parse().unwrap()),
            value_text: None,
            unit: Some("г/л".into()),
            range_low: Some("120".parse().unwrap()),
            range_high: Some("160".parse().unwrap()),
            range_text: None,
            sampled_at: time::macros::datetime!(2026-11-27 22:30 UTC),
        }],
    };
    let results = doctor.staff().unwrap().labs().publish(&pid, lab).await.unwrap();
    let text = pdftotext(&anna.labs().report_pdf(&results[0].id).await.unwrap());
    assert!(text.contains("Гемоглобин") && text.contains("120–160") && text.contains("low"), "{text}");
    // Sampled at 01:30 in Moscow, where her clinic is: the date a person reads is the 28th
    // (issue 14, item 6), and the issue time names the zone.
    assert!(text.contains("28.11.2026 01:30") && !text.contains("2026-11-27"), "{text}");
    assert!(text.contains("28.11.2026 11:00 (Europe/Moscow, UTC+3)"), "{text}");
    // Request correspondence.
    let clinic = attached.clinic_id.clone();
    let req = anna.requests().create(&clinic, "Справка в бассейн", "Нужна справка").await.unwrap();
    let text = pdftotext(&anna.requests().export_pdf(&req.id).await.unwrap());
    assert!(text.contains("Справка в бассейн") && text.contains("Нужна справка"), "{text}");
    // The harness clock is 09:00 UTC: 12:00 at the clinic, with the zone named.
    assert!(text.contains("28.11.2026 12:00 (Europe/Moscow, UTC+3)"), "{text}");
    // Visit card.
    let dir = h.cab.system().directory();
    let gp = dir.add_practitioner(&clinic, "Петров Пётр Петрович", "терапевт", &["first".into()]).await.unwrap();
    let start = h.clock.0.lock().unwrap().replace_time(time::macros::time!(15:00));
    let slots = h
        .cab
        .system()
        .schedule()
        .open_slots(&gp.id, start, start + time::Duration::minutes(20), 20, "first")
        .await
        .unwrap();
    let visit = anna.appointments().book(&slots[0].id).await.unwrap();
    let text = pdftotext(&anna.appointments().card_pdf(&visit.id).await.unwrap());
    assert!(text.contains("Петров Пётр Петрович") && text.contains(&visit.confirmation_code), "{text}");
}
