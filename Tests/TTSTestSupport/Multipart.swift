// multipart/form-data bodies as clients upload voices, for the server and daemon tests.
import Foundation

/// A multipart/form-data body: (name, filename?, bytes) parts.
public func multipart(_ parts: [(String, String?, Data)], boundary: String = "qwen3-test-boundary") -> (Data, String) {
    var body = Data()
    for (name, filename, data) in parts {
        body += Data("--\(boundary)\r\n".utf8)
        let file = filename.map { "; filename=\"\($0)\"" } ?? ""
        body += Data("Content-Disposition: form-data; name=\"\(name)\"\(file)\r\n".utf8)
        if filename != nil { body += Data("Content-Type: audio/wav\r\n".utf8) }
        body += Data("\r\n".utf8) + data + Data("\r\n".utf8)
    }
    body += Data("--\(boundary)--\r\n".utf8)
    return (body, "multipart/form-data; boundary=\(boundary)")
}
