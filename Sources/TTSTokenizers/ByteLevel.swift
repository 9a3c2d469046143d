// GPT-2 byte-level alphabet: every byte maps to one printable Unicode scalar.

enum ByteLevel {
    /// byte -> scalar: printable Latin-1 bytes map to themselves, the rest to U+0100 upwards.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// The byte-level string of a piece of text (its UTF-8 bytes, each mapped to a scalar).
    static func encode(_ text: Substring) -> String {
        var s = String.UnicodeScalarView()
        for b in text.utf8 { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// Bytes back from a byte-level token string; scalars outside the alphabet are dropped.
    static func decode(_ token: String, into bytes: inout [UInt8]) {
        for s in token.unicodeScalars {
            if let b = scalarToByte[s.value] { bytes.append(b) }
        }
    }
}
