import Foundation
import KubeEnvironment
import Testing
@testable import SwapPlan

@Suite("Environment dump, env files and the local environment")
struct EnvironmentTests {
    @Test func parsesNULSeparatedDumpWithNewlinesAndEquals() throws {
        let dump = Data("A=1\0MULTI=line1\nline2\0EQ=a=b\0EMPTY=\0SWAPDEV_STATE_DIR=/var/run/swapdev\0".utf8)
        let variables = try EnvironmentDump.parse(dump)
        #expect(variables.map(\.description) == ["A=1", "MULTI=line1\nline2", "EQ=a=b", "EMPTY=", "SWAPDEV_STATE_DIR=/var/run/swapdev"])
        #expect(EnvironmentDump.appEnvironment(variables).map(\.name) == ["A", "MULTI", "EQ", "EMPTY"])
    }

    @Test func parsesLineDumpAndRejectsGarbage() throws {
        #expect(try EnvironmentDump.parse(Data("A=1\nB=2\n".utf8)).map(\.name) == ["A", "B"])
        #expect(throws: SwapPlanError.self) { try EnvironmentDump.parse(Data("A=1\0oops\0".utf8)) }
        #expect(throws: SwapPlanError.self) { try EnvironmentDump.parse(Data([0xff, 0xfe, 0x00])) }
    }

    @Test func dotenvQuoting() {
        #expect(EnvironmentFile.quote("plain-value_1.2:3/x") == "plain-value_1.2:3/x")
        #expect(EnvironmentFile.quote("") == "''")
        #expect(EnvironmentFile.quote("has space $HOME #x \"q\"") == "'has space $HOME #x \"q\"'")
        #expect(EnvironmentFile.quote("it's") == "\"it's\"")
        #expect(EnvironmentFile.quote("a\nb\\c\"d$e") == "\"a\\nb\\\\c\\\"d\\$e\"")
    }

    /// The dotenv file read back by a POSIX shell (`set -a; . file`) gives the exact values.
    @Test func dotenvReadsBackInAShell() throws {
        let values = ["PLAIN": "x", "SPACES": "a b  c", "QUOTE": "it's \"so\"", "DOLLAR": "$HOME and $(id)", "NL": "one\ntwo", "BS": "c:\\path", "EMPTY": ""]
        let variables = values.sorted { $0.key < $1.key }.map { EnvironmentVariable(name: $0.key, value: $0.value) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swapdev-envtest-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/app.env"
        try EnvironmentFile.save(EnvironmentFile.dotenv(variables), to: path)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)

        // bash reads single-quoted values literally; double-quoted ones need $'…'-style
        // unescaping, which `printf %b` gives for \n and \\ — compare through python instead.
        let script = "import re,sys\n" + """
        out={}
        for line in open(sys.argv[1]):
            k,v=line.rstrip('\\n').split('=',1)
            if v.startswith("'"): v=v[1:-1]
            elif v.startswith('"'): v=re.sub(r'\\\\(.)', lambda m: {'n':'\\n','r':'\\r','t':'\\t'}.get(m.group(1), m.group(1)), v[1:-1])
            out[k]=v
        import json; print(json.dumps(out, sort_keys=True))
        """
        let output = try run(["/usr/bin/python3", "-c", script, path])
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(output.utf8))
        #expect(decoded == values)
    }

    @Test func jsonFile() throws {
        let text = EnvironmentFile.json([EnvironmentVariable(name: "B", value: "2"), EnvironmentVariable(name: "A", value: "x\ny")])
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        #expect(decoded == ["A": "x\ny", "B": "2"])
    }

    @Test func saveReportsUnwritablePath() {
        let error = #expect(throws: EnvironmentFileError.self) { try EnvironmentFile.save("A=1\n", to: "/nonexistent-dir/x.env") }
        #expect(error?.description.contains("/nonexistent-dir/x.env") == true)
    }

    @Test func localEnvironmentKeepsMachineVariables() {
        let container = [EnvironmentVariable(name: "PATH", value: "/usr/sbin"), EnvironmentVariable(name: "MODE", value: "prod"),
                         EnvironmentVariable(name: "HOSTNAME", value: "web-1")]
        let variables = LocalEnvironment.containerVariables(container, root: "/tmp/root",
                                                            extra: [EnvironmentVariable(name: "MODE", value: "override")])
        #expect(variables.map(\.description) == ["SWAPDEV_ROOT=/tmp/root", "MODE=override"])
        let merged = LocalEnvironment.merge(local: ["PATH": "/usr/bin", "MODE": "local"], variables)
        #expect(merged == ["PATH": "/usr/bin", "MODE": "override", "SWAPDEV_ROOT": "/tmp/root"])
    }

    private func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
