#ifndef PREFLIGHT_CBLAS_SHIM_H
#define PREFLIGHT_CBLAS_SHIM_H
#include <cblas.h>
#include <fenv.h>

/// Flush subnormal floats to zero (FTZ) and treat subnormal inputs as zero (DAZ) on this thread.
/// Adam's moments decay into subnormals; x86 handles those in microcode, many times slower.
static inline void preflight_set_flush_to_zero(int on) {
#if defined(__x86_64__)
    unsigned int csr;
    __asm__ __volatile__("stmxcsr %0" : "=m"(csr));
    if (on) csr |= 0x8040u; else csr &= ~0x8040u;
    __asm__ __volatile__("ldmxcsr %0" : : "m"(csr));
#else
    (void)on;
#endif
}

/// Asks for the cache line holding `p` to be brought towards this core's L2, without waiting for it.
static inline void preflight_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 2);
}
/// dst[i] = src[i] · scale for n bytes: the image rows' conversion (the compiler vectorises this loop; the
/// Swift generic SIMD conversions it replaces were not inlined).
static inline void preflight_bytes_to_floats(const unsigned char *src, float *dst, long n, float scale) {
    for (long i = 0; i < n; i++) dst[i] = (float)src[i] * scale;
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Appends the non-zero bytes of one row as (feature index, byte * scale) at entry `n` of `cols`/`vals` and
/// adds one to `counts[k]` for each (the per-feature counts the lists by feature are sorted with); returns
/// the new entry count. Sixteen bytes at a time: one compare gives the mask of non-zero bytes (SSE2, part of
/// every x86-64), and only its set bits are visited (measured faster than writing all sixteen without
/// branching). The values are the dense conversion's (float)b * scale.
static inline long preflight_append_nonzeros(const unsigned char *row, long f, float scale, int *cols, float *vals,
                                             long n, int *counts) {
    long k = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    for (; k + 16 <= f; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(row + k));
        unsigned mask = ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)) & 0xFFFFu;
        while (mask) {
            long j = k + __builtin_ctz(mask);
            cols[n] = (int)j; vals[n] = (float)row[j] * scale; counts[j]++; n++;
            mask &= mask - 1;
        }
    }
#endif
    for (; k < f; k++) {
        if (row[k]) { cols[n] = (int)k; vals[n] = (float)row[k] * scale; counts[k]++; n++; }
    }
    return n;
}

/// Appends a row's non-zero bytes listed in advance (`index[e]`, `bytes[e]` for e < m) as (feature index,
/// byte * scale) at entry `n`, adding one to `counts[k]` for each; returns the new entry count.
static inline long preflight_append_listed(const unsigned short *index, const unsigned char *bytes, long m, float scale,
                                           int *cols, float *vals, long n, int *counts) {
    int *c = cols + n; float *v = vals + n;
    for (long e = 0; e < m; e++) { c[e] = (int)index[e]; v[e] = (float)bytes[e] * scale; }
    for (long e = 0; e < m; e++) counts[index[e]]++;
    return n + m;
}

/// The lists by feature from the lists by row (a counting sort, so each feature's rows stay increasing):
/// `start` holds on entry the count of every feature (features + 1 slots, the last unused) and on return
/// each feature's first entry, start[features] = the total.
static inline void preflight_lists_by_feature(long rows, long features, const int *rowStart, const int *cols, const float *vals,
                                              int *start, int *featureRows, float *featureVals) {
    int total = 0;
    for (long k = 0; k < features; k++) { int c = start[k]; start[k] = total; total += c; }
    start[features] = total;
    for (long r = 0; r < rows; r++) {
        for (int e = rowStart[r]; e < rowStart[r + 1]; e++) {
            int p = start[cols[e]]++;
            featureRows[p] = (int)r; featureVals[p] = vals[e];
        }
    }
    for (long k = features; k > 0; k--) start[k] = start[k - 1];
    start[0] = 0;
}
#endif
