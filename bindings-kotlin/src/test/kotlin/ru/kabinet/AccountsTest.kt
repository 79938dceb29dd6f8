package ru.kabinet

import ru.kabinet.model.*
import java.time.LocalDate
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import java.util.Collections
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** Registration, SMS second factor, lockout, sessions and access history from Kotlin, with
 *  the app's Notifier implemented in Kotlin (R1, R3, R4, R5). */
class AccountsTest {
    /** The app's message delivery: here it just keeps what Kabinet hands over. */
    class Inbox : Notifier {
        val messages: MutableList<Message> = Collections.synchronizedList(mutableListOf())
        override fun deliver(message: Message) {
            messages.add(message)
        }
        fun code(kind: String): String = messages.last { it.kind == kind }.code!!
    }

    private val password = "Vek-Tor!58zeb"
    private val device = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")

    private suspend fun cabinet(inbox: Inbox): Cabinet =
        CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).passwordHashing(4096u, 1u, 1u).locale("en").build()

    private suspend fun registered(cab: Cabinet, inbox: Inbox): String {
        val id = cab.accounts().register(
            Registration(
                phone = "8 (916) 123-45-67", email = "anna@example.ru", password = password,
                surname = "Иванова", givenName = "Анна", patronymic = "Сергеевна", birthDate = LocalDate.parse("1990-03-14"),
                sex = Sex.FEMALE, snils = "112-233-445 95", acceptedTermsVersion = "2026-01",
            ),
        )
        val sms = inbox.messages.last()
        assertEquals("phone_confirmation", sms.kind)
        assertEquals("+79161234567", sms.recipient)
        return cab.accounts().confirmPhone(id, inbox.code("phone_confirmation"))
    }

    @Test
    fun `R1 R3 register, confirm and sign in with the SMS code`(): Unit = runBlocking {
        val inbox = Inbox()
        val cab = cabinet(inbox)
        val account = registered(cab, inbox)
        cab.accounts().confirmEmail(inbox.code("email_confirmation"))
        val step = cab.auth().login("+79161234567", password, device)
        assertEquals("sms", step.secondFactor)
        val wrong = assertFailsWith<KabinetException.Authentication> { cab.auth().verifySecondFactor(step.id, "000000") }
        assertEquals("auth.second_factor", wrong.code)
        val tokens = cab.auth().verifySecondFactor(step.id, inbox.code("login_code"))
        val me = cab.session(tokens.accessToken, device)
        assertEquals(account, me.accountId())
        assertEquals("Иванова", me.profile().get().surname)
        val history = me.security().accessHistory()
        assertEquals("you", history.first().who)
        assertTrue(history.any { it.action == Action.LOGIN && it.ip == "203.0.113.7" })
        assertEquals(1, me.security().sessions().size)
        cab.auth().logout(tokens.accessToken)
        val gone = assertFailsWith<KabinetException.Session> { cab.session(tokens.accessToken, device) }
        assertEquals("session.revoked", gone.code)
        // A second device's session ends from the first; then every session ends at once.
        val laptop = Device(id = "dev-2", name = "Laptop", ip = "203.0.113.7", userAgent = "junit")
        val one = cab.session(cab.auth().verifySecondFactor(cab.auth().login("+79161234567", password, device).id, inbox.code("login_code")).accessToken, device)
        val two = cab.auth().verifySecondFactor(cab.auth().login("+79161234567", password, laptop).id, inbox.code("login_code"))
        val sessions = one.security().sessions()
        assertEquals(2, sessions.size)
        one.security().revoke(sessions.single { it.deviceId == "dev-2" }.id)
        assertFailsWith<KabinetException.Session> { cab.session(two.accessToken, laptop) }
        one.security().revokeAll()
        assertFailsWith<KabinetException.Session> { one.security().sessions() }
    }

    @Test
    fun `R1 a new phone code for a pending registration`(): Unit = runBlocking {
        val inbox = Inbox()
        val cab = cabinet(inbox)
        val id = cab.accounts().register(
            Registration(
                phone = "8 (916) 123-45-67", email = "anna@example.ru", password = password,
                surname = "Иванова", givenName = "Анна", patronymic = "Сергеевна", birthDate = LocalDate.parse("1990-03-14"),
                sex = Sex.FEMALE, snils = "112-233-445 95", acceptedTermsVersion = "2026-01",
            ),
        )
        val first = inbox.code("phone_confirmation")
        cab.accounts().resendPhoneCode(id)
        val second = inbox.code("phone_confirmation")
        if (first != second) assertFailsWith<KabinetException.Authentication> { cab.accounts().confirmPhone(id, first) }
        assertEquals(id, cab.accounts().confirmPhone(id, inbox.code("phone_confirmation")))
    }

    @Test
    fun `R4 lockout after exactly three wrong passwords`(): Unit = runBlocking {
        val inbox = Inbox()
        val cab = cabinet(inbox)
        registered(cab, inbox)
        repeat(3) {
            val e = assertFailsWith<KabinetException.Authentication> { cab.auth().login("+79161234567", "Wrong-Pass!93x", device) }
            assertEquals("auth.invalid_credentials", e.code)
        }
        val locked = assertFailsWith<KabinetException.Authentication> { cab.auth().login("+79161234567", password, device) }
        assertEquals("auth.locked", locked.code)
    }

    @Test
    fun `R5 refresh rotates and reuse revokes`(): Unit = runBlocking {
        val inbox = Inbox()
        val cab = cabinet(inbox)
        registered(cab, inbox)
        val step = cab.auth().login("anna@example.ru", password, device)
        val first = cab.auth().verifySecondFactor(step.id, inbox.code("login_code"))
        val second = cab.auth().refresh(first.refreshToken, device)
        assertFalse(first.refreshToken == second.refreshToken)
        val reuse = assertFailsWith<KabinetException.Session> { cab.auth().refresh(first.refreshToken, device) }
        assertEquals("session.revoked", reuse.code)
        assertFailsWith<KabinetException.Session> { cab.session(second.accessToken, device) }
    }

    @Test
    fun `R1 bad registration names the field`(): Unit = runBlocking {
        val cab = cabinet(Inbox())
        val e = assertFailsWith<KabinetException.Validation> {
            cab.accounts().register(
                Registration("+79161234567", "a@example.ru", "Qwerty123!", "Иванова", "Анна", null, LocalDate.parse("1990-03-14"), Sex.FEMALE, "112-233-445 95", "2026-01"),
            )
        }
        assertEquals("password", e.field)
        assertEquals("common_password", e.reason)
    }
}

