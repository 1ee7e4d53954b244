// SHA-256 (FIPS 180-4), written for this project: verifying downloaded dataset files.

public enum SHA256 {
    /// Lower-case hex digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        var hasher = Hasher256()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }

    /// Lower-case hex digest of a file's contents, read in chunks.
    public static func hexOfFile(path: String) throws -> String {
        var hasher = Hasher256()
        try FileBytes.forEachChunk(path: path, chunkSize: 1 << 20) { chunk in hasher.update(chunk) }
        return hasher.finalizeHex()
    }

    /// Incremental hashing: `update` with pieces in order, then `finalize`/`finalizeHex`.
    public struct Hasher256: Sendable {
        private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
            (0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19)
        private var pending: [UInt8] = []      // < 64 bytes not yet compressed
        private var totalBytes: UInt64 = 0

        public init() { pending.reserveCapacity(64) }

        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { update($0) }
        }

        public mutating func update(_ buffer: UnsafeBufferPointer<UInt8>) {
            guard let base = buffer.baseAddress, buffer.count > 0 else { return }
            totalBytes &+= UInt64(buffer.count)
            var offset = 0
            let n = buffer.count
            if !pending.isEmpty {
                let take = min(64 - pending.count, n)
                pending.append(contentsOf: UnsafeBufferPointer(start: base, count: take))
                offset = take
                if pending.count == 64 {
                    pending.withUnsafeBufferPointer { compress($0.baseAddress!) }
                    pending.removeAll(keepingCapacity: true)
                }
            }
            while n - offset >= 64 {
                compress(base + offset)
                offset += 64
            }
            if offset < n {
                pending.append(contentsOf: UnsafeBufferPointer(start: base + offset, count: n - offset))
            }
        }

        public mutating func finalize() -> [UInt8] {
            let bitLength = totalBytes &* 8
            var tail = pending
            tail.append(0x80)
            while tail.count % 64 != 56 { tail.append(0) }
            for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
            tail.withUnsafeBufferPointer { buf in
                var offset = 0
                while offset < buf.count { compress(buf.baseAddress! + offset); offset += 64 }
            }
            pending.removeAll()
            let words = [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7]
            var out: [UInt8] = []
            out.reserveCapacity(32)
            for w in words {
                out.append(UInt8(truncatingIfNeeded: w >> 24)); out.append(UInt8(truncatingIfNeeded: w >> 16))
                out.append(UInt8(truncatingIfNeeded: w >> 8)); out.append(UInt8(truncatingIfNeeded: w))
            }
            return out
        }

        public mutating func finalizeHex() -> String {
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var chars: [UInt8] = []
            chars.reserveCapacity(64)
            for b in finalize() { chars.append(digits[Int(b >> 4)]); chars.append(digits[Int(b & 15)]) }
            return String(decoding: chars, as: UTF8.self)
        }

        @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

        private mutating func compress(_ block: UnsafePointer<UInt8>) {
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                for i in 0..<16 {
                    let p = block + 4 * i
                    w[i] = UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
                }
                for i in 16..<64 {
                    let x = w[i - 15], y = w[i - 2]
                    let s0 = Hasher256.rotr(x, 7) ^ Hasher256.rotr(x, 18) ^ (x >> 3)
                    let s1 = Hasher256.rotr(y, 17) ^ Hasher256.rotr(y, 19) ^ (y >> 10)
                    w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                }
                var (a, b, c, d, e, f, g, h) = state
                for i in 0..<64 {
                    let S1 = Hasher256.rotr(e, 6) ^ Hasher256.rotr(e, 11) ^ Hasher256.rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ S1 &+ ch &+ roundConstants[i] &+ w[i]
                    let S0 = Hasher256.rotr(a, 2) ^ Hasher256.rotr(a, 13) ^ Hasher256.rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = S0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1
                    d = c; c = b; b = a; a = t1 &+ t2
                }
                state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
                         state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
            }
        }
    }
}

private let roundConstants: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
]
