import Foundation
import Yams

/// `swapdev.yaml`: the defaults of `swapdev dev` and `swapdev swap`; flags override each field.
///
/// ```yaml
/// target: my-app:web          # DEPLOYMENT[:CONTAINER]
/// namespace: dev
/// context: kind-dev
/// image: python:3.12           # dev only: replaces the container's image
/// sync:                        # dev only: LOCAL:REMOTE strings or {local, remote} maps
///   - .:/app
/// ignore: ["*.log", "tmp/"]   # gitignore syntax, on top of .gitignore & co. (dev sync, swap --watch)
/// run: [python3, app.py]       # or one string, run with sh -c
/// restart: true                # dev only; false: leave reloading to the app
/// ports: ["8080", "9000:80"]   # [LOCAL:]REMOTE: dev --port-forward, swap --expose
/// env: {DEBUG: "1"}            # set for the process (in the dev container / the local one)
/// logs: true                   # dev only
/// watch: [src]                 # swap only: restart the local process on changes below these
/// proxy-image: registry.internal/swapdev-proxy:0.1.0   # swap only: a mirror the cluster can pull
/// swap:                        # keys that apply to `swapdev swap` alone, over the ones above
///   run: go run ./cmd/server
/// dev:                         # keys that apply to `swapdev dev` alone
///   run: [go, run, ./cmd/server]
/// ```
/// Every key is optional; an unknown key is an error naming the key and the file. Why the
/// sections: the same project usually runs differently on the laptop (`swap`, the host's
/// toolchain) and in the container (`dev`), while target, namespace and ignores are shared.
public struct SwapdevConfig: Sendable, Equatable {
    /// The command a config is resolved for.
    public enum Command: String, Sendable, CaseIterable {
        case swap
        case dev
    }

    public var target: String?
    public var namespace: String?
    public var context: String?
    public var image: String?
    public var sync: [SyncRule] = []
    public var ignore: [String] = []
    public var run: [String]?
    public var restart: Bool?
    public var ports: [PortForwardSpec] = []
    public var env: [String: String] = [:]
    public var logs: Bool?
    public var watch: [String] = []
    /// `proxy-image`: the proxy image `swapdev swap` deploys (clusters that pull from a mirror).
    public var proxyImage: String?
    /// The `swap:` and `dev:` sections, applied by ``resolved(for:)``.
    public var sections: [Command: SwapdevConfig] = [:]

    /// The keys of a section (and of the top level, which may also hold ``Command`` sections).
    public static let sectionKeys = ["target", "namespace", "context", "image", "sync", "ignore", "run", "restart",
                                     "ports", "env", "logs", "watch", "proxy-image"]

    /// The keys a file may hold at the top level.
    public static let knownKeys = sectionKeys + Command.allCases.map(\.rawValue)

    /// The file looked for in the working directory.
    public static let defaultFileName = "swapdev.yaml"

    public init() {}

    /// Reads `path`.
    public init(contentsOf path: String) throws(ConfigError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        try self.init(yaml: text, file: path)
    }

    /// `swapdev.yaml` of `directory` when it exists, else an empty config.
    public static func loadDefault(in directory: String) throws(ConfigError) -> SwapdevConfig {
        let path = directory + "/" + defaultFileName
        guard FileManager.default.fileExists(atPath: path) else { return SwapdevConfig() }
        return try SwapdevConfig(contentsOf: path)
    }

