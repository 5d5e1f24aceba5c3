import Foundation
import KubeModel
import SandboxRuntime

/// Feeds every store change to the controllers, in revision order, and runtime reports to the
/// pod controller.
final class ControllerManager: Sendable {
    let pods: PodController
    let endpoints: EndpointsController
    let deployments: DeploymentController
    let collector: GarbageCollector
    let autoscalers: HorizontalPodAutoscalerController
    private let tasks: TaskBox

    init(registry: Registry, runtime: any PodRuntime, builder: LaunchSpecBuilder, tokens: ServiceAccountTokens?, apiPort: Int) {
        endpoints = EndpointsController(registry: registry, runtime: runtime, apiPort: apiPort)
        pods = PodController(registry: registry, runtime: runtime, builder: builder, endpoints: endpoints)
        deployments = DeploymentController(registry: registry)
        collector = GarbageCollector(registry: registry, tokens: tokens)
        autoscalers = HorizontalPodAutoscalerController(registry: registry)
        tasks = TaskBox()
    }

    /// Starts consuming; existing objects arrive first as ADDED events.
    func start(store: ObjectStore, runtime: any PodRuntime) throws {
        let events = try store.watch(resource: nil, namespace: nil, from: .current)
        let pods = pods, endpoints = endpoints, deployments = deployments, collector = collector, autoscalers = autoscalers
        tasks.add(Task {
            for await event in events {
                await collector.handle(event)
                await pods.handle(event)
                await deployments.handle(event)
                await endpoints.handle(event)
                await autoscalers.handle(event)
            }
        })
        tasks.add(Task {
            for await report in runtime.statusUpdates {
                await pods.apply(report)
            }
        })
        tasks.add(Task { await endpoints.resync() })
    }

    func stop() async {
        tasks.cancelAll()
        await pods.stopAll()
    }
}

/// The controller tasks, cancelled together on shutdown.
final class TaskBox: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [Task<Void, Never>] = []

    func add(_ task: Task<Void, Never>) { lock.withLock { tasks.append(task) } }

    func cancelAll() {
        lock.withLock {
            for task in tasks { task.cancel() }
            tasks.removeAll()
        }
    }
}
