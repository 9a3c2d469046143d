// A read-only memory mapping of a whole file.
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory for the lifetime of the object.
///
/// Sendable because the mapping is created with `PROT_READ`, never written through, and only
/// unmapped in `deinit`, after the last reference is gone.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let count: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw WeightsError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw WeightsError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw WeightsError.cannotOpen(path: path, reason: "is a directory")
        }
        let size = Int(st.st_size)
        guard size > 0 else { throw WeightsError.corrupt(path: path, reason: "the file is empty") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw WeightsError.cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
        count = size
    }

    /// Tells the kernel the pages wholly inside [offset, offset+length) are not needed now (their
    /// contents were copied elsewhere); they are read from the file again if touched later.
    public func release(offset: Int, length: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page
        let end = (offset + length) / page * page
        guard end > start, end <= count else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), count)
    }
}
