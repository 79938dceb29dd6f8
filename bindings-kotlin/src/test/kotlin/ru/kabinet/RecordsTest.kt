package ru.kabinet

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import java.time.Duration
import java.time.Instant
import java.util.UUID
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** Records and corrections (R12), lab flags (R9), requests (R13), proxies (R20) and
 *  completeness (R19) from Kotlin. */
class RecordsTest {
    private val device = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")
    private val booking = BookingTest()

    private suspend fun setup(): Triple<Cabinet, AccountsTest.Inbox, Clinic> {
        val inbox = AccountsTest.Inbox()
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).passwordHashing(4096u, 1u, 1u)
            .locale("en").appointmentPolicy(false, 120L).build()
        val tag = UUID.randomUUID().toString().take(8)
        cab.system().directory().addRegion("r$tag", "Москва")
        val clinic = cab.system().directory().addClinic("r$tag", "c$tag", "Поликлиника $tag", "ул. Ленина, 1", "пн–пт")
        return Triple(cab, inbox, clinic)
    }

    private suspend fun staff(cab: Cabinet, clinicId: String, role: String, n: Int): Me {
        val phone = "+7903%07d".format(n)
        val account = cab.system().staff().create(clinicId, role, "Петров Пётр", phone, "s$n@clinic.ru", "Registratura#2026")
        val step = cab.auth().login(phone, "Registratura#2026", device)
        return cab.session(cab.auth().verifySecondFactor(step.id, booking.totpFor(account.totpSecretBase32, Instant.now())).accessToken, device)
    }

    private suspend fun attached(cab: Cabinet, inbox: AccountsTest.Inbox, clinic: Clinic, n: Int): Me {
        val me = booking.patientFor(cab, inbox, n)
        val pending = me.attachment().attach(clinic.code, "4508123456", me.profile().get().snils!!, "8451999122899990")
        me.attachment().confirm(pending.id, inbox.code("attachment_code"))
        return me
    }

    @Test
    fun `R12 records, corrections and R9 lab flags`(): Unit = runBlocking {
        val (cab, inbox, clinic) = setup()
        val anna = attached(cab, inbox, clinic, 21)
        val doctor = staff(cab, clinic.id, "doctor", 21)
        val pid = anna.patientId()
        val item = doctor.records().add(pid, RecordData.Immunization(Immunization("Спутник V", "2025-10-01", "1 из 2", null, null, null)))
        doctor.records().add(pid, RecordData.Visit(Visit("2026-02-10", "Поликлиника", listOf(Diagnosis("j06.9", "ОРВИ")), listOf("осмотр"))))
        val bad = assertFailsWith<KabinetException.Validation> {
            doctor.records().add(pid, RecordData.Visit(Visit("2026-02-10", "Поликлиника", listOf(Diagnosis("J6", "x")), emptyList())))
        }
        assertEquals("icd10", bad.field)
        val visit = anna.records().visits().single().data as RecordData.Visit
        assertEquals("J06.9", visit.value.diagnoses.single().icd10)
        assertFailsWith<KabinetException.PermissionDenied> { doctor.records().immunizations() }
        val corr = anna.records().requestCorrection(item.id, "Дата 2 октября")
        assertEquals(listOf(corr.id), doctor.records().correctionInbox().map { it.id })
        val fixed = RecordData.Immunization(Immunization("Спутник V", "2025-10-02", "1 из 2", null, null, null))
        assertEquals("accepted", doctor.records().resolveCorrection(corr.id, true, "Исправлено", fixed).status)
        val now = anna.records().immunizations().single()
        assertEquals(2L, now.version)
        assertEquals("2025-10-02", (now.data as RecordData.Immunization).value.date)

        val lab = staff(cab, clinic.id, "laboratory", 22)
        val sampled = Instant.now().minus(Duration.ofHours(2))
        val report = LabReport("Липидный профиль", "ЦКДЛ", Instant.now().minus(Duration.ofMinutes(1)), listOf(
            LabResultInput("Холестерин", "2093-3", 6.3, null, "ммоль/л", null, 5.2, null, sampled),
            LabResultInput("ЛПВП", "2085-9", 0.9, null, "ммоль/л", 1.0, null, null, sampled),
            LabResultInput("ВИЧ", "X", null, "положительно", null, null, null, "отрицательно", sampled),
        ))
        assertEquals(listOf("high", "low", "abnormal"), lab.labs().publish(pid, report).map { it.flag })
        assertEquals(listOf("≤ 5.2", "≥ 1", "отрицательно"), anna.labs().results(null).map { it.referenceRange })
    }

    @Test
    fun `R13 requests, R20 proxy scopes and R19 completeness`(): Unit = runBlocking {
        val (cab, inbox, clinic) = setup()
        val anna = attached(cab, inbox, clinic, 31)
        val registrar = staff(cab, clinic.id, "registrar", 31)
        val req = anna.requests().create(clinic.id, "Справка", "Нужна справка")
        assertEquals("clarification_needed", registrar.requests().answer(req.id, "Уточните", "clarification_needed").status)
        assertEquals(15UL, anna.requests().addDocument(req.id, "анализы.pdf", "%PDF-1.7\n%%EOF\n".toByteArray()).size)
        assertEquals("in_processing", anna.requests().reply(req.id, "Прикрепила").status)
        assertEquals("completed", registrar.requests().answer(req.id, "Готово", "completed").status)
        val closed = assertFailsWith<KabinetException.Conflict> { anna.requests().markCompleted(req.id) }
        assertEquals("request.completed", closed.code)
        val parent = attached(cab, inbox, clinic, 32)
        registrar.proxies().grantForWard(parent.patientId(), anna.patientId(), listOf("records"))
        val ward = parent.asWard(anna.patientId())
        assertEquals("proxy", ward.role())
        assertTrue(ward.records().visits().isEmpty())
        val denied = assertFailsWith<KabinetException.PermissionDenied> { ward.requests().list() }
        assertEquals("proxy.scope", denied.code)
        val missing = anna.completeness().map { it.code }
        assertTrue("oms_policy_missing" in missing && "attachment_missing" !in missing)
    }
}
