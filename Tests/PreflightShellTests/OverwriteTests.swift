import Foundation
import XCTest
import PreflightShell

/// Output commands create missing folders, overwrite their own files, and keep a user's file unless --force.
final class OverwriteTests: XCTestCase {
    func testOutputsRefuseForeignFilesWithoutForce() throws {
        let dir = tempDir()
        let c = Captured()
        c.run("data synthetic 300; layers 784 16 10; train 1")
        for name in ["a.json", "a.csv", "a.svg", "a.png", "a.html", "a.npz", "a.pf"] {
            let path = dir.path + "/nested/deeper/" + name
            let cmd: String
            switch name {
            case "a.svg", "a.png": cmd = "plot loss --out \(path)"
            case "a.html": cmd = "report \(path)"
            case "a.npz": cmd = "save \(path)"
            case "a.pf": cmd = "history save \(path)"
            default: cmd = "export \(path)"
            }
            c.run(cmd)                       // creates the missing folders
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), name)
            c.run(cmd)                       // its own file: overwritten without fuss
            try "precious notes".write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try c.session.execute(cmd), name) { e in
                XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("--force"), "\(e)")
            }
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "precious notes", "\(name) kept")
            c.run(cmd + " --force")
            XCTAssertNotEqual(try String(contentsOfFile: path, encoding: .isoLatin1), "precious notes", name)
        }
        // A directory in the way is named in the error.
        try FileManager.default.createDirectory(atPath: dir.path + "/d.json", withIntermediateDirectories: true)
        XCTAssertThrowsError(try c.session.execute("export \(dir.path)/d.json")) { e in XCTAssertTrue("\(e)".contains("d.json")) }
        // No temporary files are left behind.
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }
}
