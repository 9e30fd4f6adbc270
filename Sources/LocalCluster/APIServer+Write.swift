import Foundation
import HTTPServer
import Model

extension APIServer {
    func create(_ target: ResourceRoute, _ request: Request, user: UserInfo) throws -> Response {
        let escalation = try escalationCheck(target, user: user)
        let write = try WriteRequest(request, requireBody: true)
        var object = write.body!
        guard target.subresource == nil else { throw APIError.methodNotAllowed("POST", request.path) }
        if object.name.isEmpty, let prefix = object.value(at: ["metadata", "generateName"])?.stringValue, !prefix.isEmpty {
            object.setValue(.string(JobController.generatedName(prefix)), at: ["metadata", "name"])
        }
        object = try placed(object, target)
        var admission = ObjectAdmission(type: target.type, scope: .main(hasStatusSubresource: target.type.hasStatusSubresource),
                                        now: write.now, fieldValidation: write.fieldValidation)
        // A new object's admission needs nothing stored, so it runs before the transaction: the store's
        // lock is held only to check, number and store, which lets concurrent creates share fsyncs.
        var admitted = try admission.admit(object, old: nil)
        admitted.setManagedFields(fieldManager(write, target, scope: admission.scope).recordUpdate(old: nil, new: admitted))
        try escalation?(admitted)
        let stored = try store.write(dryRun: write.dryRun) { transaction in
            try requireLiveNamespace(target, transaction)
            if try transaction.exists(target.type, namespace: admitted.namespace, name: admitted.name) {
                throw APIError.alreadyExists(target.type, admitted.name)
            }
            return try commit(target.type, old: nil, admitted, transaction)
        }
        reloadIfDefinitions(target.type, dryRun: write.dryRun)
        return json(201, answer(stored, dryRun: write.dryRun, previousVersion: nil), headers: warningHeaders(admission.warnings))
    }

    func update(_ target: ResourceRoute, name: String, _ request: Request, user: UserInfo) throws -> Response {
        let escalation = try escalationCheck(target, user: user)
        let write = try WriteRequest(request, requireBody: true)
        let object = try placed(write.body!, target, name: name)
        return try writeExisting(target, name: name, write, escalation: escalation) { old in
            if let version = object.resourceVersion, !version.isEmpty, version != old.resourceVersion {
                throw APIError.conflict(target.type, name)
            }
            return object
        }
    }

