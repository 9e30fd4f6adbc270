#!/usr/bin/env python3
"""Writes Sources/LocalCluster/BuiltInSchemas.swift: the official Kubernetes 1.32 schemas of exactly the
built-in kinds the local cluster serves, trimmed to what validation and the OpenAPI documents need (types,
properties, required, items, additionalProperties, formats, enums, patch and list metadata; no descriptions), from the schemas bundled by the pip package
kubernetes-validate (installed by scripts/setup.sh). Re-run after adding a kind: python3 scripts/generate-builtin-schemas.py
"""
import json
import os
import sys

import kubernetes_validate

VERSION = "v1.32.0-local"
# (apiVersion, kind) -> the root definition in the official OpenAPI document.
KINDS = {
    ("v1", "Namespace"): "io.k8s.api.core.v1.Namespace",
    ("v1", "ServiceAccount"): "io.k8s.api.core.v1.ServiceAccount",
    ("v1", "ConfigMap"): "io.k8s.api.core.v1.ConfigMap",
    ("v1", "Secret"): "io.k8s.api.core.v1.Secret",
    ("v1", "ResourceQuota"): "io.k8s.api.core.v1.ResourceQuota",
    ("v1", "LimitRange"): "io.k8s.api.core.v1.LimitRange",
    ("v1", "Pod"): "io.k8s.api.core.v1.Pod",
    ("v1", "Event"): "io.k8s.api.core.v1.Event",
    ("events.k8s.io/v1", "Event"): "io.k8s.api.events.v1.Event",
    ("rbac.authorization.k8s.io/v1", "Role"): "io.k8s.api.rbac.v1.Role",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "io.k8s.api.rbac.v1.RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "io.k8s.api.rbac.v1.ClusterRole",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "io.k8s.api.rbac.v1.ClusterRoleBinding",
    ("networking.k8s.io/v1", "NetworkPolicy"): "io.k8s.api.networking.v1.NetworkPolicy",
    ("batch/v1", "Job"): "io.k8s.api.batch.v1.Job",
    ("coordination.k8s.io/v1", "Lease"): "io.k8s.api.coordination.v1.Lease",
    ("v1", "Service"): "io.k8s.api.core.v1.Service",
    ("v1", "Endpoints"): "io.k8s.api.core.v1.Endpoints",
    ("v1", "PersistentVolumeClaim"): "io.k8s.api.core.v1.PersistentVolumeClaim",
    ("v1", "PersistentVolume"): "io.k8s.api.core.v1.PersistentVolume",
    ("v1", "ReplicationController"): "io.k8s.api.core.v1.ReplicationController",
    ("batch/v1", "CronJob"): "io.k8s.api.batch.v1.CronJob",
    ("networking.k8s.io/v1", "Ingress"): "io.k8s.api.networking.v1.Ingress",
    ("apps/v1", "Deployment"): "io.k8s.api.apps.v1.Deployment",
    ("apps/v1", "ReplicaSet"): "io.k8s.api.apps.v1.ReplicaSet",
    ("apps/v1", "StatefulSet"): "io.k8s.api.apps.v1.StatefulSet",
    ("apps/v1", "DaemonSet"): "io.k8s.api.apps.v1.DaemonSet",
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
}
REF_PREFIX = "#/$defs/"


def load_definitions():
    path = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema", VERSION, "_definitions.json")
    with open(path) as handle:
        return json.load(handle)["$defs"]


def simple_type(schema):
    types = schema.get("type")
    if isinstance(types, list):
        types = [t for t in types if t != "null"]
        return types[0] if len(types) == 1 else None
    return types


def trim(schema, definitions, needed):
    """The structural subset of one schema node; $refs stay refs (PodSpec, JSONSchemaProps recurse)."""
    if "$ref" in schema:
        name = schema["$ref"][len(REF_PREFIX):]
        needed.append(name)
        return {"$ref": name}
    if "oneOf" in schema:
        types = sorted({simple_type(option) for option in schema["oneOf"]} - {None})
        if types == ["integer", "string"]:
            return {"x-kubernetes-int-or-string": True}
        return {"x-types": types}
    out = {}
    kind = simple_type(schema)
    if kind:
        out["type"] = kind
    for key in ("format", "enum"):
        if key in schema and not (key == "enum" and kind is None):
            out[key] = schema[key]
    # Patch and list metadata: kubectl's strategic merge patches read them from the OpenAPI documents.
    for key in ("x-kubernetes-patch-strategy", "x-kubernetes-patch-merge-key", "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type"):
        if key in schema:
            out[key] = schema[key]
    if "required" in schema:
        out["required"] = schema["required"]
    if "properties" in schema:
        out["properties"] = {name: trim(child, definitions, needed) for name, child in sorted(schema["properties"].items())}
    if "items" in schema:
        out["items"] = trim(schema["items"], definitions, needed)
    if isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = trim(schema["additionalProperties"], definitions, needed)
    if schema.get("x-kubernetes-preserve-unknown-fields") or (kind == "object" and "properties" not in schema and "additionalProperties" not in schema) or kind is None:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def main():
    definitions = load_definitions()
    needed = list(KINDS.values())
    trimmed = {}
    while needed:
        name = needed.pop()
        if name in trimmed:
            continue
        trimmed[name] = trim(definitions[name], definitions, needed)
    for name in KINDS.values():
        # apiVersion and kind are the server's to check against the URL, and the JSON enum of one value would refuse nothing else.
        for key in ("apiVersion", "kind"):
            trimmed[name]["properties"].get(key, {}).pop("enum", None)
    document = {
        "source": "kubernetes-validate %s, Kubernetes %s" % (getattr(kubernetes_validate, "__version__", "?"), VERSION[:-len("-local")]),
        "kinds": {"%s/%s" % key: value for key, value in sorted(KINDS.items())},
        "definitions": dict(sorted(trimmed.items())),
    }
    # One definition a line, so a regenerated file diffs by definition.
    compact = lambda value: json.dumps(value, separators=(",", ":"))
    lines = ['"%s":%s' % (name, compact(value)) for name, value in document["definitions"].items()]
    text = '{"source":%s,\n"kinds":%s,\n"definitions":{\n%s\n}}' % (compact(document["source"]), compact(document["kinds"]), ",\n".join(lines))
    assert '"""#' not in text
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "LocalCluster", "BuiltInSchemas.swift")
    with open(target, "w") as handle:
        handle.write("// Generated by scripts/generate-builtin-schemas.py from the official Kubernetes %s schemas\n" % VERSION[:-len("-local")])
        handle.write("// (pip package kubernetes-validate). Do not edit; re-run the script.\n\n")
        handle.write("enum BuiltInSchemas {\n    static let document = #\"\"\"\n")
        handle.write(text)
        handle.write("\n\"\"\"#\n}\n")
    print("wrote %s: %d kinds, %d definitions, %d bytes" % (os.path.relpath(target), len(KINDS), len(trimmed), len(text)))


if __name__ == "__main__":
    sys.exit(main())
