import Foundation
import Logging
import SystemSupport
import Testing
@testable import SwapEngine

@Suite("SOCKS5 and HTTP proxy handshakes")
struct ProxyHandshakeTests {
    @Test func socks5Requests() {
        #expect(ProxyHandshake.socks5GreetingLength([5, 2, 0, 2]) == 4)
        #expect(ProxyHandshake.socks5GreetingLength([5, 2, 0]) == nil)
        #expect(ProxyHandshake.socks5AcceptsNoAuth([5, 1, 0]))
        #expect(!ProxyHandshake.socks5AcceptsNoAuth([5, 1, 2]))
        let name = Array("redis.dev.svc".utf8)
        #expect(ProxyHandshake.parseSocks5Request([5, 1, 0, 3, UInt8(name.count)] + name + [0x18, 0xeb])
            == .request(host: "redis.dev.svc", port: 6379, length: 5 + name.count + 2))
        #expect(ProxyHandshake.parseSocks5Request([5, 1, 0, 1, 10, 96, 0, 20, 0, 80]) == .request(host: "10.96.0.20", port: 80, length: 10))
        #expect(ProxyHandshake.parseSocks5Request([5, 1, 0, 1, 10, 96]) == .needMore)
        #expect(ProxyHandshake.parseSocks5Request([5, 1, 0, 4] + [UInt8](repeating: 0, count: 15) + [1, 0, 80])
            == .request(host: "0:0:0:0:0:0:0:1", port: 80, length: 22))
        #expect(ProxyHandshake.parseSocks5Request([5, 2, 0, 1, 1, 2, 3, 4, 0, 80]) == .refuse(7), "BIND is not supported")
        #expect(ProxyHandshake.parseSocks5Request([5, 1, 0, 9, 0]) == .refuse(8))
    }

    @Test func httpRequests() {
        #expect(ProxyHandshake.parseHTTP(Array("CONNECT api.dev.svc:443 HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            == .request(.connect(host: "api.dev.svc", port: 443, headerLength: 45)))
        #expect(ProxyHandshake.parseHTTP(Array("CONNECT api:443 HTTP/1.1\r\nHost: x\r\n".utf8)) == .needMore)
        #expect(ProxyHandshake.parseHTTP(Array("GET http://web.dev:8080/path?q=1 HTTP/1.1\r\n".utf8))
            == .request(.plainHTTP(host: "web.dev", port: 8080)))
        #expect(ProxyHandshake.parseHTTP(Array("GET http://web/ HTTP/1.1\r\n".utf8)) == .request(.plainHTTP(host: "web", port: 80)))
        #expect(ProxyHandshake.parseHTTP(Array("GET /relative HTTP/1.1\r\n".utf8)) == .invalid)
        #expect(ProxyHandshake.parseHTTP(Array("CONNECT [fd00::1]:8443 HTTP/1.1\r\n\r\n".utf8))
            == .request(.connect(host: "fd00::1", port: 8443, headerLength: 35)))
        #expect(ProxyHandshake.parseHTTP(Array("GET http://web:99999/ HTTP/1.1\r\n".utf8)) == .invalid)
    }
}

/// The proxy over real sockets, with a connector that dials a local echo server instead of
/// an SSH session (the tunnel itself is covered by the end-to-end suite).
/// Serialized: the client side blocks on sockets, and the cooperative pool may have only two
/// threads; parallel blocked tests would starve the connector tasks.
@Suite("Outbound proxy serves SOCKS5, CONNECT and plain HTTP", .serialized, .timeLimit(.minutes(1)))
struct OutboundProxyTests {
    /// Echo server: answers each connection with "hello <first line>".
    final class EchoServer: @unchecked Sendable {
        let port: Int
        let listener: Int32
        init() throws {
            let (socket, bound) = try Sockets.listen(port: 0)
            listener = socket
            port = bound
            let fd = listener
            Thread {
                while true {
                    let client = accept(fd, nil, nil)
                    if client < 0 { return }
                    Thread {
                        var buffer = [UInt8](repeating: 0, count: 4096)
                        let count = recv(client, &buffer, 4096, 0)
                        if count > 0 { _ = SocketWrites.sendAll(client, Array("hello ".utf8) + buffer[0..<count]) }
                        close(client)
                    }.start()
                }
            }.start()
        }
        func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
    }

