/// ustar headers, with a PAX extended header in front when a name or link target is too long.
///
/// Only what a sync needs: regular files and symlinks, owner 0 (extracted with
/// `--no-same-owner`), real mode and mtime so the remote manifest matches the local one.
enum TarHeader {
    static let blockSize = 512

    /// The header block(s) for one entry: a PAX header + its records when needed, then ustar.
    static func blocks(path: String, kind: FileEntry.Kind, size: Int64, mode: UInt32, modificationTime: Int64) -> [UInt8] {
        var linkName = ""
        var typeFlag = UInt8(ascii: "0")
        var contentSize = size
        if case .symlink(let target) = kind {
            linkName = target
            typeFlag = UInt8(ascii: "2")
            contentSize = 0
        }
        var records: [(String, String)] = []
        if path.utf8.count > 100 { records.append(("path", path)) }
        if linkName.utf8.count > 100 { records.append(("linkpath", linkName)) }
        if contentSize > 0o77777777777 { records.append(("size", String(contentSize))) }
        var output: [UInt8] = []
        if !records.isEmpty {
            let body = paxBody(records)
            output += ustar(name: "PaxHeaders/" + String(path.suffix(80)), typeFlag: UInt8(ascii: "x"), size: Int64(body.count),
                            mode: 0o644, modificationTime: modificationTime, linkName: "")
            output += body
            output += padding(for: Int64(body.count))
        }
        output += ustar(name: path, typeFlag: typeFlag, size: contentSize, mode: mode, modificationTime: modificationTime, linkName: linkName)
        return output
    }

    /// Zero bytes that round `size` up to a whole block.
    static func padding(for size: Int64) -> [UInt8] {
        let remainder = Int(size % Int64(blockSize))
        return remainder == 0 ? [] : [UInt8](repeating: 0, count: blockSize - remainder)
    }

    /// Two zero blocks end an archive.
    static let endOfArchive = [UInt8](repeating: 0, count: 2 * blockSize)

    /// PAX records: "LEN key=value\n", where LEN counts the whole record including itself.
    static func paxBody(_ records: [(String, String)]) -> [UInt8] {
        var body: [UInt8] = []
        for (key, value) in records {
            let payload = " \(key)=\(value)\n"
            var length = payload.utf8.count + 1
            while String(length).utf8.count + payload.utf8.count != length { length += 1 }
            body += Array((String(length) + payload).utf8)
        }
        return body
    }

    private static func ustar(name: String, typeFlag: UInt8, size: Int64, mode: UInt32, modificationTime: Int64, linkName: String) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        put(truncated(name, 100), at: 0, in: &block)
        put(octal(Int64(mode & 0o7777), width: 8), at: 100, in: &block)
        put(octal(0, width: 8), at: 108, in: &block)
        put(octal(0, width: 8), at: 116, in: &block)
        put(octal(min(size, 0o77777777777), width: 12), at: 124, in: &block)
        put(octal(max(0, min(modificationTime, 0o77777777777)), width: 12), at: 136, in: &block)
        block[156] = typeFlag
        put(truncated(linkName, 100), at: 157, in: &block)
        put(Array("ustar\u{0}00".utf8), at: 257, in: &block)
        put(Array("root".utf8), at: 265, in: &block)
        put(Array("root".utf8), at: 297, in: &block)
        // The checksum is computed with its own field read as eight spaces.
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int64($1) }
        var checksum = octal(sum, width: 7)
        checksum.append(UInt8(ascii: " "))
        put(checksum, at: 148, in: &block)
        return block
    }

    /// The first `limit` bytes of `text`'s UTF-8 (the full name travels in the PAX header).
    private static func truncated(_ text: String, _ limit: Int) -> [UInt8] {
        Array(text.utf8.prefix(limit))
    }

    /// Zero-padded octal digits followed by a NUL, `width` bytes in all.
    private static func octal(_ value: Int64, width: Int) -> [UInt8] {
        let digits = String(value, radix: 8)
        let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        return Array(padded.utf8) + [0]
    }

    private static func put(_ bytes: [UInt8], at offset: Int, in block: inout [UInt8]) {
        for (index, byte) in bytes.enumerated() where offset + index < block.count {
            block[offset + index] = byte
        }
    }
}
