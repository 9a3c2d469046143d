// Ogg pages (RFC 3533) for one logical stream: packets in, pages out.

/// Lays packets into pages. A page is emitted by `flush` (or when its 255 lacing values are
/// used up), so a streaming caller flushes after each chunk of audio to send it at once.
struct OggPageWriter {
    let serial: UInt32
    private var sequence: UInt32 = 0
    private var lacing: [UInt8] = []
    private var body: [UInt8] = []
    /// Granule position after the last packet on the page being built.
    private var granule: Int64 = -1
    private var started = false

    init(serial: UInt32) { self.serial = serial }

    /// Adds a packet that ends at `granule`; returns any page that had to be closed to fit it.
    mutating func add(_ packet: [UInt8], granule: Int64) -> [UInt8] {
        let values = packet.count / 255 + 1
        precondition(values <= 255, "an Ogg packet of \(packet.count) bytes is larger than this writer lays on one page")
        var out: [UInt8] = []
        if lacing.count + values > 255 { out = page(last: false) }
        lacing.append(contentsOf: [UInt8](repeating: 255, count: packet.count / 255))
        lacing.append(UInt8(packet.count % 255))
        body.append(contentsOf: packet)
        self.granule = granule
        return out
    }

    /// Closes the page being built (nothing if it is empty, unless it must carry end-of-stream).
    mutating func flush(last: Bool = false) -> [UInt8] {
        guard !lacing.isEmpty || last else { return [] }
        return page(last: last)
    }

    private mutating func page(last: Bool) -> [UInt8] {
        var header: [UInt8] = Array("OggS".utf8) + [0]
        header.append((started ? 0 : 0x02) | (last ? 0x04 : 0))
        header.append(contentsOf: littleEndian(UInt64(bitPattern: granule)))
        header.append(contentsOf: littleEndian(serial))
        header.append(contentsOf: littleEndian(sequence))
        header.append(contentsOf: [0, 0, 0, 0])
        header.append(UInt8(lacing.count))
        header.append(contentsOf: lacing)
        var page = header + body
        let crc = OggCRC.checksum(page)
        page.replaceSubrange(22..<26, with: littleEndian(crc))
        started = true
        sequence &+= 1
        lacing.removeAll(keepingCapacity: true)
        body.removeAll(keepingCapacity: true)
        return page
    }
}

func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    withUnsafeBytes(of: v.littleEndian) { Array($0) }
}

/// Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final XOR.
enum OggCRC {
    static let table: [UInt32] = (0..<256).map { i in
        var r = UInt32(i) << 24
        for _ in 0..<8 { r = r & 0x8000_0000 != 0 ? (r << 1) ^ 0x04C1_1DB7 : r << 1 }
        return r
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0
        for b in bytes { crc = (crc << 8) ^ table[Int((crc >> 24) ^ UInt32(b))] }
        return crc
    }
}
