package ru.kabinet

import ru.kabinet.model.*
import java.math.BigDecimal
import java.time.LocalDate
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import java.time.Duration
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** Records and corrections (R12), lab flags (R9), requests (R13), proxies (R20) and
 *  completeness (R19) from Kotlin. */
class RecordsTest {
    @Test
    fun `R12 records, corrections and R9 lab flags`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 21)
        val doctor = Fixtures.staff(cab, clinic.id, StaffRole.DOCTOR, 21)
        val pid = anna.patientId()
        val item = doctor.records().addImmunization(pid, Immunization("Спутник V", LocalDate.parse("2025-10-01"), "1 из 2", null, null, null))
        doctor.records().addVisit(pid, Visit(LocalDate.parse("2026-02-10"), "Поликлиника", listOf(Diagnosis("j06.9", "ОРВИ")), listOf("осмотр")))
        val bad = assertFailsWith<KabinetException.Validation> {
            doctor.records().addVisit(pid, Visit(LocalDate.parse("2026-02-10"), "Поликлиника", listOf(Diagnosis("J6", "x")), emptyList()))
        }
        assertEquals("icd10", bad.field)
        val visit = anna.records().visits().single().data as ItemData.Visit
        assertEquals("J06.9", visit.v1.diagnoses.single().icd10)
        assertFailsWith<KabinetException.PermissionDenied> { doctor.records().immunizations() }
        assertFailsWith<KabinetException.PermissionDenied> { anna.corrections() }
        doctor.records().addMedication(pid, Medication("Эналаприл", "5 мг", "1 раз в день", LocalDate.parse("2026-02-10"), null, "Петров П. П."))
        doctor.records().addAllergy(pid, Allergy("Пенициллин", "сыпь", Severity.MODERATE, LocalDate.parse("2020-05-01")))
        assertEquals(listOf("Эналаприл"), anna.records().medications().map { (it.data as ItemData.Medication).v1.name })
        assertEquals(listOf("Пенициллин"), anna.records().allergies().map { (it.data as ItemData.Allergy).v1.substance })
        val corr = anna.records().requestCorrection(item.id, "Дата 2 октября")
        assertEquals(listOf(corr.id), doctor.corrections().inbox().map { it.id })
        val fixed = ItemData.Immunization(Immunization("Спутник V", LocalDate.parse("2025-10-02"), "1 из 2", null, null, null))
        assertEquals(CorrectionStatus.ACCEPTED, doctor.corrections().resolve(corr.id, true, "Исправлено", fixed).status)
        assertTrue(doctor.corrections().inbox().isEmpty())
        val now = anna.records().immunizations().single()
        assertEquals(2L, now.version)
        assertEquals(LocalDate.parse("2025-10-02"), (now.data as ItemData.Immunization).v1.date)

        val lab = Fixtures.staff(cab, clinic.id, StaffRole.LABORATORY, 22)
        val sampled = Instant.now().minus(Duration.ofHours(2))
        val report = LabReport("Липидный профиль", "ЦКДЛ", Instant.now().minus(Duration.ofMinutes(1)), listOf(
            LabResultInput("Холестерин", "2093-3", BigDecimal("6.3"), null, "ммоль/л", null, BigDecimal("5.2"), null, sampled),
            LabResultInput("ЛПВП", "2085-9", BigDecimal("0.9"), null, "ммоль/л", BigDecimal("1.0"), null, null, sampled),
            LabResultInput("ВИЧ", "X", null, "положительно", null, null, null, "отрицательно", sampled),
        ))
        assertEquals(listOf(LabFlag.HIGH, LabFlag.LOW, LabFlag.ABNORMAL), lab.labs().publish(pid, report).map { it.flag })
        assertEquals(listOf("≤ 5.2", "≥ 1.0", "отрицательно"), anna.labs().results(null).map { it.referenceRange })
        assertEquals(BigDecimal("6.3"), anna.labs().results(null).first().value, "a value keeps its digits")
        // Lists that grow come in pages: limit plus the next page's cursor.
        val first = anna.labs().resultsPage(limit = 2u)
        assertEquals(2, first.items.size)
        val rest = anna.labs().resultsPage(limit = 2u, cursor = first.nextCursor)
        assertEquals(anna.labs().results(null).map { it.id }, (first.items + rest.items).map { it.id })
        assertEquals(null, rest.nextCursor)
        val badCursor = assertFailsWith<KabinetException.Validation> { anna.labs().resultsPage(cursor = "not-a-cursor") }
        assertEquals("cursor", badCursor.field)
    }

    @Test
    fun `FHIR export of a record and idempotent re-import`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 51)
        val doctor = Fixtures.staff(cab, clinic.id, StaffRole.DOCTOR, 51)
        doctor.records().add(anna.patientId(), ItemData.Visit(Visit(LocalDate.parse("2026-02-10"), "Поликлиника", listOf(Diagnosis("I10", "Гипертензия")), emptyList())))
        val bundle = anna.records().exportFhir()
        assertTrue(bundle.contains("\"Encounter\"") && bundle.contains("Гипертензия"))
        val again = cab.system().fhir().importBundle(bundle)
        assertTrue(again.created.isEmpty())
        assertEquals(listOf(anna.patientId()), again.patientIds)
        // The person's own export sent back by another system (`source`) binds to the same patient.
        assertEquals(listOf(anna.patientId()), cab.system().fhir().importBundle(bundle, "urn:example:other").patientIds)
        val bad = assertFailsWith<KabinetException.Validation> { cab.system().fhir().importBundle("{\"resourceType\": \"Bundle\", \"entry\": [{}]}") }
        assertEquals("fhir.invalid", bad.code)
    }

    @Test
    fun `FHIR import from a file - the XDS bundle yields a document`(): Unit = runBlocking {
        val (cab, _, _) = Fixtures.clinicCabinet()
        val report = cab.system().fhir().importFile("../tests/fhir-r4-examples/Bundle-xds.json")
        assertEquals(1UL, report.created["DocumentReference"])
        assertEquals(1UL, report.created["Binary"])
        assertEquals(2UL, report.unsupported["Practitioner"], "authors without a clinic are counted, not dropped")
        val document = report.entries.single { it.resourceType == "DocumentReference" }
        assertEquals("created", document.outcome)
        assertEquals("entry[0].resource", document.path)
        assertEquals(listOf("unsupported", "unsupported"), report.entries.filter { it.resourceType == "Practitioner" }.map { it.outcome })
        val export = cab.system().fhir().exportPatient(report.patientIds.single())
        assertTrue(export.contains("\"DocumentReference\"") && export.contains("YXNkYXNkYXNkYXNkYXNk"))
        assertTrue(cab.system().fhir().importFile("../tests/fhir-r4-examples/Bundle-xds.json").created.isEmpty())
        val missing = assertFailsWith<KabinetException.Validation> { cab.system().fhir().importFile("no-such-file.json") }
        assertEquals("fhir.invalid", missing.code)
    }

    @Test
    fun `R13 requests, R20 proxy scopes and R19 completeness`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 31)
        val registrar = Fixtures.staff(cab, clinic.id, StaffRole.REGISTRAR, 31)
        val req = anna.requests().create(clinic.id, "Справка", "Нужна справка")
        assertEquals(RequestStatus.CLARIFICATION_NEEDED, registrar.requests().reply(req.id, "Уточните", RequestStatus.CLARIFICATION_NEEDED).status)
        val pdf = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".toByteArray()
        assertEquals(pdf.size.toULong(), anna.requests().addDocument(req.id, "анализы.pdf", pdf).size)
        assertEquals(RequestStatus.IN_PROCESSING, anna.requests().reply(req.id, "Прикрепила").status)
        assertEquals(RequestStatus.COMPLETED, registrar.requests().reply(req.id, "Готово", RequestStatus.COMPLETED).status)
        val closed = assertFailsWith<KabinetException.Conflict> { anna.requests().markCompleted(req.id) }
        assertEquals("request.completed", closed.code)
        val parent = Fixtures.attached(cab, inbox, clinic, 32)
        // Staff register proxies only for minors and wards; the adult grants herself, by her code.
        val adult = assertFailsWith<KabinetException.PermissionDenied> {
            registrar.proxies().grantForWard(WardGrant(null, parent.patientId(), anna.patientId(), listOf("records"), "Доверенность", null, false))
        }
        assertEquals("proxy.ward_adult", adult.code)
        val pending = anna.proxies().grant(parent.profile().get().snils!!, listOf("records"), null)
        val grant = anna.proxies().confirm(pending.id, inbox.code("proxy_code"))
        assertEquals(listOf("records"), grant.scopes)
        val ward = parent.asWard(anna.patientId())
        assertEquals(ContextRole.PROXY, ward.role())
        assertTrue(ward.records().visits().isEmpty())
        val denied = assertFailsWith<KabinetException.PermissionDenied> { ward.requests().list() }
        assertEquals("proxy.scope", denied.code)
        // The policy given at attachment is on file now; its insurer is the advice, with its call.
        val missing = anna.profile().completeness().associate { it.code to it.call }
        assertTrue("oms_policy_missing" !in missing && "attachment_missing" !in missing, missing.toString())
        assertEquals("me.profile.request_change(\"insurer\")", missing["insurer_missing"])
    }
}
