/// Weight initialisers. Biases are always zero. Names and formulas follow Keras.
public enum Initializer: Sendable, Equatable, Codable, CustomStringConvertible {
    case glorot            // uniform ±√(6/(fan_in+fan_out))  (Keras glorot_uniform)
    case glorotNormal      // truncated normal, std √(2/(fan_in+fan_out)) / 0.8796  (Keras glorot_normal)
    case he                // truncated normal, std √(2/fan_in) / 0.8796  (Keras he_normal)
    case heUniform         // uniform ±√(6/fan_in)
    case lecun             // truncated normal, std √(1/fan_in) / 0.8796  (Keras lecun_normal)
    case truncnormal(Double)  // normal(0, std) redrawn beyond 2 std (TensorFlow's truncated_normal)
    case normal(Double)
    case uniform(Double)   // uniform ±limit
    case zeros

    /// Keras divides the std of its truncated-normal variance-scaling initialisers by this constant,
    /// the std of a unit normal truncated at ±2, so that the drawn weights have the intended variance.
    public static let truncationCorrection = 0.87962566103423978

    public var description: String {
        switch self {
        case .glorot: return "glorot"
        case .glorotNormal: return "glorot-normal"
        case .he: return "he"
        case .heUniform: return "he-uniform"
        case .lecun: return "lecun"
        case .truncnormal(let s): return "truncnormal \(formatParam(s))"
        case .normal(let s): return "normal \(formatParam(s))"
        case .uniform(let l): return "uniform \(formatParam(l))"
        case .zeros: return "zeros"
        }
    }

    /// The initialiser's name alone, as the JSON export's `init` field gives it.
    public var name: String { String(description.split(separator: " ").first ?? "") }

    /// The parameter the formula gives for this layer: ("limit", x) for uniform draws, ("std", x) for normal ones.
    public func scale(fanIn: Int, fanOut: Int) -> (kind: String, value: Double) {
        let fi = Double(fanIn), fo = Double(fanOut)
        switch self {
        case .glorot: return ("limit", (6 / (fi + fo)).squareRoot())
        case .glorotNormal: return ("std", (2 / (fi + fo)).squareRoot() / Self.truncationCorrection)
        case .he: return ("std", (2 / fi).squareRoot() / Self.truncationCorrection)
        case .heUniform: return ("limit", (6 / fi).squareRoot())
        case .lecun: return ("std", (1 / fi).squareRoot() / Self.truncationCorrection)
        case .truncnormal(let s), .normal(let s): return ("std", s)
        case .uniform(let l): return ("limit", l)
        case .zeros: return ("value", 0)
        }
    }

    /// Fills `w` (fan_in × fan_out, row-major) from `rng`.
    public func fill(_ w: UnsafeMutableBufferPointer<Float>, fanIn: Int, fanOut: Int, rng: inout Xoshiro) {
        let (_, p) = scale(fanIn: fanIn, fanOut: fanOut)
        switch self {
        case .glorot, .heUniform, .uniform:
            for i in w.indices { w[i] = Float((rng.uniform() * 2 - 1) * p) }
        case .glorotNormal, .he, .lecun, .truncnormal:
            for i in w.indices {
                var x = rng.normal()
                while abs(x) > 2 { x = rng.normal() }
                w[i] = Float(x * p)
            }
        case .normal:
            for i in w.indices { w[i] = Float(rng.normal() * p) }
        case .zeros:
            for i in w.indices { w[i] = 0 }
        }
    }

    /// Parses the words after `init` (e.g. ["truncnormal", "0.5"]); nil if they do not name an initialiser.
    public static func parse(_ words: [String]) -> Initializer? {
        // Keras' spellings (he_normal, glorot_uniform…) are the hyphenated names with underscores.
        guard let head = words.first?.lowercased().replacingOccurrences(of: "_", with: "-") else { return nil }
        func param() -> Double? {
            guard words.count == 2, let v = Double(words[1]), v.isFinite, v >= 0 else { return nil }
            return v
        }
        /// Keras' TruncatedNormal, RandomNormal and RandomUniform: the number is optional, 0.05 as in Keras.
        func kerasParam() -> Double? { words.count == 1 ? kerasDefault : param() }
        switch head {
        case "glorot", "glorot-uniform", "xavier": return words.count == 1 ? .glorot : nil
        case "glorot-normal", "xavier-normal": return words.count == 1 ? .glorotNormal : nil
        case "he", "he-normal": return words.count == 1 ? .he : nil
        case "he-uniform": return words.count == 1 ? .heUniform : nil
        case "lecun", "lecun-normal": return words.count == 1 ? .lecun : nil
        case "zeros", "zero": return words.count == 1 ? .zeros : nil
        case "truncnormal": return param().map { .truncnormal($0) }
        case "truncated-normal": return kerasParam().map { .truncnormal($0) }
        case "normal": return param().map { .normal($0) }
        case "random-normal": return kerasParam().map { .normal($0) }
        case "uniform": return param().map { .uniform($0) }
        case "random-uniform": return kerasParam().map { .uniform($0) }
        default: return nil
        }
    }

    public static let names = ["glorot", "glorot-normal", "he", "he-uniform", "lecun", "truncnormal", "normal", "uniform", "zeros"]

    /// Keras' initialiser names that map to ours (glorot_uniform = glorot, he_normal = he, …), accepted as aliases.
    public static let kerasNames = ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
                                    "truncated_normal", "random_normal", "random_uniform", "zeros"]

    /// Keras' default stddev of TruncatedNormal and RandomNormal, and limit of RandomUniform (minval −0.05, maxval 0.05).
    public static let kerasDefault = 0.05
}

/// Shortest decimal form of a parameter: 0.5, 1e-07, 3.
public func formatParam(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
    return "\(v)"
}
