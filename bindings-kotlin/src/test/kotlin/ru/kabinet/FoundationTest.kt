package ru.kabinet

import ru.kabinet.model.*
import java.time.LocalDate
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** Foundation through the UniFFI binding: opening, encrypted round trip, errors, R21. */
class FoundationTest {
    private fun anna() = NewPatient(
        surname = "Иванова", givenName = "Анна", patronymic = "Сергеевна",
        birthDate = LocalDate.parse("1990-03-14"), sex = Sex.FEMALE, snils = "112-233-445 95", inn = null,
        omsPolicy = "8451 9991 2289 9990", phone = "8 (916) 123-45-67", email = "anna@example.ru",
    )

    @Test
    fun `S2 in-memory cabinet round trip`(): Unit = runBlocking {
        val cab = openInMemory()
        assertEquals("sqlite", cab.backend())
        val patients = cab.system().patients()
        val id = patients.create(anna())
        val p = patients.get(id)
        assertEquals("Иванова", p.surname)
        assertEquals("11223344595", p.snils)
        assertEquals("+79161234567", p.phone)
        assertEquals(LocalDate.parse("1990-03-14"), p.birthDate)
        assertEquals(id, patients.findBySnils("11223344595"))
        assertEquals(id, patients.findByOmsPolicy("8451999122899990"))
    }

    @Test
    fun `S2 sqlite file keeps no plaintext and reopens with its key file`(@TempDir dir: Path): Unit = runBlocking {
        val db = dir.resolve("k.db")
        val keys = dir.resolve("k.keys").toString()
        val url = "sqlite://$db"
        val cab = CabinetBuilder(url).keyFile(keys).locale("en").build()
        val id = cab.system().patients().create(anna())
        cab.shutdown()
        val bytes = Files.list(dir).filter { it.fileName.toString().startsWith("k.db") }
            .map { Files.readAllBytes(it) }.toList().fold(ByteArray(0)) { a, b -> a + b }
        val needle = "Иванова".toByteArray(Charsets.UTF_8)
        assertFalse(bytes.toList().windowed(needle.size).any { it.toByteArray().contentEquals(needle) })
        val again = CabinetBuilder(url).keyFile(keys).build()
        assertEquals("Анна", again.system().patients().get(id).givenName)
        val report = again.system().keys().rotate()
        assertTrue(report.rewrapped >= 2UL, "patient key and system keys re-wrapped")
        assertEquals("Сергеевна", again.system().patients().get(id).patronymic)
        // A different key file cannot open the deployment.
        val wrong = assertFailsWith<KabinetException.Config> {
            CabinetBuilder(url).keyFile(dir.resolve("other.keys").toString()).build()
        }
        assertEquals("crypto.key_unavailable", wrong.code)
    }

    @Test
    fun `R21 validation errors name the field and the reason`(): Unit = runBlocking {
        val cab = CabinetBuilder("sqlite::memory:").ephemeralKey().locale("en").build()
        val e = assertFailsWith<KabinetException.Validation> {
            cab.system().patients().create(anna().copy(snils = "112-233-445 96"))
        }
        assertEquals("validation", e.code)
        assertEquals("snils", e.field)
        assertEquals("checksum", e.reason)
        assertTrue(e.detail.contains("SNILS"))
        assertFalse(e.detail.contains("112"))
        val missing = assertFailsWith<KabinetException.NotFound> { cab.system().patients().get("nope") }
        assertEquals("not_found", missing.code)
        assertEquals("+79161234567", phone("8 (916) 123-45-67"))
        assertEquals("4508123456", passport("45 08 123456"))
        assertEquals("7709442668", inn("7709442668"))
        assertEquals("8451999122899990", enp("8451 9991 2289 9990"))
        assertEquals("phone", assertFailsWith<KabinetException.Validation> { phone("8 495 123 45 67") }.field)
    }

