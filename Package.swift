// swift-tools-version:6.0
import PackageDescription

// The datapath's release builds skip run-time exclusivity checks (swift_beginAccess and its
// thread-local look-ups on every batch and counter access showed in perf; measured without them:
// about 8% more throughput through the local testbed). Debug builds, and so the tests, keep them.
let datapathSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "wgbench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "wgbench", targets: ["wgbench"]),
        .executable(name: "wireguard-swift", targets: ["wireguard-swift"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries, wrapped once.
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // OpenSSL 3's libcrypto: the datapath's bulk ChaCha20-Poly1305 (measured the fastest here).
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // Cryptography of the WireGuard datapath.
        .target(name: "WireGuardCrypto", dependencies: ["CSodium", "CLibCrypto"]),
        // Linux CPU lists (`0-3,8`), one parser for the harness and the daemon; pure Swift, no dependencies.
        .target(name: "CPUSets"),
        // The userspace WireGuard datapath: protocol, noise, replay, allowed IPs, the two engines.
        .target(name: "WireGuard", dependencies: ["WireGuardCrypto", "CShims", "POSIXThread"], swiftSettings: datapathSettings),
        // One joinable POSIX thread, for the harness's per-host work and the engines' threads.
        .target(name: "POSIXThread"),
        // C functions for what Swift cannot import (TUN ioctls, UDP offload control messages, CPU sets).
        .target(name: "CShims"),
        // TUN device, UDP socket, UAPI listener, stats file, and the daemon's loops over them.
        .target(name: "WireGuardSystem", dependencies: ["WireGuard", "CShims"], swiftSettings: datapathSettings),
        // The userspace WireGuard daemon, used like wireguard-go: flags, start-up, signals.
        .target(name: "WireGuardSwiftCLI", dependencies: [
            "WireGuard", "WireGuardSystem", "CShims", "CPUSets", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Its entry point only.
        .executableTarget(name: "wireguard-swift", dependencies: ["WireGuardSwiftCLI"]),

        // Pure logic: specs, plans, command builders, parsers. No I/O.
        .target(
            name: "WGBenchCore",
            dependencies: ["CPUSets", .product(name: "Yams", package: "Yams")]
        ),
        // The harness's own libsodium: tunnel key pairs and SHA-256 of uploads, not the datapath's crypto.
        .target(name: "WGBenchSodium", dependencies: ["CSodium"]),
        // Reaching hosts: the RemoteHost protocol, libssh2 sessions, the persistent shell.
        .target(
            name: "WGBenchRemote",
            dependencies: ["WGBenchCore", "CLibSSH2", "POSIXThread"]
        ),
        // Doing things to testbeds: the local testbed's life cycle, host inspection, benchmarks.
        .target(
            name: "WGBenchEngine",
            dependencies: ["WGBenchCore", "WGBenchRemote", "WGBenchSodium"]
        ),
        // The simulated testbed (four hosts that interpret host operations) and `wgbench plan`, which
        // drives the real engine against it: beside the engine, as NIOEmbedded sits beside NIOPosix.
        .target(
            name: "WGBenchSimulation",
            dependencies: ["WGBenchCore", "WGBenchRemote", "WGBenchEngine", "WGBenchSodium"]
        ),
        // Plots, the HTML report and run comparison, from result directories only.
        .target(
            name: "WGBenchReport",
            dependencies: ["WGBenchCore"]
        ),
        // wgbench's commands: argument types, option groups, and what each outcome prints and exits with.
        .target(
            name: "WGBenchCLI",
            dependencies: [
                "WGBenchCore", "WGBenchRemote", "WGBenchEngine", "WGBenchSimulation", "WGBenchReport",
                "WireGuard",  // only for `bench datapath`
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Its entry point only.
        .executableTarget(name: "wgbench", dependencies: ["WGBenchCLI"]),

        .testTarget(
            name: "WGBenchCoreTests",
            dependencies: ["WGBenchCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "WGBenchRemoteTests",
            dependencies: ["WGBenchRemote", "WGBenchCore"]
        ),
        .testTarget(
            name: "WGBenchEngineTests",
            dependencies: ["WGBenchEngine", "WGBenchSimulation", "WGBenchRemote", "WGBenchCore"],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "WGBenchReportTests",
            dependencies: ["WGBenchReport", "WGBenchCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "WGBenchCLITests",
            dependencies: ["WGBenchCLI", "WGBenchEngine", "WGBenchReport", "WGBenchRemote", "WGBenchCore",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "WGBenchSodiumTests",
            dependencies: ["WGBenchSodium"]
        ),
        .testTarget(
            name: "CPUSetsTests",
            dependencies: ["CPUSets"]
        ),
        .testTarget(
            name: "WireGuardSwiftCLITests",
            // WGBenchCore only to check the harness's knob descriptors against the daemon's flags.
            dependencies: ["WireGuardSwiftCLI", "WGBenchCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "WireGuardTests",
            dependencies: ["WireGuard", "WireGuardCrypto"]
        ),
        .testTarget(
            name: "WireGuardSystemTests",
            dependencies: ["WireGuardSystem", "WireGuard", "WireGuardCrypto"]
        ),
        .testTarget(
            name: "WireGuardCryptoTests",
            dependencies: ["WireGuardCrypto"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["WGBenchEngine", "WGBenchRemote", "WGBenchCore", "WireGuard", "WireGuardCrypto", "WireGuardSystem"]
        ),
    ]
)
