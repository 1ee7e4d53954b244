#ifndef PREFLIGHT_CTHREADS_SHIM_H
#define PREFLIGHT_CTHREADS_SHIM_H
// The two training threads' barrier: spin briefly (the usual wait is a few microseconds), then sleep on a
// futex (Linux; elsewhere it yields between looks), so that a thread whose partner lost its core gives its own
// core away instead of spinning a time slice.
#include <limits.h>
#include <sched.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

typedef struct {
    int count;        // threads arrived in this round
    unsigned generation;   // rounds completed (wrapping); the futex word
    int sleepers;     // threads asleep (or about to be) on `generation`
} preflight_barrier;

/// Waits until `parties` threads have called this for the same round. Spins up to `spins` pause
/// instructions first.
static inline void preflight_barrier_wait(preflight_barrier *b, int parties, int spins) {
    unsigned gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) == parties) {
        __atomic_store_n(&b->count, 0, __ATOMIC_RELAXED);
        // Sequentially consistent store and load here, increment and load below: either a sleeper sees the
        // new generation before sleeping, or this sees the sleeper and wakes it.
        __atomic_store_n(&b->generation, gen + 1u, __ATOMIC_SEQ_CST);
#if defined(__linux__)
        if (__atomic_load_n(&b->sleepers, __ATOMIC_SEQ_CST) > 0)
            syscall(SYS_futex, &b->generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#endif
        return;
    }
    for (int i = 0; i < spins; i++) {
        if (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) != gen) return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
#if defined(__linux__)
    __atomic_add_fetch(&b->sleepers, 1, __ATOMIC_SEQ_CST);
    // The kernel sleeps only while the word still holds `gen`; a wake-up, EINTR or spurious return re-checks.
    while (__atomic_load_n(&b->generation, __ATOMIC_SEQ_CST) == gen)
        syscall(SYS_futex, &b->generation, FUTEX_WAIT_PRIVATE, (int)gen, NULL, NULL, 0);
    __atomic_sub_fetch(&b->sleepers, 1, __ATOMIC_SEQ_CST);
#else
    // No futex here: yield the core between looks.
    while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen) sched_yield();
#endif
}
#endif
