/// The kubelet's `status.containerStatuses[].state.waiting.reason` values that mean waiting will
/// not help: the container does not start without a change to its pod (image, command, a
/// referenced ConfigMap or Secret). `CrashLoopBackOff` is among them — the kubelet reports it
/// only after the container has already failed and is backing off.
public enum ContainerWaitingReasons {
    public static let fatal: Set<String> = [
        "CrashLoopBackOff", "RunContainerError", "CreateContainerError", "CreateContainerConfigError", "StartError",
        "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
    ]
}
