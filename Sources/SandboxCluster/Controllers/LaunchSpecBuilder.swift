import Foundation
import KubeEnvironment
import KubeModel
import SandboxRuntime

/// Why a container cannot be started yet; shown as its waiting reason and message.
struct ContainerStartProblem: Error, Sendable {
    var container: String
    /// `CreateContainerConfigError`, `ErrImagePull`, …
    var reason: String
    var message: String
}

/// Turns a pod object into the runtime's `PodLaunchSpec`: the kubelet's part of the job
/// (environment, volume contents, probes, argv) done against the sandbox's object store.
struct LaunchSpecBuilder: Sendable {
    let registry: Registry
    /// PEM of the sandbox CA, projected as `ca.crt` next to service-account tokens.
    let caCertificate: Data

    func build(pod: JSONValue) throws -> PodLaunchSpec {
        let namespace = pod.namespace ?? "default"
        let sources = environmentSources(namespace: namespace)
        var containers: [ContainerLaunchSpec] = []
        for container in pod[path: ["spec", "containers"]]?.array ?? [] {
            containers.append(try containerSpec(container, pod: pod, sources: sources))
        }
        var volumes: [VolumeSpec] = []
        for volume in pod[path: ["spec", "volumes"]]?.array ?? [] {
            volumes.append(try volumeSpec(volume, pod: pod))
        }
        let grace = pod[path: ["spec", "terminationGracePeriodSeconds"]]?.int ?? 30
        return PodLaunchSpec(
            uid: pod.uid ?? "", namespace: namespace, name: pod.name ?? "",
            hostname: pod[path: ["spec", "hostname"]]?.string ?? pod.name ?? "",
            containers: containers, volumes: volumes, terminationGracePeriod: .seconds(grace))
    }

    func environmentSources(namespace: String) -> EnvironmentSources {
        var configMaps: [String: JSONValue] = [:]
        for item in registry.list(ResourceCatalog.configMaps, namespace: namespace).items { configMaps[item.name ?? ""] = item }
        var secrets: [String: JSONValue] = [:]
        for item in registry.list(ResourceCatalog.secrets, namespace: namespace).items { secrets[item.name ?? ""] = item }
        return EnvironmentSources(
            configMaps: configMaps, secrets: secrets,
            services: registry.list(ResourceCatalog.services, namespace: namespace).items,
            kubernetesService: try? registry.get(ResourceCatalog.services, namespace: "default", name: "kubernetes"))
    }

    /// `repository` of an image reference without tag or digest, e.g. `ghcr.io/swapdev/swapdev-proxy`.
    static func repository(of image: String) -> String {
        var reference = image
        if let at = reference.firstIndex(of: "@") { reference = String(reference[..<at]) }
        if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") { reference = String(reference[..<colon]) }
        return reference
    }

    static func isProxyImage(_ image: String) -> Bool { repository(of: image).hasSuffix("swapdev-proxy") }

    private func containerSpec(_ container: JSONValue, pod: JSONValue, sources: EnvironmentSources) throws -> ContainerLaunchSpec {
        let name = container["name"]?.string ?? ""
        let image = container["image"]?.string ?? ""
        if image.contains("does-not-exist") {
            throw ContainerStartProblem(container: name, reason: "ErrImagePull",
                                        message: "failed to pull and unpack image \"\(image)\": not found (the sandbox treats images containing \"does-not-exist\" as unpullable)")
        }
        let environment: [EnvironmentVariable]
        do {
            environment = try ContainerEnvironment.resolve(pod: pod, container: container, sources: sources)
        } catch {
            throw ContainerStartProblem(container: name, reason: "CreateContainerConfigError", message: "\(error)")
        }
        var lookup: [String: String] = [:]
        for variable in environment { lookup[variable.name] = variable.value }
        let command = (container["command"]?.array ?? []).compactMap(\.string)
        let args = (container["args"]?.array ?? []).compactMap(\.string)
        if command.isEmpty, !Self.isProxyImage(image) {
            throw ContainerStartProblem(container: name, reason: "ErrImagePull",
                                        message: "the swapdev sandbox does not pull images: container \"\(name)\" (image \"\(image)\") needs an explicit command")
        }
        let argv = (command + args).map { VariableExpansion.expand($0) { lookup[$0] } }
        let mounts: [VolumeMountSpec] = (container["volumeMounts"]?.array ?? []).compactMap { mount in
            guard let volume = mount["name"]?.string, let path = mount["mountPath"]?.string else { return nil }
            return VolumeMountSpec(volumeName: volume, mountPath: path, subPath: mount["subPath"]?.string, readOnly: mount["readOnly"]?.bool ?? false)
        }
        var spec = ContainerLaunchSpec(
            name: name, image: image, argv: argv, workingDirectory: container["workingDir"]?.string,
            environment: environment.map { (name: $0.name, value: $0.value) }, volumeMounts: mounts,
            readinessProbe: probe(container["readinessProbe"], container: container),
            livenessProbe: probe(container["livenessProbe"], container: container),
            startupProbe: probe(container["startupProbe"], container: container))
        // No `command`: the image's ENTRYPOINT runs, with `args` as its arguments.
        spec.runsImageEntrypoint = command.isEmpty
        return spec
    }

    /// A probe with named ports resolved against the container's ports.
    func probe(_ value: JSONValue?, container: JSONValue) -> ProbeSpec? {
        guard let value else { return nil }
        func port(_ raw: JSONValue?) -> Int {
            if let number = raw?.int { return number }
            let name = raw?.string ?? ""
            return (container["ports"]?.array ?? []).first { $0["name"]?.string == name }?["containerPort"]?.int ?? Int(name) ?? 0
        }
        var spec: ProbeSpec
        if let http = value["httpGet"] {
            spec = ProbeSpec(action: .httpGet(port: port(http["port"]), path: http["path"]?.string ?? "/", scheme: http["scheme"]?.string ?? "HTTP"))
        } else if let tcp = value["tcpSocket"] {
            spec = ProbeSpec(action: .tcpSocket(port: port(tcp["port"])))
        } else if let exec = value["exec"] {
            spec = ProbeSpec(action: .exec(command: (exec["command"]?.array ?? []).compactMap(\.string)))
        } else {
            return nil
        }
        if let seconds = value["initialDelaySeconds"]?.int { spec.initialDelay = .seconds(seconds) }
        if let seconds = value["periodSeconds"]?.int, seconds > 0 { spec.period = .seconds(seconds) }
        if let seconds = value["timeoutSeconds"]?.int, seconds > 0 { spec.timeout = .seconds(seconds) }
        if let count = value["successThreshold"]?.int, count > 0 { spec.successThreshold = count }
        if let count = value["failureThreshold"]?.int, count > 0 { spec.failureThreshold = count }
        return spec
    }
}
