import Foundation
import KubeModel
import Testing
@testable import SandboxCluster

/// A tiny WebSocket client (Python's ssl + socket, no third-party modules) that speaks to the
/// sandbox over real HTTPS, so the tests check the bytes on the wire.
private let webSocketScript = #"""
import base64, json, os, socket, ssl, struct, sys
port, cafile, token, path, protocol = sys.argv[1:6]
actions = sys.argv[6:]
ctx = ssl.create_default_context(cafile=cafile)
raw = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
key = base64.b64encode(os.urandom(16)).decode()
req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n"
if protocol:
    req += f"Sec-WebSocket-Protocol: {protocol}\r\n"
s.sendall((req + "\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(4096)
    if not chunk: break
    buf += chunk
head, _, rest = buf.partition(b"\r\n\r\n")
lines = head.decode().split("\r\n")
result = {"status": int(lines[0].split()[1]), "protocol": "", "messages": []}
for line in lines[1:]:
    k, _, v = line.partition(":")
    if k.lower() == "sec-websocket-protocol": result["protocol"] = v.strip()
def need(n):
    global rest
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk: raise EOFError
        rest += chunk
    out, rest = rest[:n], rest[n:]
    return out
def recv():
    while True:
        b0, b1 = need(2)
        n = b1 & 0x7f
        if n == 126: n = struct.unpack(">H", need(2))[0]
        elif n == 127: n = struct.unpack(">Q", need(8))[0]
        data = need(n)
        op = b0 & 0x0f
        if op == 8: raise EOFError
        if op in (1, 2): return data
def send(data):
    mask = os.urandom(4)
    n = len(data)
    header = bytes([0x82]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
    s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
try:
    for action in actions:
        kind, _, arg = action.partition(":")
        if kind == "send": send(bytes.fromhex(arg))
        elif kind == "recv":
            for _ in range(int(arg)): result["messages"].append(recv().hex())
        elif kind == "recvall":
            while True: result["messages"].append(recv().hex())
except (EOFError, socket.timeout, ConnectionError, ssl.SSLError):
    pass
print(json.dumps(result))
"""#

private struct WebSocketResult {
    var status: Int
    var subprotocol: String
    var messages: [[UInt8]]
}

private func runWebSocket(_ sandbox: TestCluster, path: String, protocol proto: String, actions: [String]) async throws -> WebSocketResult {
    let script = sandbox.directory.appendingPathComponent("ws.py")
    try webSocketScript.write(to: script, atomically: true, encoding: .utf8)
    let python = ["/usr/bin/python3", "/usr/local/bin/python3", "/root/.pyenv/shims/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    let interpreter = try #require(python, "python3 is needed for the WebSocket wire tests: apt-get install python3")
    let arguments = [script.path, String(sandbox.cluster.port), sandbox.directory.appendingPathComponent("ca.crt").path,
                     sandbox.cluster.token, path, proto] + actions
    let data = try await runProgram(interpreter, arguments).output
    let json = try JSONValue(parsing: data)
    func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }
    return WebSocketResult(status: json["status"]?.int ?? 0, subprotocol: json["protocol"]?.string ?? "",
                           messages: (json["messages"]?.array ?? []).compactMap(\.string).map(bytes))
}

private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

@Suite("Streams over HTTPS: exec, port-forward, logs, auth", .serialized, .timeLimit(.minutes(1)))
struct StreamTests {
    private func runningPod(_ sandbox: TestCluster, _ name: String) async -> Bool {
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/pods", Fixtures.pod(name))
        return await sandbox.eventually("pod running") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods/\(name)").body[path: ["status", "phase"]]?.string == "Running"
        }
    }

    @Test func execV5EchoesStdinAndReportsSuccess() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        #expect(await runningPod(sandbox, "ex"))
        let result = try await runWebSocket(sandbox, path: "/api/v1/namespaces/default/pods/ex/exec?command=cat&stdin=true&stdout=true&stderr=true",
                                      protocol: "v5.channel.k8s.io, v4.channel.k8s.io",
                                      actions: ["recv:1", "send:" + hex([0] + Array("hello".utf8)), "recv:1", "send:ff00", "recvall"])
        #expect(result.status == 101)
        #expect(result.subprotocol == "v5.channel.k8s.io")
        #expect(result.messages.first == [1], "the first message is empty on stdout")
        #expect(result.messages.dropFirst().first == [1] + Array("hello".utf8))
        let status = try #require(result.messages.last)
        #expect(status.first == 3)
        #expect(try JSONValue(parsing: Data(status.dropFirst())) == ["metadata": .emptyObject, "status": "Success"])
    }

    @Test func execV4NonZeroExit() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        #expect(await runningPod(sandbox, "ex4"))
        let result = try await runWebSocket(sandbox, path: "/api/v1/namespaces/default/pods/ex4/exec?command=fail&stdout=true&stderr=true",
                                      protocol: "v4.channel.k8s.io", actions: ["recvall"])
        #expect(result.subprotocol == "v4.channel.k8s.io")
        #expect(result.messages.contains([2] + Array("boom\n".utf8)))
        let status = try JSONValue(parsing: Data(try #require(result.messages.last).dropFirst()))
        #expect(status["reason"]?.string == "NonZeroExitCode")
        #expect(status[path: ["details", "causes"]]?[0] == ["reason": "ExitCode", "message": "3"])
    }

    @Test func portForwardPrefixesAndData() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        #expect(await runningPod(sandbox, "pf"))
        let result = try await runWebSocket(sandbox, path: "/api/v1/namespaces/default/pods/pf/portforward?ports=8080",
                                      protocol: "v4.channel.k8s.io",
                                      actions: ["recv:2", "send:" + hex([0] + Array("ping".utf8)), "recv:1"])
        #expect(result.subprotocol == "v4.channel.k8s.io")
        #expect(result.messages.count == 3)
        #expect(result.messages.first == [0, 0x90, 0x1f])
        #expect(result.messages.dropFirst().first == [1, 0x90, 0x1f])
        #expect(result.messages.last == [0] + Array("echo:ping".utf8))

        let refused = try await runWebSocket(sandbox, path: "/api/v1/namespaces/default/pods/pf/portforward?ports=9999", protocol: "", actions: ["recvall"])
        #expect(refused.status == 101)
        let error = try #require(refused.messages.last)
        #expect(error.first == 1)
        #expect(String(decoding: error.dropFirst(), as: UTF8.self).hasPrefix("error forwarding port 9999 to pod pf_default, uid "))
    }

    @Test func logsAndAuthentication() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        #expect(await runningPod(sandbox, "lg"))
        let logs = await sandbox.call("GET", "/api/v1/namespaces/default/pods/lg/log?tailLines=2")
        #expect(logs.body.string == "line 4\nline 5\n")
        let followed = await sandbox.call("GET", "/api/v1/namespaces/default/pods/lg/log?follow=true&container=main")
        #expect(followed.body.string?.hasSuffix("line 5\nfollowed\n") == true)
        let previous = await sandbox.call("GET", "/api/v1/namespaces/default/pods/lg/log?previous=true")
        #expect(previous.body.string == "previous instance\n")
        #expect(await sandbox.call("GET", "/api/v1/namespaces/default/pods/lg/log?container=nope").code == 400)

        // Over real HTTPS: no token → 401 Status.
        let data = try await runProgram("/usr/bin/curl", ["-s", "--cacert", sandbox.directory.appendingPathComponent("ca.crt").path,
                                                          "https://127.0.0.1:\(sandbox.cluster.port)/api/v1/pods"]).output
        let status = try JSONValue(parsing: data)
        #expect(status["code"]?.int == 401)
        #expect(status["kind"]?.string == "Status")
    }
}
