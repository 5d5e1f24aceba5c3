import Foundation

/// One member of a tar archive.
struct TarEntry: Equatable {
    enum Kind: Equatable { case file, directory, symlink(String), other }
    var path: String
    var kind: Kind
    var contents: Data
}

/// Reads ustar/GNU/pax archives as GNU tar (Debian) and BusyBox tar (Alpine) write them:
/// regular files, directories, symlinks, GNU long names ('L'/'K') and pax path/linkpath.
enum TarReader {
    static func entries(of archive: Data) throws -> [TarEntry] {
        let bytes = [UInt8](archive)
        var offset = 0
        var result: [TarEntry] = []
        var longName: String?
        var longLink: String?
        while offset + 512 <= bytes.count {
            let header = Array(bytes[offset..<offset + 512])
            if header.allSatisfy({ $0 == 0 }) { break }
            let size = try number(header[124..<136])
            let dataStart = offset + 512
            guard size >= 0, dataStart + size <= bytes.count else {
                throw SSHTunnelError.invalidArchive(reason: "truncated member at offset \(offset)")
            }
            let data = Data(bytes[dataStart..<dataStart + size])
            offset = dataStart + (size + 511) / 512 * 512
            let type = header[156]
            switch type {
            case UInt8(ascii: "L"):
                longName = cString(Array(data))
                continue
            case UInt8(ascii: "K"):
                longLink = cString(Array(data))
                continue
            case UInt8(ascii: "x"):
                let records = pax(data)
                if let path = records["path"] { longName = path }
                if let link = records["linkpath"] { longLink = link }
                continue
            case UInt8(ascii: "g"):
                continue
            default:
                break
            }
            var name = cString(Array(header[0..<100]))
            let magic = cString(Array(header[257..<263]))
            if magic == "ustar" {
                let prefix = cString(Array(header[345..<500]))
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            if let long = longName { name = long }
            let link = longLink ?? cString(Array(header[157..<257]))
            longName = nil
            longLink = nil
            let kind: TarEntry.Kind
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "2"): kind = .symlink(link)
            default: kind = .other
            }
            result.append(TarEntry(path: name, kind: kind, contents: kind == .file ? data : Data()))
        }
        return result
    }

    private static func cString(_ field: [UInt8]) -> String {
        let end = field.firstIndex(of: 0) ?? field.count
        return String(decoding: field[0..<end], as: UTF8.self)
    }

    /// Octal (NUL/space padded) or GNU base-256 for large sizes.
    private static func number(_ field: ArraySlice<UInt8>) throws -> Int {
        if let first = field.first, first & 0x80 != 0 {
            return field.dropFirst().reduce(Int(first & 0x7f)) { ($0 << 8) | Int($1) }
        }
        let text = String(decoding: field.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard let value = Int(text, radix: 8) else {
            throw SSHTunnelError.invalidArchive(reason: "bad number field '\(text)'")
        }
        return value
    }

    private static func pax(_ data: Data) -> [String: String] {
        var records: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let record = line[line.index(after: space)...]
            guard let equals = record.firstIndex(of: "=") else { continue }
            records[String(record[..<equals])] = String(record[record.index(after: equals)...])
        }
        return records
    }
}
