// swift-tools-version:6.0
import PackageDescription

// Release binaries are fully static: loading the Swift runtime and libstdc++ dynamically
// costs ~1.8 ms before the first task can start (bench/RESULTS.md). lld, which ships with
// the toolchain, links them without glibc's warnings about dlopen in static programs;
// nothing here uses glibc's name services, which static programs cannot load.
let staticRuntime: [LinkerSetting] = [.unsafeFlags(["-static-executable", "-use-ld=lld"], .when(configuration: .release))]

// The whole-brain inner loops (Sources/BrainKernels) are built twice: for the x86-64
// baseline every CPU runs, and, on x86-64, as BrainKernelsAVX2 from the same file (a symbolic
// link) for AVX2+FMA CPUs; BrainModels picks one at run time. -Ounchecked in release: their
// loops index through unsafe pointers over arrays the caller sized from checked configs.
let uncheckedInRelease: SwiftSetting = .unsafeFlags(["-Ounchecked"], .when(configuration: .release))
#if arch(x86_64)
let kernelTargets: [Target] = [
    .target(name: "BrainKernels", swiftSettings: [uncheckedInRelease]),
    .target(name: "BrainKernelsAVX2", swiftSettings: [uncheckedInRelease, .unsafeFlags(["-target-cpu", "haswell"]), .define("FMA")]),
]
let kernelDependencies: [Target.Dependency] = ["BrainKernels", "BrainKernelsAVX2"]
#else
let kernelTargets: [Target] = [.target(name: "BrainKernels", swiftSettings: [uncheckedInRelease])]
let kernelDependencies: [Target.Dependency] = ["BrainKernels"]
#endif

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
        // The whole-brain models' numerics (neural masses, integrators, coupling, delays,
        // BOLD): pure Swift, no Foundation and no I/O; runone's config and files live in Scheduler.
        // -Ounchecked in release: its loops index through unsafe pointers over arrays it sized
        // itself from checked configs, and the remaining overflow checks cost ~10% a step.
        .target(name: "BrainModels", dependencies: kernelDependencies, swiftSettings: [uncheckedInRelease]),
        .target(name: "Scheduler", dependencies: ["CSystem", "BrainModels"]),
        .executableTarget(name: "multirun", dependencies: ["Scheduler"], linkerSettings: staticRuntime),
        .executableTarget(name: "runone", dependencies: ["Scheduler"], linkerSettings: staticRuntime),
        // The fuzz target over every reader of outside input (docs/FUZZING.md): a seeded
        // driver as built here, a libFuzzer target with -sanitize=fuzzer -DFUZZING.
        .target(name: "FuzzReaders", dependencies: ["Scheduler"]),
        .target(name: "CLibFuzzer"),
        .executableTarget(name: "multirun-fuzz", dependencies: ["FuzzReaders", "CLibFuzzer"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "FuzzReaders", "BrainModels"] + kernelDependencies),
        // Depends on the executables so `swift test` builds them before running.
        .testTarget(name: "EndToEndTests", dependencies: ["Scheduler", "multirun", "runone"]),
    ] + kernelTargets,
    swiftLanguageModes: [.v6]
)
