#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ^C flag: the SIGINT handler sets it, training polls it between batches.
/// (nonisolated(unsafe): the pointer never changes; the flag is a sig_atomic_t, which a signal handler may write
/// and any thread read without a lock.)
nonisolated(unsafe) private let interruptFlag: UnsafeMutablePointer<sig_atomic_t> = {
    let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
    p.initialize(to: 0)
    return p
}()

/// The thread that reads the prompt and runs commands (the one that installed the handlers).
/// (nonisolated(unsafe): the pointer never changes; `install` writes the thread id on that thread before any
/// handler can run, and the handlers only read it.)
nonisolated(unsafe) private let signalThread: UnsafeMutablePointer<pthread_t> = {
    let p = UnsafeMutablePointer<pthread_t>.allocate(capacity: 1)
    p.initialize(to: pthread_self())
    return p
}()

public enum Interrupt {
    public static var requested: Bool { interruptFlag.pointee != 0 }
    public static func clear() { interruptFlag.pointee = 0 }
    public static func request() { interruptFlag.pointee = 1 }

    /// For a signal handler: true when it runs on the thread that installed the handlers. Otherwise the signal is
    /// sent on to that thread and false returned. The kernel gives a signal meant for the process to any thread
    /// that does not block it (OpenBLAS's, say), and only the main thread's blocking read at the prompt must
    /// return when ^C is pressed. (pthread_self and pthread_kill are safe in a handler.)
    static func onSignalThread(_ sig: Int32) -> Bool {
        let main = signalThread.pointee
        if pthread_equal(pthread_self(), main) != 0 { return true }
        pthread_kill(main, sig)
        return false
    }

    /// Installs a SIGINT handler that only sets the flag (no SA_RESTART, so a blocking read returns EINTR), on
    /// the calling thread: a ^C that another thread receives is sent on to it.
    public static func install() {
        _ = interruptFlag
        signalThread.pointee = pthread_self()
        var sa = sigaction()
        #if canImport(Glibc)
        sa.__sigaction_handler.sa_handler = { sig in if Interrupt.onSignalThread(sig) { interruptFlag.pointee = 1 } }
        #else
        sa.__sigaction_u.__sa_handler = { sig in if Interrupt.onSignalThread(sig) { interruptFlag.pointee = 1 } }
        #endif
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = 0
        sigaction(SIGINT, &sa, nil)
    }
}
