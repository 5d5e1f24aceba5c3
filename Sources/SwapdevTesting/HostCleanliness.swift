import Foundation

/// A picture of the host state a sandbox could leak: processes, network namespaces, mounts,
/// interfaces and IPv4 routes. Tests take one before and one after, and assert that nothing
/// new is left (``HostSnapshot/leftovers(since:)``).
///
/// ```swift
/// let before = HostSnapshot.capture(processMarker: "SWAPDEV_TEST_RUN=\(run)")
/// … start and stop pods …
/// let leftovers = HostSnapshot.capture(processMarker: "SWAPDEV_TEST_RUN=\(run)").leftovers(since: before)
/// #expect(leftovers.isEmpty, "\(leftovers)")
/// ```
///
/// Other sandboxes may run on the same machine at the same time, so processes are only
/// counted when they are children of this process or carry `processMarker` in their
/// environment, and ``HostLeftovers/matching(_:)`` narrows the rest to names a test owns.
public struct HostSnapshot: Sendable, Hashable {
    /// `pid cmdline` of every counted process.
    public var processes: Set<String>
    /// Names under `/run/netns` (what `ip netns list` shows).
    public var networkNamespaces: Set<String>
    /// `mountpoint fstype source` of every mount in this process's mount namespace.
    public var mounts: Set<String>
    /// Interface names in the host network namespace.
    public var interfaces: Set<String>
    /// `ip -4 route show table all` lines.
    public var routes: Set<String>

    /// Reads the current host state.
    ///
    /// - Parameter processMarker: an exact `NAME=VALUE` environment entry; processes that
    ///   carry it are counted wherever they are (orphans included).
    public static func capture(processMarker: String? = nil) -> HostSnapshot {
        HostSnapshot(
            processes: processes(marker: processMarker),
            networkNamespaces: Set((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []),
            mounts: mounts(),
            interfaces: Set((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []),
            routes: routes())
    }

    /// What exists now that did not exist in `before`.
    public func leftovers(since before: HostSnapshot) -> HostLeftovers {
        HostLeftovers(
            processes: processes.subtracting(before.processes).sorted(),
            networkNamespaces: networkNamespaces.subtracting(before.networkNamespaces).sorted(),
            mounts: mounts.subtracting(before.mounts).sorted(),
            interfaces: interfaces.subtracting(before.interfaces).sorted(),
            routes: routes.subtracting(before.routes).sorted())
    }

    private static func processes(marker: String?) -> Set<String> {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var result: Set<String> = []
        for entry in entries {
            guard let pid = Int32(entry), pid != me else { continue }
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            let parent = fields.count > 1 ? Int32(fields[1]) : nil
            var counted = parent == me
            if !counted, let marker, let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") {
                counted = environ.split(separator: 0).contains { $0.elementsEqual(marker.utf8) }
            }
            guard counted else { continue }
            let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
                .map { String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) } ?? ""
            result.insert("\(pid) \(commandLine.trimmingCharacters(in: .whitespaces))")
        }
        return result
    }

    private static func mounts() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        var result: Set<String> = []
        for line in text.split(separator: "\n") {
            // mountinfo: id parent major:minor root mountpoint options … - fstype source superoptions
            let halves = line.components(separatedBy: " - ")
            let left = halves[0].split(separator: " ")
            let right = halves.count > 1 ? halves[1].split(separator: " ") : []
            guard left.count > 4 else { continue }
            result.insert("\(left[4]) \(right.first ?? "") \(right.count > 1 ? right[1] : "")")
        }
        return result
    }

    private static func routes() -> Set<String> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["-4", "route", "show", "table", "all"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return [] }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // `linkdown` only says whether a bridge has carrier right now; it is state, not a leftover.
        return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            $0.replacingOccurrences(of: " linkdown", with: "").trimmingCharacters(in: .whitespaces)
        })
    }
}

/// Host state found after a test that was not there before it.
public struct HostLeftovers: Sendable, Hashable, CustomStringConvertible {
    public var processes: [String]
    public var networkNamespaces: [String]
    public var mounts: [String]
    public var interfaces: [String]
    public var routes: [String]

    public var isEmpty: Bool {
        processes.isEmpty && networkNamespaces.isEmpty && mounts.isEmpty && interfaces.isEmpty && routes.isEmpty
    }

    /// Keeps only entries that mention one of `needles` (a test's own name prefix, state
    /// folder or address range), so sandboxes of other test runs on the machine do not count.
    /// Processes are kept as they are: they were already selected by marker or parentage.
    public func matching(_ needles: [String]) -> HostLeftovers {
        func keep(_ items: [String]) -> [String] { items.filter { item in needles.contains { item.contains($0) } } }
        return HostLeftovers(
            processes: processes, networkNamespaces: keep(networkNamespaces), mounts: keep(mounts),
            interfaces: keep(interfaces), routes: keep(routes))
    }

    public var description: String {
        var parts: [String] = []
        if !processes.isEmpty { parts.append("processes: \(processes)") }
        if !networkNamespaces.isEmpty { parts.append("network namespaces: \(networkNamespaces)") }
        if !mounts.isEmpty { parts.append("mounts: \(mounts)") }
        if !interfaces.isEmpty { parts.append("interfaces: \(interfaces)") }
        if !routes.isEmpty { parts.append("routes: \(routes)") }
        return parts.isEmpty ? "nothing left" : "left on the host: " + parts.joined(separator: "; ")
    }
}
