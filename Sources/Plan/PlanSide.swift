import Model
import Render

/// One side of a change (base or head): the tenant repo read, validated and rendered.
public struct PlanSide: Sendable {
    /// The folder it was read from.
    public let directory: String
    /// Nil when the repo cannot be judged (no platform file, a broken one, not a directory).
    public let rendered: RenderedRepo?
    /// Why it cannot be judged.
    public let error: RepoError?
    let locator: Locator

    /// Reads, validates and renders the tenant repo in `directory`. Never throws: a repo that cannot be
    /// rendered is a side with an `error`, which the plan reports.
    public static func load(_ directory: String) -> PlanSide {
        do {
            let loaded = try RepoLoader.load(directory)
            do {
                let rendered = Renderer.render(try RepoValidator.validate(loaded))
                return PlanSide(directory: directory, rendered: rendered, error: nil, locator: Locator(loaded))
            } catch {
                return PlanSide(directory: directory, rendered: nil, error: error, locator: Locator(loaded))
            }
        } catch {
            return PlanSide(directory: directory, rendered: nil, error: error, locator: Locator(nil))
        }
    }
}
