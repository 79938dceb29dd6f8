package ru.kabinet

import ru.kabinet.model.*
import java.time.LocalDate
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import java.util.Collections
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** Issue 14 from Kotlin: login by INN (R3), the whole profile with a Kotlin `Confirmer`
 *  (an electronic signature) and SNILS through the registry (R18), completeness advice
 *  naming its call (R19), and weak legacy hashes reported on import (R4). */
class PersonalDataTest {
    private val password = "Vek-Tor!58zeb"
    private val device = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")
    private val inn = "500100732259"

    /** The app's signing service: a proof is good when it signs the request's challenge. */
    class Signatures : Confirmer {
        val started: MutableList<ConfirmationRequest> = Collections.synchronizedList(mutableListOf())
        @Volatile var down = false
        override fun methods(): List<String> = listOf("esignature")
        override fun start(request: ConfirmationRequest) {
            if (down) throw RegistryFailed.Unavailable("signing service down")
            started.add(request)
        }
        override fun verify(request: ConfirmationRequest, proof: String): Boolean = proof == "signed:${request.challenge}"
    }

    /** The registries know Anna by her SNILS and by a corrected one, nobody else. */
    object Registry : IdentityRegistry {
        override fun check(request: RegistryRequest): RegistryAnswer =
            if (request.snils == "11223344595" || request.snils == "12345678964") RegistryAnswer(true, null)
            else RegistryAnswer(false, "snils_not_found")
    }

    private suspend fun signedIn(cab: Cabinet, inbox: AccountsTest.Inbox): Me {
        val id = cab.accounts().register(
            Registration(
                phone = "8 (916) 123-45-67", email = "anna@example.ru", password = password,
                surname = "Иванова", givenName = "Анна", patronymic = "Сергеевна", birthDate = LocalDate.parse("1990-03-14"),
                sex = Sex.FEMALE, snils = "112-233-445 95", acceptedTermsVersion = "2026-01", inn = inn,
            ),
        )
        cab.accounts().confirmPhone(id, inbox.code("phone_confirmation"))
        assertFailsWith<KabinetException.Authentication> { cab.auth().login(inn, password, device) }
        val step = cab.auth().login("+79161234567", password, device)
        val me = cab.session(cab.auth().verifySecondFactor(step.id, inbox.code("login_code")).accessToken, device)
        assertTrue(me.identity().confirm("sms", "Иванова Анна Сергеевна", LocalDate.parse("1990-03-14"), "8451999122899990", "+79161234567").confirmed)
        return me
    }

