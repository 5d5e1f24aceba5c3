// swift-tools-version:6.0
import PackageDescription

// One library target per concern; the `swapdev` executable stays a thin shell over them.
//
//   SystemSupport    the shared lock box (Locked), posix_spawn's close-from action, whole socket writes; depends on nothing
//   KubeModel        JSON objects, Status errors, resources, channel frames (shared by client and sandbox)
//   KubeEnvironment  the kubelet's container-environment rules (shared by swap engine and sandbox)
//   KubeClient       kubeconfig, auth, REST, watch, exec, port-forward, logs
//   SSHTunnel        libssh2 sessions, remote/direct forwards, file reads
//   CSSHKeystream    batched AES-CTR keystream under libssh2 1.10's per-block cipher calls
//   SwapPlan         pure decisions of a swap: target, proxy pod spec, swap record, guards, env files
//   LocalProcess     the local command: process group, signal forwarding, exit code, restart
//   SwapEngine       `swapdev swap`: runs a SwapPlan against the cluster through the tunnel
//   DevLoop          `swapdev dev`: watch, sync, restart
//   SandboxRuntime   the sandbox's pods: processes in network namespaces, probes, service proxy
//   SandboxCluster   the sandbox's API server: object store, REST, watch, controllers
//   SwapdevTesting   launchers and fixtures for tests (sandbox, sshd)
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOWebSocket", package: "swift-nio"),
    .product(name: "NIOSSL", package: "swift-nio-ssl"),
]
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

let package = Package(
    name: "swapdev",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swapdev", targets: ["swapdev"]),
        .executable(name: "swapdev-sandbox", targets: ["swapdev-sandbox"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "SSHTunnel", targets: ["SSHTunnel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        .target(name: "SystemSupport", swiftSettings: swiftSettings),
        .target(name: "KubeModel", swiftSettings: swiftSettings),
        .target(name: "KubeEnvironment", dependencies: ["KubeModel"], swiftSettings: swiftSettings),
        .target(
            name: "KubeClient",
            dependencies: ["KubeModel", "SystemSupport", logging, .product(name: "Yams", package: "Yams")] + nio,
            swiftSettings: swiftSettings
        ),
        // libssh2 1.10's per-block AES-CTR calls answered from a batched keystream (keystream.c).
        .target(
            name: "CSSHKeystream",
            linkerSettings: [.linkedLibrary("crypto", .when(platforms: [.linux]))]
        ),
        .target(
            name: "SSHTunnel",
            dependencies: ["CLibSSH2", "CSSHKeystream", "SystemSupport", logging, .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapPlan",
            dependencies: ["KubeModel", "KubeEnvironment"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LocalProcess",
            dependencies: ["SystemSupport", logging],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapEngine",
            dependencies: ["KubeClient", "KubeEnvironment", "SSHTunnel", "KubeModel", "SwapPlan", "LocalProcess", "SyncCore", "SystemSupport", logging],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DevLoop",
            dependencies: ["KubeClient", "KubeModel", "SwapPlan", "LocalProcess", "SyncCore", logging],
            swiftSettings: swiftSettings
        ),
        .target(name: "SyncCore", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: swiftSettings),
        .target(
            name: "SandboxRuntime",
            dependencies: ["KubeModel", "SystemSupport", logging] + nio,
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SandboxCluster",
            dependencies: ["KubeModel", "KubeEnvironment", "SandboxRuntime", logging] + nio,
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "swapdev-sandbox",
            dependencies: [
                "SandboxCluster", "SandboxRuntime", logging,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "swapdev",
            dependencies: [
                "KubeClient", "SwapEngine", "DevLoop", logging,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/SwapdevCLI",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapdevTesting",
            dependencies: ["KubeClient", "KubeModel", logging],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "swapdev-tunnel-bench", dependencies: ["SSHTunnel"], swiftSettings: swiftSettings),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KubeModelTests", dependencies: ["KubeModel"], swiftSettings: swiftSettings),
        .testTarget(name: "KubeEnvironmentTests", dependencies: ["KubeEnvironment", "KubeModel"], swiftSettings: swiftSettings),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "KubeModel", "SwapdevTesting", "SystemSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SSHTunnelTests", dependencies: ["SSHTunnel", "CLibSSH2", "CSSHKeystream", "SwapdevTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "SandboxRuntimeTests", dependencies: ["SandboxRuntime", "SwapdevTesting", "SystemSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SandboxClusterTests", dependencies: ["SandboxCluster", "KubeModel", "SwapdevTesting", "KubeClient"], swiftSettings: swiftSettings),
        .testTarget(name: "SwapPlanTests", dependencies: ["SwapPlan", "KubeModel"], swiftSettings: swiftSettings),
        .testTarget(name: "LocalProcessTests", dependencies: ["LocalProcess"], swiftSettings: swiftSettings),
        .testTarget(name: "SyncCoreTests", dependencies: ["SyncCore"], swiftSettings: swiftSettings),
        .testTarget(name: "DevLoopTests", dependencies: ["DevLoop", "KubeModel", "SwapdevTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "SwapEngineTests", dependencies: ["SwapEngine", "SwapdevTesting", "KubeClient", "SystemSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SwapSafetyTests", dependencies: ["SwapEngine", "SwapPlan", "KubeModel", "SwapdevTesting", "KubeClient"], swiftSettings: swiftSettings),
    ]
)
