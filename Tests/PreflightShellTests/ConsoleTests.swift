import Foundation
import XCTest
import PreflightShell

/// The program's output path: everything written arrives, even when the reader is slow.
final class ConsoleTests: XCTestCase {
    /// 640 KB (ten pipe buffers) through a pipe left non-blocking, read slowly on another thread: a write
    /// that would block waits instead of dropping the rest.
    func testWriteAllDeliversEverythingThroughANonBlockingPipe() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        XCTAssertEqual(fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK), 0)
        let file = try XCTUnwrap(fdopen(fds[1], "w"))
        let text = String(repeating: "0123456789abcdef", count: 40_000)
        let readFD = fds[0]
        nonisolated(unsafe) var received = [UInt8]()
        let done = DispatchSemaphore(value: 0)
        Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                usleep(200)   // slower than the writer
                let n = read(readFD, &buffer, buffer.count)
                if n <= 0 { break }
                received += buffer[0..<n]
            }
            done.signal()
        }.start()
        Console.writeAll(text, to: file)
        fclose(file)
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        close(readFD)
        XCTAssertEqual(received.count, text.utf8.count)
        XCTAssertTrue(received.elementsEqual(text.utf8))
    }

    /// A signal whose handler does not restart system calls (as the shell's ^C handler) interrupts the
    /// writer while the pipe is full, several times: the write resumes and nothing is lost.
    func testWriteAllResumesAfterASignalInterruptsIt() throws {
        var sa = sigaction()
        sa.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = 0
        var old = sigaction()
        XCTAssertEqual(sigaction(SIGUSR1, &sa, &old), 0)
        defer { sigaction(SIGUSR1, &old, nil) }
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let file = try XCTUnwrap(fdopen(fds[1], "w"))
        nonisolated(unsafe) let fileRef = file
        let text = String(repeating: "fedcba9876543210", count: 40_000)
        nonisolated(unsafe) var writer = pthread_self()
        let started = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        Thread {
            writer = pthread_self()
            started.signal()
            Console.writeAll(text, to: fileRef)
            fclose(fileRef)
            done.signal()
        }.start()
        started.wait()
        for _ in 0..<5 {   // the pipe is full: the writer is blocked in write(2)
            usleep(20_000)
            pthread_kill(writer, SIGUSR1)
        }
        var received = [UInt8](), buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        close(fds[0])
        XCTAssertEqual(received.count, text.utf8.count)
        XCTAssertTrue(received.elementsEqual(text.utf8))
    }
}