/** Recovery and password change from Kotlin (R4). */
class RecoveryTest {
    @Test
    fun `R4 recovery signs out every session and change password works`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).passwordHashing(4096u, 1u, 1u).locale("en").build()
        val device = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")
        val id = cab.accounts().register(
            Registration("+79161234567", "anna@example.ru", "Vek-Tor!58zeb", "Иванова", "Анна", null, LocalDate.parse("1990-03-14"), Sex.FEMALE, "112-233-445 95", "2026-01"),
        )
        cab.accounts().confirmPhone(id, inbox.code("phone_confirmation"))
        val step = cab.auth().login("+79161234567", "Vek-Tor!58zeb", device)
        val tokens = cab.auth().verifySecondFactor(step.id, inbox.code("login_code"))
        val me = cab.session(tokens.accessToken, device)
        assertTrue(me.security().enableTotp().otpauthUri.startsWith("otpauth://totp/"))
        me.security().changePassword("Vek-Tor!58zeb", "New-Pass!47qz")
        val rid = cab.accounts().startRecovery("+79161234567", Channel.SMS)
        cab.accounts().completeRecovery(rid, inbox.code("recovery_code"), "Other-Pass!58rw", null)
        val gone = assertFailsWith<KabinetException.Session> { cab.session(tokens.accessToken, device) }
        assertEquals("session.revoked", gone.code)
        val ghost = cab.accounts().startRecovery("+79990000002", Channel.SMS)
        val refused = assertFailsWith<KabinetException.Authentication> { cab.accounts().completeRecovery(ghost, "123456", "Other-Pass!58rw", null) }
        assertEquals("auth.invalid_code", refused.code)
    }
}

/** Security incidents from Kotlin (R6). */
class IncidentTest {
    @Test
    fun `R6 a new device raises an incident the patient confirms`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).passwordHashing(4096u, 1u, 1u).locale("en").build()
        val home = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")
        val laptop = Device(id = "dev-9", name = "Laptop", ip = "198.51.100.23", userAgent = "curl")
        val id = cab.accounts().register(
            Registration("+79161234567", "anna@example.ru", "Vek-Tor!58zeb", "Иванова", "Анна", null, LocalDate.parse("1990-03-14"), Sex.FEMALE, "112-233-445 95", "2026-01"),
        )
        cab.accounts().confirmPhone(id, inbox.code("phone_confirmation"))
        val first = cab.auth().verifySecondFactor(cab.auth().login("+79161234567", "Vek-Tor!58zeb", home).id, inbox.code("login_code"))
        cab.auth().verifySecondFactor(cab.auth().login("+79161234567", "Vek-Tor!58zeb", laptop).id, inbox.code("login_code"))
        val me = cab.session(first.accessToken, home)
        val incident = me.security().incidents().single()
        assertEquals(IncidentKind.NEW_DEVICE, incident.kind)
        assertTrue(inbox.messages.any { it.kind == "incident" && it.text.contains(incident.requestNumber) })
        me.security().confirmIncident(incident.id, inbox.code("incident"))
        assertEquals(IncidentStatus.CONFIRMED, me.security().incidents().single().status)
    }
}

