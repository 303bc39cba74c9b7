// swift-tools-version:6.0
import PackageDescription

// Release binaries carry the Swift runtime: a dynamically linked one spends ~5 ms loading
// it before the first task can start (see bench/RESULTS.md).
let staticRuntime: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]

let package = Package(
    name: "multirun",
    products: [
        .executable(name: "multirun", targets: ["multirun"]),
        .executable(name: "runone", targets: ["runone"]),
    ],
    targets: [
        // Thin C shims for Linux calls that Swift's Glibc module does not import
        // (signalfd, prctl, POSIX_SPAWN_SETSID).
        .target(name: "CSystem"),
        .target(name: "Scheduler", dependencies: ["CSystem"]),
        .executableTarget(name: "multirun", dependencies: ["Scheduler"], linkerSettings: staticRuntime),
        .executableTarget(name: "runone", dependencies: ["Scheduler"], linkerSettings: staticRuntime),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler"]),
        // Depends on the executables so `swift test` builds them before running.
        .testTarget(name: "EndToEndTests", dependencies: ["Scheduler", "multirun", "runone"]),
    ],
    swiftLanguageModes: [.v6]
)
