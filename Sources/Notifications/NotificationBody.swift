import Foundation
import Model
import Support

/// The stable JSON body of a tenant callback (specs/notifications.md): the same bytes on every retry, so the
/// signature and the receiver's dedupe by `X-Tenantry-Delivery` both hold.
public enum NotificationBody {
    public static func json(_ t: SessionTransition, links: NotificationLinks) -> JSON {
        var object: JSONObject = [
            "event": .string(t.event.rawValue),
            "time": .string(Timestamp.rfc3339(t.time)),
            "tenant": .string(t.tenant),
            "namespace": .string(t.namespace),
            "session": .string(t.session),
            "phase": .string(t.phase.rawValue),
            "reason": .string(t.reason),
            "summary": .string(t.summary),
            "cost": t.cost.map { cost in ["amount": .number(cost.description), "currency": t.currency.map(JSON.string) ?? .null] } ?? .null,
        ]
        if let threshold = t.threshold {
            object["budget"] = ["month": .string(threshold.month), "percent": .int(threshold.percent)]
        }
        var linkObject: JSONObject = [:]
        linkObject["ui"] = links.ui(t).map(JSON.string) ?? .null
        linkObject["api"] = links.api(t).map(JSON.string) ?? .null
        linkObject["origin"] = t.origin?.url.map(JSON.string) ?? .null
        object["links"] = .object(linkObject)
        return .object(object)
    }
}

/// Where people (the UI) and programs (the Sessions API) find a session.
public struct NotificationLinks: Sendable, Hashable {
    public var uiBaseURL: String?
    public var apiBaseURL: String?

    public init(uiBaseURL: String? = nil, apiBaseURL: String? = nil) {
        self.uiBaseURL = uiBaseURL.map(Self.trimmed)
        self.apiBaseURL = apiBaseURL.map(Self.trimmed)
    }

    public func ui(_ t: SessionTransition) -> String? {
        guard t.event != .budgetThreshold else { return uiBaseURL.map { "\($0)/tenants/\(t.tenant)/budget" } }
        return uiBaseURL.map { "\($0)/namespaces/\(t.namespace)/sessions/\(t.session)" }
    }

    public func api(_ t: SessionTransition) -> String? {
        guard t.event != .budgetThreshold else { return nil }
        return apiBaseURL.map { "\($0)/apis/\(Session.apiVersion)/namespaces/\(t.namespace)/sessions/\(t.session)" }
    }

    private static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