/** Identity confirmation from Kotlin with the registry implemented in Kotlin (R2). */
class IdentityTest {
    class Registry : IdentityRegistry {
        override fun check(request: RegistryRequest): RegistryAnswer =
            if (request.surname == "Иванова" && request.omsPolicy == "8451999122899990") RegistryAnswer(true, null)
            else RegistryAnswer(false, "name_mismatch")
    }

    @Test
    fun `R2 confirm identity through a Kotlin registry`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).identityRegistry(Registry())
            .passwordHashing(4096u, 1u, 1u).locale("en").build()
        val device = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")
        val id = cab.accounts().register(
            Registration("+79161234567", "anna@example.ru", "Vek-Tor!58zeb", "Иванова", "Анна", null, LocalDate.parse("1990-03-14"), Sex.FEMALE, "112-233-445 95", "2026-01"),
        )
        cab.accounts().confirmPhone(id, inbox.code("phone_confirmation"))
        val tokens = cab.auth().verifySecondFactor(cab.auth().login("+79161234567", "Vek-Tor!58zeb", device).id, inbox.code("login_code"))
        val me = cab.session(tokens.accessToken, device)
        assertFalse(me.identity().confirmed())
        val miss = me.identity().confirm("sms", "Петрова Анна", LocalDate.parse("1990-03-14"), "8451999122899990", "+79161234567")
        assertEquals("name_mismatch", miss.reason)
        val hit = me.identity().confirm("esignature", "Иванова Анна", LocalDate.parse("1990-03-14"), "8451999122899990", "+79161234567")
        assertTrue(hit.confirmed)
        assertTrue(me.identity().confirmed())
    }
}

/** Personal data changes from Kotlin (R18). */
class ProfileTest {
    @Test
    fun `R18 change the surname with an SMS code and see the history`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).passwordHashing(4096u, 1u, 1u).locale("en").build()
        val device = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")
        val id = cab.accounts().register(
            Registration("+79161234567", "anna@example.ru", "Vek-Tor!58zeb", "Иванова", "Анна", null, LocalDate.parse("1990-03-14"), Sex.FEMALE, "112-233-445 95", "2026-01"),
        )
        cab.accounts().confirmPhone(id, inbox.code("phone_confirmation"))
        val tokens = cab.auth().verifySecondFactor(cab.auth().login("+79161234567", "Vek-Tor!58zeb", device).id, inbox.code("login_code"))
        val profile = cab.session(tokens.accessToken, device).profile()
        val bad = assertFailsWith<KabinetException.Validation> { profile.requestChange("surname", "Ivanova1") }
        assertEquals("surname", bad.field)
        val req = profile.requestChange("surname", "Петрова")
        profile.confirmChange(req.id, inbox.code("profile_change"))
        assertEquals("Петрова", profile.get().surname)
        val change = profile.history().single()
        assertEquals("Иванова", change.oldValue)
        assertEquals("Петрова", change.newValue)
    }
}

/** Migrating a legacy bcrypt account from Kotlin (R4). */
class ImportTest {
    @Test
    fun `R4 an imported bcrypt account signs in`(): Unit = runBlocking {
        val inbox = AccountsTest.Inbox()
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).passwordHashing(4096u, 1u, 1u).locale("en").build()
        val device = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")
        val hash = "\$2a\$12\$NYqRktaMVcE9fkTDawJSFeAmlr6ON4kFRpEGeWSJTAkDS8VpZQkFi"
        cab.system().accounts().importAccount(LegacyAccount("+79161234567", null, "Иванова", "Анна", null, LocalDate.parse("1990-03-14"), Sex.FEMALE, "112-233-445 95", hash))
        val bad = assertFailsWith<KabinetException.Validation> {
            cab.system().accounts().importAccount(LegacyAccount("+79261234567", null, "Петров", "Иван", null, LocalDate.parse("1980-01-01"), Sex.MALE, "123-456-789 64", "md5"))
        }
        assertEquals("password_hash", bad.field)
        val step = cab.auth().login("+79161234567", "Legacy-Pass1!", device)
        cab.auth().verifySecondFactor(step.id, inbox.code("login_code"))
    }
}
