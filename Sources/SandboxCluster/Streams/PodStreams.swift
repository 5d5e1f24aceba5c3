import Foundation
import KubeModel
import SandboxRuntime

/// pods/log, pods/exec and pods/portforward: find the pod, then hand the stream to the runtime.
struct PodStreams: Sendable {
    let registry: Registry
    let runtime: any PodRuntime

    /// The running pod and the container a request names (or the only one).
    func target(namespace: String, name: String, container: String?) throws -> (uid: String, container: String) {
        let pod = try registry.get(ResourceCatalog.pods, namespace: namespace, name: name)
        let names = (pod[path: ["spec", "containers"]]?.array ?? []).compactMap { $0["name"]?.string }
        let chosen: String
        if let container, !container.isEmpty {
            let initNames = (pod[path: ["spec", "initContainers"]]?.array ?? []).compactMap { $0["name"]?.string }
            guard names.contains(container) || initNames.contains(container) else {
                throw APIError.badRequest("container \(container) is not valid for pod \(name)")
            }
            chosen = container
        } else if names.count == 1, let only = names.first {
            chosen = only
        } else {
            throw APIError.badRequest("a container name must be specified for pod \(name), choose one of: [\(names.joined(separator: " "))]")
        }
        return (pod.uid ?? "", chosen)
    }

    // MARK: Logs

    func logs(_ request: APIRequest, namespace: String, name: String) async throws -> APIResponse {
        let (uid, container) = try target(namespace: namespace, name: name, container: request.parameter("container"))
        let follow = request.boolParameter("follow")
        let stream: AsyncStream<[UInt8]>
        do {
            stream = try await runtime.logs(
                podUID: uid, container: container, follow: follow, previous: request.boolParameter("previous"),
                tailLines: request.parameter("tailLines").flatMap(Int.init))
        } catch {
            throw APIError.badRequest("container \"\(container)\" in pod \"\(name)\" is waiting to start: \(error)")
        }
        if follow {
            let (output, continuation) = AsyncStream<Data>.makeStream()
            let pump = Task {
                for await chunk in stream { continuation.yield(Data(chunk)) }
                continuation.finish()
            }
            continuation.onTermination = { _ in pump.cancel() }
            return .stream(status: 200, contentType: "text/plain", output)
        }
        var data = Data()
        for await chunk in stream { data.append(contentsOf: chunk) }
        return .data(status: 200, contentType: "text/plain", data)
    }

    // MARK: Exec