    /// Parses YAML text; `file` names the source in errors.
    public init(yaml text: String, file: String = defaultFileName) throws(ConfigError) {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw .invalidYAML(file: file, reason: "\(error)".split(separator: "\n").joined(separator: " "))
        }
        self.init()
        guard let loaded else { return }
        guard let map = loaded as? [String: Any] else { throw .wrongType(key: "(top level)", file: file, expected: "a map of keys") }
        try self.init(map: map, file: file, keyPrefix: "", known: Self.knownKeys)
        for command in Command.allCases {
            guard let value = map[command.rawValue] else { continue }
            guard let section = value as? [String: Any] else {
                throw .wrongType(key: command.rawValue, file: file, expected: "a map of keys")
            }
            sections[command] = try SwapdevConfig(map: section, file: file, keyPrefix: command.rawValue + ".", known: Self.sectionKeys)
        }
    }

    /// The settings for `command`: its section's keys over the top-level ones.
    public func resolved(for command: Command) -> SwapdevConfig {
        guard let section = sections[command] else {
            var plain = self
            plain.sections = [:]
            return plain
        }
        var merged = self
        merged.sections = [:]
        merged.target = section.target ?? target
        merged.namespace = section.namespace ?? namespace
        merged.context = section.context ?? context
        merged.image = section.image ?? image
        merged.run = section.run ?? run
        merged.restart = section.restart ?? restart
        merged.logs = section.logs ?? logs
        merged.proxyImage = section.proxyImage ?? proxyImage
        if !section.sync.isEmpty { merged.sync = section.sync }
        if !section.ports.isEmpty { merged.ports = section.ports }
        if !section.watch.isEmpty { merged.watch = section.watch }
        merged.ignore = ignore + section.ignore
        merged.env = env.merging(section.env) { _, sectionValue in sectionValue }
        return merged
    }

    /// One level of keys; `keyPrefix` names a section's keys in errors (`swap.run`).
    private init(map: [String: Any], file: String, keyPrefix: String, known: [String]) throws(ConfigError) {
        self.init()
        for key in map.keys.sorted() where !known.contains(key) {
            throw .unknownKey(key: keyPrefix + key, file: file, known: known)
        }
        let reader = Reader(map: map, file: file, keyPrefix: keyPrefix)
        target = try reader.string("target")
        namespace = try reader.string("namespace")
        context = try reader.string("context")
        image = try reader.string("image")
        proxyImage = try reader.string("proxy-image")
        restart = try reader.bool("restart")
        logs = try reader.bool("logs")
        ignore = try reader.strings("ignore") ?? []
        watch = try reader.strings("watch") ?? []
        if let run = map["run"] {
            if let line = run as? String {
                self.run = ["sh", "-c", line]
            } else if let argv = try reader.strings("run") {
                self.run = argv
            }
        }
        ports = try (reader.strings("ports") ?? []).map { (text: String) throws(ConfigError) -> PortForwardSpec in
            try PortForwardSpec(parsing: text)
        }
        if let envValue = map["env"] {
            guard let envMap = envValue as? [String: Any] else { throw .wrongType(key: keyPrefix + "env", file: file, expected: "a map of NAME: value") }
            for (name, value) in envMap { env[name] = Reader.scalarText(value) }
        }
        if let syncValue = map["sync"] {
            guard let list = syncValue as? [Any] else { throw .wrongType(key: keyPrefix + "sync", file: file, expected: "a list of LOCAL:REMOTE") }
            for item in list {
                if let text = item as? String {
                    sync.append(try SyncRule(parsing: text))
                } else if let rule = item as? [String: Any], let local = rule["local"] as? String, let remote = rule["remote"] as? String,
                          Set(rule.keys).isSubset(of: ["local", "remote"]) {
                    sync.append(try SyncRule(parsing: local + ":" + remote))
                } else {
                    throw .wrongType(key: keyPrefix + "sync", file: file, expected: "a list of LOCAL:REMOTE strings or {local, remote} maps")
                }
            }
        }
    }

    /// Typed access with errors that name the key and file.
    private struct Reader {
        let map: [String: Any]
        let file: String
        /// `swap.` or `dev.` inside a section, so errors name the key as written.
        let keyPrefix: String

        func string(_ key: String) throws(ConfigError) -> String? {
            guard let value = map[key] else { return nil }
            if value is NSNull { return nil }
            guard let text = Self.scalarText(value), !(value is [Any]), !(value is [String: Any]) else {
                throw .wrongType(key: keyPrefix + key, file: file, expected: "a string")
            }
            return text
        }

        func bool(_ key: String) throws(ConfigError) -> Bool? {
            guard let value = map[key] else { return nil }
            guard let flag = value as? Bool else { throw .wrongType(key: keyPrefix + key, file: file, expected: "true or false") }
            return flag
        }

        func strings(_ key: String) throws(ConfigError) -> [String]? {
            guard let value = map[key] else { return nil }
            guard let list = value as? [Any] else { throw .wrongType(key: keyPrefix + key, file: file, expected: "a list of strings") }
            var result: [String] = []
            for item in list {
                guard let text = Self.scalarText(item) else { throw .wrongType(key: keyPrefix + key, file: file, expected: "a list of strings") }
                result.append(text)
            }
            return result
        }

        /// Scalars as YAML wrote them (`8080` and `"8080"` both become "8080").
        static func scalarText(_ value: Any) -> String? {
            switch value {
            case let text as String: return text
            case let flag as Bool: return flag ? "true" : "false"
            case let number as Int: return String(number)
            case let number as Double: return String(number)
            default: return nil
            }
        }
    }
}
