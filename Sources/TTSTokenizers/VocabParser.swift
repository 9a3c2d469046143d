// A parser for vocab.json (one flat JSON object of string -> non-negative integer) that reports
// the line of any syntax error and avoids building a Foundation object graph for 150k entries.

enum VocabParser {
    struct Failure: Error {
        let line: Int
        let reason: String
    }

    static func parse(_ bytes: [UInt8]) throws(Failure) -> [String: Int] {
        var p = Parser(bytes: bytes)
        return try p.object()
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0
        var line = 1

        init(bytes: [UInt8]) { self.bytes = bytes }

        func fail(_ reason: String) -> Failure { Failure(line: line, reason: reason) }

        mutating func skipSpace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x0A: line += 1; i += 1
                case 0x20, 0x09, 0x0D: i += 1
                default: return
                }
            }
        }

        mutating func expect(_ c: UInt8, _ what: String) throws(Failure) {
            skipSpace()
            guard i < bytes.count, bytes[i] == c else {
                throw fail(i < bytes.count ? "expected \(what), found '\(Unicode.Scalar(bytes[i]))'" : "expected \(what), found the end of the file")
            }
            i += 1
        }

        mutating func object() throws(Failure) -> [String: Int] {
            var result: [String: Int] = [:]
            result.reserveCapacity(bytes.count / 16)
            try expect(UInt8(ascii: "{"), "'{'")
            skipSpace()
            if i < bytes.count && bytes[i] == UInt8(ascii: "}") { i += 1; return result }
            while true {
                skipSpace()
                let key = try string()
                try expect(UInt8(ascii: ":"), "':'")
                skipSpace()
                let value = try integer(for: key)
                result[key] = value
                skipSpace()
                guard i < bytes.count else { throw fail("the object is not closed") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; break }
                throw fail("expected ',' or '}' after the entry for \(key.debugDescription)")
            }
            skipSpace()
            if i != bytes.count { throw fail("unexpected text after the object") }
            return result
        }

        mutating func integer(for key: String) throws(Failure) -> Int {
            var value = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int(bytes[i] - 0x30))
                if o1 || o2 { throw fail("the id of \(key.debugDescription) is too large") }
                value = s
                i += 1
            }
            if i == start { throw fail("the id of \(key.debugDescription) is not a non-negative integer") }
            return value
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw fail("bad hex digit in \\u escape")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        mutating func string() throws(Failure) -> String {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") { break }
                if c == 0x0A { throw fail("newline inside a string") }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard i < bytes.count else { throw fail("unterminated escape") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate in \\u escape")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let s = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    out.append(contentsOf: Array(String(s).utf8))
                default:
                    throw fail("unknown escape \\\(Unicode.Scalar(e))")
                }
            }
            let s = String(decoding: out, as: UTF8.self)  // invalid bytes would become U+FFFD
            guard s.utf8.elementsEqual(out) else { throw fail("a key is not valid UTF-8") }
            return s
        }
    }
}
