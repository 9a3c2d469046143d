// multipart/form-data as a hostile client writes it: every malformed body is refused with a
// MultipartError, never a trap.
import Foundation
import TTSTestSupport
import XCTest
@testable import TTSServer

final class MultipartTests: XCTestCase {
    /// Issue #15's reproduction: a part with no headers at all ("--B", CRLF, CRLF) used to make the
    /// header range run backwards and kill the daemon.
    func testAPartWithNoHeadersIsRefused() {
        let body = Array("--B\r\n\r\nx\r\n--B--\r\n".utf8)
        XCTAssertThrowsError(try MultipartForm.parse(body, boundary: "B")) { error in
            XCTAssertEqual((error as? MultipartError)?.description, "a part has no Content-Disposition name")
        }
    }

    func testMalformedVariantsThrow() {
        let variants = [
            "--B", "--B\r\n", "--B\r\n\r\n", "--B\r\n\r\n\r\n", "--B\r\n\r\n--B--", "--B\r\n\r\n\r\n--B--",
            "--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--",
            "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
            "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nx\r\n--B--",
            "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n",
            "--B\r\n\r\n\r\n\r\n\r\n--B--\r\n", "--B--B--B", "\r\n--B\r\n", "--B \r\n\r\n",
        ]
        for v in variants {
            XCTAssertThrowsError(try MultipartForm.parse(Array(v.utf8), boundary: "B"), v.debugDescription)
        }
    }

    func testTooManyPartsAndHugeHeadersAreRefused() {
        let part = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
        let many = String(repeating: part, count: MultipartForm.maxParts + 1) + "--B--\r\n"
        XCTAssertThrowsError(try MultipartForm.parse(Array(many.utf8), boundary: "B"))
        let fine = String(repeating: part, count: MultipartForm.maxParts) + "--B--\r\n"
        XCTAssertEqual(try MultipartForm.parse(Array(fine.utf8), boundary: "B").parts.count, MultipartForm.maxParts)
        let header = "--B\r\nX-Long: " + String(repeating: "y", count: MultipartForm.maxHeaderBytes)
            + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--\r\n"
        XCTAssertThrowsError(try MultipartForm.parse(Array(header.utf8), boundary: "B"))
    }

    /// Every truncation and every single-byte change of a valid body parses or throws: none traps.
    func testEveryTruncationAndByteFlipIsTotal() {
        let (data, _) = multipart([("name", nil, Data("Anna".utf8)), ("audio", "a.wav", Data([0, 13, 10, 45, 45, 255])),
                                   ("text", nil, Data("hi".utf8))], boundary: "B")
        let body = Array(data)
        for n in 0...body.count { _ = try? MultipartForm.parse(Array(body.prefix(n)), boundary: "B") }
        for i in body.indices {
            for replacement: UInt8 in [13, 10, 45, 66, 0, 34, 59, 61] where body[i] != replacement {
                var mutated = body
                mutated[i] = replacement
                _ = try? MultipartForm.parse(mutated, boundary: "B")
            }
        }
    }

    func testBoundaryParameterEdgeCases() {
        XCTAssertNil(MultipartForm.boundary(contentType: "multipart/form-data"))
        XCTAssertNil(MultipartForm.boundary(contentType: "multipart/form-data; boundary="))
        XCTAssertNil(MultipartForm.boundary(contentType: "multipart/form-data; boundary=\"\""))
        XCTAssertNil(MultipartForm.boundary(contentType: "multipart/form-data; boundary=" + String(repeating: "x", count: 71)))
        XCTAssertEqual(MultipartForm.boundary(contentType: "Multipart/Form-Data;BOUNDARY=q"), "q")
    }
}
