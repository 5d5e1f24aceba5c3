import Foundation
import KubeModel
import SSHTunnel
import SwapPlan
import Testing
@testable import SwapEngine

@Suite("Start-up pacing and the volume copy's plan")
struct StartupPacingTests {
    @Test func pollsFastOnlyWhileTheChangeIsLikelyImminent() {
        #expect(ProxyStartup.pollInterval(after: .zero) == .milliseconds(50))
        #expect(ProxyStartup.pollInterval(after: .milliseconds(4900)) == .milliseconds(50))
        #expect(ProxyStartup.pollInterval(after: .seconds(5)) == .milliseconds(150))
        #expect(ProxyStartup.pollInterval(after: .seconds(30), then: .milliseconds(100)) == .milliseconds(100))
    }

    @Test func nestedMountsAreCopiedInOrder() {
        #expect(VolumeCopy.anyNested(["/etc/app", "/etc/app/extra"]))
        #expect(VolumeCopy.anyNested(["/data/", "/data/cache"]))
        #expect(!VolumeCopy.anyNested(["/etc/app", "/etc/application", VolumeCopy.serviceAccountPath]))
        #expect(!VolumeCopy.anyNested([]))
    }

    @Test func aMissingPathNeedsNoSecondRoundTrip() {
        let gnu = SSHTunnelError.remoteCommandFailed(command: "tar -C '/x' -cf - .", exitCode: 2,
                                                     stderr: "tar: /x: Cannot open: No such file or directory\n")
        let busybox = SSHTunnelError.remoteCommandFailed(command: "tar -C '/x' -cf - .", exitCode: 1,
                                                         stderr: "tar: can't change directory to '/x': No such file or directory\n")
        let file = SSHTunnelError.remoteCommandFailed(command: "tar -C '/etc/x.conf' -cf - .", exitCode: 2,
                                                      stderr: "tar: /etc/x.conf: Cannot open: Not a directory\n")
        #expect(VolumeCopy.isMissing(gnu))
        #expect(VolumeCopy.isMissing(busybox))
        #expect(!VolumeCopy.isMissing(file), "a subPath file mount is read with cat")
    }

    @Test func swapdevsOwnVolumesAreNotCopied() throws {
        let pod = try JSONValue(parsing: Data("""
            {"spec": {"containers": [{"name": "app", "volumeMounts": [
                {"name": "config", "mountPath": "/etc/app"},
                {"name": "\(ProxyPodBuilder.stateVolume)", "mountPath": "/var/run/swapdev"},
                {"name": "\(DeadManPlan.volumeName)", "mountPath": "\(DeadManPlan.credentialsPath)"}]}]}}
            """.utf8))
        #expect(VolumeCopy.mountPaths(pod: pod, container: "app") == ["/etc/app", VolumeCopy.serviceAccountPath])
    }
}
