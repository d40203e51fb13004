public import EnvoyAPI
public import MeshAPI
import SwiftProtobuf

/// Node identities for simulated sidecars that look like a real mesh's: each one the workload
/// behind an endpoint of the config's ServiceEntries (its address, labels, namespace and
/// service account), under iptables (REDIRECT), as Istio's agent would describe it.
public enum LoadNodes {
    /// `count` nodes, cycling through the endpoints when there are fewer of them.
    public static func sidecars(for config: MeshConfig, count: Int) -> [Envoy_Config_Core_V3_Node] {
        var workloads: [(namespace: String, name: String, endpoint: WorkloadEntry)] = []
        for service in config.serviceEntries {
            for endpoint in service.spec.endpoints { workloads.append((service.namespace, service.name, endpoint)) }
        }
        for entry in config.workloadEntries { workloads.append((entry.namespace, entry.name, entry.spec)) }
        if workloads.isEmpty { workloads = [("default", "app", WorkloadEntry(address: "10.0.0.1"))] }
        return (0..<count).map { index in
            let workload = workloads[index % workloads.count]
            var node = Envoy_Config_Core_V3_Node()
            let address = workload.endpoint.address
            node.id = "sidecar~\(address)~\(workload.name)-\(index).\(workload.namespace)~\(workload.namespace).svc.cluster.local"
            var labels = Google_Protobuf_Struct()
            for (key, value) in workload.endpoint.labels { labels.fields[key] = Google_Protobuf_Value(stringValue: value) }
            node.metadata.fields = [
                "NAMESPACE": Google_Protobuf_Value(stringValue: workload.namespace),
                "INSTANCE_IPS": Google_Protobuf_Value(stringValue: address),
                "INTERCEPTION_MODE": Google_Protobuf_Value(stringValue: "REDIRECT"),
                "SERVICE_ACCOUNT": Google_Protobuf_Value(stringValue: workload.endpoint.serviceAccount ?? "default"),
                "LABELS": Google_Protobuf_Value(structValue: labels),
            ]
            node.userAgentName = "envoy"
            return node
        }
    }
}
