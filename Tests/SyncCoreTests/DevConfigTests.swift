import Testing
@testable import SyncCore

@Suite struct DevConfigTests {
    @Test func parsesEveryKey() throws {
        let config = try DevConfig(yaml: """
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
        let config = try DevConfig(yaml: "run: go run ./cmd/server\n")
        #expect(config.run == ["sh", "-c", "go run ./cmd/server"])
    }

    @Test func emptyFileIsEmptyConfig() throws {
        #expect(try DevConfig(yaml: "") == DevConfig())
    }

    @Test func unknownKeyNamesKeyAndFile() {
        #expect(throws: ConfigError.unknownKey(key: "synk", file: "x/swapdev.yaml", known: DevConfig.knownKeys)) {
            try DevConfig(yaml: "target: a\nsynk: []\n", file: "x/swapdev.yaml")
        }
        let message = ConfigError.unknownKey(key: "synk", file: "x/swapdev.yaml", known: DevConfig.knownKeys).description
        #expect(message.contains("synk") && message.contains("x/swapdev.yaml"))
    }

    @Test func wrongTypesAndBadRulesAreErrors() {
        #expect(throws: ConfigError.wrongType(key: "restart", file: "f", expected: "true or false")) {
            try DevConfig(yaml: "restart: sometimes\n", file: "f")
        }
        #expect(throws: ConfigError.invalidSyncRule("app")) { try DevConfig(yaml: "sync: [app]\n", file: "f") }
        #expect(throws: ConfigError.invalidSyncRule(".:relative")) { try SyncRule(parsing: ".:relative") }
        #expect(throws: ConfigError.invalidPort("99999")) { try PortForwardSpec(parsing: "99999") }
        #expect(throws: (any Error).self) { try DevConfig(yaml: "target: [unclosed\n", file: "f") }
    }
}
