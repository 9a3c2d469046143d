// The hub's two endpoints `pull` uses, over AsyncHTTPClient: the recursive file listing of a
// repository (sizes and LFS sha256) and `resolve/REV/FILE` downloads, resumed with a Range
// request into a `.partial` file that is renamed only once its size and checksum are right.
import AsyncHTTPClient
import Foundation
import TTSRuntime
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

public struct HubConfiguration: Sendable {
    /// https://huggingface.co, or a mirror from HF_ENDPOINT.
    public var endpoint: String
    /// HF_TOKEN, for gated or private repositories.
    public var token: String?

    public init(endpoint: String = "https://huggingface.co", token: String? = nil) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> HubConfiguration {
        HubConfiguration(endpoint: env["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co", token: env["HF_TOKEN"])
    }
}

public final class HubClient: Sendable {
    public let configuration: HubConfiguration
    private let http: HTTPClient

    /// Longest file listing accepted (a repository of a few hundred files is ~100 KB).
    static let maximumListingBytes = 16 << 20

    public init(configuration: HubConfiguration) {
        self.configuration = configuration
        var c = HTTPClient.Configuration(redirectConfiguration: .follow(max: 10, allowCycles: false))
        c.timeout = .init(connect: .seconds(30), read: .seconds(120))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }

    public func shutdown() async throws { try await http.shutdown() }

    private func request(_ url: String, headers extra: [(String, String)] = []) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url)
        r.headers.add(name: "User-Agent", value: "qwen3-tts-swift")
        if let token = configuration.token { r.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (k, v) in extra { r.headers.add(name: k, value: v) }
        return r
    }

    private func check(_ status: HTTPResponseStatus, repo: HubRepo, url: String) throws {
        switch status.code {
        case 200, 206: return
        case 401, 403: throw HubError.unauthorized(repo: repo.id, tokenGiven: configuration.token != nil)
        case 404: throw HubError.repositoryNotFound(repo: repo.id, revision: repo.revision)
        default: throw HubError.http(url: url, status: Int(status.code))
        }
    }

    static func escape(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? String($0) }
            .joined(separator: "/")
    }

    /// Every file of the repository (directories left out), following the listing's pages.
    public func listFiles(_ repo: HubRepo) async throws -> [HubFile] {
        var url = "\(configuration.endpoint)/api/models/\(Self.escape(repo.id))/tree/\(Self.escape(repo.revision))?recursive=true"
        var files: [HubFile] = []
        for _ in 0..<100 {
            let response = try await http.execute(request(url), timeout: .seconds(120))
            try check(response.status, repo: repo, url: url)
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: Self.maximumListingBytes)
            } catch is NIOTooManyBytesError {
                throw HubError.malformedListing(repo: repo.id, reason: "larger than \(Self.maximumListingBytes >> 20) MiB")
            }
            files += try Self.parseListing(Data(buffer: body), repo: repo)
            guard let next = Self.nextPage(response.headers) else { return files }
            url = next.hasPrefix("/") ? configuration.endpoint + next : next
        }
        throw HubError.malformedListing(repo: repo.id, reason: "more than 100 pages")
    }

    static func parseListing(_ data: Data, repo: HubRepo) throws -> [HubFile] {
        guard let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw HubError.malformedListing(repo: repo.id, reason: "not a JSON array of entries")
        }
        return try entries.compactMap { e -> HubFile? in
            guard (e["type"] as? String) == "file" else { return nil }
            guard let path = e["path"] as? String, let size = (e["size"] as? NSNumber)?.int64Value, size >= 0 else {
                throw HubError.malformedListing(repo: repo.id, reason: "an entry without a path or size")
            }
            // Paths come from the network: nothing that climbs out of the model's directory.
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.hasPrefix("/"), parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
                throw HubError.malformedListing(repo: repo.id, reason: "unsafe path \(path)")
            }
            var sha: String?
            if let lfs = e["lfs"] as? [String: Any], let oid = lfs["oid"] as? String {
                guard oid.count == 64, oid.allSatisfy(\.isHexDigit) else {
                    throw HubError.malformedListing(repo: repo.id, reason: "\(path): LFS oid is not a sha256")
                }
                sha = oid.lowercased()
            }
            return HubFile(path: path, size: size, sha256: sha)
        }
    }

    /// The URL of a listing's next page (`Link: <URL>; rel="next"`).
    static func nextPage(_ headers: HTTPHeaders) -> String? {
        for link in headers["Link"] {
            for part in link.split(separator: ",") where part.contains("rel=\"next\"") {
                guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
                return String(part[part.index(after: open)..<close])
            }
        }
        return nil
    }

    /// Downloads `file` to `destination` through `destination.partial`, resuming what a previous
    /// attempt left there; `progress` gets each chunk's byte count. Returns once the file is in
    /// place with the listed size (and sha256, for LFS files).
    public func download(_ file: HubFile, from repo: HubRepo, to destination: String,
                         progress: @Sendable (Int64) -> Void = { _ in }) async throws {
        let fm = FileManager.default
        let partial = destination + ".partial"
        try fm.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var have = fileSize(partial) ?? 0
        if have > file.size {
            try? fm.removeItem(atPath: partial)
            have = 0
        }
        if have > 0 { progress(have) }
        if have < file.size || file.size == 0 {
            let url = "\(configuration.endpoint)/\(Self.escape(repo.id))/resolve/\(Self.escape(repo.revision))/\(Self.escape(file.path))"
            let response = try await http.execute(request(url, headers: have > 0 ? [("Range", "bytes=\(have)-")] : []), timeout: .hours(6))
            try check(response.status, repo: repo, url: url)
            if response.status.code == 200 { have = 0 }  // the server sent the whole file
            if !fm.fileExists(atPath: partial) || have == 0 { fm.createFile(atPath: partial, contents: nil) }
            guard let out = FileHandle(forWritingAtPath: partial) else { throw HubError.io(path: partial, reason: "cannot write") }
            defer { try? out.close() }
            try out.truncate(atOffset: UInt64(have))
            try out.seek(toOffset: UInt64(have))
            for try await chunk in response.body {
                have += Int64(chunk.readableBytes)
                guard have <= file.size else { throw HubError.sizeMismatch(file: file.path, expected: file.size, actual: have) }
                try out.write(contentsOf: Data(buffer: chunk))
                progress(Int64(chunk.readableBytes))
            }
        }
        guard have == file.size else { throw HubError.sizeMismatch(file: file.path, expected: file.size, actual: have) }
        if let expected = file.sha256 {
            let actual = try SHA256Hasher.hexDigest(ofFile: partial)
            guard actual == expected else {
                try? fm.removeItem(atPath: partial)  // a corrupted file is never resumed
                throw HubError.checksumMismatch(file: file.path, expected: expected, actual: actual)
            }
        }
        if fm.fileExists(atPath: destination) { try fm.removeItem(atPath: destination) }
        try fm.moveItem(atPath: partial, toPath: destination)
    }
}

/// A file's size in bytes, or nil when it does not exist.
func fileSize(_ path: String) -> Int64? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
}

extension SHA256Hasher {
    /// The SHA-256 of a file, read in 1 MiB pieces.
    public static func hexDigest(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw HubError.io(path: path, reason: "cannot open") }
        defer { try? handle.close() }
        var hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalizeHex()
    }
}
