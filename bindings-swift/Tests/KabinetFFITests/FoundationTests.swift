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

/// Registration and sign-in with a Swift notifier (mirrors the Kotlin AccountsTest).
final class AccountsTests: XCTestCase {
    final class Inbox: Notifier, @unchecked Sendable {
        private let lock = NSLock()
        private(set) var messages: [Message] = []
        func deliver(message: Message) throws {
            lock.lock(); defer { lock.unlock() }
            messages.append(message)
        }
        func code(_ kind: String) -> String {
            lock.lock(); defer { lock.unlock() }
            return messages.last { $0.kind == kind }?.code ?? ""
        }
    }

    func testRegisterConfirmAndSignIn() async throws {
        let inbox = Inbox()
        let cab = try await CabinetBuilder(url: "sqlite::memory:").ephemeralKey().notifier(notifier: inbox)
            .passwordHashing(memoryKib: 4096, iterations: 1, parallelism: 1).locale(tag: "en").build()
        let device = Device(id: "dev-1", name: "iPhone", ip: "203.0.113.7", userAgent: "xctest")
        let id = try await cab.accounts().register(registration: Registration(
            phone: "+79161234567", email: "anna@example.ru", password: "Vek-Tor!58zeb", surname: "Иванова",
            givenName: "Анна", patronymic: nil, birthDate: "1990-03-14", sex: "female", snils: "112-233-445 95",
            acceptedTermsVersion: "2026-01"))
        _ = try await cab.accounts().confirmPhone(registrationId: id, code: inbox.code("phone_confirmation"))
        let step = try await cab.auth().login(identifier: "+79161234567", password: "Vek-Tor!58zeb", device: device)
        XCTAssertEqual(step.secondFactor, "sms")
        let tokens = try await cab.auth().verifySecondFactor(stepId: step.id, code: inbox.code("login_code"))
        let me = try await cab.session(accessToken: tokens.accessToken, device: device)
        let profile = try await me.profile().get()
        XCTAssertEqual(profile.surname, "Иванова")
        let history = try await me.accessHistory(since: nil)
        XCTAssertEqual(history.first?.who, "you")
    }
}
