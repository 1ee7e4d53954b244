// swift-tools-version:6.0
// libFuzzer targets for Preflight's parsers. Built and run by ../scripts/fuzz (see README.md here):
//   swift build --sanitize=fuzzer --sanitize=address --package-path Fuzz
// Each target is an executable whose entry point is libFuzzer's own main; the Swift code only exports
// LLVMFuzzerTestOneInput, so it is compiled with -parse-as-library.
import PackageDescription

let harness: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"]), .swiftLanguageMode(.v5)]

let package = Package(
    name: "PreflightFuzz",
    dependencies: [
        .package(name: "main", path: ".."),
    ],
    targets: [
        // Temporary files, a gzip wrapper, a silent session: shared by the targets.
        .target(name: "FuzzSupport", dependencies: [
            .product(name: "PreflightData", package: "main"),
            .product(name: "PreflightShell", package: "main"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        // Command lines → Tokenizer.splitCommands → Tokenizer.words → Session.execute.
        .executableTarget(name: "fuzz-command", dependencies: ["FuzzSupport", .product(name: "PreflightShell", package: "main")],
                          swiftSettings: harness),
        // IDX.read on the bytes as a file, raw and gzip-wrapped.
        .executableTarget(name: "fuzz-idx", dependencies: ["FuzzSupport", .product(name: "PreflightData", package: "main")],
                          swiftSettings: harness),
        // NPZ.readMNIST and NPZ.read on the bytes as a file; NPYReader on the bytes; an .npy pair.
        .executableTarget(name: "fuzz-npz", dependencies: ["FuzzSupport", .product(name: "PreflightData", package: "main")],
                          swiftSettings: harness),
        // `load PATH` of a file holding the bytes, in a fresh session.
        .executableTarget(name: "fuzz-load", dependencies: ["FuzzSupport", .product(name: "PreflightShell", package: "main")],
                          swiftSettings: harness),
    ]
)
