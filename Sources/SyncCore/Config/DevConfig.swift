import Foundation
import Yams

/// `swapdev.yaml`: the defaults of `swapdev dev` and `swapdev swap`; flags override each field.
///
/// ```yaml
/// target: my-app:web          # DEPLOYMENT[:CONTAINER]
/// namespace: dev
/// context: kind-dev
/// image: python:3.12           # dev only: replaces the container's image
/// sync:                        # LOCAL:REMOTE strings or {local, remote} maps
///   - .:/app
/// ignore: ["*.log", "tmp/"]   # gitignore syntax, on top of .gitignore & co.
/// run: [python3, app.py]       # or one string, run with sh -c
/// restart: true                # false: leave reloading to the app
/// ports: ["8080", "9000:80"]
/// env: {DEBUG: "1"}
/// logs: true
/// watch: [src]                 # swap --watch paths
/// ```
/// Every key is optional; an unknown key is an error naming the key and the file.
public struct DevConfig: Sendable, Equatable {
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

    /// The keys a file may hold.
    public static let knownKeys = ["target", "namespace", "context", "image", "sync", "ignore", "run", "restart",
                                   "ports", "env", "logs", "watch"]

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
    public static func loadDefault(in directory: String) throws(ConfigError) -> DevConfig {
        let path = directory + "/" + defaultFileName
        guard FileManager.default.fileExists(atPath: path) else { return DevConfig() }
        return try DevConfig(contentsOf: path)
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
        for key in map.keys.sorted() where !Self.knownKeys.contains(key) {
            throw .unknownKey(key: key, file: file, known: Self.knownKeys)
        }
        let reader = Reader(map: map, file: file)
        target = try reader.string("target")
        namespace = try reader.string("namespace")
        context = try reader.string("context")
        image = try reader.string("image")
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
            guard let envMap = envValue as? [String: Any] else { throw .wrongType(key: "env", file: file, expected: "a map of NAME: value") }
            for (name, value) in envMap { env[name] = Reader.scalarText(value) }
        }
        if let syncValue = map["sync"] {
            guard let list = syncValue as? [Any] else { throw .wrongType(key: "sync", file: file, expected: "a list of LOCAL:REMOTE") }
            for item in list {
                if let text = item as? String {
                    sync.append(try SyncRule(parsing: text))
                } else if let rule = item as? [String: Any], let local = rule["local"] as? String, let remote = rule["remote"] as? String,
                          Set(rule.keys).isSubset(of: ["local", "remote"]) {
                    sync.append(try SyncRule(parsing: local + ":" + remote))
                } else {
                    throw .wrongType(key: "sync", file: file, expected: "a list of LOCAL:REMOTE strings or {local, remote} maps")
                }
            }
        }
    }

    /// Typed access with errors that name the key and file.
    private struct Reader {
        let map: [String: Any]
        let file: String

        func string(_ key: String) throws(ConfigError) -> String? {
            guard let value = map[key] else { return nil }
            if value is NSNull { return nil }
            guard let text = Self.scalarText(value), !(value is [Any]), !(value is [String: Any]) else {
                throw .wrongType(key: key, file: file, expected: "a string")
            }
            return text
        }

        func bool(_ key: String) throws(ConfigError) -> Bool? {
            guard let value = map[key] else { return nil }
            guard let flag = value as? Bool else { throw .wrongType(key: key, file: file, expected: "true or false") }
            return flag
        }

        func strings(_ key: String) throws(ConfigError) -> [String]? {
            guard let value = map[key] else { return nil }
            guard let list = value as? [Any] else { throw .wrongType(key: key, file: file, expected: "a list of strings") }
            var result: [String] = []
            for item in list {
                guard let text = Self.scalarText(item) else { throw .wrongType(key: key, file: file, expected: "a list of strings") }
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
