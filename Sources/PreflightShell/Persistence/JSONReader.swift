/// A strict JSON parser for the record files (`import`, `preflight check`).
///
/// Written for good error messages rather than speed: it knows where in the text a problem is (line and column),
/// says when the text simply ends too early (a truncated file), names the tokens JSON does not have but other
/// writers produce (Python's bare `NaN`, `Infinity`), keeps an object's keys in order (so a record can be written
/// back as it was read) and refuses duplicate keys and absurd nesting.
enum JValue {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JValue]), object([(String, JValue)])
    /// An integer literal too large for Int (kept as written; its Double value for comparisons).
    case bigInt(String, Double)

    /// The value of `key` in an object (nil when absent, or when this is not an object).
    subscript(key: String) -> JValue? {
        if case .object(let fields) = self { return fields.first { $0.0 == key }?.1 }
        return nil
    }

    /// Back to the writer's value type, keys in the same order.
    var json: JSON {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .num(d)
        case .bigInt(let s, _): return .rawNumber(s)
        case .string(let s): return .string(s)
        case .array(let a): return .array(a.map(\.json))
        case .object(let o): return .object(o.map { ($0.0, $0.1.json) })
        }
    }

    /// What kind of value this is, for error messages ("a string", "an array"…).
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double, .bigInt: return "a number"
        case .string(let s): return "the string \"\(s.prefix(20))\(s.count > 20 ? "…" : "")\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Why the text is not JSON: a message with the line and column.
struct JSONSyntaxError: Error {
    var message: String
}

struct JSONParser {
    /// Deeper nesting than this is refused (records nest 5 levels).
    static let maxDepth = 64

    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Parses one JSON document (surrounding whitespace allowed, a UTF-8 byte-order mark too).
    static func parse(_ bytes: [UInt8]) throws -> JValue {
        var p = JSONParser(bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { p.i = 3 }
        p.skipSpace()
        guard p.i < bytes.count else { throw JSONSyntaxError(message: "the file is empty") }
        let v = try p.value()
        p.skipSpace()
        if p.i < bytes.count { throw p.error("unexpected text after the end of the JSON value") }
        return v
    }

    /// "line L, column C" of byte offset `at`.
    private func position(_ at: Int) -> String {
        var line = 1, col = 1
        for b in bytes[0..<min(at, bytes.count)] { if b == 0x0A { line += 1; col = 1 } else if b & 0xC0 != 0x80 { col += 1 } }
        return "line \(line), column \(col)"
    }

    private func error(_ what: String, at: Int? = nil) -> JSONSyntaxError {
        let at = at ?? i
        if at >= bytes.count { return JSONSyntaxError(message: "truncated: the file ends in the middle of the JSON (\(what)), at \(position(at))") }
        return JSONSyntaxError(message: "not valid JSON at \(position(at)): \(what)")
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private func startsWith(_ word: String) -> Bool {
        let w = Array(word.utf8)
        return i + w.count <= bytes.count && Array(bytes[i..<(i + w.count)]) == w
    }

    private mutating func value() throws -> JValue {
        skipSpace()
        guard i < bytes.count else { throw error("expected a value") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if startsWith("-Infinity") { throw error("-Infinity is not JSON: write null for a non-finite number") }
            return try number()
        default:
            for w in ["NaN", "Infinity", "inf", "nan"] where startsWith(w) {
                throw error("\(w) is not JSON: write null for a non-finite number (Python: json.dump(..., allow_nan=False))")
            }
            throw error("unexpected character `\(String(decoding: [bytes[i]], as: UTF8.self))`")
        }
    }

    private mutating func literal(_ word: String, _ v: JValue) throws -> JValue {
        let w = Array(word.utf8)
        for (k, b) in w.enumerated() {
            guard i + k < bytes.count else { throw error("expected `\(word)`", at: i + k) }
            guard bytes[i + k] == b else { throw error("expected `\(word)`") }
        }
        i += w.count
        return v
    }

    private mutating func enter() throws {
        depth += 1
        if depth > JSONParser.maxDepth { throw error("nested more than \(JSONParser.maxDepth) levels deep") }
    }

    private mutating func object() throws -> JValue {
        try enter(); defer { depth -= 1 }
        i += 1
        var fields: [(String, JValue)] = []
        var seen = Set<String>()
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
        while true {
            skipSpace()
            guard i < bytes.count else { throw error("expected a key") }
            guard bytes[i] == UInt8(ascii: "\"") else { throw error("expected a key in double quotes") }
            let keyAt = i
            let key = try string()
            guard seen.insert(key).inserted else { throw error("the key \"\(key.prefix(40))\" appears twice in one object", at: keyAt) }
            skipSpace()
            guard i < bytes.count else { throw error("expected `:`") }
            guard bytes[i] == UInt8(ascii: ":") else { throw error("expected `:` after the key \"\(key.prefix(40))\"") }
            i += 1
            fields.append((key, try value()))
            skipSpace()
            guard i < bytes.count else { throw error("expected `,` or `}`") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
            throw error("expected `,` or `}`")
        }
    }

    private mutating func array() throws -> JValue {
        try enter(); defer { depth -= 1 }
        i += 1
        var items: [JValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            items.append(try value())
            skipSpace()
            guard i < bytes.count else { throw error("expected `,` or `]`") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw error("expected `,` or `]`")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("a \\u escape needs 4 hex digits", at: bytes.count) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("a \\u escape needs 4 hex digits")
            }
            v = v * 16 + d; i += 1
        }
        return v
    }

    private mutating func string() throws -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw error("a string is not closed", at: bytes.count) }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw error("a control character inside a string (write it as an escape)") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw error("a string is not closed", at: bytes.count) }
            let e = bytes[i]; i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), startsWith("\\u") {
                    i += 2
                    let low = try hex4()
                    scalar = (0xDC00..<0xE000).contains(low) ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                }
                out += Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: throw error("unknown escape `\\\(String(decoding: [e], as: UTF8.self))` in a string")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw error("a string is not valid UTF-8", at: start) }
        return s
    }

    private mutating func number() throws -> JValue {
        let start = i
        func digits() -> Int { let s = i; while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }; return i - s }
        var integral = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw error("a number has no digits") }
        if bytes[i] == UInt8(ascii: "0") { i += 1 } else if digits() == 0 { throw error("a number has no digits") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            integral = false; i += 1
            guard digits() > 0 else { throw error("a number needs digits after the decimal point") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            integral = false; i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw error("a number needs digits in its exponent") }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if integral, let v = Int(text) { return .int(v) }
        guard let d = Double(text) else { throw error("unreadable number `\(text.prefix(30))`", at: start) }
        guard d.isFinite else { throw error("the number \(text.prefix(30)) is too large for a double", at: start) }
        return integral ? .bigInt(text, d) : .double(d)
    }
}