    /// Records what was asked and splices the socket to the echo server.
    final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var targets: [String] = []
        func add(_ target: String) { lock.lock(); targets.append(target); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return targets }
    }

    static func splice(_ a: Int32, _ b: Int32) {
        for (from, to) in [(a, b), (b, a)] {
            Thread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = recv(from, &buffer, 4096, 0)
                    if count <= 0 { shutdown(to, Int32(SHUT_WR)); return }
                    if !SocketWrites.sendAll(to, Array(buffer[0..<count])) { return }
                }
            }.start()
        }
    }

    /// A proxy whose connector plays the tunnel: it answers with `replies.opened` and splices
    /// to the echo server, or — with `reachable: false`, a pod that cannot connect — answers
    /// `replies.failed` and closes.
    func withProxy(reachable: Bool = true, _ body: (OutboundProxy, Int, Recorder) throws -> Void) throws {
        let echo = try EchoServer()
        defer { echo.stop() }
        let recorder = Recorder()
        let proxy = try OutboundProxy.start(logger: Logger(label: "test")) { socket, host, port, replies in
            recorder.add("\(host):\(port)")
            guard reachable else {
                _ = SocketWrites.sendAll(socket, replies.failed)
                close(socket)
                return
            }
            let upstream = try Sockets.connect(port: echo.port)
            _ = SocketWrites.sendAll(socket, replies.opened)
            Self.splice(socket, upstream)
        }
        defer { proxy.stop() }
        try body(proxy, echo.port, recorder)
    }

    func readAll(_ fd: Int32) -> String {
        Sockets.setReceiveTimeout(fd, seconds: 5)
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, 4096, 0)
            if count <= 0 { break }
            result += buffer[0..<count]
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Connects to the proxy, does SOCKS5's no-auth greeting and sends a CONNECT to host:port by
    /// name; the reply is the caller's to read.
    func socks5Request(_ proxy: OutboundProxy, host: String, port: Int) throws -> Int32 {
        let fd = try Sockets.connect(port: proxy.port)
        #expect(SocketWrites.sendAll(fd, [5, 1, 0]))
        #expect(Sockets.readExact(fd, 2) == [5, 0])
        let name = Array(host.utf8)
        #expect(SocketWrites.sendAll(fd, [5, 1, 0, 3, UInt8(name.count)] + name + [UInt8(port >> 8), UInt8(port & 0xff)]))
        return fd
    }

    @Test func socks5WithHostname() throws {
        try withProxy { proxy, echoPort, recorder in
            let fd = try socks5Request(proxy, host: "web.dev.svc", port: echoPort)
            defer { close(fd) }
            #expect(Sockets.readExact(fd, 10) == ProxyHandshake.socks5Reply(0))
            #expect(SocketWrites.sendAll(fd, Array("ping\n".utf8)))
            #expect(readAll(fd) == "hello ping\n")
            #expect(recorder.all == ["web.dev.svc:\(echoPort)"])
        }
    }

    @Test func httpConnect() throws {
        try withProxy { proxy, echoPort, recorder in
            let fd = try Sockets.connect(port: proxy.port)
            defer { close(fd) }
            #expect(SocketWrites.sendAll(fd, Array("CONNECT api.dev:\(echoPort) HTTP/1.1\r\nHost: api.dev\r\n\r\n".utf8)))
            let reply = Sockets.readExact(fd, ProxyHandshake.connectEstablished.count)
            #expect(reply == ProxyHandshake.connectEstablished)
            #expect(SocketWrites.sendAll(fd, Array("tls-bytes".utf8)))
            #expect(readAll(fd) == "hello tls-bytes")
            #expect(recorder.all == ["api.dev:\(echoPort)"])
        }
    }

    @Test func plainHTTPGoesThroughUnchanged() throws {
        try withProxy { proxy, echoPort, recorder in
            let fd = try Sockets.connect(port: proxy.port)
            defer { close(fd) }
            let request = "GET http://web:\(echoPort)/x HTTP/1.1\r\nHost: web\r\n\r\n"
            #expect(SocketWrites.sendAll(fd, Array(request.utf8)))
            #expect(readAll(fd) == "hello " + request)
            #expect(recorder.all == ["web:\(echoPort)"])
        }
    }

    /// A destination the pod cannot reach is refused in each protocol's own words, after the
    /// handshake — not accepted and then closed.
    @Test func anUnreachableDestinationIsRefused() throws {
        try withProxy(reachable: false) { proxy, echoPort, recorder in
            let socks = try socks5Request(proxy, host: "down.dev.svc", port: echoPort)
            defer { close(socks) }
            #expect(readAll(socks).utf8.map { $0 } == ProxyHandshake.socks5Reply(0x05))

            let connect = try Sockets.connect(port: proxy.port)
            defer { close(connect) }
            #expect(SocketWrites.sendAll(connect, Array("CONNECT down.dev:\(echoPort) HTTP/1.1\r\nHost: down.dev\r\n\r\n".utf8)))
            let reply = readAll(connect)
            #expect(reply.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"), "\(reply)")
            #expect(reply.hasSuffix("swapdev: the pod cannot connect to down.dev:\(echoPort)\n"))

            let plain = try Sockets.connect(port: proxy.port)
            defer { close(plain) }
            #expect(SocketWrites.sendAll(plain, Array("GET http://down:\(echoPort)/ HTTP/1.1\r\nHost: down\r\n\r\n".utf8)))
            #expect(readAll(plain).hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
            #expect(recorder.all.count == 3)
        }
    }

    @Test func environmentPointsAtTheProxy() throws {
        try withProxy { proxy, _, _ in
            let environment = Dictionary(uniqueKeysWithValues: proxy.environment)
            #expect(environment["ALL_PROXY"] == "socks5h://127.0.0.1:\(proxy.port)")
            #expect(environment["HTTPS_PROXY"] == "http://127.0.0.1:\(proxy.port)")
            #expect(environment["NO_PROXY"]?.contains("127.0.0.1") == true)
        }
    }
}
