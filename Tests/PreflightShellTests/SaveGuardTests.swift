import Foundation
import XCTest
import PreflightShell

/// A small save file that claims huge layers is refused before anything is allocated.
final class SaveGuardTests: XCTestCase {
    func testHugeLayersWithoutArraysAreRefusedCheaply() throws {
        let py = try requirePythonWithNumpy()
        let p = PicsSession()
        let file = p.path("ok.npz"), bad = p.path("huge.npz")
        // 100000 units (79 M parameters, about 2.4 GB to train) fit the memory budget, so the missing arrays are
        // what refuses the file; far larger layers are refused by the budget first (`set memory`).
        p.run("data synthetic 300; layers 784 16 10; train 1; save \(file)")
        let script = """
        import sys, json, zipfile
        src = zipfile.ZipFile(sys.argv[1])
        dst = zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_STORED)
        for name in src.namelist():
            data = src.read(name)
            if name == "session.json":
                s = json.loads(data)
                def fix(o):
                    if isinstance(o, dict):
                        for k, v in o.items():
                            if k == "layers" and isinstance(v, list) and v == [784, 16, 10]: o[k] = [784, 100000, 10]
                            else: fix(v)
                    elif isinstance(o, list):
                        for v in o: fix(v)
                fix(s)
                data = json.dumps(s).encode()
            dst.writestr(name, data)
        dst.close()
        """
        try p.assertRewrittenSaveRefused(python: py, script, from: file, to: bad, mentioning: "too few")
    }
}
