import Testing
@testable import SyncCore

@Suite struct SwapdevConfigTests {
    @Test func parsesEveryKey() throws {
        let config = try SwapdevConfig(yaml: """
            target: my-app:web
            namespace: dev
            context: kind
            image: python:3.12
            sync:
              - .:/app
              - {local: assets, remote: /srv/assets}
            ignore: ["*.log", "tmp/"]
            run: [python3, app.py]
            restart: false
            ports: [8080, "9000:80"]
            env: {DEBUG: 1, NAME: x}
            logs: false
            watch: [src]
            """)
        #expect(config.target == "my-app:web")
        #expect(config.namespace == "dev")
        #expect(config.context == "kind")
        #expect(config.image == "python:3.12")
        #expect(config.sync == [SyncRule(local: ".", remote: "/app"), SyncRule(local: "assets", remote: "/srv/assets")])
        #expect(config.ignore == ["*.log", "tmp/"])
        #expect(config.run == ["python3", "app.py"])
        #expect(config.restart == false)
        #expect(config.ports == [PortForwardSpec(local: 8080, remote: 8080), PortForwardSpec(local: 9000, remote: 80)])
        #expect(config.env == ["DEBUG": "1", "NAME": "x"])
        #expect(config.logs == false)
        #expect(config.watch == ["src"])
    }

    @Test func runStringGoesThroughShell() throws {
        let config = try SwapdevConfig(yaml: "run: go run ./cmd/server\n")
        #expect(config.run == ["sh", "-c", "go run ./cmd/server"])
    }

    @Test func emptyFileIsEmptyConfig() throws {
        #expect(try SwapdevConfig(yaml: "") == SwapdevConfig())
    }

    @Test func unknownKeyNamesKeyAndFile() {
        #expect(throws: ConfigError.unknownKey(key: "synk", file: "x/swapdev.yaml", known: SwapdevConfig.knownKeys)) {
            try SwapdevConfig(yaml: "target: a\nsynk: []\n", file: "x/swapdev.yaml")
        }
        let message = ConfigError.unknownKey(key: "synk", file: "x/swapdev.yaml", known: SwapdevConfig.knownKeys).description
        #expect(message.contains("synk") && message.contains("x/swapdev.yaml"))
    }

    @Test func wrongTypesAndBadRulesAreErrors() {
        #expect(throws: ConfigError.wrongType(key: "restart", file: "f", expected: "true or false")) {
            try SwapdevConfig(yaml: "restart: sometimes\n", file: "f")
        }
        #expect(throws: ConfigError.invalidSyncRule("app")) { try SwapdevConfig(yaml: "sync: [app]\n", file: "f") }
        #expect(throws: ConfigError.invalidSyncRule(".:relative")) { try SyncRule(parsing: ".:relative") }
        #expect(throws: ConfigError.invalidPort("99999")) { try PortForwardSpec(parsing: "99999") }
        #expect(throws: (any Error).self) { try SwapdevConfig(yaml: "target: [unclosed\n", file: "f") }
    }

    @Test func swapAndDevSectionsOverrideTheTopLevelForTheirCommand() throws {
        let config = try SwapdevConfig(yaml: """
            target: web:app
            namespace: dev
            run: [python3, app.py]
            env: {MODE: shared, LEVEL: info}
            ignore: ["*.log"]
            ports: [8080]
            swap:
              run: go run ./cmd/server
              env: {LEVEL: debug}
              ignore: [bin/]
              watch: [cmd, internal]
              proxy-image: mirror.internal/swapdev-proxy:0.1.0
            dev:
              namespace: dev-sync
              ports: ["9000:80"]
            """)
        let swap = config.resolved(for: .swap)
        #expect(swap.target == "web:app" && swap.namespace == "dev")
        #expect(swap.run == ["sh", "-c", "go run ./cmd/server"])
        #expect(swap.env == ["MODE": "shared", "LEVEL": "debug"])
        #expect(swap.ignore == ["*.log", "bin/"])
        #expect(swap.watch == ["cmd", "internal"])
        #expect(swap.proxyImage == "mirror.internal/swapdev-proxy:0.1.0")
        #expect(swap.ports == [PortForwardSpec(local: 8080, remote: 8080)])
        #expect(swap.sections.isEmpty)
        let dev = config.resolved(for: .dev)
        #expect(dev.run == ["python3", "app.py"])
        #expect(dev.namespace == "dev-sync")
        #expect(dev.env == ["MODE": "shared", "LEVEL": "info"])
        #expect(dev.ports == [PortForwardSpec(local: 9000, remote: 80)])
        #expect(dev.watch.isEmpty)
    }

    @Test func sectionErrorsNameTheKeyAsWritten() {
        #expect(throws: ConfigError.unknownKey(key: "swap.sync_rules", file: "f", known: SwapdevConfig.sectionKeys)) {
            try SwapdevConfig(yaml: "swap:\n  sync_rules: []\n", file: "f")
        }
        #expect(throws: ConfigError.unknownKey(key: "dev.swap", file: "f", known: SwapdevConfig.sectionKeys)) {
            try SwapdevConfig(yaml: "dev:\n  swap: {}\n", file: "f")
        }
        #expect(throws: ConfigError.wrongType(key: "swap.restart", file: "f", expected: "true or false")) {
            try SwapdevConfig(yaml: "swap:\n  restart: maybe\n", file: "f")
        }
        #expect(throws: ConfigError.wrongType(key: "swap", file: "f", expected: "a map of keys")) {
            try SwapdevConfig(yaml: "swap: [run]\n", file: "f")
        }
    }
}
