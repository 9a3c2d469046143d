// `pull` against a local mock of the hub (TTSTestSupport.MockHub) over the tiny checkpoint in
// the real layout: listings with sizes and LFS sha256 over two pages, redirects, Range resumes,
// corrupted and cut transfers, gated repositories, a missing one, the mirror endpoint, offline use.
import Foundation
@testable import TTSHub
import TTSRuntime
import TTSTestSupport
import XCTest

final class PullTests: XCTestCase {
    static let checkpoints = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Qwen3TTSTests/Fixtures/checkpoints").path

    /// A hub with the 0.6B CustomVoice name over tiny-cv-0b6 (without its speech_tokenizer link,
    /// so the tokenizer repository is fetched too).
    func makeHub(gated: Bool = false) async throws -> MockHub {
        let hub = MockHub()
        var model = try MockHub.repo(fromDirectory: Self.checkpoints + "/tiny-cv-0b6", gated: gated)
        model.files = model.files.filter { !$0.key.hasPrefix("speech_tokenizer/") }
        model.files[".gitattributes"] = Data("*.safetensors filter=lfs\n".utf8)
        hub.add("Qwen/Qwen3-TTS-12Hz-0.6B-CustomVoice", model)
        hub.add("Qwen/Qwen3-TTS-Tokenizer-12Hz", try MockHub.repo(fromDirectory: Self.checkpoints + "/speech_tokenizer"))
        try await hub.start()
        return hub
    }

