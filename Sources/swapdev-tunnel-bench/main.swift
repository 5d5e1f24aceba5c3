// swapdev-tunnel-bench: holds one SSHTunnel session with a remote forward open, for
// scripts/bench-tunnel.sh, which compares it with OpenSSH's `ssh -R` against the same sshd.
//
//   swapdev-tunnel-bench <user> <target-port>
//
// 1. prints `pubkey <authorized_keys line>` (the script starts sshd with it),
// 2. reads `<sshd-port> <host-key-fingerprint>` from stdin, connects, forwards a free port on
//    127.0.0.1 in "the pod" to 127.0.0.1:<target-port>, prints `forward <port>`,
// 3. runs until stdin closes, then prints `stats <bytes-to-remote> <bytes-from-remote> <channels>`.
import Foundation
import SSHTunnel

/// Prints a line and flushes at once: the bench script reads our stdout through a pipe.
func say(_ line: String) {
    // The script may be gone already (broken pipe): nothing to report then.
    try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let targetPort = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: swapdev-tunnel-bench <user> <target-port>\n".utf8))
    exit(2)
}

do {
    let key = try SSHKeyPair.generate(id: "bench")
    say("pubkey \(key.publicKeyLine)")
    let fields = (readLine() ?? "").split(separator: " ")
    guard fields.count == 2, let sshdPort = Int(fields[0]) else {
        FileHandle.standardError.write(Data("swapdev-tunnel-bench: expected '<sshd-port> <fingerprint>' on stdin\n".utf8))
        exit(2)
    }
    let session = try await SSHSession.connect(host: "127.0.0.1", port: sshdPort, username: arguments[1], key: key,
                                               hostKey: .sha256Fingerprint(String(fields[1])), keepalive: .seconds(10))
    let forward = try await session.forwardRemote(bindHost: "127.0.0.1", port: 0, target: (host: "127.0.0.1", port: targetPort))
    say("forward \(forward.port)")
    while readLine() != nil {}
    let stats = session.stats
    say("stats \(stats.bytesToRemote) \(stats.bytesFromRemote) \(stats.totalChannels)")
    await session.close()
} catch {
    FileHandle.standardError.write(Data("swapdev-tunnel-bench: \(error)\n".utf8))
    exit(1)
}
