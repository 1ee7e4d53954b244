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
#endif