    @Test
    fun `R3 R18 INN login, every field, a Kotlin confirmer and SNILS through the registry`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val signatures = Signatures()
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).identityRegistry(Registry)
            .confirmer(signatures).passwordHashing(4096u, 1u, 1u).locale("en").build()
        val me = signedIn(cab, inbox)
        // Once the identity is confirmed, the INN signs her in.
        cab.auth().login("5001 0073 2259", password, device)
        val advice = me.profile().completeness().associate { it.code to it.call }
        assertEquals("me.profile.request_change(\"oms_policy\")", advice["oms_policy_missing"])
        // The policy by SMS code (the default method) …
        val oms = me.profile().requestChange("oms_policy", "8451 9991 2289 9990")
        assertEquals("sms", oms.method)
        me.profile().confirmChange(oms.id, inbox.code("profile_change"))
        // … the insurer by the app's electronic signature.
        val insurer = me.profile().requestChange("insurer", "АО «СОГАЗ-Мед»", "esignature")
        val started = signatures.started.last()
        assertEquals(listOf(insurer.id, "profile_change", "insurer"), listOf(started.id, started.purpose, started.subject))
        val forged = assertFailsWith<KabinetException.Authentication> { me.profile().confirmChange(insurer.id, "signed:forged") }
        assertEquals("auth.invalid_code", forged.code)
        me.profile().confirmChange(insurer.id, "signed:${started.challenge}")
        val p = me.profile().get()
        assertEquals(listOf("8451999122899990", "АО «СОГАЗ-Мед»", inn), listOf(p.omsPolicy, p.insurer, p.inn))
        assertEquals("esignature", me.profile().history().single { it.field == "insurer" }.confirmedBy)
        assertFalse(me.profile().completeness().any { it.code == "oms_policy_missing" || it.code == "insurer_missing" })
        // SNILS only through the registry; a method nobody offers is refused; a failing app is typed.
        val unknown = assertFailsWith<KabinetException.Conflict> { me.profile().requestChange("snils", "987-654-321 83") }
        assertEquals("identity.mismatch", unknown.code)
        val corrected = me.profile().requestChange("snils", "123-456-789 64")
        me.profile().confirmChange(corrected.id, inbox.code("profile_change"))
        assertEquals("12345678964", me.profile().get().snils)
        val noMethod = assertFailsWith<KabinetException.Validation> { me.profile().requestChange("insurer", "АО «Альфа»", "telepathy") }
        assertEquals("confirmation.no_method", noMethod.code)
        signatures.down = true
        val down = assertFailsWith<KabinetException.Storage> { me.profile().requestChange("passport", "4508 123456", "esignature") }
        assertEquals("confirmation.unavailable", down.code)
        assertNull(me.profile().get().passport)
    }

    @Test
    fun `R4 import reports a weak legacy hash and takes an INN`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).passwordHashing(4096u, 1u, 1u).locale("en").build()
        val strong = "\$2a\$12\$NYqRktaMVcE9fkTDawJSFeAmlr6ON4kFRpEGeWSJTAkDS8VpZQkFi"
        val imported = cab.system().accounts().importAccount(
            LegacyAccount("+79161234567", null, "Иванова", "Анна", null, LocalDate.parse("1990-03-14"), Sex.FEMALE, "112-233-445 95", strong, inn),
        )
        assertEquals(listOf("bcrypt", "false"), listOf(imported.hashAlgorithm, imported.weakHash.toString()))
        val weak = strong.replace("\$12\$", "\$04\$")
        val reported = cab.system().accounts().importAccount(
            LegacyAccount("+79261234567", null, "Петров", "Иван", null, LocalDate.parse("1980-01-01"), Sex.MALE, "123-456-789 64", weak),
        )
        assertTrue(reported.weakHash)
        cab.auth().verifySecondFactor(cab.auth().login(inn, "Legacy-Pass1!", device).id, inbox.code("login_code"))
    }

    @Test
    fun `R4 the password-reminder period is configured and checked`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val bad = assertFailsWith<KabinetException.Config> {
            CabinetBuilder("sqlite::memory:").ephemeralKey().passwordReminderDays(0L).build()
        }
        assertEquals("config.out_of_range", bad.code)
        // A fresh password brings no reminder (the period's end is tested in Rust and Python,
        // which have a test clock).
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).identityRegistry(Registry)
            .passwordHashing(4096u, 1u, 1u).passwordReminderDays(30L).locale("en").build()
        signedIn(cab, inbox)
        cab.runDueJobs()
        assertFalse(inbox.messages.any { it.kind == "password_reminder" })
    }

    @Test
    fun `R14 push-only preferences reach the app once a device registers`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 71)
        val doctor = Fixtures.staff(cab, clinic.id, StaffRole.DOCTOR, 72)
        val pdf = "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".toByteArray()
        val meta = DocumentMeta(LocalDate.parse("2026-11-01"), "П", null)
        anna.notifications().setPreferences(false, false, true)
        fun news() = inbox.messages.filter { it.kind == "new_document" && it.patientId == anna.patientId() }
        doctor.documents().publish(anna.patientId(), DocumentKind.OTHER, "a.pdf", pdf, meta)
        assertTrue(news().isEmpty(), "no device yet: nothing can carry it")
        val blank = assertFailsWith<KabinetException.Validation> { anna.notifications().registerPush("dev-1", PushPlatform.FCM, " ") }
        assertEquals("token", blank.field)
        anna.notifications().registerPush("dev-1", PushPlatform.FCM, "fcm-token-1")
        assertEquals(listOf("dev-1"), anna.notifications().pushDevices().map { it.deviceId })
        doctor.documents().publish(anna.patientId(), DocumentKind.OTHER, "b.pdf", pdf, meta)
        val pushed = news().single()
        assertEquals(listOf(Channel.PUSH, PushPlatform.FCM), listOf(pushed.channel, pushed.platform))
        assertEquals("fcm-token-1", pushed.recipient)
        anna.notifications().unregisterPush("dev-1")
        assertTrue(anna.notifications().pushDevices().isEmpty())
    }

    @Test
    fun `R11 one voluntary change of clinic a year, the policy saved to the profile`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val other = cab.system().directory().addClinic(clinic.regionCode, "x" + clinic.code, "Другая " + clinic.name, "ул. Мира, 2", "пн–пт")
        val anna = Fixtures.attached(cab, inbox, clinic, 81)
        val enp = Fixtures.enpFor(81)
        assertEquals(enp, anna.profile().get().omsPolicy, "the policy given is saved to the profile")
        val snils = anna.profile().get().snils!!
        val change = anna.attachment().attach(other.code, "4508123456", snils, enp)
        anna.attachment().confirm(change.id, inbox.code("attachment_code"))
        val limit = assertFailsWith<KabinetException.Conflict> {
            anna.attachment().attach(clinic.code, "4508123456", snils, enp, AttachmentReason.VOLUNTARY)
        }
        assertEquals("attachment.limit", limit.code)
        val moved = assertFailsWith<KabinetException.Conflict> {
            anna.attachment().attach(clinic.code, "4508123456", snils, enp, AttachmentReason.RESIDENCE_CHANGE)
        }
        assertEquals("attachment.residence_unchanged", moved.code)
        val bad = assertFailsWith<KabinetException.Config> {
            CabinetBuilder("sqlite::memory:").ephemeralKey().attachmentChangesPerYear(13u).build()
        }
        assertEquals("config.out_of_range", bad.code)
    }

    @Test
    fun `R12 R13 a correction is due within one working day, configured holidays`(): Unit = runBlocking {
        val bad = assertFailsWith<KabinetException.Config> {
            CabinetBuilder("sqlite::memory:").ephemeralKey().requestExpiryDays(0L).build()
        }
        assertEquals("config.out_of_range", bad.code)
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 91)
        val doctor = Fixtures.staff(cab, clinic.id, StaffRole.DOCTOR, 92)
        val item = doctor.records().addVisit(anna.patientId(), Visit(LocalDate.parse("2026-02-10"), "Поликлиника", listOf(Diagnosis("J06.9", "ОРВИ")), listOf("осмотр")))
        val asked = anna.records().requestCorrection(item.id, "Другой диагноз")
        // The end of the next working day: more than a day, at most four (a long weekend) after.
        val hours = java.time.Duration.between(asked.createdAt, asked.dueAt).toHours()
        assertTrue(hours in 24..(4 * 24 + 24), "due $hours hours after")
        assertTrue(doctor.corrections().overdue().isEmpty())
    }

    @Test
    fun `R20 attachment and notifications are scopes a proxy can hold`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 101)
        val parent = Fixtures.attached(cab, inbox, clinic, 102)
        val pending = anna.proxies().grant(parent.profile().get().snils!!, listOf("attachment", "notifications", "records"), null)
        anna.proxies().confirm(pending.id, inbox.code("proxy_code"))
        val ward = parent.asWard(anna.patientId())
        assertEquals(clinic.id, ward.attachment().current()?.clinicId)
        val denied = assertFailsWith<KabinetException.PermissionDenied> { ward.certificates().list() }
        assertEquals("proxy.scope", denied.code)
        val doctor = Fixtures.staff(cab, clinic.id, StaffRole.DOCTOR, 103)
        val pdf = "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".toByteArray()
        doctor.documents().publish(anna.patientId(), DocumentKind.OTHER, "a.pdf", pdf, DocumentMeta(LocalDate.parse("2026-11-01"), "П", null))
        val parentPhone = parent.profile().get().phone
        val news = inbox.messages.filter { it.kind == "new_document" && it.recipient == parentPhone }
        assertEquals(1, news.size)
        assertTrue(news.single().text.startsWith("[for "), news.single().text)
    }

    @Test
    fun `S3 re-upload tasks are the issuing clinic's and only for quarantined documents`(): Unit = runBlocking {
        val (cab, inbox, clinic) = Fixtures.clinicCabinet()
        val anna = Fixtures.attached(cab, inbox, clinic, 111)
        val doctor = Fixtures.staff(cab, clinic.id, StaffRole.DOCTOR, 112)
        val pdf = "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".toByteArray()
        val doc = doctor.documents().publish(anna.patientId(), DocumentKind.EXTRACT, "a.pdf", pdf, DocumentMeta(LocalDate.parse("2026-11-01"), "П", null))
        assertFalse(doc.restoring)
        assertTrue(doctor.documents().reuploadTasks().isEmpty())
        // A sound document is not to be replaced this way (tampering is tested in Rust and Python).
        assertFailsWith<KabinetException.NotFound> { doctor.documents().reupload(doc.id, pdf) }
        assertFailsWith<KabinetException.PermissionDenied> { anna.documents().reuploadTasks() }
    }
}
