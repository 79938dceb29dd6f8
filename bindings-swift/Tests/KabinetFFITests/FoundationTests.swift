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

/// The signed journal (mirrors the Kotlin AuditTest).
final class AuditTests: XCTestCase {
    func testVerifyAndProof() async throws {
        let cab = try await openInMemory()
        let sys = cab.system()
        let id = try await sys.patients().create(patient: NewPatient(
            surname: "Иванова", givenName: "Анна", patronymic: nil, birthDate: "1990-03-14",
            sex: "female", snils: nil, inn: nil, omsPolicy: nil, phone: nil, email: nil))
        _ = try await sys.patients().get(patientId: id)
        let report = try await sys.audit().verify()
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.entries, 2)
        let proof = try await sys.audit().inclusionProof(seq: 1)
        try verifyInclusionProof(publicKeyPem: sys.audit().publicKey(), proofJson: proof)
        let history = try await sys.audit().accessHistory(patientId: id, since: nil)
        XCTAssertEqual(history.map { $0.action }, ["read", "read", "create"])
    }
}