    func temporaryStore() throws -> ModelStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return ModelStore(root: dir)
    }

    func pull(_ hub: MockHub, _ store: ModelStore, token: String? = nil, offline: Bool = false, name: String = "0.6b") async throws -> String {
        let client = HubClient(configuration: HubConfiguration(endpoint: hub.endpoint, token: token))
        defer { Task { try? await client.shutdown() } }
        let puller = ModelPuller(client: client, store: store, offline: offline) { _ in }
        return try await puller.pull(try HubModel.resolve(name))
    }

    /// Every file arrives, byte for byte, in the checkpoint layout (the tokenizer under
    /// speech_tokenizer/), with no .partial left and .gitattributes skipped.
    func testAFullPullGivesTheCheckpointLayout() async throws {
        let hub = try await makeHub()
        defer { Task { await hub.stop() } }
        let store = try temporaryStore()
        let dir = try await pull(hub, store)
        XCTAssertEqual(dir, store.checkpointDirectory("0.6b"))
        let source = Self.checkpoints + "/tiny-cv-0b6"
        for name in ["config.json", "generation_config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer_config.json",
                     "speech_tokenizer/config.json", "speech_tokenizer/model.safetensors"] {
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/" + name), FileManager.default.contents(atPath: source + "/" + name), name)
        }
        let left = FileManager.default.enumerator(atPath: dir)?.allObjects.compactMap { $0 as? String } ?? []
        XCTAssertFalse(left.contains { $0.hasSuffix(".partial") || $0 == ".gitattributes" }, "\(left)")
        XCTAssertTrue(hub.requests.contains("list Qwen/Qwen3-TTS-Tokenizer-12Hz"))
        // A second pull downloads nothing.
        let before = hub.requests.filter { $0.hasPrefix("get ") }.count
        _ = try await pull(hub, store)
        XCTAssertEqual(hub.requests.filter { $0.hasPrefix("get ") }.count, before)
    }

    /// A transfer cut mid-file resumes from where it stopped (a Range request), and ends equal.
    func testAnInterruptedFileIsResumed() async throws {
        let hub = try await makeHub()
        defer { Task { await hub.stop() } }
        hub.cut("model.safetensors", after: 100_000)
        let store = try temporaryStore()
        let dir = try await pull(hub, store)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/model.safetensors"),
                       FileManager.default.contents(atPath: Self.checkpoints + "/tiny-cv-0b6/model.safetensors"))
        let gets = hub.requests.filter { $0.contains("/model.safetensors") && $0.contains("CustomVoice") }
        XCTAssertEqual(gets.count, 2, "\(gets)")
        // The second request starts where the received bytes end (some of the 100,000 sent before
        // the drop may not arrive), not from 0.
        let resumedFrom = Int(gets.last?.split(separator: " ").last ?? "") ?? 0
        XCTAssertTrue(resumedFrom > 0 && resumedFrom <= 100_000, "\(gets)")
    }

    /// A file whose sha256 is not the listed one is refused, never put in place, and fetched again.
    func testACorruptedFileIsRefusedAndFetchedAgain() async throws {
        let hub = try await makeHub()
        defer { Task { await hub.stop() } }
        hub.corruptOnce("model.safetensors")
        let store = try temporaryStore()
        let dir = try await pull(hub, store)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/model.safetensors"),
                       FileManager.default.contents(atPath: Self.checkpoints + "/tiny-cv-0b6/model.safetensors"))
        let gets = hub.requests.filter { $0.contains("CustomVoice/model.safetensors") }
        XCTAssertEqual(gets, ["get Qwen/Qwen3-TTS-12Hz-0.6B-CustomVoice/model.safetensors from 0",
                              "get Qwen/Qwen3-TTS-12Hz-0.6B-CustomVoice/model.safetensors from 0"])

        // The client on its own: the mismatch is an error naming the file, and nothing is left.
        hub.corruptOnce("config.json")
        let client = HubClient(configuration: HubConfiguration(endpoint: hub.endpoint))
        let repo = HubRepo(id: "Qwen/Qwen3-TTS-12Hz-0.6B-CustomVoice")
        let data = FileManager.default.contents(atPath: Self.checkpoints + "/tiny-cv-0b6/config.json")!
        let listed = HubFile(path: "config.json", size: Int64(data.count), sha256: MockHub.sha256(data))
        let target = dir + "/again.json"
        do {
            try await client.download(listed, from: repo, to: target)
            XCTFail("a corrupted file must be refused")
        } catch let e as HubError {
            guard case .checksumMismatch(let file, _, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(file, "config.json")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + ".partial"))
        try await client.shutdown()
    }

    /// A gated repository: 401 without a token is an error saying to set HF_TOKEN; with the
    /// token the pull succeeds.
    func testGatedRepositoriesNeedTheToken() async throws {
        let hub = try await makeHub(gated: true)
        defer { Task { await hub.stop() } }
        let store = try temporaryStore()
        do {
            _ = try await pull(hub, store)
            XCTFail("a gated repository without a token must fail")
        } catch let e as HubError {
            XCTAssertEqual(e, .unauthorized(repo: "Qwen/Qwen3-TTS-12Hz-0.6B-CustomVoice", tokenGiven: false))
            XCTAssertTrue("\(e)".contains("HF_TOKEN"))
        }
        do {
            _ = try await pull(hub, store, token: "wrong")
            XCTFail("a wrong token must fail")
        } catch let e as HubError {
            XCTAssertEqual(e, .unauthorized(repo: "Qwen/Qwen3-TTS-12Hz-0.6B-CustomVoice", tokenGiven: true))
        }
        let dir = try await pull(hub, store, token: MockHub.token)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/model.safetensors"))
    }

    /// A repository the hub does not have, and names that are not models, are clear errors.
    func testMissingRepositoriesAndBadNames() async throws {
        let hub = try await makeHub()
        defer { Task { await hub.stop() } }
        let store = try temporaryStore()
        do {
            _ = try await pull(hub, store, name: "someone/no-such-model@v2")
            XCTFail("a missing repository must fail")
        } catch let e as HubError {
            XCTAssertEqual(e, .repositoryNotFound(repo: "someone/no-such-model", revision: "v2"))
            XCTAssertEqual("\(e)", "the hub has no repository someone/no-such-model at revision v2")
        }
        for bad in ["2b", "a/b/c", "../x", "owner/..", "owner/repo@", "owner/re po"] {
            XCTAssertThrowsError(try HubModel.resolve(bad), bad) { XCTAssertTrue("\($0)".contains("unknown model"), "\($0)") }
        }
        XCTAssertEqual(try HubModel.resolve("1.7B-Design").repo.id, "Qwen/Qwen3-TTS-12Hz-1.7B-VoiceDesign")
        XCTAssertEqual(try HubModel.resolve("me/My-Model@abc123"), HubModel(name: "my-model", repo: HubRepo(id: "me/My-Model", revision: "abc123")))
    }

    /// HF_ENDPOINT (a mirror) is where every request goes; HF_TOKEN is read too.
    func testTheMirrorEndpointIsHonoured() async throws {
        let hub = try await makeHub()
        defer { Task { await hub.stop() } }
        let config = HubConfiguration.fromEnvironment(["HF_ENDPOINT": hub.endpoint + "/", "HF_TOKEN": "t"])
        XCTAssertEqual(config.endpoint, hub.endpoint)
        XCTAssertEqual(config.token, "t")
        XCTAssertEqual(HubConfiguration.fromEnvironment([:]).endpoint, "https://huggingface.co")
        XCTAssertNil(HubConfiguration.fromEnvironment(["HF_TOKEN": ""]).token)
        let store = try temporaryStore()
        let client = HubClient(configuration: config)
        let dir = try await ModelPuller(client: client, store: store) { _ in }.pull(try HubModel.resolve("0.6b"))
        try await client.shutdown()
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/speech_tokenizer/model.safetensors"))
        XCTAssertFalse(hub.requests.isEmpty)
    }

    /// Offline: a completed pull is used as it is; a store without it is an error, with no request.
    func testOfflineUsesOnlyTheStore() async throws {
        let hub = try await makeHub()
        defer { Task { await hub.stop() } }
        let store = try temporaryStore()
        do {
            _ = try await pull(hub, store, offline: true)
            XCTFail("offline with an empty store must fail")
        } catch let e as HubError {
            guard case .offlineMissing = e else { return XCTFail("\(e)") }
        }
        XCTAssertTrue(hub.requests.isEmpty)
        let dir = try await pull(hub, store)
        let count = hub.requests.count
        let again = try await pull(hub, store, offline: true)
        XCTAssertEqual(again, dir)
        XCTAssertEqual(hub.requests.count, count, "offline makes no request")
        // A file removed since: offline refuses rather than hand the loader a broken directory.
        try FileManager.default.removeItem(atPath: dir + "/vocab.json")
        do {
            _ = try await pull(hub, store, offline: true)
            XCTFail("a damaged store must be reported")
        } catch let e as HubError {
            guard case .offlineMissing(let file) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(file.hasSuffix("vocab.json"))
        }
    }

    /// A listing is data from the network: paths that leave the model's directory, sizes that are
    /// missing or negative and LFS ids that are not sha256 are refused, naming the problem.
    func testHostileListingsAreRefused() {
        let repo = HubRepo(id: "o/r")
        func refused(_ json: String) -> String? {
            do { _ = try HubClient.parseListing(Data(json.utf8), repo: repo); return nil } catch { return "\(error)" }
        }
        for path in ["../evil", "a/../../b", "/etc/passwd", "a//b", "."] {
            XCTAssertTrue(refused(#"[{"type":"file","path":"\#(path)","size":1}]"#)?.contains("unsafe path") ?? false, path)
        }
        XCTAssertTrue(refused(#"[{"type":"file","path":"a","size":-1}]"#)?.contains("without a path or size") ?? false)
        XCTAssertTrue(refused(#"[{"type":"file","path":"a"}]"#)?.contains("without a path or size") ?? false)
        XCTAssertTrue(refused(#"[{"type":"file","path":"a","size":3,"lfs":{"oid":"zz"}}]"#)?.contains("not a sha256") ?? false)
        XCTAssertTrue(refused(#"{"error":"x"}"#)?.contains("not a JSON array") ?? false)
        XCTAssertEqual(try HubClient.parseListing(Data(#"[{"type":"directory","path":"d","size":0},{"type":"file","path":"d/f","size":2}]"#.utf8), repo: repo),
                       [HubFile(path: "d/f", size: 2, sha256: nil)])
    }

    /// A hub that sends more bytes than it listed is cut off at the listed size, and a listing
    /// larger than 16 MiB is not buffered: both are errors, and nothing is left in place.
    func testAHubThatLiesIsRefused() async throws {
        let hub = MockHub()
        var repo = MockHub.Repo(files: ["speech_tokenizer/config.json": Data("{}".utf8), "a.bin": Data(repeating: 7, count: 5000)],
                                lfsAbove: 1 << 30)
        repo.listedSizes["a.bin"] = 4000
        hub.add("o/liar", repo)
        var big = MockHub.Repo(files: ["b.bin": Data([1])])
        big.listingPadding = 17 << 20
        hub.add("o/big", big)
        try await hub.start()
        defer { Task { await hub.stop() } }
        let store = try temporaryStore()
        do {
            _ = try await pull(hub, store, name: "o/liar")
            XCTFail("more bytes than listed must fail")
        } catch let e as HubError {
            // Reported at the first chunk past the listed size (where chunks end varies).
            guard case .sizeMismatch("a.bin", 4000, let actual) = e, actual > 4000 else { return XCTFail("\(e)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.checkpointDirectory("liar") + "/a.bin"))
        do {
            _ = try await pull(hub, store, name: "o/big")
            XCTFail("a 17 MiB listing must be refused")
        } catch let e as HubError {
            XCTAssertEqual(e, .malformedListing(repo: "o/big", reason: "larger than 16 MiB"))
        }
    }

    func testSHA256KnownAnswers() {
        func hex(_ s: String) -> String {
            var h = SHA256Hasher()
            h.update(Data(s.utf8))
            return h.finalizeHex()
        }
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in uneven pieces, across block boundaries: the same digest as in one piece.
        let big = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        var pieces = SHA256Hasher()
        var i = 0, step = 1
        while i < big.count {
            let n = min(step, big.count - i)
            pieces.update(big.subdata(in: i..<(i + n)))
            i += n
            step = step * 3 % 1000 + 1
        }
        XCTAssertEqual(pieces.finalizeHex(), MockHub.sha256(big))
    }
}
