import ConfigStore
import EtcdStore
import Foundation
import Testing

/// Every backend the contract suite runs against.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inMemory
    case sqlite
    /// A real etcd per test (EtcdServer), fresh and empty.
    case etcd

    var testDescription: String { rawValue }

    /// Runs `body` on a fresh, empty store, then closes it and removes its files.
    func withStore<T>(historyLimit: Int = 10_000, _ body: (any ConfigStore) async throws -> T) async throws -> T {
        switch self {
        case .inMemory:
            let store = InMemoryConfigStore(historyLimit: historyLimit)
            defer { store.close() }
            return try await body(store)
        case .sqlite:
            return try await withScratchDirectory { directory in
                let store = try SQLiteConfigStore(path: directory + "/store.db", historyLimit: historyLimit)
                let result = await Result { try await body(store) }
                try store.close()
                return try result.get()
            }
        case .etcd:
            return try await withScratchDirectory { directory in
                try await EtcdServer.with(in: directory) { server in
                    let store = try EtcdConfigStore(endpoints: [server.endpoint], historyLimit: historyLimit)
                    let result = await Result { try await body(store) }
                    store.close()
                    return try result.get()
                }
            }
        }
    }

    /// Closes a store made by `withStore` early (closing twice is harmless).
    func close(_ store: any ConfigStore) throws {
        switch store {
        case let store as InMemoryConfigStore: store.close()
        case let store as SQLiteConfigStore: try store.close()
        case let store as EtcdConfigStore: store.close()
        default: Issue.record("unknown store type \(type(of: store))")
        }
    }
}

/// Runs `body` with a new private directory, removed afterwards.
func withScratchDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "trellis-configstore-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let result = await Result { try await body(path) }
    try FileManager.default.removeItem(atPath: path)
    return try result.get()
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}

/// Bytes of a string, for readable values.
func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

/// The `StoreError` that `body` throws; nil when it succeeds or throws something else.
func storeError(_ body: () async throws -> Void) async -> StoreError? {
    do {
        try await body()
        return nil
    } catch let error as StoreError {
        return error
    } catch {
        Issue.record("not a StoreError: \(error)")
        return nil
    }
}

extension StoreError {
    var isInvalidKey: Bool {
        if case .invalidKey = self { true } else { false }
    }
}
