// A local stand-in for the Hugging Face hub's endpoints that `pull` uses, over files on disk:
//   GET /api/models/OWNER/REPO/tree/REV?recursive=true  the listing, two pages joined by a Link header
//   GET /OWNER/REPO/resolve/REV/PATH                    a 302 to /cdn/..., which serves the bytes
//                                                       (Range requests answered with 206)
// with switches for what the tests need: gated repositories (401 without the token), a transfer
// cut after N bytes, a corrupted first copy of a file, and a request log.
import Foundation
import Hummingbird
import Logging
import HTTPTypes
import NIOCore
import Synchronization

public final class MockHub: Sendable {
    public struct Repo: Sendable {
        public var files: [String: Data]
        /// Files larger than this are listed with an LFS sha256, as the hub lists LFS files.
        public var lfsAbove: Int
        public var gated: Bool
        /// Sizes listed instead of the files' own (a listing that lies).
        public var listedSizes: [String: Int] = [:]
        /// Pad the listing's JSON with this many bytes of whitespace (a listing too large to take).
        public var listingPadding = 0

        public init(files: [String: Data], lfsAbove: Int = 1024, gated: Bool = false) {
            self.files = files
            self.lfsAbove = lfsAbove
            self.gated = gated
        }
    }

    struct State {
        var repos: [String: Repo] = [:]
        /// path -> bytes after which the next transfer of that file is cut (once).
        var cutAfter: [String: Int] = [:]
        /// paths whose next transfer carries flipped bytes (once).
        var corruptOnce: Set<String> = []
        var log: [String] = []
    }

    public static let token = "hub-test-token"
    private let state = Mutex(State())
    private let portValue = Mutex(0)
    public var port: Int { portValue.withLock { $0 } }
    private let task = Mutex<Task<Void, Error>?>(nil)

    public init() {}

    public var endpoint: String { "http://127.0.0.1:\(port)" }
    public var requests: [String] { state.withLock { $0.log } }

    public func add(_ id: String, _ repo: Repo) { state.withLock { $0.repos[id] = repo } }
    public func cut(_ path: String, after bytes: Int) { state.withLock { $0.cutAfter[path] = bytes } }
    public func corruptOnce(_ path: String) { _ = state.withLock { $0.corruptOnce.insert(path) } }

    /// A repository holding every regular file of `directory` (subfolders included).
    public static func repo(fromDirectory directory: String, gated: Bool = false) throws -> Repo {
        var files: [String: Data] = [:]
        let root = URL(fileURLWithPath: directory).resolvingSymlinksInPath()
        guard let e = FileManager.default.enumerator(atPath: root.path) else { return Repo(files: [:]) }
        for case let relative as String in e {
            let url = root.appendingPathComponent(relative)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue,
               (try? url.resourceValues(forKeys: [.isSymbolicLinkKey]).isSymbolicLink) != true {
                files[relative] = try Data(contentsOf: url)
            }
        }
        return Repo(files: files, gated: gated)
    }

    public func start() async throws {
        let router = Router()
        router.get("/api/models/:owner/:name/tree/:rev") { request, context in try self.listing(request, context) }
        router.get("/:owner/:name/resolve/:rev/**") { request, context in try self.resolve(request, context) }
        router.get("/cdn/:owner/:name/**") { request, context in try self.serve(request, context) }
        let ready = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "mock-hub")
        logger.logLevel = .critical  // the dropped transfers and the shutdown are expected
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in ready.continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        task.withLock { $0 = Task { try await app.runService(gracefulShutdownSignals: []) } }
        for await p in ready.stream {
            portValue.withLock { $0 = p }
            break
        }
    }

    public func stop() async {
        let t = task.withLock { $0 }
        t?.cancel()
        _ = try? await t?.value
    }

    private func repo(_ context: BasicRequestContext, _ request: Request) throws -> (String, Repo) {
        let id = "\(context.parameters.get("owner") ?? "")/\(context.parameters.get("name") ?? "")"
        guard let repo = state.withLock({ $0.repos[id] }) else { throw HTTPError(.notFound) }
        if repo.gated && request.headers[.authorization] != "Bearer \(Self.token)" { throw HTTPError(.unauthorized) }
        return (id, repo)
    }

    private func listing(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let (id, repo) = try self.repo(context, request)
        state.withLock { $0.log.append("list \(id)") }
        var entries: [[String: Any]] = []
        var dirs = Set<String>()
        for (path, data) in repo.files.sorted(by: { $0.key < $1.key }) {
            var entry: [String: Any] = ["type": "file", "path": path, "size": repo.listedSizes[path] ?? data.count]
            if data.count > repo.lfsAbove { entry["lfs"] = ["oid": Self.sha256(data), "size": data.count] }
            entries.append(entry)
            if let slash = path.lastIndex(of: "/") { dirs.insert(String(path[..<slash])) }
        }
        entries += dirs.sorted().map { ["type": "directory", "path": $0, "size": 0] }
        // Two pages, as the hub paginates: the second behind a Link header.
        let second = request.uri.queryParameters.get("cursor") == "2"
        let half = entries.count / 2
        let page = second ? Array(entries[half...]) : Array(entries[..<half])
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if !second {
            headers[HTTPField.Name("Link")!] = "<\(endpoint)/api/models/\(id)/tree/main?recursive=true&cursor=2>; rel=\"next\""
        }
        var body = try JSONSerialization.data(withJSONObject: page)
        body.append(Data(repeating: 0x20, count: repo.listingPadding))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private func resolve(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let (id, _) = try repo(context, request)
        let path = context.parameters.getCatchAll().joined(separator: "/")
        var headers = HTTPFields()
        headers[.location] = "/cdn/\(id)/\(path)"
        return Response(status: .found, headers: headers)
    }

    private func serve(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let (id, repo) = try self.repo(context, request)
        let path = context.parameters.getCatchAll().joined(separator: "/")
        guard var data = repo.files[path] else { throw HTTPError(.notFound) }
        var start = 0
        if let range = request.headers[.range], range.hasPrefix("bytes="), range.hasSuffix("-"),
           let from = Int(range.dropFirst(6).dropLast()), from <= data.count {
            start = from
        }
        let (cut, corrupt) = state.withLock { s -> (Int?, Bool) in
            s.log.append("get \(id)/\(path) from \(start)")
            return (s.cutAfter.removeValue(forKey: path), s.corruptOnce.remove(path) != nil)
        }
        if corrupt { data[data.count / 2] ^= 0xFF }
        var headers = HTTPFields()
        headers[.contentLength] = String(data.count - start)
        if start > 0 { headers[.contentRange] = "bytes \(start)-\(data.count - 1)/\(data.count)" }
        let body = Data(data[start...])
        let status: HTTPResponse.Status = start > 0 ? .partialContent : .ok
        guard let cut else { return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body))) }
        // The connection drops after `cut` bytes: the body ends short of its Content-Length.
        return Response(status: status, headers: headers, body: .init { writer in
            try await writer.write(ByteBuffer(bytes: body.prefix(cut)))
            try await Task.sleep(for: .milliseconds(100))  // let the bytes reach the client first
            struct Dropped: Error {}
            throw Dropped()
        })
    }

    public static func sha256(_ data: Data) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try? p.run()
        input.fileHandleForWriting.write(data)
        try? input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return String(text.prefix(64))
    }
}
