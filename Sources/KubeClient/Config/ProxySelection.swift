import Foundation

/// Chooses the HTTP CONNECT proxy for a server: kubeconfig `proxy-url`, else `HTTPS_PROXY`/`HTTP_PROXY`
/// unless `NO_PROXY` excludes the host (Go's `httpproxy` rules, without CIDR matching).
enum ProxySelection {
    static func proxy(for server: ServerEndpoint, proxyURL: String?, environment: [String: String], file: String) throws -> ProxyEndpoint? {
        if let proxyURL, !proxyURL.isEmpty {
            guard let proxy = parse(proxyURL) else {
                throw KubeConfigError.invalidYAML(path: file, reason: "proxy-url \"\(proxyURL)\" is not an http:// or https:// proxy URL (socks5 is not supported)")
            }
            return proxy
        }
        let keys = server.useTLS ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"]
        guard let value = keys.lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else { return nil }
        let noProxy = environment["NO_PROXY"] ?? environment["no_proxy"] ?? ""
        if excluded(host: server.host, port: server.port, noProxy: noProxy) { return nil }
        // Go's http.ProxyFromEnvironment never proxies requests to localhost.
        if ["localhost", "127.0.0.1", "::1"].contains(server.host.lowercased()) { return nil }
        return parse(value.contains("://") ? value : "http://" + value)
    }

    static func excluded(host: String, port: Int, noProxy: String) -> Bool {
        let host = host.lowercased()
        for rawEntry in noProxy.split(separator: ",") {
            var entry = rawEntry.trimmingCharacters(in: .whitespaces).lowercased()
            if entry.isEmpty { continue }
            if entry == "*" { return true }
            if let colon = entry.lastIndex(of: ":"), !entry.contains("]"), entry.filter({ $0 == ":" }).count == 1 {
                guard Int(entry[entry.index(after: colon)...]) == port else { continue }
                entry = String(entry[..<colon])
            }
            if entry.hasPrefix("*.") { entry.removeFirst() }
            if host == entry { return true }
            if entry.hasPrefix("."), host.hasSuffix(entry) { return true }
            if !entry.hasPrefix("."), host.hasSuffix("." + entry) { return true }
        }
        return false
    }

    static func parse(_ url: String) -> ProxyEndpoint? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return nil }
        var authorization: String? = nil
        if let user = components.user {
            let credentials = "\(user):\(components.password ?? "")"
            authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
        }
        return ProxyEndpoint(host: host, port: components.port ?? (scheme == "https" ? 443 : 80), authorization: authorization)
    }
}
