import EtcdStore

/// `trellis serve --store`: the embedded SQLite store in the data dir (one server), or an etcd
/// cluster that replicas share, with the key file that seals the CA's key in it.
public enum StoreLocation: Sendable {
    case embedded
    case etcd([EtcdEndpoint], keyFile: String)

    /// `sqlite` (or nothing) / `etcd://HOST:PORT[,HOST:PORT...]`; etcd needs `keyFile`.
    public static func parse(_ text: String?, keyFile: String?) throws(ControlPlaneError) -> StoreLocation {
        guard let text, text != "sqlite" else {
            guard keyFile == nil else { throw .store("--store-key-file is for --store etcd://...") }
            return .embedded
        }
        guard text.hasPrefix("etcd://") else {
            throw .store("--store '\(text)': expected sqlite or etcd://HOST:PORT[,HOST:PORT...]")
        }
        let endpoints: [EtcdEndpoint]
        do {
            endpoints = try EtcdEndpoint.parse(url: text)
        } catch {
            throw .store("--store '\(text)': \(error)")
        }
        guard let keyFile else {
            throw .store("--store etcd://... needs --store-key-file (32 random bytes in base64, mode 0600, the same for every replica)")
        }
        return .etcd(endpoints, keyFile: keyFile)
    }
}
