import Foundation
import SyncCore

/// Where `dev` and `swap` find swapdev.yaml.
enum ProjectConfig {
    /// `-f FILE` when given (it must exist), else `./swapdev.yaml` when it exists, else an empty config.
    static func load(file: String?) throws(ConfigError) -> SwapdevConfig {
        if let file { return try SwapdevConfig(contentsOf: file) }
        return try SwapdevConfig.loadDefault(in: FileManager.default.currentDirectoryPath)
    }
}
