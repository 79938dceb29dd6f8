package ru.kabinet

import ru.kabinet.model.*
import java.time.LocalDate
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import java.nio.ByteBuffer
import java.time.Duration
import java.time.Instant
import java.time.temporal.ChronoUnit
import java.util.UUID
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** Directory, booking (R8), attachment (R11) and staff sessions with TOTP from Kotlin. */
class BookingTest {
    private val password = "Vek-Tor!58zeb"
    private val device = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")

    /** RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it. */
    fun totpFor(secretBase32: String, at: Instant): String {
        val alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        var bits = 0
        var value = 0
        val key = java.io.ByteArrayOutputStream()
        for (c in secretBase32.trimEnd('=')) {
            value = (value shl 5) or alphabet.indexOf(c)
            bits += 5
            if (bits >= 8) {
                key.write((value shr (bits - 8)) and 0xff)
                bits -= 8
            }
        }
        val mac = Mac.getInstance("HmacSHA1")
        mac.init(SecretKeySpec(key.toByteArray(), "HmacSHA1"))
        val digest = mac.doFinal(ByteBuffer.allocate(8).putLong(at.epochSecond / 30).array())
        val offset = digest.last().toInt() and 0x0f
        val code = (ByteBuffer.wrap(digest, offset, 4).int and 0x7fffffff) % 1_000_000
        return "%06d".format(code)
    }

    suspend fun patientFor(cab: Cabinet, inbox: AccountsTest.Inbox, n: Int): Me {
        val phone = "+7917%07d".format(n)
        val snils = run {
            val body = "%09d".format(3_000_000 + n)
            val sum = body.mapIndexed { i, c -> (c - '0') * (9 - i) }.sum()
            body + "%02d".format(if (sum % 101 == 100) 0 else sum % 101)
        }
        val id = cab.accounts().register(
            Registration(
                phone = phone, email = "p$n@example.ru", password = password, surname = "Иванова", givenName = "Анна",
                patronymic = "Сергеевна", birthDate = LocalDate.parse("1990-03-14"), sex = Sex.FEMALE, snils = snils,
                acceptedTermsVersion = "2026-01",
            ),
        )
        cab.accounts().confirmPhone(id, inbox.code("phone_confirmation"))
        val step = cab.auth().login(phone, password, device)
        val me = cab.session(cab.auth().verifySecondFactor(step.id, inbox.code("login_code")).accessToken, device)
        // Medical data needs a confirmed identity (R2): the test registry knows everyone.
        check(me.identity().confirm("sms", "Иванова Анна Сергеевна", LocalDate.parse("1990-03-14"), "8451999122899990", phone).confirmed)
        return me
    }

    /** A stand-in for the state registries that knows every test person. */
    object Approving : IdentityRegistry {
        override fun check(request: RegistryRequest): RegistryAnswer = RegistryAnswer(true, null)
    }

    private suspend fun cabinet(inbox: AccountsTest.Inbox, url: String = "sqlite::memory:", keys: String? = null): Cabinet {
        val builder = CabinetBuilder(url).notifier(inbox).identityRegistry(Approving).passwordHashing(4096u, 1u, 1u).locale("en")
            .appointmentPolicy(false, 120L)
        return (if (keys == null) builder.ephemeralKey() else builder.keyFile(keys)).build()
    }

