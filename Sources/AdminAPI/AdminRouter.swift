import CertificateAuthority
import ConfigStore
import Foundation
import HTTPTypes
public import Hummingbird
import MeshAPI
import NIOCore

/// The admin API's routes, Kubernetes-style:
/// - `/apis/GROUP/VERSION/namespaces/NS/PLURAL[/NAME]` (and `/api/v1/...` for Secrets): GET one
///   or a list, PUT/POST create-or-update, DELETE; `/apis/GROUP/VERSION/PLURAL`: a list across
///   namespaces;
/// - `POST /api/apply`: any number of documents of any kinds, all applied or none (`trellis apply`);
/// - `POST /api/diff`: a dry run of an apply: per connected group of proxies, the resources it
///   would add, change or remove (`trellis diff`);
/// - `POST /api/tokens`: mints a workload token for the secure xDS port (`trellis token create`);
/// - `GET /api/proxies`: every connected proxy and its sync state per type (`trellis proxy-status`);
///   `GET /api/proxies/NODE/config[?type=clusters,...]`: what it is served (`trellis proxy-config`);
/// - `POST /api/workloads`, `GET /api/workloads[?namespace=NS]`, `DELETE /api/workloads/NS/NAME`:
///   `trellis workload register | list | deregister`;
/// - `?dryRun=true` (or `All`) validates and answers as if applied, changing nothing;
/// - `GET /api/graph`: the service graph (edges source workload → destination service, from the
///   proxies' stats streams); `GET /api/config-status`: served and rejected configuration;
/// - `GET /`: the service-graph page (static; it asks for the token and reads the API);
/// - `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus) and `GET /` need no token;
///   everything else needs the admin bearer token.
/// Every refusal is a 4xx with a `Status` body naming resource and field.
public struct AdminRouter: Sendable {
    public let resources: MeshResources
    public let tokens: WorkloadTokens
    public let token: AdminToken
    /// `--max-request-bytes`.
    public var maxRequestBytes: Int
    /// Nil when ready, else why not (`/readyz`).
    public var notReadyReason: @Sendable () -> String?
    /// Why the server serves read-only (its store cannot be reached), nil when it does not:
    /// `/readyz` still answers 200 (every proxy keeps being served) and says so.
    public var readOnlyReason: @Sendable () -> String?
    /// This replica's name (`--replica-name`), shown with the proxies it serves.
    public var replicaName = "trellis"
    /// What a registering host is told about the control plane.
    public var facts: MeshFacts
    /// The proxies connected on the secure port (`workload list`).
    public var connections: @Sendable () -> [ProxyConnection]
    /// Every open ADS stream and its sync state (`proxy-status`).
    public var proxies: @Sendable () async throws -> [ProxyStatus]
    /// What a candidate configuration would change for each connected group of proxies.
    public var diff: @Sendable (MeshConfig) throws -> [ProxyDiff]
    /// `GET /metrics`: Prometheus text exposition.
    public var metrics: @Sendable () -> String
    /// A connected proxy's configuration as Envoy JSON, of the named types (`clusters`, ...;
    /// empty: all), secrets redacted; nil when no proxy with that node id is connected.
    public var proxyConfig: @Sendable (_ nodeID: String, _ types: [String]) throws -> String?
    /// `GET /api/graph`: the service graph as JSON.
    public var graph: @Sendable () throws -> Data
    /// `GET /api/config-status`: what the server serves and rejects, as `config-status.json`.
    public var configStatus: @Sendable () throws -> Data

    public init(
        resources: MeshResources, tokens: WorkloadTokens, token: AdminToken, maxRequestBytes: Int = 4 << 20,
        facts: MeshFacts = MeshFacts(secureXDSAddress: "127.0.0.1:15012", trustDomain: "cluster.local", rootCertificatePEM: ""),
        connections: @escaping @Sendable () -> [ProxyConnection] = { [] },
        proxies: @escaping @Sendable () async throws -> [ProxyStatus] = { [] },
        proxyConfig: @escaping @Sendable (String, [String]) throws -> String? = { _, _ in nil },
        metrics: @escaping @Sendable () -> String = { "" },
        diff: @escaping @Sendable (MeshConfig) throws -> [ProxyDiff] = { _ in [] },
        notReadyReason: @escaping @Sendable () -> String? = { nil },
        graph: @escaping @Sendable () throws -> Data = { Data("{\"nodes\": [], \"edges\": []}".utf8) },
        configStatus: @escaping @Sendable () throws -> Data = { Data("{}".utf8) },
        readOnlyReason: @escaping @Sendable () -> String? = { nil }
    ) {
        self.readOnlyReason = readOnlyReason
        self.graph = graph
        self.configStatus = configStatus
        self.diff = diff
        self.metrics = metrics
        self.proxies = proxies
        self.proxyConfig = proxyConfig
        self.resources = resources
        self.tokens = tokens
        self.token = token
        self.maxRequestBytes = maxRequestBytes
        self.facts = facts
        self.connections = connections
        self.notReadyReason = notReadyReason
    }