    /// Runs an exec session over the channel protocol (v4 or v5), ending with the Status on channel 3.
    func exec(_ request: APIRequest, namespace: String, name: String, v5: Bool, session: WebSocketSession) async {
        let stdout = request.query["stdout"] == nil ? true : request.boolParameter("stdout")
        let stderr = request.boolParameter("stderr")
        let stdin = request.boolParameter("stdin")
        let tty = request.boolParameter("tty")
        let argv = request.parameters("command")
        let execSession: any ExecSession
        do {
            guard !argv.isEmpty else { throw APIError.badRequest("you must specify at least one command for the container") }
            let (uid, container) = try target(namespace: namespace, name: name, container: request.parameter("container"))
            execSession = try await runtime.exec(podUID: uid, container: container, argv: argv, tty: tty, stdin: stdin)
        } catch {
            let message = (error as? APIError)?.status.message ?? "\(error)"
            let status: JSONValue = ["metadata": .emptyObject, "status": "Failure", "message": .string(message), "reason": "InternalError", "code": 500]
            try? await session.send([ExecChannel.status.rawValue] + Array(status.serialized()))
            return
        }
        // The protocol starts with one empty message on the lowest writable channel.
        let first: ExecChannel = stdout ? .stdout : (stderr && !tty ? .stderr : .status)
        try? await session.send([first.rawValue])

        let input = Task {
            for await message in session.messages {
                guard let channel = message.first else { continue }
                let payload = Array(message.dropFirst())
                switch channel {
                case ExecChannel.stdin.rawValue where stdin:
                    try? await execSession.writeStdin(payload)
                case ExecChannel.resize.rawValue:
                    if let size = try? JSONValue(parsing: Data(payload)) {
                        let width = size["Width"]?.int ?? size["width"]?.int ?? 80
                        let height = size["Height"]?.int ?? size["height"]?.int ?? 24
                        await execSession.resize(width: width, height: height)
                    }
                case ExecChannel.close.rawValue where v5 && payload.first == ExecChannel.stdin.rawValue:
                    await execSession.closeStdin()
                default:
                    break
                }
            }
            // The client went away: nothing can read the output any more.
            await execSession.terminate()
        }
        for await (channel, bytes) in execSession.output {
            let target: ExecChannel = (tty || channel == .stdout) ? .stdout : .stderr
            if target == .stdout && !stdout { continue }
            if target == .stderr && !stderr { continue }
            try? await session.send([target.rawValue] + bytes)
        }
        let code = await execSession.waitForExit()
        let status: JSONValue = code == 0
            ? ["metadata": .emptyObject, "status": "Success"]
            : ["metadata": .emptyObject, "status": "Failure",
               "message": .string("command terminated with non-zero exit code: error executing command [\(argv.joined(separator: " "))], exit code \(code)"),
               "reason": "NonZeroExitCode",
               "details": ["causes": [["reason": "ExitCode", "message": .string(String(code))]]]]
        try? await session.send([ExecChannel.status.rawValue] + Array(status.serialized()))
        input.cancel()
    }

    // MARK: Port-forward

    /// One TCP connection per requested port for the life of the WebSocket (`v4.channel.k8s.io`).
    func portForward(_ request: APIRequest, namespace: String, name: String, session: WebSocketSession) async {
        let ports = request.parameters("ports").flatMap { $0.split(separator: ",") }.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ports.isEmpty, ports.allSatisfy({ (1...65535).contains($0) }) else { return }
        for (index, port) in ports.enumerated() {
            let prefix = PortForwardChannel.portPrefix(UInt16(port))
            try? await session.send([PortForwardChannel.data(portIndex: index)] + prefix)
            try? await session.send([PortForwardChannel.error(portIndex: index)] + prefix)
        }
        let pod = try? registry.get(ResourceCatalog.pods, namespace: namespace, name: name)
        let uid = pod?.uid ?? ""
        var bridges: [Int: SocketBridge] = [:]
        for (index, port) in ports.enumerated() {
            do {
                guard pod != nil else { throw APIError.notFound(ResourceCatalog.pods, name) }
                let fd = try await runtime.connect(podUID: uid, port: port)
                let bridge = try await SocketBridge.adopt(fd)
                bridges[index] = bridge
            } catch {
                let reason = (error as? APIError)?.status.message ?? "\(error)"
                let text = "error forwarding port \(port) to pod \(name)_\(namespace), uid \(uid): \(reason)"
                try? await session.send([PortForwardChannel.error(portIndex: index)] + Array(text.utf8))
            }
        }
        guard !bridges.isEmpty else { return }
        let connected = bridges
        await withTaskGroup(of: Void.self) { group in
            for (index, bridge) in connected {
                group.addTask {
                    for await chunk in bridge.incoming {
                        do { try await session.send([PortForwardChannel.data(portIndex: index)] + chunk) } catch { break }
                    }
                }
            }
            group.addTask {
                for await message in session.messages {
                    guard let channel = message.first, channel % 2 == 0, let bridge = connected[Int(channel) / 2] else { continue }
                    await bridge.write(Array(message.dropFirst()))
                }
            }
            // The session ends when any pod connection closes or the client goes away.
            await group.next()
            group.cancelAll()
        }
        for bridge in connected.values { await bridge.close() }
    }
}
