/// Class labels as read from a file (integers or text), turned into class numbers 0..<C.
enum LabelSet {
    /// At most this many classes (labels 0…999, or 1000 distinct texts).
    static let maxClasses = 1000

    /// The labels of one file or array: per sample, an index into the distinct labels.
    struct Raw {
        var ids: [UInt32] = []
        /// Each distinct label as text, in order of first appearance.
        var texts: [String] = []
        /// Each distinct label's integer value, or nil when it is not an integer.
        var ints: [Int?] = []
        /// Where each distinct label first appears ("line 7", "index 12").
        var firstAt: [String] = []
        /// The file or array, for messages.
        var name: String = ""
        private var index: [String: UInt32] = [:]

        init(name: String) { self.name = name }

        /// The id of `text`, adding it as a new distinct label first seen at `location()`.
        mutating func id(of text: String, location: () -> String) throws -> UInt32 {
            if let i = index[text] { return i }
            let n = UInt32(texts.count)
            if texts.count >= LabelSet.maxClasses * 2 {
                throw DataError(path: name, "more than \(LabelSet.maxClasses * 2) distinct labels by \(location()): a classification needs at most \(LabelSet.maxClasses) classes (is the label column a feature? choose it with --label)")
            }
            index[text] = n
            texts.append(text)
            ints.append(LabelSet.integer(text))
            firstAt.append(location())
            return n
        }

        mutating func append(_ text: String, location: () -> String) throws {
            ids.append(try id(of: text, location: location))
        }
    }

    /// "3", "+3", "3.0" and "3e0" are the integer 3; anything else is text.
    static func integer(_ s: String) -> Int? {
        if let v = Int(s) { return v }
        if let d = Double(s), d.isFinite, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        return nil
    }

    /// The labels of a decoded .npy array.
    static func raw(_ a: NPYArray, _ name: String) throws -> Raw {
        var r = Raw(name: name)
        switch a.data {
        case .integers(let v):
            r.ids.reserveCapacity(v.count)
            var seen: [Int: UInt32] = [:]
            for (i, x) in v.enumerated() {
                guard let x else {
                    throw DataError(path: name, "label at index \(i) is not a whole number; labels must be integers 0…C−1 or text")
                }
                if let id = seen[x] { r.ids.append(id); continue }
                let id = try r.id(of: String(x), location: { "index \(i)" })
                seen[x] = id
                r.ids.append(id)
            }
        case .text(let t):
            r.ids.reserveCapacity(t.count)
            for (i, s) in t.enumerated() { try r.append(s, location: { "index \(i)" }) }
        default:
            throw DataError(path: name, "labels must be integers or text")
        }
        return r
    }

    struct Resolved {
        var train: [UInt16]
        var test: [UInt16]
        var classes: Int
        /// Text labels in class order, or nil for integer labels.
        var names: [String]?
        var notes: [String]
    }

    /// Class numbers for the labels of the training data and (optionally) test data. Integer labels are their own
    /// class (0…999; classes = largest + 1, or `fixedClasses`); if any label is text, all are text and the
    /// classes are the distinct labels in sorted order.
    static func resolve(train: Raw, test: Raw?, fixedClasses: Int?) throws -> Resolved {
        let sets = [train] + (test.map { [$0] } ?? [])
        // The union of the distinct labels, by text.
        var allTexts: [String] = []
        var where_: [String: (Raw, Int)] = [:]
        for s in sets {
            for (k, t) in s.texts.enumerated() where where_[t] == nil {
                where_[t] = (s, k)
                allTexts.append(t)
            }
        }
        func place(_ t: String) -> String {
            let (s, k) = where_[t]!
            return "\(s.name): \(s.firstAt[k])"
        }
        let allInts = allTexts.allSatisfy { integer($0) != nil }
        var notes: [String] = []
        var classOf: [String: UInt16] = [:]
        var classes: Int
        var names: [String]? = nil
        if allInts {
            var maxLabel = -1
            for t in allTexts {
                let v = integer(t)!
                if v < 0 {
                    throw DataError(place(t) + ": label \(v) is negative; integer labels must be 0…C−1 (C ≤ \(maxClasses))")
                }
                if let fixed = fixedClasses, v >= fixed {
                    throw DataError(place(t) + ": label \(v) is out of range: the dataset has \(fixed) classes (0-\(fixed - 1))")
                }
                if v >= maxClasses {
                    throw DataError(place(t) + ": label \(v) is out of range: integer labels must be 0…C−1 with at most \(maxClasses) classes (0-\(maxClasses - 1))")
                }
                classOf[t] = UInt16(v)
                maxLabel = max(maxLabel, v)
            }
            classes = fixedClasses ?? (maxLabel + 1)
        } else {
            if let fixed = fixedClasses {
                let t = allTexts.first { integer($0) == nil }!
                throw DataError(place(t) + ": label '\(t.prefix(40))' is not an integer: the dataset has \(fixed) integer classes")
            }
            guard allTexts.count <= maxClasses else {
                throw DataError(path: train.name, "\(allTexts.count) distinct labels: a classification needs at most \(maxClasses) classes (is the label column a feature? choose it with --label)")
            }
            let sorted = allTexts.sorted()
            for (k, t) in sorted.enumerated() { classOf[t] = UInt16(k) }
            classes = sorted.count
            names = sorted
            let numeric = allTexts.filter { integer($0) != nil }
            if !numeric.isEmpty {
                notes.append("labels mix numbers (\(numeric.prefix(3).joined(separator: ", "))\(numeric.count > 3 ? ", …" : "")) and text (\(allTexts.first { integer($0) == nil }!.prefix(20))): all are taken as text classes, in sorted order")
            }
        }
        func map(_ s: Raw) -> [UInt16] {
            let table = s.texts.map { classOf[$0]! }
            return s.ids.map { table[Int($0)] }
        }
        let trainClasses = map(train)
        let testClasses = test.map(map) ?? []
        if names == nil {
            var counts = [Int](repeating: 0, count: classes)
            for c in trainClasses { counts[Int(c)] += 1 }
            for c in testClasses { counts[Int(c)] += 1 }
            let present = counts.indices.filter { counts[$0] > 0 }
            let empty = counts.indices.filter { counts[$0] == 0 }
            if present.count >= 2, let top = present.last {
                let second = present[present.count - 2]
                if top >= 10 && top > 2 * (second + 1) {
                    notes.append("label \(top) (\(counts[top]) sample\(counts[top] == 1 ? "" : "s")) is far beyond the others (up to \(second)): a typo, or a code for missing? It makes \(classes) classes")
                }
            }
            if !empty.isEmpty && fixedClasses == nil {
                let withCounts = present.count <= 12 ? present.map { "\($0) (\(counts[$0]))" }.joined(separator: ", ") : ranges(present)
                notes.append("\(empty.count) of \(classes) classes have no samples: \(ranges(empty)) (labels present, with their samples: \(withCounts))")
            }
        }
        return Resolved(train: trainClasses, test: testClasses, classes: classes, names: names, notes: notes)
    }

    /// "0-3, 7, 9-12" for a sorted list of integers; long lists are cut short.
    static func ranges(_ xs: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < xs.count {
            var j = i
            while j + 1 < xs.count && xs[j + 1] == xs[j] + 1 { j += 1 }
            parts.append(i == j ? "\(xs[i])" : "\(xs[i])-\(xs[j])")
            i = j + 1
        }
        if parts.count > 8 { return parts.prefix(8).joined(separator: ", ") + ", … (\(xs.count) in all)" }
        return parts.joined(separator: ", ")
    }
}
