import ConfigStore
import Testing

/// Reads, writes and revisions: the part of the contract without expectations or watches.
@Suite struct ContractBasicsTests {
    @Test("an empty store is at revision 0 and lists nothing", arguments: StoreBackend.allCases)
    func emptyStore(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            #expect(try await store.revision() == 0)
            #expect(try await store.get("/missing") == nil)
            let listed = try await store.list(prefix: "")
            #expect(listed.entries.isEmpty)
            #expect(listed.revision == 0)
        }
    }

    @Test("list returns the keys under a prefix, sorted, bytewise", arguments: StoreBackend.allCases)
    func listByPrefix(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            for key in ["/a/b/z", "/z", "/a/bc", "/a/b/a", "/a/b", "/a/b/m", "/p_q", "/pxq", "/A/b/x"] {
                try await store.put(key, bytes(key))
            }
            let keys = { (prefix: String) in try await store.list(prefix: prefix).entries.map(\.key) }
            #expect(try await keys("/a/b/") == ["/a/b/a", "/a/b/m", "/a/b/z"])
            #expect(try await keys("/a/b") == ["/a/b", "/a/b/a", "/a/b/m", "/a/b/z", "/a/bc"])
            #expect(try await keys("/p_") == ["/p_q"], "no LIKE wildcards")
            #expect(try await keys("/a/") == ["/a/b", "/a/b/a", "/a/b/m", "/a/b/z", "/a/bc"], "case-sensitive")
            #expect(try await keys("/nothing") == [])
            #expect(try await keys("") == ["/A/b/x", "/a/b", "/a/b/a", "/a/b/m", "/a/b/z", "/a/bc", "/p_q", "/pxq", "/z"])
            let listed = try await store.list(prefix: "/a/b/")
            #expect(listed.revision == 9)
            #expect(listed.entries.allSatisfy { $0.value == bytes($0.key) })
        }
    }

    @Test("keys are bytes: canonically equivalent Unicode spellings are two keys", arguments: StoreBackend.allCases)
    func keysAreBytes(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let composed = "/u/\u{E9}"  // é as one scalar
            let decomposed = "/u/e\u{301}"  // e + combining acute
            try await store.put(composed, [1])
            try await store.put(decomposed, [2])
            #expect(try await store.get(composed)?.value == [1])
            #expect(try await store.get(decomposed)?.value == [2])
            #expect(try await store.list(prefix: "/u/").entries.map(\.value) == [[2], [1]], "sorted by UTF-8 bytes")
            #expect(try await store.list(prefix: "/u/e").entries.map(\.value) == [[2]], "prefix by bytes")
        }
    }

    @Test("the revision moves once per transaction, not per write", arguments: StoreBackend.allCases)
    func revisionPerTransaction(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.commit([
                .put(key: "/k/1", value: [1]), .put(key: "/k/2", value: [2]), .put(key: "/k/3", value: [3]),
            ])
            #expect(first == 1)
            #expect(try await store.list(prefix: "/k/").entries.map(\.modRevision) == [1, 1, 1])
            #expect(try await store.commit([.put(key: "/k/1", value: [9]), .delete(key: "/k/2")]) == 2)
            #expect(try await store.revision() == 2)
            #expect(try await store.commit([]) == 2, "an empty transaction changes nothing")
        }
    }

    @Test("createRevision survives updates; a delete and re-create starts over", arguments: StoreBackend.allCases)
    func createAndModRevisions(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.put("/other", [0])
            try await store.put("/k", bytes("v"))
            #expect(try await store.get("/k") == StoredEntry(key: "/k", value: bytes("v"), createRevision: 2, modRevision: 2))
            #expect(try await store.put("/k", bytes("v")) == 3, "a put of the same value still changes the key")
            #expect(try await store.get("/k") == StoredEntry(key: "/k", value: bytes("v"), createRevision: 2, modRevision: 3))
            try await store.delete("/k")
            try await store.put("/k", bytes("w"))
            #expect(try await store.get("/k") == StoredEntry(key: "/k", value: bytes("w"), createRevision: 5, modRevision: 5))
        }
    }

    @Test("deleting an absent key changes nothing; deleting a present one does", arguments: StoreBackend.allCases)
    func deleteSemantics(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.put("/k", [1])
            #expect(try await store.delete("/absent") == 1, "no new revision")
            #expect(try await store.delete("/k") == 2)
            #expect(try await store.get("/k") == nil)
            #expect(try await store.delete("/k") == 2, "deleting twice is a no-op")
            #expect(try await store.commit([.delete(key: "/absent"), .put(key: "/x", value: [])]) == 3)
            #expect(try await store.list(prefix: "").entries.map(\.key) == ["/x"])
        }
    }

    @Test("values are opaque bytes, including NUL, 0xFF and empty", arguments: StoreBackend.allCases)
    func binaryValues(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let values: [String: [UInt8]] = [
                "/v/all": (0...255).map { UInt8($0) },
                "/v/empty": [],
                "/v/nul": [0, 0, 0],
                "/v/invalid-utf8": [0xC3, 0x28, 0xFF, 0xFE, 0x0A, 0x0D],
            ]
            try await store.commit(values.map { .put(key: $0.key, value: $0.value) })
            for (key, value) in values {
                #expect(try await store.get(key)?.value == value, "\(key)")
            }
            #expect(try await store.list(prefix: "/v/").entries.map(\.value) == ["/v/all", "/v/empty", "/v/invalid-utf8", "/v/nul"].map { values[$0]! })
        }
    }

    @Test("empty keys, control characters and a key written twice are refused", arguments: StoreBackend.allCases)
    func invalidKeys(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            for key in ["", "/a\u{0}b", "/a\nb", "/a\u{7F}"] {
                let error = await storeError { try await store.put(key, [1]) }
                #expect(error?.isInvalidKey == true, "\(key.debugDescription)")
            }
            let twice = await storeError { try await store.commit([.put(key: "/k", value: [1]), .delete(key: "/k")]) }
            #expect(twice?.isInvalidKey == true)
            let revision = try await store.revision()
            let entry = try await store.get("/k")
            #expect(revision == 0)
            #expect(entry == nil)
        }
    }
}
