import CLibSSH2
import CSSHKeystream
import Foundation
import SwapdevTesting
import Testing
@testable import SSHTunnel

/// The batched AES-CTR keystream under libssh2 (Sources/CSSHKeystream/keystream.c).
@Suite("Batched keystream under libssh2's per-block cipher calls", .serialized, .timeLimit(.minutes(2)))
struct KeystreamTests {
    @Test(arguments: [[16], [1], [7, 16, 4096, 33], [5000], [4095, 1, 4097], [16, 16, 16, 8, 8]])
    func batchedKeystreamMatchesOpenSSLForAnyCallSizes(chunks: [Int]) throws {
        var generator = SystemRandomNumberGenerator()
        let key = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let iv = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let data = (0..<20_011).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var batched = [UInt8](repeating: 0, count: data.count)
        var direct = [UInt8](repeating: 0, count: data.count)
        let sizes = chunks.map { size_t($0) }
        let rc = swapdev_keystream_compare(key, iv, data, data.count, sizes, sizes.count, &batched, &direct)
        try #require(rc == 0, "OpenSSL failed")
        #expect(direct != data, "the direct encryption changed nothing")
        #expect(batched == direct, "first difference at byte \(zip(batched, direct).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)")
    }

    @Test func libssh2SessionsUseTheBatchedKeystreamAndStayCorrect() async throws {
        let before = swapdev_keystream_snapshot()
        #expect(before.active == 1, "libssh2's EVP_Cipher calls do not reach the keystream layer (SWAPDEV_SSH_KEYSTREAM=0?)")
        // 4 MiB each way on 2 connections: 16 MiB through the session's two CTR contexts.
        let outcome = try await Proxy.echoThroughRemoteForward(connections: 2, payloadSize: 4 << 20)
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        #expect(outcome.succeeded == 2)
        let after = swapdev_keystream_snapshot()
        #expect(after.contexts >= before.contexts + 2, "one context per direction: \(before.contexts) → \(after.contexts)")
        // 16 MiB of payload is 4,096 batches of 4 KiB; every byte on the wire went through one.
        #expect(after.batches >= before.batches + 4096, "batches: \(before.batches) → \(after.batches)")
        // With libssh2 1.10.0 (the project's platform) its aes*-ctr methods call the batch
        // directly; with any other version the tables are left alone and only EVP_Cipher is hooked.
        let version = String(cString: libssh2_version(0))
        if version == "1.10.0" {
            #expect(after.direct_methods == 1, "libssh2 1.10.0's method tables were not switched")
            #expect(after.direct_batches >= before.direct_batches + 4096,
                    "direct batches: \(before.direct_batches) → \(after.direct_batches)")
        } else {
            #expect(after.direct_methods == 0, "libssh2 \(version)'s method tables were switched")
        }
    }
}