    @Test
    fun `S2 erasure makes data unreadable`(): Unit = runBlocking {
        val cab = openInMemory()
        val patients = cab.system().patients()
        val id = patients.create(anna())
        patients.erase(id)
        val e = assertFailsWith<KabinetException.NotFound> { patients.get(id) }
        assertEquals("crypto.key_destroyed", e.code)
        assertNull(patients.findBySnils("11223344595"))
    }

    @Test
    fun `bad URL is a typed config error`(): Unit = runBlocking {
        val e = assertFailsWith<KabinetException.Config> { CabinetBuilder("mysql://x").build() }
        assertEquals("config.url", e.code)
        assertNotEquals("", e.detail)
    }

    @Test
    fun `PostgreSQL through the binding`(): Unit = runBlocking {
        // scripts/test-all creates a fresh database for this run and passes its URL.
        val url = System.getenv("KABINET_KT_POSTGRES_URL")
        assumeTrue(!url.isNullOrEmpty(), "KABINET_KT_POSTGRES_URL not set")
        // The database outlives this JVM: keep its key file beside the run, tied to the URL.
        val keys = java.io.File(System.getProperty("java.io.tmpdir"), "kabinet-kt-${url!!.hashCode()}.keys").path
        val cab = CabinetBuilder(url).keyFile(keys).build()
        assertEquals("postgres", cab.backend())
        val id = cab.system().patients().create(anna().copy(snils = null, omsPolicy = null))
        assertEquals("Иванова", cab.system().patients().get(id).surname)
        cab.system().patients().erase(id)
    }

    @Test
    fun `migrate CHECK refuses an outdated schema and opens a current one`(@TempDir dir: Path): Unit = runBlocking {
        val url = "sqlite://${dir.resolve("m.db")}"
        val keys = dir.resolve("m.keys").toString()
        val refused = assertFailsWith<KabinetException.Config> {
            CabinetBuilder(url).keyFile(keys).locale("en").migrate(MigrationMode.CHECK).build()
        }
        assertEquals("schema.outdated", refused.code)
        CabinetBuilder(url).keyFile(keys).build().shutdown()
        val cab = CabinetBuilder(url).keyFile(keys).migrate(MigrationMode.CHECK).build()
        val schema = cab.schema()
        assertTrue(schema.current)
        assertEquals(0u, schema.pending)
        assertEquals(schema.sdk, schema.database)
    }

    @Test
    fun `health and stats of a fresh deployment`(): Unit = runBlocking {
        val cab = openInMemory()
        val health = cab.health()
        assertTrue(health.healthy, health.problems.toString())
        assertTrue(health.problems.isEmpty())
        assertEquals(health.schemaSdk, health.schemaDatabase)
        assertEquals(health.journalEntries, health.journalSignedSize)
        val id = cab.system().patients().create(anna())
        assertEquals(1UL, cab.stats().patients)
        assertTrue(cab.health().journalEntries > health.journalEntries, "creating $id was journaled")
    }

    @Test
    fun `a LogSink receives events without personal data`(): Unit = runBlocking {
        val seen = java.util.Collections.synchronizedList(mutableListOf<LogRecord>())
        setLogSink(object : LogSink {
            override fun log(record: LogRecord) { seen.add(record) }
        }, "info")
        try {
            val cab = openInMemory()
            val id = cab.system().patients().create(anna())
            cab.system().patients().get(id)
            val journal = seen.filter { it.target == "kabinet::journal" }
            assertTrue(journal.isNotEmpty(), seen.toString())
            assertTrue(journal.any { it.fields["action"] == "read" && it.fields["resource"] == "patients" }, journal.toString())
            val everything = seen.joinToString("\n") { "${it.message} ${it.fields}" }
            for (secret in listOf("Иванова", "Анна", "11223344595", "+79161234567", "anna@example.ru")) {
                assertFalse(everything.contains(secret), "a log event holds $secret")
            }
            val bad = assertFailsWith<KabinetException.Validation> { setLogSink(null, "loud") }
            assertEquals("level", bad.field)
        } finally {
            setLogSink(null, "info")
        }
    }
}
