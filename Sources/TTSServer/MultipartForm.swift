// multipart/form-data bodies (RFC 7578), as OpenAI-style clients upload files.
import Foundation

struct MultipartForm {
    struct Part {
        let name: String
        let filename: String?
        let contentType: String?
        let data: [UInt8]

        var text: String? { String(bytes: data, encoding: .utf8) }
    }

    let parts: [Part]

    func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// The boundary parameter of a multipart/form-data Content-Type, or nil for another type.
    static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, kv[0].lowercased() == "boundary" else { continue }
            var value = kv[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty || value.count > 70 ? nil : value
        }
        return nil
    }

    /// Parses `body`; throws MultipartError naming what is malformed.
    static func parse(_ body: [UInt8], boundary: String) throws -> MultipartForm {
        try body.withUnsafeBytes { try parse($0, boundary: boundary) }
    }

    /// Parses bytes in place (a request body as received): each part's data is the only copy.
    static func parse(_ body: UnsafeRawBufferPointer, boundary: String) throws -> MultipartForm {
        let delimiter = Array("--\(boundary)".utf8)
        guard var position = find(delimiter, in: body, from: 0) else { throw MultipartError("no part starts with the boundary") }
        var parts: [Part] = []
        while true {
            position += delimiter.count
            // "--" after a delimiter closes the body.
            if body.count >= position + 2, body[position] == UInt8(ascii: "-"), body[position + 1] == UInt8(ascii: "-") {
                if parts.isEmpty { throw MultipartError("the body has no parts") }
                break
            }
            guard let lineEnd = find(crlf, in: body, from: position) else { throw MultipartError("a boundary line is not terminated") }
            // The blank line that ends the headers; it may follow the boundary line at once (no
            // headers), in which case the CRLF found first is the boundary line's own.
            guard let headerEnd = find(crlf + crlf, in: body, from: lineEnd) else { throw MultipartError("a part's headers are not terminated") }
            let headerStart = min(lineEnd + 2, headerEnd)
            guard headerEnd - headerStart <= maxHeaderBytes else { throw MultipartError("a part's headers are longer than \(maxHeaderBytes) bytes") }
            guard parts.count < maxParts else { throw MultipartError("more than \(maxParts) parts") }
            let headerText = String(decoding: body[headerStart..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = find(crlf + delimiter, in: body, from: contentStart) else {
                throw MultipartError("a part is not closed by the boundary (truncated upload?)")
            }
            parts.append(try part(headers: headerText, data: Array(body[contentStart..<next])))
            position = next + 2
        }
        return MultipartForm(parts: parts)
    }

    private static let crlf: [UInt8] = [13, 10]
    /// Bounds on what one body may declare: parts, and header bytes of one part. A voice upload
    /// has five fields with one-line headers; these leave room for any client's extra headers.
    static let maxParts = 64
    static let maxHeaderBytes = 8192

    private static func part(headers: String, data: [UInt8]) throws -> Part {
        var name: String?, filename: String?, contentType: String?
        for line in headers.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if key == "content-type" { contentType = value }
            guard key == "content-disposition" else { continue }
            for parameter in value.split(separator: ";").dropFirst() {
                let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2 else { continue }
                var v = kv[1]
                if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
                switch kv[0].lowercased() {
                case "name": name = v
                case "filename": filename = v
                default: break
                }
            }
        }
        guard let name else { throw MultipartError("a part has no Content-Disposition name") }
        return Part(name: name, filename: filename, contentType: contentType, data: data)
    }

    /// First index of `needle` in `haystack` at or after `start`.
    private static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count, let h = haystack.baseAddress else { return nil }
        let first = needle[0]
        var i = start
        let last = haystack.count - needle.count
        return needle.withUnsafeBufferPointer { n in
            while i <= last {
                if haystack[i] == first && memcmp(h + i, n.baseAddress!, n.count) == 0 { return i }
                i += 1
            }
            return nil
        }
    }
}

struct MultipartError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
