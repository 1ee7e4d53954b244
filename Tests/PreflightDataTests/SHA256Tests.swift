import XCTest
import PreflightData

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalMatchesOneShot() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let whole = SHA256.hex(data)
        for chunk in [1, 3, 55, 56, 63, 64, 65, 1000] {
            var h = SHA256.Hasher256()
            var i = 0
            while i < data.count { h.update(Array(data[i..<min(i + chunk, data.count)])); i += chunk }
            XCTAssertEqual(h.finalizeHex(), whole, "chunk \(chunk)")
        }
        // Padding boundaries: lengths around one block.
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 55)).count, 64)
        XCTAssertNotEqual(SHA256.hex([UInt8](repeating: 0x61, count: 55)), SHA256.hex([UInt8](repeating: 0x61, count: 56)))
    }

    func testFileDigest() throws {
        let dir = TempDir("sha"); defer { dir.cleanup() }
        let p = dir.write("abc.txt", Array("abc".utf8))
        XCTAssertEqual(try SHA256.hexOfFile(path: p), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
