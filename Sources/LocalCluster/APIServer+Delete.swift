import Foundation
import HTTPServer
import Model

extension APIServer {
    /// Deletes one object. With finalizers it is only marked (deletionTimestamp) until they are gone;
    /// a namespace is marked Terminating and everything in it deleted the same way.
    func delete(_ target: ResourceRoute, name: String, _ request: Request) throws -> Response {
        guard target.subresource == nil else { throw APIError.methodNotAllowed("DELETE", request.path) }
        let write = try WriteRequest(request, requireBody: false)
        let preconditions = write.body?["preconditions"]
        let options = try DeleteOptions(body: write.body, query: request.query)
        var previousVersion: String?
        let result = try store.write(dryRun: write.dryRun) { transaction in
            guard let old = try transaction.get(target.type, namespace: target.namespace ?? "", name: name) else {
                throw APIError.notFound(target.type, name)
            }
            previousVersion = old.resourceVersion
            if let version = preconditions?["resourceVersion"]?.stringValue, version != old.resourceVersion {
                throw APIError.conflict(target.type, name)
            }
            if let uid = preconditions?["uid"]?.stringValue, uid != old.value(at: ["metadata", "uid"])?.stringValue {
                throw APIError.conflict(target.type, name)
            }
            if target.type == .namespaces { return try deleteNamespace(old, now: write.now, transaction) }
            return try deleteObject(target.type, old, now: write.now, options: options, transaction)
        }
        reloadIfDefinitions(target.type, dryRun: write.dryRun)
        return json(200, answer(result, dryRun: write.dryRun, previousVersion: previousVersion))
    }

    /// DELETE on a collection: every object matching the selectors, as one write.
    func deleteCollection(_ target: ResourceRoute, _ request: Request) throws -> JSON {
        let write = try WriteRequest(request, requireBody: false)
        let labels = try LabelSelector(parsing: request.query["labelSelector"] ?? "")
        let fields = try FieldSelector(parsing: request.query["fieldSelector"] ?? "", type: target.type)
        let options = try DeleteOptions(body: write.body, query: request.query)
        let deleted = try store.write(dryRun: write.dryRun) { transaction in
            let matching = try transaction.list(target.type, namespace: target.namespace, after: nil, limit: Int.max)
                .filter { labels.matches($0.labels) && fields.matches($0) }
            return try matching.map { object in
                target.type == .namespaces ? try deleteNamespace(object, now: write.now, transaction)
                                           : try deleteObject(target.type, object, now: write.now, options: options, transaction)
            }
        }
        reloadIfDefinitions(target.type, dryRun: write.dryRun)
        return ["kind": .string(target.type.listKind), "apiVersion": .string(target.type.apiVersion), "metadata": [:], "items": .array(deleted)]
    }

    /// Removes the object, or marks it for deletion while finalizers (or a running Pod's grace period)
    /// remain. The propagation policy adds the garbage collector's finalizer. Returns its last state.
    func deleteObject(_ type: ResourceType, _ object: JSON, now: String, options: DeleteOptions = DeleteOptions(),
                      _ transaction: StoreTransaction) throws -> JSON {
        if object.isDeleting { return try shortenGracePeriod(type, object, options, transaction) }
        // Marked for deletion; `commit` removes it at once unless finalizers or a grace period hold it.
        var marked = object
        marked.setValue(.string(now), at: ["metadata", "deletionTimestamp"])
        if let finalizer = options.finalizer(for: type), !marked.finalizers.contains(finalizer) {
            marked.setValue(.strings(marked.finalizers + [finalizer]), at: ["metadata", "finalizers"])
        }
        let grace = type == .pods ? Kubelet.gracePeriod(object, requested: options.gracePeriodSeconds) : 0
        if !marked.finalizers.isEmpty || grace > 0 { marked.setValue(.int(grace), at: ["metadata", "deletionGracePeriodSeconds"]) }
        return try commit(type, old: object, marked, transaction)
    }

    private func deleteNamespace(_ namespace: JSON, now: String, _ transaction: StoreTransaction) throws -> JSON {
        if ["default", "kube-system", "kube-public"].contains(namespace.name) {
            throw APIError(code: 403, reason: "Forbidden", message: "namespaces \"\(namespace.name)\" is forbidden: this namespace may not be deleted",
                           details: APIError.details(.namespaces, name: namespace.name))
        }
        var current = namespace
        if !namespace.isDeleting {
            var marked = namespace
            marked.setValue(.string(now), at: ["metadata", "deletionTimestamp"])
            marked.setValue(.int(0), at: ["metadata", "deletionGracePeriodSeconds"])
            marked.setValue("Terminating", at: ["status", "phase"])
            current = try commit(.namespaces, old: namespace, marked, transaction)
        }
        for storageKey in try transaction.resources(inNamespace: namespace.name) {
            guard let type = registry.all.first(where: { $0.storageKey == storageKey }) else { continue }
            for object in try transaction.list(type, namespace: namespace.name, after: nil, limit: Int.max) {
                _ = try deleteObject(type, object, now: now, transaction)
            }
        }
        return try finishNamespaceIfEmpty(namespace.name, transaction) ?? current
    }

    /// Called whenever an object leaves the store: a terminating namespace that became empty goes
    /// too, and a deleted CRD takes its custom objects with it.
    func afterRemoval(_ type: ResourceType, _ object: JSON, _ transaction: StoreTransaction) throws {
        if type.namespaced {
            _ = try finishNamespaceIfEmpty(object.namespace, transaction)
        }
        if type == .customResourceDefinitions, let defined = ResourceType.defined(by: object).first {
            for custom in try transaction.list(defined, namespace: nil, after: nil, limit: Int.max) {
                var removed = custom
                removed.setValue(.string(String(try transaction.nextResourceVersion())), at: ["metadata", "resourceVersion"])
                try transaction.delete(defined, removed)
            }
        }
    }

    /// Removes a terminating namespace once nothing is left in it; returns its final state if removed.
    func finishNamespaceIfEmpty(_ name: String, _ transaction: StoreTransaction) throws -> JSON? {
        guard var namespace = try transaction.get(.namespaces, namespace: "", name: name), namespace.isDeleting,
              namespace.finalizers.isEmpty, try transaction.resources(inNamespace: name).isEmpty else { return nil }
        namespace.setValue(.string(String(try transaction.nextResourceVersion())), at: ["metadata", "resourceVersion"])
        try transaction.delete(.namespaces, namespace)
        return namespace
    }
}

extension APIServer {
    /// A second delete of a terminating Pod may shorten its grace period (`--grace-period=0 --force`).
    func shortenGracePeriod(_ type: ResourceType, _ object: JSON, _ options: DeleteOptions, _ transaction: StoreTransaction) throws -> JSON {
        guard type == .pods, let requested = options.gracePeriodSeconds,
              case .int(let current)? = object.value(at: ["metadata", "deletionGracePeriodSeconds"]), requested < current else { return object }
        var shortened = object
        shortened.setValue(.int(requested), at: ["metadata", "deletionGracePeriodSeconds"])
        return try commit(type, old: object, shortened, transaction)
    }
}
