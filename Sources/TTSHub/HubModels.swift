// What `pull` fetches: short model names, the hub repositories behind them, and errors.
import Foundation

public enum HubError: Error, CustomStringConvertible, Equatable {
    case unknownName(String)
    case repositoryNotFound(repo: String, revision: String)
    case unauthorized(repo: String, tokenGiven: Bool)
    case http(url: String, status: Int)
    case sizeMismatch(file: String, expected: Int64, actual: Int64)
    case checksumMismatch(file: String, expected: String, actual: String)
    case offlineMissing(file: String)
    case malformedListing(repo: String, reason: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownName(let n):
            "unknown model \"\(n)\": use one of \(HubModel.shortNames.joined(separator: ", ")) or owner/repo[@revision]"
        case .repositoryNotFound(let r, let rev): "the hub has no repository \(r) at revision \(rev)"
        case .unauthorized(let r, let given):
            given ? "the hub refused the token in HF_TOKEN for \(r)" : "\(r) needs a token: set HF_TOKEN (the repository is gated or private)"
        case .http(let u, let s): "\(u): HTTP \(s)"
        case .sizeMismatch(let f, let e, let a): "\(f): \(a) bytes where the hub lists \(e)"
        case .checksumMismatch(let f, let e, let a): "\(f): sha256 \(a) where the hub lists \(e)"
        case .offlineMissing(let f): "offline, and \(f) is not in the model store"
        case .malformedListing(let r, let why): "the hub's file listing of \(r) is malformed: \(why)"
        case .io(let p, let why): "\(p): \(why)"
        }
    }
}

/// A hub repository at a revision.
public struct HubRepo: Sendable, Equatable {
    public var id: String
    public var revision: String

    public init(id: String, revision: String = "main") {
        self.id = id
        self.revision = revision
    }
}

/// A model `pull` knows: the repository of the checkpoint and of the speech tokenizer it needs.
public struct HubModel: Sendable, Equatable {
    public var name: String
    public var repo: HubRepo
    /// Fetched into speech_tokenizer/ when the checkpoint repository does not carry that folder.
    public var speechTokenizer = HubRepo(id: "Qwen/Qwen3-TTS-Tokenizer-12Hz")

    public init(name: String, repo: HubRepo) {
        self.name = name
        self.repo = repo
    }

    static let known: [(String, String)] = [
        ("0.6b", "Qwen/Qwen3-TTS-12Hz-0.6B-CustomVoice"), ("0.6b-base", "Qwen/Qwen3-TTS-12Hz-0.6B-Base"),
        ("1.7b", "Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice"), ("1.7b-design", "Qwen/Qwen3-TTS-12Hz-1.7B-VoiceDesign"),
        ("1.7b-base", "Qwen/Qwen3-TTS-12Hz-1.7B-Base"),
    ]
    public static var shortNames: [String] { known.map(\.0) }

    /// A short name, or owner/repo with an optional @revision (its store name is the repo's name).
    public static func resolve(_ name: String) throws -> HubModel {
        if let (short, repo) = known.first(where: { $0.0 == name.lowercased() }) {
            return HubModel(name: short, repo: HubRepo(id: repo))
        }
        let parts = name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let id = parts[0], segments = id.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard segments.count == 2, segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && $0.unicodeScalars.allSatisfy(allowed.contains) })
        else { throw HubError.unknownName(name) }
        let revision = parts.count > 1 ? parts[1] : "main"
        guard !revision.isEmpty, revision.unicodeScalars.allSatisfy(allowed.contains) else { throw HubError.unknownName(name) }
        return HubModel(name: String(segments[1]).lowercased(), repo: HubRepo(id: id, revision: revision))
    }
}

/// One file of a repository as the hub lists it.
public struct HubFile: Sendable, Equatable {
    public var path: String
    public var size: Int64
    /// The LFS object id (sha256) for large files; nil for small files kept in git.
    public var sha256: String?

    public init(path: String, size: Int64, sha256: String?) {
        self.path = path
        self.size = size
        self.sha256 = sha256
    }
}
