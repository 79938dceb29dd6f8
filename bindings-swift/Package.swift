// swift-tools-version:5.9
// Swift package over the generated UniFFI sources. `scripts/gen-bindings` writes
// Sources/KabinetFFI/KabinetModel.swift (the core's own types), Sources/KabinetFFI/
// KabinetFFI.swift (handles and methods) — one Swift module — and their two C header
// modules from the built libkabinet_ffi; they are generated, never committed. Build the Rust library first
// (`cargo build -p kabinet-ffi`); on Apple platforms package it as an XCFramework instead.
import PackageDescription

let libDir = "../target/debug"

let package = Package(
    name: "Kabinet",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "KabinetFFI", targets: ["KabinetFFI"]),
    ],
    targets: [
        .systemLibrary(name: "KabinetModelFFI", path: "Sources/KabinetModelFFI/include"),
        .systemLibrary(name: "kabinet_ffiFFI", path: "Sources/kabinet_ffiFFI/include"),
        .target(
            name: "KabinetFFI",
            dependencies: ["kabinet_ffiFFI", "KabinetModelFFI"],
            path: "Sources/KabinetFFI",
            linkerSettings: [
                .unsafeFlags(["-L\(libDir)", "-Xlinker", "-rpath", "-Xlinker", libDir]),
                .linkedLibrary("kabinet_ffi"),
            ]
        ),
        .testTarget(name: "KabinetFFITests", dependencies: ["KabinetFFI"], path: "Tests/KabinetFFITests"),
    ]
)
