package ru.kabinet

import ru.kabinet.model.*
import java.math.BigDecimal
import java.time.LocalDate
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import java.io.File
import java.time.Duration
import java.time.Instant
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** Documents and sharing (R7, S2, S3), certificates as PDFs (R10) and notification
 *  preferences (R14) from Kotlin, with the Notifier implemented in Kotlin. */
class DocumentsTest {
    private val pdf = "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".toByteArray()
    private val keys = File("../bindings-python/tests/data")

    @Test
    fun `R7 S2 publish, download, refuse by content and share`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 41)
        val doctor = Fixtures.staff(cab, clinic.id, StaffRole.DOCTOR, 41)
        val meta = DocumentMeta(LocalDate.parse("2026-11-20"), "Поликлиника", "УЗИ")
        val doc = doctor.documents().publish(anna.patientId(), DocumentKind.EXTRACT, "выписка.pdf", pdf, meta)
        assertEquals("application/pdf", doc.contentType)
        val html = assertFailsWith<KabinetException.Validation> {
            doctor.documents().publish(anna.patientId(), DocumentKind.OTHER, "page.pdf", "<html><body/></html>".toByteArray(), meta)
        }
        assertEquals("content", html.field)
        assertContentEquals(pdf, anna.documents().download(doc.id))
        assertEquals(listOf(doc.id), anna.documents().list(DocumentKind.EXTRACT, null, null).map { it.id })
        val pkg = anna.documents().share(doc.id, File(keys, "recipient_public.pem").readText())
        val opened = openSharedPackage(pkg, File(keys, "recipient_private.pem").readText(), cab.system().audit().publicKey())
        assertContentEquals(pdf, opened.content)
        assertEquals("выписка.pdf", opened.filename)
        pkg[pkg.size / 2] = (pkg[pkg.size / 2].toInt() xor 1).toByte()
        assertFailsWith<KabinetException.Integrity> { openSharedPackage(pkg, File(keys, "recipient_private.pem").readText(), null) }
    }

    @Test
    fun `R10 certificate PDF, other PDFs and R14 preferences`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 42)
        val doctor = Fixtures.staff(cab, clinic.id, StaffRole.DOCTOR, 42)
        val none = assertFailsWith<KabinetException.Conflict> { anna.certificates().request("vaccination", null, null) }
        assertEquals("certificate.no_data", none.code)
        doctor.records().add(anna.patientId(), ItemData.Immunization(Immunization("Спутник V", LocalDate.parse("2025-10-01"), null, null, null, null)))
        val pending = anna.certificates().request("vaccination", null, null)
        val cert = anna.certificates().confirm(pending.id, inbox.code("certificate_code"))
        assertEquals(CertificateStatus.READY, cert.status)
        val bytes = anna.certificates().download(cert.id)
        assertEquals("%PDF", String(bytes.copyOfRange(0, 4)))
        assertNotNull(anna.attachment().current()?.documentId)
        val results = doctor.labs().publish(anna.patientId(), LabReport("Глюкоза", "ЦКДЛ", Instant.now().minus(Duration.ofMinutes(1)), listOf(
            LabResultInput("Глюкоза", "2345-7", BigDecimal("7.2"), null, "ммоль/л", BigDecimal("3.9"), BigDecimal("6.1"), null, Instant.now().minus(Duration.ofHours(1))),
        )))
        assertEquals(LabFlag.HIGH, results.single().flag)
        assertEquals("%PDF", String(anna.labs().reportPdf(results.single().id).copyOfRange(0, 4)))
        val req = anna.requests().create(clinic.id, "Вопрос", "Текст")
        assertEquals("%PDF", String(anna.requests().exportPdf(req.id).copyOfRange(0, 4)))
        assertTrue(anna.notifications().preferences().sms)
        anna.notifications().setPreferences(false, false, false)
        val before = inbox.messages.count { it.kind == "new_document" }
        doctor.documents().publish(anna.patientId(), DocumentKind.OTHER, "a.pdf", pdf, DocumentMeta(LocalDate.parse("2026-11-01"), "П", null))
        assertEquals(before, inbox.messages.count { it.kind == "new_document" })
        anna.notifications().setPreferences(true, true, true)
        anna.profile().setLocale("ru")
        doctor.documents().publish(anna.patientId(), DocumentKind.OTHER, "b.pdf", pdf, DocumentMeta(LocalDate.parse("2026-11-01"), "П", null))
        assertTrue(inbox.messages.last().text.startsWith("В личном кабинете новый документ"))
    }

    @Test
    fun `R10 certificate kinds are data an operator registers`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 43)
        val doctor = Fixtures.staff(cab, clinic.id, StaffRole.DOCTOR, 43)
        val registry = cab.system().certificates()
        assertEquals(6, registry.kinds().count { it.builtin })
        val sport = CertificateKindDefinition(
            "sport_clearance", "Справка для занятий спортом", "Sports clearance",
            listOf(CertificateSection.SCREENINGS), CertificatePeriod.OPTIONAL, 365u, 365u, 180u, DocumentKind.CERTIFICATE,
        )
        val bad = assertFailsWith<KabinetException.Validation> { registry.registerKind(sport.copy(code = "Sport Clearance")) }
        assertEquals("code", bad.field)
        val info = registry.registerKind(sport)
        assertTrue(info.active && !info.builtin)
        assertTrue(anna.certificates().kinds().any { it.code == "sport_clearance" })
        doctor.records().add(anna.patientId(), ItemData.Screening(Screening("Осмотр терапевта", LocalDate.parse("2026-10-15"), "здоров")))
        val tooLong = assertFailsWith<KabinetException.Conflict> {
            anna.certificates().request("sport_clearance", LocalDate.parse("2020-01-01"), null)
        }
        assertEquals("certificate.period_too_long", tooLong.code)
        val pending = anna.certificates().request("sport_clearance", null, null)
        val cert = anna.certificates().confirm(pending.id, inbox.code("certificate_code"))
        assertEquals("sport_clearance", cert.kind)
        assertNotNull(cert.validUntil)
        assertEquals("%PDF", String(anna.certificates().download(cert.id).copyOfRange(0, 4)))
        registry.retireKind("sport_clearance")
        assertFailsWith<KabinetException.Validation> { anna.certificates().request("sport_clearance", null, null) }
        assertEquals(listOf("sport_clearance"), anna.certificates().list().map { it.kind })
        val whole = assertFailsWith<KabinetException.Conflict> {
            anna.certificates().request("vaccination_record", LocalDate.parse("2026-01-01"), null)
        }
        assertEquals("certificate.period_not_allowed", whole.code)
    }
}
