import CBLAS

/// The one seam through which every matrix product passes (OpenBLAS here; Accelerate could serve on macOS).
/// All matrices are Float32, row-major, contiguous.
public enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, where op(A) is m×k and op(B) is k×n.
    /// `lda`, `ldb`, `ldc` are the row strides of A, B and C as stored.
    @inline(__always)
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Threads OpenBLAS itself may use. Its own threading is slower than one thread at our sizes,
    /// so the engine keeps it at 1 and parallelises itself.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

    /// Flush-to-zero / denormals-are-zero on the calling thread (x86); Adam moments decay into subnormals.
    public static func setFlushToZero(_ on: Bool) { preflight_set_flush_to_zero(on ? 1 : 0) }
}
