import Foundation
import Model

/// What the platform sets for every runner pod: its runner registry, where credentials and the artifact API are,
/// and the container resources within the tenant's LimitRange.
public struct RunnerEnvironment: Sendable, Hashable {
    /// The platform's registered runner frameworks (`platform.yaml` `runners:`): type → image and versions.
    public var runners: [RunnerFramework]
    /// Where a trigger's `owner/repo` is cloned from: `<gitBaseURL>/<owner>/<repo>.git`.
    public var gitBaseURL: String
    /// Tenantry's API as pods reach it; artifacts go to `<apiURL>/api/v1/namespaces/{ns}/sessions/{id}/artifacts/{name}`.
    public var apiURL: String
    /// The Secret (in the tenant namespace) with the model API key under `api-key`; named by the tenant or platform, never in git.
    public var modelCredentialsSecret: String
    /// The Secret with a git token under `token`, when repositories need one.
    public var gitCredentialsSecret: String?
    /// The container defaults and maximums rendered as the namespace's LimitRange.
    public var containers: ContainerLimits
    /// Finished Jobs (and their Pods) are collected this long after they end.
    public var ttlSecondsAfterFinished: Int
    /// The audience of the projected ServiceAccount token the runner uploads with.
    public var tokenAudience: String
    /// The runner container's `command`, when the image's entrypoint cannot be used: on the embedded cluster images
    /// are not pulled and a container is its command, so the controller names its own `tenantry` executable here.
    /// Nil (a real cluster): the image's entrypoint runs with the args `runner --session-file …`.
    public var runnerCommand: [String]?

    public init(runners: [RunnerFramework], gitBaseURL: String = "https://github.com", apiURL: String,
                modelCredentialsSecret: String = "model-credentials", gitCredentialsSecret: String? = nil,
                containers: ContainerLimits, ttlSecondsAfterFinished: Int = 600, tokenAudience: String = "tenantry",
                runnerCommand: [String]? = nil) {
        self.runnerCommand = runnerCommand
        self.runners = runners
        self.gitBaseURL = gitBaseURL
        self.apiURL = apiURL
        self.modelCredentialsSecret = modelCredentialsSecret
        self.gitCredentialsSecret = gitCredentialsSecret
        self.containers = containers
        self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
        self.tokenAudience = tokenAudience
    }
}
