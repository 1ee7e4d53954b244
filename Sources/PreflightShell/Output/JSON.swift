/// A JSON value whose objects keep their keys in insertion order, so exports are stable byte for byte.
public indirect enum JSON {
    case null, bool(Bool), number(Double), int(Int), string(String), array([JSON]), object([(String, JSON)])
    /// A number written exactly as given: an integer too large for Int read from a record (a 64-bit seed).
    case rawNumber(String)

    /// A Double, or null when it is NaN or infinite (JSON has no such numbers).
    public static func num(_ v: Double?) -> JSON { v.map { $0.isFinite ? .number($0) : .null } ?? .null }

    public func serialized(indent: Int = 0, pretty: Bool = true) -> String {
        var out = ""
        write(&out, indent: indent, pretty: pretty)
        return out
    }

    private func write(_ out: inout String, indent: Int, pretty: Bool) {
        let nl = pretty ? "\n" : "", pad = pretty ? String(repeating: "  ", count: indent + 1) : "", endPad = pretty ? String(repeating: "  ", count: indent) : ""
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .rawNumber(let s): out += s
        case .number(let d): out += JSON.format(d)
        case .string(let s): out += JSON.quote(s)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            // Arrays of scalars stay on one line.
            if a.allSatisfy({ if case .array = $0 { return false }; if case .object = $0 { return false }; return true }) {
                out += "[" + a.map { $0.serialized(pretty: false) }.joined(separator: ", ") + "]"
                return
            }
            out += "[" + nl
            for (i, v) in a.enumerated() {
                out += pad; v.write(&out, indent: indent + 1, pretty: pretty)
                out += (i < a.count - 1 ? "," : "") + nl
            }
            out += endPad + "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{" + nl
            for (i, (k, v)) in o.enumerated() {
                out += pad + JSON.quote(k) + (pretty ? ": " : ":")
                v.write(&out, indent: indent + 1, pretty: pretty)
                out += (i < o.count - 1 ? "," : "") + nl
            }
            out += endPad + "}"
        }
    }

    /// Shortest decimal that reads back to the same Double; integers without a fraction.
    static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    static func quote(_ s: String) -> String {
        var r = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\r": r += "\\r"
            case "\t": r += "\\t"
            default:
                if u.value < 0x20 { r += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) }
                else { r.unicodeScalars.append(u) }
            }
        }
        return r + "\""
    }
}
