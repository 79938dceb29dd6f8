package ru.kabinet

import ru.kabinet.model.*
import java.time.LocalDate
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * Issue 13, item 2: the smoke suite against the packaged jar alone. Failsafe runs it with
 * the jar on the classpath and no `jna.library.path` (and `jna.nosys`): the native library
 * can only come from `linux-x86-64/libkabinet_ffi.so` inside the jar.
 */
class PackagedJarIT {
    @Test
    fun `the jar carries its native library and a patient round trip works`(): Unit = runBlocking {
        assertNull(System.getProperty("jna.library.path"), "no library path: the jar must carry the library")
        val jar = PackagedJarIT::class.java.protectionDomain.codeSource.location.path
        val native = Cabinet::class.java.classLoader.getResource("linux-x86-64/libkabinet_ffi.so")
        assertTrue(native != null && native.toString().startsWith("jar:"), "library from the jar, got $native (classes from $jar)")
        val cab = openInMemory()
        val patients = cab.system().patients()
        val id = patients.create(NewPatient(
            surname = "Иванова", givenName = "Анна", patronymic = null,
            birthDate = LocalDate.parse("1990-03-14"), sex = Sex.FEMALE, snils = "112-233-445 95", inn = null,
            omsPolicy = null, phone = null, email = null,
        ))
        assertEquals("Анна", patients.get(id).givenName)
        assertTrue(cab.health().healthy)
        assertTrue(cab.system().audit().verify().ok)
    }
}