    public func build() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/healthz") { _, _ in Self.text("ok\n") }
        router.get("/readyz") { _, _ in
            guard let reason = notReadyReason() else {
                guard let readOnly = readOnlyReason() else { return Self.text("ok\n") }
                return Self.text("ok, read-only: the store is unavailable (\(readOnly)); serving the last configuration read\n")
            }
            return Self.text("not ready: \(reason)\n", status: .serviceUnavailable)
        }
        // Open like /healthz (as istiod's monitoring port): counts and states, no names or secrets.
        router.get("/metrics") { _, _ in
            var response = Self.text(metrics())
            response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        }
        // The page is static and holds nothing: it asks for the admin token and reads the API.
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: ServiceGraphPage.html)))
        }
        let api = router.group().add(middleware: BearerTokenMiddleware(token: token))
        let namespaced = ["/apis/:group/:version/namespaces/:namespace/:plural", "/api/:version/namespaces/:namespace/:plural"]
        for path in namespaced {
            api.get(RouterPath(path)) { request, context in await handle(request) { try await list(request, context) } }
            api.post(RouterPath(path)) { request, context in await handle(request) { try await write(request, context) } }
            api.get(RouterPath(path + "/:name")) { request, context in await handle(request) { try await get(request, context) } }
            api.put(RouterPath(path + "/:name")) { request, context in await handle(request) { try await write(request, context) } }
            api.delete(RouterPath(path + "/:name")) { request, context in
                await handle(request) { try await delete(request, context) }
            }
        }
        for path in ["/apis/:group/:version/:plural", "/api/:version/:plural"] {
            api.get(RouterPath(path)) { request, context in await handle(request) { try await list(request, context) } }
        }
        api.post("/api/apply") { request, context in
            await handle(request) {
                let files = try ApplyRequest.files(
                    try await body(request), contentType: request.headers[.contentType],
                    source: request.headers[.trellisSource])
                let result = try await resources.apply(files, dryRun: isDryRun(request))
                return Self.json(ResourceJSON.applyResult(result, dryRun: isDryRun(request)))
            }
        }
        api.post("/api/diff") { request, context in
            await handle(request) {
                let files = try ApplyRequest.files(
                    try await body(request), contentType: request.headers[.contentType],
                    source: request.headers[.trellisSource])
                let (candidate, warnings) = try await resources.candidate(files)
                let diffs: [ProxyDiff]
                do {
                    diffs = try diff(candidate)
                } catch {
                    throw APIError.unavailable("cannot translate the candidate configuration: \(error)")
                }
                return Self.json(try ProxyDiff.json(diffs, warnings: warnings))
            }
        }
        api.post("/api/tokens") { request, context in
            await handle(request) {
                let ask = try TokenRequest.decode(try await body(request))
                let token = try await tokens.create(
                    namespace: ask.namespace, serviceAccount: ask.serviceAccount, ttl: ask.ttlSeconds)
                return Self.json("{\"token\": \(ConfigDocuments.jsonString(token))}\n")
            }
        }
        api.get("/api/proxies") { request, _ in
            await handle(request) {
                let rows: [ProxyStatus]
                do {
                    rows = try await proxies()
                } catch {
                    throw APIError.unavailable("cannot list the proxies of the other replicas: \(error)")
                }
                return Self.json(try ProxyStatus.json(rows, replica: replicaName))
            }
        }
        api.get("/api/proxies/:node/config") { request, context in
            await handle(request) {
                let node = context.parameters.get("node") ?? ""
                let types = (request.uri.queryParameters.get("type") ?? "all").split(separator: ",").map(String.init)
                for type in types where !ProxyStatus.configTypes.contains(type) {
                    throw APIError.badRequest("type: \"\(type)\" must be one of \(ProxyStatus.configTypes.joined(separator: ", "))")
                }
                let rendered: String?
                do {
                    rendered = try proxyConfig(node, types.contains("all") ? [] : types)
                } catch {
                    throw APIError.unavailable("cannot render the configuration of \(node): \(error)")
                }
                guard let rendered else { throw APIError.notFound("no proxy with node id \(node) is connected") }
                return Self.json(rendered)
            }
        }
        api.get("/api/graph") { request, _ in
            await handle(request) { try Self.json(data: graph, what: "the service graph") }
        }
        api.get("/api/config-status") { request, _ in
            await handle(request) { try Self.json(data: configStatus, what: "the config status") }
        }
        let workloads = WorkloadRegistry(resources: resources, tokens: tokens, connections: connections)
        api.post("/api/workloads") { request, context in
            await handle(request) {
                let registered = try await workloads.register(WorkloadRegistration.decode(try await body(request)))
                return try Self.json(ResourceJSON.registration(registered, facts: facts))
            }
        }
        api.get("/api/workloads") { request, context in
            await handle(request) {
                Self.json(try await workloads.list(namespace: request.uri.queryParameters.get("namespace")))
            }
        }
        api.delete("/api/workloads/:namespace/:name") { request, context in
            await handle(request) {
                let deleted = try await workloads.deregister(
                    namespace: try ResourcePath.namespace(context.parameters),
                    name: context.parameters.get("name") ?? "")
                return try Self.render([deleted], list: nil, request: request)
            }
        }
        return router
    }

    // MARK: - Handlers

    private func get(_ request: Request, _ context: BasicRequestContext) async throws(APIError) -> Response {
        let key = try ResourcePath.key(context.parameters)
        guard let resource = try await resources.resource(key) else { throw await resources.notFound(key) }
        return try Self.render([resource], list: nil, request: request)
    }

    private func list(_ request: Request, _ context: BasicRequestContext) async throws(APIError) -> Response {
        let kind = try ResourcePath.kind(context.parameters)
        let (items, revision) = try await resources.list(kind, namespace: context.parameters.get("namespace"))
        return try Self.render(items, list: (kind, revision), request: request)
    }

    private func write(_ request: Request, _ context: BasicRequestContext) async throws(APIError) -> Response {
        let kind = try ResourcePath.kind(context.parameters)
        let target = MeshResources.Target(
            kind: kind, namespace: try ResourcePath.namespace(context.parameters), name: context.parameters.get("name"))
        let body = try await body(request)
        let file = ConfigFile(path: request.headers[.trellisSource] ?? "request", contents: body, origin: .api)
        let result = try await resources.apply([file], target: target, dryRun: isDryRun(request))
        guard result.outcomes.count == 1, let outcome = result.outcomes.first else {
            throw .badRequest("a request to \(request.uri.path) carries exactly one \(kind.rawValue)")
        }
        var response = try Self.render([outcome.resource], list: nil, request: request)
        response.status = outcome.action == .created ? .created : .ok
        response.headers[.trellisAction] = outcome.action.rawValue
        for warning in result.warnings { response.headers.append(HTTPField(name: .warning, value: "299 - \"\(warning)\"")) }
        return response
    }

    private func delete(_ request: Request, _ context: BasicRequestContext) async throws(APIError) -> Response {
        let key = try ResourcePath.key(context.parameters)
        let expected: StoreRevision?
        if let text = request.uri.queryParameters.get("resourceVersion") {
            guard let revision = StoreRevision(text) else { throw .badRequest("resourceVersion: \"\(text)\" is not a resource version") }
            expected = revision
        } else {
            expected = nil
        }
        let deleted = try await resources.delete(key, resourceVersion: expected, dryRun: isDryRun(request))
        return try Self.render([deleted], list: nil, request: request)
    }

    // MARK: - Plumbing

    private func handle(_ request: Request, _ body: () async throws -> Response) async -> Response {
        let refusal: APIError
        do {
            return try await body()
        } catch let error as APIError {
            refusal = error
        } catch {
            // Every path above throws APIError; anything else is a bug, reported as unavailable.
            refusal = .unavailable("internal error: \(error)")
        }
        var response = Self.text(refusal.statusJSON, status: .init(code: refusal.status))
        response.headers[.contentType] = "application/json"
        return response
    }

    private func body(_ request: Request) async throws(APIError) -> String {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxRequestBytes)
        } catch is NIOTooManyBytesError {
            throw .tooLarge(maxRequestBytes)
        } catch {
            throw .badRequest("cannot read the request body: \(error)")
        }
        guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes),
            text.utf8.count == buffer.readableBytes
        else { throw .badRequest("the request body is not UTF-8") }
        return text
    }

    private func isDryRun(_ request: Request) -> Bool {
        ["true", "All", "all"].contains(request.uri.queryParameters.get("dryRun") ?? "")
    }

    /// JSON, or YAML when the client accepts it (`trellis get -o yaml`).
    private static func render(
        _ resources: [StoredResource], list: (kind: ResourceKind, revision: StoreRevision)?, request: Request
    ) throws(APIError) -> Response {
        let nodes: [ResourceJSON.Node]
        do {
            nodes = try resources.map(ResourceJSON.node)
        } catch {
            throw .unavailable("cannot read a stored resource: \(error)")
        }
        let wantsYAML = request.headers[.accept]?.contains("yaml") == true
        if wantsYAML {
            do {
                var response = text(try ConfigDocuments.yaml(nodes))
                response.headers[.contentType] = "application/yaml"
                return response
            } catch {
                throw .unavailable("cannot render YAML: \(error)")
            }
        }
        if let list { return json(ResourceJSON.list(nodes, kind: list.kind, revision: list.revision)) }
        return json(ConfigDocuments.json(nodes[0]) + "\n")
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private static func json(data: () throws -> Data, what: String) throws(APIError) -> Response {
        do {
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try data())))
        } catch {
            throw .unavailable("cannot render \(what): \(error)")
        }
    }

    static func json(_ body: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension HTTPField.Name {
    /// The file name a client read the body from, for diagnostics (`trellis apply -f FILE`).
    public static var trellisSource: Self { Self("X-Trellis-Source")! }
    /// created, configured or unchanged.
    public static var trellisAction: Self { Self("X-Trellis-Action")! }
    static var warning: Self { Self("Warning")! }
}
