package ru.kabinet

import ru.kabinet.model.*
import java.time.LocalDate
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The signed journal through the UniFFI binding (S4, R5). */
class AuditTest {
    private fun anna() = NewPatient(
        surname = "Иванова", givenName = "Анна", patronymic = null, birthDate = LocalDate.parse("1990-03-14"),
        sex = Sex.FEMALE, snils = "112-233-445 95", inn = null, omsPolicy = null, phone = null, email = null,
    )

    @Test
    fun `S4 verify, proofs and tamper evidence`(): Unit = runBlocking {
        val cab = openInMemory()
        val sys = cab.system()
        val id = sys.patients().create(anna())
        sys.patients().get(id)
        val report = sys.audit().verify()
        assertTrue(report.ok)
        assertEquals(2UL, report.entries)
        assertNull(report.firstBadEntry)
        assertEquals(2UL, assertNotNull(report.signedHead).size)
        val key = sys.audit().publicKey()
        assertTrue(key.startsWith("-----BEGIN PUBLIC KEY-----"))
        val proof = sys.audit().inclusionProof(1UL)
        verifyInclusionProof(key, proof)
        val forged = proof.replace("\"action\":\"read\"", "\"action\":\"delete\"")
        val err = assertFailsWith<KabinetException.Integrity> { verifyInclusionProof(key, forged) }
        assertEquals("audit.bad_proof", err.code)
        verifyConsistencyProof(key, sys.audit().consistencyProof(1UL))
        assertFailsWith<KabinetException.Validation> { verifyInclusionProof(key, "not json") }
    }

    @Test
    fun `R5 access history newest first`(): Unit = runBlocking {
        val cab = openInMemory()
        val sys = cab.system()
        val id = sys.patients().create(anna())
        sys.patients().get(id)
        val history = sys.audit().accessHistory(id, null)
        assertEquals(listOf(Action.READ, Action.READ, Action.CREATE), history.map { it.action })
        assertEquals("access_history", history.first().resourceType)
        assertTrue(sys.audit().exportFhir(0UL, 10UL).contains("\"AuditEvent\""))
    }
}
