#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ^C flag: the SIGINT handler sets it, training polls it between batches.
nonisolated(unsafe) private let interruptFlag: UnsafeMutablePointer<sig_atomic_t> = {
    let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
    p.initialize(to: 0)
    return p
}()

public enum Interrupt {
    public static var requested: Bool { interruptFlag.pointee != 0 }
    public static func clear() { interruptFlag.pointee = 0 }
    public static func request() { interruptFlag.pointee = 1 }

    /// Installs a SIGINT handler that only sets the flag (no SA_RESTART, so a blocking read returns EINTR).
    public static func install() {
        _ = interruptFlag
        var sa = sigaction()
        #if canImport(Glibc)
        sa.__sigaction_handler.sa_handler = { _ in interruptFlag.pointee = 1 }
        #else
        sa.__sigaction_u.__sa_handler = { _ in interruptFlag.pointee = 1 }
        #endif
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = 0
        sigaction(SIGINT, &sa, nil)
    }
}
