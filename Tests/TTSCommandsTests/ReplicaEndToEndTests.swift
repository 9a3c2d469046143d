// docs/DEPLOY.md, run: two daemons sharing one voices directory behind nginx (least connections)
// on loopback, with the nginx configuration taken from the document itself.
import Foundation
import TTSRuntime
import XCTest

final class ReplicaEndToEndTests: XCTestCase {
    private func freePort(_ python: String) throws -> Int {
        let r = try CLI.runProgram(python, ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return Int(String(decoding: r.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    private func port(of address: String) -> String { String(address.split(separator: ":").last ?? "") }

    /// The ```nginx block of docs/DEPLOY.md with the replicas' and the proxy's ports filled in.
    private func deployConfiguration(replicas: [String], listen: Int) throws -> String {
        let doc = try String(contentsOf: CLI.testsDir.deletingLastPathComponent().appendingPathComponent("docs/DEPLOY.md"), encoding: .utf8)
        guard let start = doc.range(of: "```nginx\n"), let end = doc.range(of: "```", range: start.upperBound..<doc.endIndex) else {
            throw XCTSkip("docs/DEPLOY.md has no nginx block")
        }
        var block = String(doc[start.upperBound..<end.lowerBound])
        XCTAssertTrue(block.contains("127.0.0.1:8001") && block.contains("127.0.0.1:8002") && block.contains("listen 127.0.0.1:8000"))
        block = block.replacingOccurrences(of: "127.0.0.1:8001", with: "127.0.0.1:\(port(of: replicas[0]))")
            .replacingOccurrences(of: "127.0.0.1:8002", with: "127.0.0.1:\(port(of: replicas[1]))")
            .replacingOccurrences(of: "listen 127.0.0.1:8000", with: "listen 127.0.0.1:\(listen)")
        return block
    }

    func testTwoReplicasBehindNginxShareVoices() throws {
        let nginx = which("nginx") ?? ["/usr/sbin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try requireTool(nginx != nil, "nginx")
        let curl = which("curl"), python = which("python3")
        try requireTool(curl != nil, "curl")
        let parses = try python.map { try CLI.runProgram($0, ["-c", "import prometheus_client"]).status == 0 } ?? false
        try requireTool(parses, "python3 with prometheus_client")
        let dir = try CLI.temporaryDirectory()
        let voices = dir + "/voices"
        try FileManager.default.createDirectory(atPath: voices, withIntermediateDirectories: true)
        let model = CLI.checkpoint("tiny-base-0b6")
        let a = try Daemon.start(["--model", model, "--voices", voices])
        defer { _ = a.terminate() }
        let b = try Daemon.start(["--model", model, "--voices", voices])
        defer { _ = b.terminate() }

        let listen = try freePort(python!)
        for temp in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(temp)", withIntermediateDirectories: true)
        }
        let conf = """
            \(getuid() == 0 ? "user root;" : "")
            daemon off;
            pid \(dir)/nginx.pid;
            error_log \(dir)/nginx-error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(dir)/body;
                proxy_temp_path \(dir)/proxy;
                fastcgi_temp_path \(dir)/fastcgi;
                uwsgi_temp_path \(dir)/uwsgi;
                scgi_temp_path \(dir)/scgi;
            \(try deployConfiguration(replicas: [a.tcp, b.tcp], listen: listen))
            }
            """
        try conf.write(toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: nginx!)
        proxy.arguments = ["-p", dir, "-c", dir + "/nginx.conf"]
        proxy.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try proxy.run()
        defer { proxy.terminate(); proxy.waitUntilExit() }
        let front = "http://127.0.0.1:\(listen)"
        func curlCall(_ args: [String]) throws -> (status: String, body: Data) {
            let out = dir + "/curl-body"
            try? FileManager.default.removeItem(atPath: out)
            let r = try CLI.runProgram(curl!, ["-sS", "-o", out, "-w", "%{http_code}"] + args)
            return (String(decoding: r.stdout, as: UTF8.self), (try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data())
        }
        var up = false
        for _ in 0..<100 where !up {
            up = (try? curlCall([front + "/health"]).status) == "200"
            if !up { Thread.sleep(forTimeInterval: 0.1) }
        }
        XCTAssertTrue(up, (try? String(contentsOfFile: dir + "/nginx-error.log", encoding: .utf8)) ?? "nginx did not start")

        // A voice created through the proxy, then spoken through it: every answer the same,
        // whichever replica gave it.
        var samples = [Float](repeating: 0, count: 3 * 24000)
        for i in samples.indices { samples[i] = Float(0.3 * sin(Double(i) * 0.031)) }
        try WAV.encode(samples, sampleRate: 24000, encoding: .pcm16).write(to: URL(fileURLWithPath: dir + "/ref.wav"))
        let created = try curlCall(["-F", "name=Shared", "-F", "audio=@\(dir)/ref.wav", front + "/v1/audio/voices"])
        XCTAssertEqual(created.status, "201", String(decoding: created.body, as: UTF8.self))
        let request = #"{"model":"tts-1","input":"Served by either replica.","voice":"shared","seed":4,"max_frames":12}"#
        var bodies: [Data] = []
        for _ in 0..<4 {
            let r = try curlCall(["-H", "Content-Type: application/json", "-d", request, front + "/v1/audio/speech"])
            XCTAssertEqual(r.status, "200", String(decoding: r.body, as: UTF8.self))
            bodies.append(r.body)
        }
        XCTAssertEqual(Set(bodies).count, 1, "every replica speaks the shared voice the same")

        // Each replica's /metrics parses with Prometheus's parser, and both served speech.
        for replica in [a, b] {
            let parsed = try CLI.runProgram(python!, [CLI.testsDir.deletingLastPathComponent().appendingPathComponent("scripts/e2e/parse_metrics.py").path,
                                                      replica.tcp + "/metrics"])
            XCTAssertEqual(parsed.status, 0, parsed.stderr)
            let metrics = try JSONSerialization.jsonObject(with: parsed.stdout) as? [String: Double]
            XCTAssertGreaterThanOrEqual(metrics?["qwen3_tts_speech_requests_total{outcome=completed}"] ?? 0, 1,
                                        "least connections spreads the requests: \(replica.tcp) served none")
        }

        // Deleted through the proxy: gone from both replicas.
        let deleted = try curlCall(["-X", "DELETE", front + "/v1/audio/voices/Shared"])
        XCTAssertEqual(deleted.status, "200")
        for replica in [a, b] {
            let r = try curlCall(["-H", "Content-Type: application/json", "-d", request, replica.tcp + "/v1/audio/speech"])
            XCTAssertEqual(r.status, "400")
            XCTAssertTrue(String(decoding: r.body, as: UTF8.self).contains("voice_not_found"))
        }
        XCTAssertEqual(a.terminate(), 0, a.log.text)
        XCTAssertEqual(b.terminate(), 0, b.log.text)
    }
}
