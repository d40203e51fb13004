import ConfigStore
import EtcdStore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real, throwaway etcd member (Debian's `etcd-server`, /usr/bin/etcd; `ETCD_BIN` overrides)
/// on free loopback ports, with its data in a directory of its own: alone, or one of a cluster.
/// It can be killed and started again on the same data and ports, or frozen, to test what the
/// store does meanwhile.
final class EtcdServer: Sendable {
    let name: String
    let directory: String
    let clientPort: Int
    let peerPort: Int
    /// etcd's `--initial-cluster`: every member's name=peer URL.
    private let initialCluster: String
    private let process = Mutex<Process?>(nil)

    var endpoint: EtcdEndpoint { EtcdEndpoint(host: "127.0.0.1", port: clientPort) }

    private init(name: String, directory: String, clientPort: Int, peerPort: Int, initialCluster: String) {
        self.name = name
        self.directory = directory
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.initialCluster = initialCluster
    }

    /// Runs `body` with a fresh single-member etcd whose data lives in `directory`; kills it
    /// afterwards.
    static func with<T>(in directory: String, _ body: (EtcdServer) async throws -> T) async throws -> T {
        try await withCluster(of: 1, in: directory) { try await body($0[0]) }
    }

    /// Runs `body` with a fresh cluster of `size` members; kills them afterwards.
    static func withCluster<T>(of size: Int, in directory: String, _ body: ([EtcdServer]) async throws -> T) async throws -> T {
        let members = try await startCluster(of: size, in: directory)
        let result = await Result { try await body(members) }
        for member in members { member.kill() }
        return try result.get()
    }

    /// Starts the members on free ports and waits until each answers. A port picked as free
    /// can be taken before etcd binds it, so a cluster with a member that exits early is
    /// started again on other ports.
    private static func startCluster(of size: Int, in directory: String) async throws -> [EtcdServer] {
        var failures: [String] = []
        for attempt in 0..<3 {
            let ports = try (0..<size).map { _ in (client: try freePort(), peer: try freePort()) }
            let names = (0..<size).map { "member\($0)" }
            let initialCluster = zip(names, ports).map { "\($0)=http://127.0.0.1:\($1.peer)" }.joined(separator: ",")
            let members = try zip(names, ports).map { name, port in
                let memberDirectory = directory + "/\(name)-\(attempt)"
                try FileManager.default.createDirectory(atPath: memberDirectory, withIntermediateDirectories: true)
                return EtcdServer(
                    name: name, directory: memberDirectory, clientPort: port.client, peerPort: port.peer,
                    initialCluster: initialCluster)
            }
            do {
                for member in members { try member.launch() }
                for member in members { try await member.waitUntilReady() }
                return members
            } catch let error as EtcdExited {
                for member in members { member.kill() }
                failures.append(error.description)
            } catch {
                for member in members { member.kill() }
                throw error
            }
        }
        throw EtcdStartFailed(detail: failures.joined(separator: "\n"))
    }

    /// Starts the member again on the same data and ports (after `kill`) and waits until it
    /// answers.
    func restart() async throws {
        try launch()
        try await waitUntilReady()
    }

    /// SIGKILL (a crash), and waits until the process is gone.
    func kill() {
        guard let process = self.process.withLock({ state in defer { state = nil }; return state }) else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the member: its connections stay open, nothing
    /// answers.
    func freeze(_ frozen: Bool) {
        guard let pid = process.withLock({ $0?.processIdentifier }) else { return }
        Glibc.kill(pid, frozen ? SIGSTOP : SIGCONT)
    }

    private var log: String { directory + "/etcd.log" }

    private func launch() throws {
        let url = { (port: Int) in "http://127.0.0.1:\(port)" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["ETCD_BIN"] ?? "/usr/bin/etcd")
        process.arguments = [
            "--name", name, "--data-dir", directory + "/data",
            "--listen-client-urls", url(clientPort), "--advertise-client-urls", url(clientPort),
            "--listen-peer-urls", url(peerPort), "--initial-advertise-peer-urls", url(peerPort),
            "--initial-cluster", initialCluster, "--initial-cluster-state", "new",
            // A lost leader is replaced in about a second rather than several.
            "--heartbeat-interval", "50", "--election-timeout", "500",
            "--logger", "zap", "--log-outputs", "stderr", "--log-level", "error",
        ]
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
    }

    /// Polls until the member's KV service answers a read (for a cluster member: once the
    /// cluster has a leader), for at most 30 s.
    private func waitUntilReady() async throws {
        guard let process = self.process.withLock({ $0 }) else { throw EtcdStartFailed(detail: "\(name) is not running") }
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
                    throw EtcdStartFailed(detail: "etcd \(name) on port \(clientPort) did not answer within 30 s: \(reason)")
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
