import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs one probe attempt. TCP and HTTP probes connect from the host to the pod IP, as the
/// kubelet does; exec probes run inside the container's namespaces with its environment.
enum ProbeRunner {
    static func check(_ probe: ProbeSpec, context: ContainerContext) async -> Bool {
        switch probe.action {
        case .tcpSocket(let port):
            let ip = context.podIP
            return await onDedicatedThread("probe-tcp") {
                guard case .success(let fd) = TCPConnect.connect(host: ip, port: port, timeout: probe.timeout) else { return false }
                close(fd)
                return true
            }
        case .httpGet(let port, let path, let scheme):
            let ip = context.podIP
            // HTTPS probes only check that the port accepts connections: the kubelet skips
            // certificate checks anyway, and the sandbox does not speak TLS to its pods.
            if scheme.uppercased() == "HTTPS" { return await check(ProbeSpec(action: .tcpSocket(port: port), timeout: probe.timeout), context: context) }
            return await onDedicatedThread("probe-http") { httpGet(ip: ip, port: port, path: path, timeout: probe.timeout) }
        case .exec(let command):
            return await execSucceeds(command, context: context, timeout: probe.timeout)
        }
    }

    /// A `GET` whose status 200–399 counts as success, like the kubelet's.
    static func httpGet(ip: String, port: Int, path: String, timeout: Duration) -> Bool {
        guard case .success(let fd) = TCPConnect.connect(host: ip, port: port, timeout: timeout) else { return false }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        if limit.tv_sec == 0 && limit.tv_usec == 0 { limit.tv_sec = 1 }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let target = path.isEmpty ? "/" : path
        let request = "GET \(target) HTTP/1.1\r\nHost: \(ip):\(port)\r\nUser-Agent: kube-probe/1.30\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return false }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while response.count < 64, !response.contains(UInt8(ascii: "\n")) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            response += buffer[0..<count]
        }
        let statusLine = String(decoding: response, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else { return false }
        return (200..<400).contains(code)
    }

    /// Runs `command` in the container and reports whether it exited 0 within `timeout`.
    static func execSucceeds(_ command: [String], context: ContainerContext, timeout: Duration) async -> Bool {
        guard !command.isEmpty else { return false }
        let argv = context.nsenterArgv(command)
        guard let pid = try? HostProcess.spawn(
            executable: context.nsenterPath, argv: argv, environment: context.environment,
            fds: [.open(path: "/dev/null", flags: O_RDONLY, mode: 0, target: 0),
                  .open(path: "/dev/null", flags: O_WRONLY, mode: 0, target: 1),
                  .open(path: "/dev/null", flags: O_WRONLY, mode: 0, target: 2)])
        else { return false }
        let timer = Task {
            try await Task.sleep(for: timeout)
            kill(-pid, SIGKILL)
        }
        let code = await HostProcess.waitForExit(pid)
        timer.cancel()
        return code == 0
    }
}

extension ProbeSpec {
    init(action: Action, timeout: Duration) {
        self.init(action: action)
        self.timeout = timeout
    }
}
