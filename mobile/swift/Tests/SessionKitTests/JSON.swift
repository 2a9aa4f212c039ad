// A small JSON value type for the test runners: parsed by hand so numbers and booleans stay
// distinct and integers stay exact, written compactly with sorted keys (as serde_json does).
import Foundation

enum JSON: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws -> JSON {
        var reader = Reader(Array(text.unicodeScalars))
        reader.skipWhitespace()
        let value = try reader.value()
        reader.skipWhitespace()
        guard reader.pos == reader.chars.count else { throw ParseError(description: "trailing characters") }
        return value
    }

    /// Compact JSON text with sorted object keys.
    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return JSON.quote(s)
        case .array(let items): return "[" + items.map { $0.text }.joined(separator: ",") + "]"
        case .object(let map):
            return "{" + map.keys.sorted().map { JSON.quote($0) + ":" + map[$0]!.text }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The type name used by the `$type` matcher.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// Structural equality; numbers compare by value, a boolean is never a number.
    static func same(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.int, .double), (.double, .int), (.double, .double): return a.number == b.number
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { same(x[$0]!, y[$0]!) }
        default: return a == b
        }
    }

    subscript(key: String) -> JSON? {
        if case .object(let map) = self { return map[key] }
        return nil
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    private struct Reader {
        let chars: [Unicode.Scalar]
        var pos = 0

        init(_ chars: [Unicode.Scalar]) {
            self.chars = chars
        }

        static let whitespace: Set<Unicode.Scalar> = [" ", "\t", "\n", "\r"]

        mutating func skipWhitespace() {
            while pos < chars.count, Reader.whitespace.contains(chars[pos]) { pos += 1 }
        }

        mutating func value() throws -> JSON {
            guard pos < chars.count else { throw ParseError(description: "unexpected end") }
            switch chars[pos] {
            case "{": return try object()
            case "[": return try array()
            case "\"": return .string(try string())
            case "t": return try literal("true", .bool(true))
            case "f": return try literal("false", .bool(false))
            case "n": return try literal("null", .null)
            default: return try number()
            }
        }

        mutating func literal(_ word: String, _ value: JSON) throws -> JSON {
            for scalar in word.unicodeScalars {
                guard pos < chars.count, chars[pos] == scalar else { throw ParseError(description: "bad literal at \(pos)") }
                pos += 1
            }
            return value
        }

        mutating func object() throws -> JSON {
            var map: [String: JSON] = [:]
            pos += 1
            skipWhitespace()
            if pos < chars.count, chars[pos] == "}" { pos += 1; return .object(map) }
            while true {
                skipWhitespace()
                let key = try string()
                skipWhitespace()
                guard pos < chars.count, chars[pos] == ":" else { throw ParseError(description: "expected ':' at \(pos)") }
                pos += 1
                skipWhitespace()
                map[key] = try value()
                skipWhitespace()
                guard pos < chars.count else { throw ParseError(description: "unexpected end") }
                let c = chars[pos]
                pos += 1
                if c == "}" { return .object(map) }
                guard c == "," else { throw ParseError(description: "expected ',' or '}' at \(pos - 1)") }
            }
        }

        mutating func array() throws -> JSON {
            var items: [JSON] = []
            pos += 1
            skipWhitespace()
            if pos < chars.count, chars[pos] == "]" { pos += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try value())
                skipWhitespace()
                guard pos < chars.count else { throw ParseError(description: "unexpected end") }
                let c = chars[pos]
                pos += 1
                if c == "]" { return .array(items) }
                guard c == "," else { throw ParseError(description: "expected ',' or ']' at \(pos - 1)") }
            }
        }

        mutating func string() throws -> String {
            guard pos < chars.count, chars[pos] == "\"" else { throw ParseError(description: "expected a string at \(pos)") }
            pos += 1
            var out = String.UnicodeScalarView()
            while pos < chars.count {
                let c = chars[pos]
                pos += 1
                if c == "\"" { return String(out) }
                if c != "\\" { out.append(c); continue }
                guard pos < chars.count else { break }
                let e = chars[pos]
                pos += 1
                switch e {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "/": out.append("/")
                case "b": out.append(Unicode.Scalar(UInt8(8)))
                case "f": out.append(Unicode.Scalar(UInt8(12)))
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "u":
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), pos + 1 < chars.count, chars[pos] == "\\", chars[pos + 1] == "u" {
                        pos += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw ParseError(description: "bad \\u escape") }
                    out.append(scalar)
                default: throw ParseError(description: "bad escape at \(pos)")
                }
            }
            throw ParseError(description: "unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard pos + 4 <= chars.count else { throw ParseError(description: "short \\u escape") }
            let digits = String(String.UnicodeScalarView(chars[pos..<(pos + 4)]))
            pos += 4
            guard let value = UInt32(digits, radix: 16) else { throw ParseError(description: "bad \\u escape") }
            return value
        }

        mutating func number() throws -> JSON {
            let start = pos
            while pos < chars.count, "-+.eE0123456789".unicodeScalars.contains(chars[pos]) { pos += 1 }
            let text = String(String.UnicodeScalarView(chars[start..<pos]))
            if !text.contains(where: { ".eE".contains($0) }), let i = Int64(text) { return .int(i) }
            guard let d = Double(text) else { throw ParseError(description: "bad number \(text)") }
            return .double(d)
        }
    }
}

extension JSON: ExpressibleByStringLiteral {
    init(stringLiteral value: String) {
        self = .string(value)
    }
}
