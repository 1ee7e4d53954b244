// swift-tools-version:6.0
import PackageDescription

import Foundation

// Numeric code: let clang treat sqrt & co. as pure so Swift's SIMD loops vectorise, and, when the building
// machine has AVX2 and FMA, compile for them (Adam and the element-wise passes run twice as fast).
// PREFLIGHT_PORTABLE=1 builds for the x86-64 baseline instead.
let cpuFlags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
let useAVX2 = ProcessInfo.processInfo.environment["PREFLIGHT_PORTABLE"] == nil
    && cpuFlags.contains(" avx2") && cpuFlags.contains(" fma")
let fast: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-fno-math-errno"] + (useAVX2 ? ["-target-cpu", "haswell"] : [])),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Preflight",
    products: [
        .executable(name: "preflight", targets: ["preflight"]),
        .executable(name: "preflight-bench", targets: ["preflight-bench"]),
        .library(name: "PreflightData", targets: ["PreflightData"]),
        .library(name: "PreflightShell", targets: ["PreflightShell"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        // Header-only shims over Debian's C libraries.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlibShim", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // librsvg + cairo: the charts' PNG files are their SVG drawn by librsvg.
        .systemLibrary(name: "CRsvg", pkgConfig: "librsvg-2.0", providers: [.apt(["librsvg2-dev"])]),
        // Header-only: the training threads' barrier (atomics and a futex).
        .systemLibrary(name: "CThreads"),

        // Matrices, layers, initialisers, optimisers, training loop, recorder. No I/O.
        .target(name: "PreflightEngine", dependencies: ["CBLAS", "CThreads"], swiftSettings: fast),
        // IDX / gzip / npz readers, dataset resolution, download and verification.
        .target(name: "PreflightData", dependencies: ["CZlibShim", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                swiftSettings: fast),
        // Charts: terminal, SVG, PNG (the SVG drawn by librsvg).
        .target(name: "PreflightPlot", dependencies: ["CZlibShim", "CRsvg"], swiftSettings: fast),
        // The rules that turn a run's records into verdicts.
        .target(name: "PreflightChecks", dependencies: ["PreflightEngine"]),
        // Commands, session state, script runner, export.
        .target(name: "PreflightShell", dependencies: ["PreflightEngine", "PreflightData", "PreflightPlot", "PreflightChecks", "CEdit"],
                swiftSettings: fast + [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "preflight", dependencies: [
            "PreflightShell",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),

        // scripts/bench: training speed against the machine's own sgemm ceiling.
        .executableTarget(name: "preflight-bench", dependencies: ["PreflightEngine", "PreflightData"],
                          swiftSettings: fast),

        .testTarget(name: "PreflightEngineTests", dependencies: ["PreflightEngine"]),
        .testTarget(name: "PreflightDataTests", dependencies: ["PreflightData"]),
        .testTarget(name: "PreflightPlotTests", dependencies: ["PreflightPlot", "CRsvg", "CZlibShim"]),
        .testTarget(name: "PreflightChecksTests", dependencies: ["PreflightChecks", "PreflightEngine"]),
        .testTarget(name: "PreflightShellTests", dependencies: ["PreflightShell"]),
    ]
)
