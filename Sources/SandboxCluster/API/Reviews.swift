import KubeModel

/// SelfSubjectAccessReview (always allowed: the sandbox enforces no RBAC) and SelfSubjectReview.
enum Reviews {
    static func accessReview(_ body: JSONValue) -> APIResponse {
        var review = body
        review["apiVersion"] = "authorization.k8s.io/v1"
        review["kind"] = "SelfSubjectAccessReview"
        if review["metadata"] == nil { review["metadata"] = .emptyObject }
        review["status"] = ["allowed": true, "reason": "the swapdev sandbox does not enforce RBAC"]
        return .json(status: 201, review)
    }

    static func subjectReview(_ user: AuthenticatedUser) -> APIResponse {
        .json(status: 201, [
            "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
            "metadata": ["creationTimestamp": .string(ObjectIdentity.timestamp())],
            "status": ["userInfo": ["username": .string(user.username), "groups": .array(user.groups.map(JSONValue.string))]],
        ])
    }
}