    func patch(_ target: ResourceRoute, name: String, _ request: Request, user: UserInfo) throws -> Response {
        let contentType = (request.headers["content-type"] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        switch contentType {
        case "application/apply-patch+yaml", "application/apply-patch+json":
            return try apply(target, name: name, request, user: user)
        case "application/merge-patch+json":
            return try mergePatch(target, name: name, request, strategic: false, user: user)
        case "application/json-patch+json":
            return try jsonPatch(target, name: name, request, user: user)
        case "application/strategic-merge-patch+json":
            // Custom resources have no patch strategies; Kubernetes refuses strategic patches for them.
            guard ResourceType.builtIn.contains(target.type) else {
                throw APIError(code: 415, reason: "UnsupportedMediaType",
                               message: "strategic merge patch is not supported for custom resources: use application/merge-patch+json (kubectl patch --type=merge)")
            }
            return try mergePatch(target, name: name, request, strategic: true, user: user)
        default:
            throw APIError(code: 415, reason: "UnsupportedMediaType",
                           message: "the local cluster does not support patch content type \"\(contentType)\": use application/apply-patch+yaml (server-side apply), application/merge-patch+json or application/json-patch+json")
        }
    }

    private func mergePatch(_ target: ResourceRoute, name: String, _ request: Request, strategic: Bool, user: UserInfo) throws -> Response {
        let escalation = try escalationCheck(target, user: user)
        let write = try WriteRequest(request, requireBody: true)
        let patch = write.body!
        guard patch.objectValue != nil else { throw APIError.badRequest("a merge patch must be a JSON object") }
        return try writeExisting(target, name: name, write, escalation: escalation) { old in
            if let version = patch.resourceVersion, version != old.resourceVersion { throw APIError.conflict(target.type, name) }
            return strategic ? StrategicMergePatch.apply(patch, to: old) : mergePatched(old, with: patch)
        }
    }

    /// RFC 6902 JSON Patch; a patch that sets metadata.resourceVersion (or tests it) is a precondition.
    private func jsonPatch(_ target: ResourceRoute, name: String, _ request: Request, user: UserInfo) throws -> Response {
        let escalation = try escalationCheck(target, user: user)
        let write = try WriteRequest(request, requireBody: true)
        let patch = try JSONPatch(write.body!)
        return try writeExisting(target, name: name, write, escalation: escalation) { old in
            let patched = try patch.apply(to: old)
            if let version = patched.resourceVersion, version != old.resourceVersion { throw APIError.conflict(target.type, name) }
            return patched
        }
    }

    /// An update or patch of an existing object: `changing` turns the stored object into the new one,
    /// which is admitted and stored (computed outside the store's lock, as writeAgainstStored does).
    private func writeExisting(_ target: ResourceRoute, name: String, _ write: WriteRequest, escalation: ((JSON) throws -> Void)?,
                               _ changing: (JSON) throws -> JSON) throws -> Response {
        var admission = ObjectAdmission(type: target.type, scope: scope(target), now: write.now, fieldValidation: write.fieldValidation)
        var previousVersion: String?
        let stored = try writeAgainstStored(target.type, namespace: target.namespace ?? "", name: name, dryRun: write.dryRun) { old throws -> JSON in
            guard let old else { throw APIError.notFound(target.type, name) }
            admission.warnings = []
            previousVersion = old.resourceVersion
            let changed = try placed(try changing(old), target, name: name)
            var admitted = try admission.admit(changed, old: old)
            admitted.setManagedFields(fieldManager(write, target, scope: admission.scope).recordUpdate(old: old, new: admitted))
            try escalation?(admitted)
            return admitted
        } store: { old, admitted, transaction in
            guard let old else { throw APIError.notFound(target.type, name) }
            return try commitIfChanged(target.type, old: old, admitted, transaction)
        }
        reloadIfDefinitions(target.type, dryRun: write.dryRun)
        return json(200, answer(stored, dryRun: write.dryRun, previousVersion: previousVersion), headers: warningHeaders(admission.warnings))
    }

    /// Server-side apply: creates the object if it is missing, merges the manager's intent otherwise.
    private func apply(_ target: ResourceRoute, name: String, _ request: Request, user: UserInfo) throws -> Response {
        let escalation = try escalationCheck(target, user: user)
        let write = try WriteRequest(request, requireBody: true, managerRequired: true)
        let applied = try placed(write.body!, target, name: name)
        let force = request.query["force"] == "true"
        var admission = ObjectAdmission(type: target.type, scope: scope(target), now: write.now, fieldValidation: write.fieldValidation)
        var previousVersion: String?
        let (stored, created) = try writeAgainstStored(target.type, namespace: applied.namespace, name: name, dryRun: write.dryRun) { old throws -> JSON in
            admission.warnings = []
            previousVersion = old?.resourceVersion
            if old == nil, target.subresource != nil { throw APIError.notFound(target.type, name) }
            // An apply that creates is authorized as `create` too, by name (kube-apiserver's patch handler does the same).
            if old == nil { try authorize(user, .resource(verb: "create", group: target.type.group, resource: target.type.plural,
                                                          namespace: applied.namespace, name: name)) }
            if let version = applied.resourceVersion, let old, version != old.resourceVersion { throw APIError.conflict(target.type, name) }
            let manager = fieldManager(write, target, scope: admission.scope)
            let takeover = LastApplied.takeoverFields(manager: write.manager, live: old, scope: admission.scope)
            let merged = LastApplied.updated(try placed(try manager.apply(applied, onto: old, force: force, takeover: takeover, type: target.type), target, name: name),
                                             applied: applied, manager: write.manager)
            let admitted = try admission.admit(merged, old: old)
            try escalation?(admitted)
            return admitted
        } store: { old, admitted, transaction -> (JSON, Bool) in
            if let old { return (try commitIfChanged(target.type, old: old, admitted, transaction), false) }
            try requireLiveNamespace(target, transaction)
            return (try commit(target.type, old: nil, admitted, transaction), true)
        }
        reloadIfDefinitions(target.type, dryRun: write.dryRun)
        return json(created ? 201 : 200, answer(stored, dryRun: write.dryRun, previousVersion: previousVersion), headers: warningHeaders(admission.warnings))
    }

    // MARK: - Shared steps

    /// Computes a write from the stored object outside the store's lock, then stores it if the object
    /// is still as read (same resourceVersion, or still absent); otherwise computes again. The lock is
    /// held only to compare and store, so concurrent writers share fsyncs. Reading unsynced commits is
    /// safe here: this write's commit comes after them in the log, so it is never durable without them.
    func writeAgainstStored<T>(_ type: ResourceType, namespace: String, name: String, dryRun: Bool,
                               compute: (JSON?) throws -> JSON, store save: (JSON?, JSON, StoreTransaction) throws -> T) throws -> T {
        for _ in 0..<8 {
            let old = try store.read(waitingForDurability: false) { try $0.get(type, namespace: namespace, name: name) }
            let candidate = try compute(old)
            let result = try store.write(dryRun: dryRun) { transaction -> T? in
                guard try transaction.storedVersion(type, namespace: namespace, name: name) == old?.resourceVersion else { return nil }
                return try save(old, candidate, transaction)
            }
            if let result { return result }
        }
        // Still racing after eight tries: compute under the lock.
        return try store.write(dryRun: dryRun) { transaction in
            let old = try transaction.get(type, namespace: namespace, name: name)
            return try save(old, try compute(old), transaction)
        }
    }

    func scope(_ target: ResourceRoute) -> WriteScope {
        target.subresource == "status" ? .status : .main(hasStatusSubresource: target.type.hasStatusSubresource)
    }

    private func fieldManager(_ write: WriteRequest, _ target: ResourceRoute, scope: WriteScope) -> FieldManager {
        FieldManager(manager: write.manager, apiVersion: target.type.apiVersion, scope: scope, now: write.now)
    }

    /// The object with the URL's name and namespace, refusing a body that names others.
    func placed(_ object: JSON, _ target: ResourceRoute, name: String? = nil) throws(APIError) -> JSON {
        var object = object
        guard object.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON object, a \(target.type.kind)") }
        if let name {
            if !object.name.isEmpty, object.name != name {
                throw APIError.badRequest("the name of the object (\(object.name)) does not match the name on the URL (\(name))")
            }
            object.setValue(.string(name), at: ["metadata", "name"])
        }
        if target.type.namespaced {
            guard let namespace = target.namespace else {
                throw APIError.badRequest("\(target.type.qualifiedName) are namespaced: write to /namespaces/{namespace}/\(target.type.plural)")
            }
            if !object.namespace.isEmpty, object.namespace != namespace {
                throw APIError.badRequest("the namespace of the provided object (\(object.namespace)) does not match the namespace sent on the request (\(namespace))")
            }
            object.setValue(.string(namespace), at: ["metadata", "namespace"])
        } else {
            object.setValue(nil, at: ["metadata", "namespace"])
        }
        return object
    }

    /// New objects go only into namespaces that exist and are not being deleted.
    func requireLiveNamespace(_ target: ResourceRoute, _ transaction: StoreTransaction) throws {
        guard target.type.namespaced, let namespace = target.namespace else { return }
        guard let found = try transaction.get(.namespaces, namespace: "", name: namespace) else {
            throw APIError.notFound(.namespaces, namespace)
        }
        if found.isDeleting {
            throw APIError(code: 403, reason: "Forbidden",
                           message: "\(target.type.qualifiedName) \"\(target.name ?? "")\" is forbidden: unable to create new content in namespace \(namespace) because it is being terminated",
                           details: APIError.details(target.type, name: target.name ?? ""))
        }
    }

    /// Stores a write unless it changes nothing (then the old object, resourceVersion unchanged, as
    /// Kubernetes answers a no-op update).
    func commitIfChanged(_ type: ResourceType, old: JSON, _ object: JSON, _ transaction: StoreTransaction) throws -> JSON {
        if comparable(object) == comparable(old) { return old }
        return try commit(type, old: old, object, transaction)
    }

    /// Takes a resourceVersion and stores the object, or removes it when it is being deleted and its
    /// last finalizer is gone.
    func commit(_ type: ResourceType, old: JSON?, _ object: JSON, _ transaction: StoreTransaction) throws -> JSON {
        var object = object
        if old == nil { try QuotaAdmission.check(type, object, transaction) }
        object.setValue(.string(String(try transaction.nextResourceVersion())), at: ["metadata", "resourceVersion"])
        if object.isDeleting, object.finalizers.isEmpty, type != .namespaces, !object.awaitsGracefulTermination {
            try transaction.delete(type, object)
            try afterRemoval(type, object, transaction)
        } else {
            try transaction.put(type, object, previous: old)
            // A terminating namespace goes once it is empty and its own finalizers are gone.
            if type == .namespaces, object.isDeleting, let removed = try finishNamespaceIfEmpty(object.name, transaction) {
                return removed
            }
        }
        return object
    }

    private func comparable(_ object: JSON) -> JSON {
        var object = object
        object.setValue(nil, at: ["metadata", "resourceVersion"])
        object.setManagedFields(object.managedFields.map { entry in
            var entry = entry
            entry.time = ""
            return entry
        })
        return object
    }

    /// A dry run stores nothing, so its answer keeps the resourceVersion the object had (none for a
    /// create), as Kubernetes answers it.
    func answer(_ object: JSON, dryRun: Bool, previousVersion: String?) -> JSON {
        guard dryRun else { return object }
        var object = object
        object.setValue(previousVersion.map(JSON.string), at: ["metadata", "resourceVersion"])
        return object
    }

    func reloadIfDefinitions(_ type: ResourceType, dryRun: Bool) {
        guard type == .customResourceDefinitions, !dryRun else { return }
        if let crds = try? store.read({ try $0.list(.customResourceDefinitions, namespace: nil, after: nil, limit: Int.max) }) {
            registry.reload(crds: crds)
        }
    }

    func warningHeaders(_ warnings: [String]) -> [String: String] {
        guard !warnings.isEmpty else { return [:] }
        // One header line carries them all; HTTP allows comma-joined values for a repeated header.
        // The text is a quoted-string: backslash and double quote are escaped, as kube-apiserver sends them.
        let quoted = { (text: String) in text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        return ["Warning": warnings.map { "299 - \"\(quoted($0))\"" }.joined(separator: ", ")]
    }
}