    private suspend fun world(cab: Cabinet): Triple<Clinic, Practitioner, List<Slot>> {
        val tag = UUID.randomUUID().toString().take(8)
        val dir = cab.system().directory()
        dir.addRegion("r$tag", "Москва")
        val clinic = dir.addClinic("r$tag", "c$tag", "Семёновская поликлиника $tag", "ул. Семёновская, 2", "пн–пт 8:00–20:00")
        val gp = dir.addPractitioner(clinic.id, "Петров Пётр Петрович", "Терапевт", listOf("first"))
        val start = Instant.now().plus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.HOURS)
        val slots = cab.system().schedule().openSlots(gp.id, start, start.plus(Duration.ofHours(1)), 20L, "first")
        return Triple(clinic, gp, slots)
    }

    @Test
    fun `R8 directory lookup, booking, one patient per slot, reschedule and cancel`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val cab = cabinet(inbox)
        val (clinic, gp, slots) = world(cab)
        val anna = patientFor(cab, inbox, 1)
        assertEquals(ContextRole.PATIENT, anna.role())
        assertEquals(clinic.id, anna.directory().findClinic(clinic.name.uppercase().replace('Ё', 'Е')).id)
        assertEquals(listOf(gp.id), anna.directory().practitioners("терапевт", clinic.id, null).map { it.id })
        assertEquals(3, anna.appointments().freeSlots(gp.id, slots.first().startsAt, slots.last().endsAt).size)
        val visit = anna.appointments().book(slots[0].id)
        assertEquals("Петров Пётр Петрович", visit.practitionerName)
        assertEquals(listOf("oms_policy", "passport"), visit.requiredDocuments)
        assertEquals(listOf("oms_policy", "passport"), anna.directory().requiredDocuments("first"))
        cab.system().directory().setRequiredDocuments("first", listOf("passport", "snils"))
        assertEquals(listOf("passport", "snils"), anna.directory().requiredDocuments("first"))
        assertEquals(visit.confirmationCode, inbox.code("appointment_booked"))
        val boris = patientFor(cab, inbox, 2)
        val taken = assertFailsWith<KabinetException.Conflict> { boris.appointments().book(slots[0].id) }
        assertEquals("slot.taken", taken.code)
        val moved = anna.appointments().reschedule(visit.id, slots[1].id)
        assertEquals(slots[1].id, moved.slotId)
        assertEquals(AppointmentStatus.BOOKED, boris.appointments().book(slots[0].id).status)
        // One pass of the due jobs queues and sends a reminder for each visit starting within a
        // day (slot 0 always is; slot 1, twenty minutes later, depends on the minute of the run).
        val horizon = Instant.now().plus(1, ChronoUnit.DAYS)
        val due = listOf(slots[0], slots[1]).count { it.startsAt <= horizon }.toULong()
        val jobs = cab.runDueJobs()
        assertEquals(due, jobs.remindersQueued)
        assertEquals(jobs.remindersQueued, jobs.delivered)
        assertEquals(0UL, jobs.deliveryFailures)
        assertEquals(AppointmentStatus.CANCELLED, anna.appointments().cancel(visit.id).status)
        assertTrue(anna.appointments().list(true).isEmpty())
        assertEquals(listOf(AppointmentStatus.CANCELLED), anna.appointments().list(false).map { it.status })
        val bad = assertFailsWith<KabinetException.Validation> { cab.system().directory().openSlots(gp.id, slots[0].startsAt, slots[0].endsAt, 0L, "first") }
        assertEquals("minutes", bad.field)
    }

    @Test
    fun `R11 attach and detach with SMS codes, and staff with TOTP see their patients`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val cab = cabinet(inbox)
        val (clinic, _, slots) = world(cab)
        val anna = patientFor(cab, inbox, 3)
        val snils = anna.profile().get().snils!!
        assertNull(anna.attachment().current())
        val pending = anna.attachment().attach(clinic.code, "45 08 123456", snils, "8451 9991 2289 9990")
        val attached = anna.attachment().confirm(pending.id, inbox.code("attachment_code"))
        assertEquals(AttachmentStatus.ATTACHMENT_COMPLETED, attached.status)
        val account = cab.system().staff().create(clinic.id, StaffRole.DOCTOR, "Смирнова Елена", "+79035550001", "doc@clinic.ru", "Registratura#2026")
        val step = cab.auth().login("+79035550001", "Registratura#2026", device)
        assertEquals("totp", step.secondFactor)
        val staff = cab.session(cab.auth().verifySecondFactor(step.id, totpFor(account.totpSecretBase32, Instant.now())).accessToken, device)
        assertEquals(ContextRole.STAFF, staff.role())
        assertEquals(StaffRole.DOCTOR, staff.staffMember().role)
        assertEquals(listOf("Иванова Анна Сергеевна"), staff.patients().attached().map { it.fullName })
        val onePage = staff.patients().attachedPage(limit = 1u)
        assertEquals(listOf("Иванова Анна Сергеевна") to null, onePage.items.map { it.fullName } to onePage.nextCursor)
        assertEquals(LocalDate.parse("1990-03-14"), staff.patients().find(snils, null).single().birthDate)
        anna.appointments().book(slots[2].id)
        assertEquals(1, staff.clinicAppointments().list(slots.first().startsAt, slots.last().endsAt).size)
        assertFailsWith<KabinetException.PermissionDenied> { staff.appointments().list(true) }
        assertFailsWith<KabinetException.PermissionDenied> { anna.patients() }
        assertTrue(anna.security().accessHistory(null).any { it.actorKind == ActorKind.STAFF && it.who == "doctor Смирнова Елена" && it.actorRole == StaffRole.DOCTOR })
        val leave = anna.attachment().detach()
        assertEquals(AttachmentStatus.DETACHED, anna.attachment().confirm(leave.id, inbox.code("attachment_code")).status)
        assertEquals(listOf("detached", "attached"), anna.attachment().history().map { it.action })
        assertTrue(staff.patients().attached().isEmpty())
    }

    @Test
    fun `R8 concurrent bookings of one slot on PostgreSQL, exactly one wins`(): Unit = runBlocking {
        val url = System.getenv("KABINET_KT_POSTGRES_URL")
        assumeTrue(!url.isNullOrEmpty(), "KABINET_KT_POSTGRES_URL not set")
        val keys = java.io.File(System.getProperty("java.io.tmpdir"), "kabinet-kt-${url!!.hashCode()}.keys").path
        val inbox = AccountsTest.Inbox()
        val cab = cabinet(inbox, url, keys)
        assertEquals("postgres", cab.backend())
        val (_, _, slots) = world(cab)
        val base = (System.nanoTime() % 1_000_000).toInt() * 4
        val patients = (0 until 4).map { patientFor(cab, inbox, base + it) }
        val outcomes = patients.map { me ->
            async { runCatching { me.appointments().book(slots[0].id) } }
        }.awaitAll()
        assertEquals(1, outcomes.count { it.isSuccess })
        assertTrue(outcomes.filter { it.isFailure }.all { (it.exceptionOrNull() as KabinetException.Conflict).code == "slot.taken" })
    }

    @Test
    fun `R8 messages show the clinic's local time with the zone named`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val cab = cabinet(inbox)
        val tag = UUID.randomUUID().toString().take(8)
        val dir = cab.system().directory()
        val bad = assertFailsWith<KabinetException.Validation> { dir.addRegion("z$tag", "Урал", "Mars/Olympus") }
        assertEquals("time_zone", bad.field)
        assertEquals("Europe/Moscow", dir.addRegion("m$tag", "Москва").timeZone)
        assertEquals("Asia/Yekaterinburg", dir.addRegion("z$tag", "Урал", "Asia/Yekaterinburg").timeZone)
        val clinic = dir.addClinic("z$tag", "k$tag", "ГП $tag", "ул. Мира, 3", "пн–пт")
        assertEquals("Asia/Yekaterinburg", clinic.timeZone)
        val gp = dir.addPractitioner(clinic.id, "Иванов Иван", "Терапевт", listOf("first"))
        val start = Instant.parse("2030-11-30T04:00:00Z")
        val slots = cab.system().schedule().openSlots(gp.id, start, start.plus(Duration.ofHours(1)), 30L, "first")
        val anna = patientFor(cab, inbox, 3)
        val visit = anna.appointments().book(slots[0].id)
        assertEquals(start, visit.startsAt)
        val card = inbox.messages.last { it.kind == "appointment_booked" }
        assertTrue(card.text.contains("30.11.2030 09:00 (Asia/Yekaterinburg, UTC+5)"), card.text)
        assertEquals("Asia/Kamchatka", dir.setClinicTimeZone(clinic.id, "Asia/Kamchatka").timeZone)
        assertEquals("Asia/Yekaterinburg", dir.setClinicTimeZone(clinic.id, null).timeZone)
    }
}
