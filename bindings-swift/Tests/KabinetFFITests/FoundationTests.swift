import XCTest
@testable import KabinetFFI

/// Foundation through the UniFFI binding (mirrors the Kotlin FoundationTest).
final class FoundationTests: XCTestCase {
    private func anna(snils: String? = "112-233-445 95") -> NewPatient {
        NewPatient(surname: "Иванова", givenName: "Анна", patronymic: "Сергеевна",
                   birthDate: "1990-03-14", sex: "female", snils: snils, inn: nil,
                   omsPolicy: nil, phone: "8 (916) 123-45-67", email: nil)
    }

    func testRoundTrip() async throws {
        let cab = try await openInMemory()
        let patients = cab.system().patients()
        let id = try await patients.create(patient: anna())
        let p = try await patients.get(patientId: id)
        XCTAssertEqual(p.surname, "Иванова")
        XCTAssertEqual(p.snils, "11223344595")
        XCTAssertEqual(p.phone, "+79161234567")
    }

    func testValidationError() async throws {
        let cab = try await openInMemory()
        do {
            _ = try await cab.system().patients().create(patient: anna(snils: "112-233-445 96"))
            XCTFail("bad SNILS accepted")
        } catch let KabinetError.Validation(code, _, field, reason) {
            XCTAssertEqual(code, "validation")
            XCTAssertEqual(field, "snils")
            XCTAssertEqual(reason, "checksum")
        }
    }

    func testIds() throws {
        XCTAssertEqual(try phone(input: "8 (916) 123-45-67"), "+79161234567")
        XCTAssertEqual(try snils(input: "112-233-445 95"), "11223344595")
    }
}
