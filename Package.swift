// swift-tools-version:6.0
import PackageDescription

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
        .executableTarget(name: "multirun", dependencies: ["Scheduler"]),
        .executableTarget(name: "runone", dependencies: ["Scheduler"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler"]),
        // Depends on the executables so `swift test` builds them before running.
        .testTarget(name: "EndToEndTests", dependencies: ["Scheduler", "multirun", "runone"]),
    ],
    swiftLanguageModes: [.v6]
)
