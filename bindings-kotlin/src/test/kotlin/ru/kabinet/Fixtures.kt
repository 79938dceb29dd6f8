package ru.kabinet

import ru.kabinet.model.*
import java.time.Instant
import java.util.UUID

/** What several test classes need: an in-memory cabinet with one clinic, staff signed in
 *  with TOTP, and patients attached to the clinic. */
object Fixtures {
    val device = Device(id = "dev-1", name = "Pixel 8", ip = "203.0.113.7", userAgent = "junit")
    private val booking = BookingTest()

    /** An in-memory cabinet (booking without identity confirmation) with one clinic. */
    suspend fun clinicCabinet(): Triple<Cabinet, AccountsTest.Inbox, Clinic> {
        val inbox = AccountsTest.Inbox()
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().notifier(inbox).identityRegistry(BookingTest.Approving)
            .passwordHashing(4096u, 1u, 1u)
            .locale("en").appointmentPolicy(false, 120L).build()
        val tag = UUID.randomUUID().toString().take(8)
        cab.system().directory().addRegion("r$tag", "Москва")
        val clinic = cab.system().directory().addClinic("r$tag", "c$tag", "Поликлиника $tag", "ул. Ленина, 1", "пн–пт")
        return Triple(cab, inbox, clinic)
    }

    /** A staff member of the clinic in `role`, signed in with TOTP; `n` makes contacts unique. */
    suspend fun staff(cab: Cabinet, clinicId: String, role: StaffRole, n: Int): Me {
        val phone = "+7903%07d".format(n)
        val account = cab.system().staff().create(clinicId, role, "Петров Пётр", phone, "s$n@clinic.ru", "Registratura#2026")
        val step = cab.auth().login(phone, "Registratura#2026", device)
        val code = booking.totpFor(account.totpSecretBase32, Instant.now())
        return cab.session(cab.auth().verifySecondFactor(step.id, code).accessToken, device)
    }

    /** A valid OMS policy number of patient `n`'s own: `77`, `n` in 13 digits, the Luhn digit. */
    fun enpFor(n: Int): String {
        val body = "77" + "%013d".format(n)
        val sum = body.reversed().mapIndexed { i, c ->
            val x = (c - '0') * (if (i % 2 == 0) 2 else 1)
            x / 10 + x % 10
        }.sum()
        return body + ((10 - sum % 10) % 10)
    }

    /** A signed-in patient attached to the clinic (SMS-confirmed) with a policy of their own. */
    suspend fun attached(cab: Cabinet, inbox: AccountsTest.Inbox, clinic: Clinic, n: Int): Me {
        val me = booking.patientFor(cab, inbox, n)
        val pending = me.attachment().attach(clinic.code, "4508123456", me.profile().get().snils!!, enpFor(n))
        me.attachment().confirm(pending.id, inbox.code("attachment_code"))
        return me
    }
}
