import ConfigStore
import EtcdStore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real, throwaway etcd (Debian's `etcd-server`, /usr/bin/etcd; `ETCD_BIN` overrides) on
/// free loopback ports, with its data in a directory of its own. It can be killed and started
/// again on the same data and ports, or frozen, to test what the store does meanwhile.
final class EtcdServer: Sendable {
    let directory: String
    let clientPort: Int
    let peerPort: Int
    private let process = Mutex<Process?>(nil)

    var endpoint: EtcdEndpoint { EtcdEndpoint(host: "127.0.0.1", port: clientPort) }

    private init(directory: String, clientPort: Int, peerPort: Int) {
        self.directory = directory
        self.clientPort = clientPort
        self.peerPort = peerPort
    }

    /// Runs `body` with a fresh etcd whose data lives in `directory`; kills it afterwards.
    static func with<T>(in directory: String, _ body: (EtcdServer) async throws -> T) async throws -> T {
        let server = try await start(in: directory)
        let result = await Result { try await body(server) }
        server.kill()
        return try result.get()
    }

    /// Starts etcd on free ports and waits until it answers. A port picked as free can be taken
    /// before etcd binds it, so a start whose etcd exits early is tried again on other ports.
    static func start(in directory: String) async throws -> EtcdServer {
        var failures: [String] = []
        for _ in 0..<3 {
            let server = EtcdServer(directory: directory, clientPort: try freePort(), peerPort: try freePort())
            do {
                try await server.launch()
                return server
            } catch let error as EtcdExited {
                failures.append(error.description)
            }
        }
        throw EtcdStartFailed(detail: failures.joined(separator: "\n"))
    }

    /// Starts etcd again on the same data and ports (after `kill`).
    func restart() async throws {
        try await launch()
    }

    /// SIGKILL, and waits until the process is gone.
    func kill() {
        guard let process = self.process.withLock({ state in defer { state = nil }; return state }) else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) etcd: its connections stay open, nothing answers.
    func freeze(_ frozen: Bool) {
        guard let pid = process.withLock({ $0?.processIdentifier }) else { return }
        Glibc.kill(pid, frozen ? SIGSTOP : SIGCONT)
    }

    private func launch() async throws {
        let url = { (port: Int) in "http://127.0.0.1:\(port)" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["ETCD_BIN"] ?? "/usr/bin/etcd")
        process.arguments = [
            "--name", "default", "--data-dir", directory + "/etcd",
            "--listen-client-urls", url(clientPort), "--advertise-client-urls", url(clientPort),
            "--listen-peer-urls", url(peerPort), "--initial-advertise-peer-urls", url(peerPort),
            "--initial-cluster", "default=\(url(peerPort))",
            "--logger", "zap", "--log-outputs", "stderr", "--log-level", "error",
        ]
        let log = directory + "/etcd.log"
        if !FileManager.default.fileExists(atPath: log), !FileManager.default.createFile(atPath: log, contents: nil) {
            throw EtcdStartFailed(detail: "cannot create \(log)")
        }
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        logHandle.seekToEndOfFile()
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try logHandle.close()
        self.process.withLock { $0 = process }

        // Ready when the KV service answers a read.
        let probe = try EtcdConfigStore(endpoints: [endpoint], requestTimeout: .seconds(1))
        defer { probe.close() }
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if !process.isRunning {
                self.process.withLock { $0 = nil }
                throw EtcdExited(status: process.terminationStatus, log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
            }
            do {
                _ = try await probe.revision()
                return
            } catch StoreError.unavailable(let reason) {
                if ContinuousClock.now > deadline {
                    kill()
                    throw EtcdStartFailed(detail: "etcd on port \(clientPort) did not answer within 30 s: \(reason)")
                }
            }
            try await Task.sleep(for: .milliseconds(50))  // polling, bounded by the deadline above
        }
    }

    /// A loopback port nothing listens on right now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EtcdStartFailed(detail: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(fd, address, length) == 0 && getsockname(fd, address, &length) == 0
            }
        }
        guard bound else { throw EtcdStartFailed(detail: "bind() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct EtcdExited: Error, CustomStringConvertible {
    let status: Int32
    let log: String
    var description: String { "etcd exited with status \(status):\n\(log.suffix(2000))" }
}

struct EtcdStartFailed: Error, CustomStringConvertible {
    let detail: String
    var description: String { "could not start etcd: \(detail)" }
}
