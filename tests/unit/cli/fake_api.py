"""An in-memory Kubernetes API server behind httpx2.MockTransport: just enough of one for the CLI's tests.

It serves discovery (a group only while it serves one of its kinds, as a
CRD's group goes with the CRD), get/list/create/server-side apply/delete of
the kinds in KINDS (404 "not found" for missing objects, a detail-less 404
for kinds it does not serve), and pods/log with `previous`. Like a real API server it
refuses writes into a namespace that does not exist (404), honours
`dryRun=All` (everything is checked, nothing is stored) and a delete's uid
precondition (409). `refuse` makes it refuse one object as admission would
(422 by default), for real requests, dry runs or both; `on_delete` hooks
stand in for controllers (the operator's finalizer, the garbage collector).
Every write is recorded in `writes` as (method, plural, namespace, name, dry run).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx2

HYPERSHIFT = "hypershift.openshift.io/v1beta1"
KINDS = {  # plural: (apiVersion, kind, namespaced)
    "namespaces": ("v1", "Namespace", False),
    "nodes": ("v1", "Node", False),
    "secrets": ("v1", "Secret", True),
    "configmaps": ("v1", "ConfigMap", True),
    "pods": ("v1", "Pod", True),
    "events": ("v1", "Event", True),
    "hostedclusters": (HYPERSHIFT, "HostedCluster", True),
    "nodepools": (HYPERSHIFT, "NodePool", True),
    "hostedcontrolplanes": (HYPERSHIFT, "HostedControlPlane", True),
    "networkpolicies": ("networking.k8s.io/v1", "NetworkPolicy", True),
    "servicemonitors": ("monitoring.coreos.com/v1", "ServiceMonitor", True),  # a CRD: served only where installed
}
PLURALS = {kind: plural for plural, (_, kind, _) in KINDS.items()}

Key = tuple[str, str | None, str]  # plural, namespace, name
Write = tuple[str, str, str | None, str, bool]  # method, plural, namespace, name, dry run


@dataclass(frozen=True)
class Refusal:
    kind: str
    name: str
    message: str
    methods: frozenset[str]
    dry_run: bool
    real: bool
    code: int


class FakeAPI:
    def __init__(self, served: frozenset[str] = frozenset(KINDS)):
        self.served = served
        self.unavailable: set[str] = set()
        """Group versions listed in discovery whose resources answer 503 (an aggregated API without backend)."""
        self.objects: dict[Key, dict[str, Any]] = {}
        self.logs: dict[tuple[str, str, str, bool], str] = {}
        self.on_delete: list[Callable[[FakeAPI, Key], None]] = []
        self.refusals: list[Refusal] = []
        self.writes: list[Write] = []
        self.transport = httpx2.MockTransport(self.handle)

    def refuse(self, kind: str, name: str, message: str, *, methods: tuple[str, ...] = ("POST", "PATCH"),
               dry_run: bool = True, real: bool = True, code: int = 422) -> None:
        """Refuse writes of one object (422 Invalid, as a schema, CEL rule or admission policy would)."""
        self.refusals.append(Refusal(kind, name, message, frozenset(methods), dry_run, real, code))

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        metadata = obj["metadata"]
        metadata.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{obj['kind']}/{metadata.get('namespace')}/"
                                                                         f"{metadata['name']}")))
        metadata.setdefault("creationTimestamp", "2030-01-01T00:00:00Z")
        self.objects[(PLURALS[obj["kind"]], metadata.get("namespace"), metadata["name"])] = obj
        return obj

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self.objects.get((PLURALS[kind], namespace, name))

    def names(self, kind: str) -> list[str]:
        return sorted(f"{ns}/{name}" if ns else name for plural, ns, name in self.objects if plural == PLURALS[kind])

    def delete(self, key: Key) -> None:
        if self.objects.pop(key, None) is not None:
            for hook in self.on_delete:
                hook(self, key)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        parts = [p for p in request.url.path.split("/") if p]
        params = {k: v[0] for k, v in parse_qs(request.url.query.decode() if isinstance(request.url.query, bytes)
                                                else request.url.query).items()}
        if parts in (["api"], ["apis"], ["api", "v1"]) or (parts[:1] == ["apis"] and len(parts) == 3):
            return self._discovery(parts)
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural, name, sub = rest[0], (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else None)
        if plural not in self.served:
            return _status(404, "the server could not find the requested resource")
        key = (plural, namespace, name)
        if sub == "log":
            text = self.logs.get((namespace, name, params.get("container"), params.get("previous") == "true"))
            if text is None:
                return _status(400, f"previous terminated container in pod {name} not found")
            return httpx2.Response(200, text=text)
        if request.method == "GET" and name is None:
            items = [o for (p, ns, _), o in sorted(self.objects.items(), key=lambda i: str(i[0]))
                     if p == plural and (namespace is None or ns == namespace)]
            return httpx2.Response(200, json={"apiVersion": KINDS[plural][0], "kind": f"{KINDS[plural][1]}List",
                                              "metadata": {"resourceVersion": "1"}, "items": items})
        existing = self.objects.get(key)
        if request.method == "GET":
            return httpx2.Response(200, json=existing) if existing else _not_found(plural, name)
        if request.method in ("POST", "PATCH", "DELETE"):
            body = json.loads(request.content) if request.content else {}
            name = name or body["metadata"]["name"]
            dry_run = params.get("dryRun") == "All"
            self.writes.append((request.method, plural, namespace, name, dry_run))
            if namespace is not None and request.method != "DELETE" and \
                    self.get("Namespace", namespace) is None:
                return _not_found("namespaces", namespace)  # NamespaceLifecycle admission, dry run or not
            refused = self._refused(request.method, KINDS[plural][1], name, dry_run)
            if refused is not None:
                return refused
            existing = self.objects.get((plural, namespace, name))
        if request.method == "POST":
            if existing is not None:
                return _status(409, f'{plural} "{name}" already exists', reason="AlreadyExists")
            obj = {**body, "metadata": {**body["metadata"], "namespace": namespace}}
            return httpx2.Response(201, json=self._would_add(obj) if dry_run else self.add(obj))
        if request.method == "PATCH":
            merged = {**(existing or {}), **body,
                      "metadata": {**((existing or {}).get("metadata") or {}), **body["metadata"]}}
            return httpx2.Response(200, json=self._would_add(merged) if dry_run else self.add(merged))
        if request.method == "DELETE":
            if existing is None:
                return _not_found(plural, name)
            uid = ((body.get("preconditions") or {}).get("uid"))
            if uid and uid != existing["metadata"]["uid"]:
                return _status(409, f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                                    f"{existing['metadata']['uid']}", reason="Conflict")
            if not dry_run:
                self.delete(key)
            return httpx2.Response(200, json={"kind": "Status", "apiVersion": "v1", "status": "Success"})
        return _status(405, "method not allowed")

    def _would_add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """What add() would store, without storing it (a dry run)."""
        saved = dict(self.objects)
        try:
            return self.add(obj)
        finally:
            self.objects = saved

    def _refused(self, method: str, kind: str, name: str, dry_run: bool) -> httpx2.Response | None:
        for refusal in self.refusals:
            if (refusal.kind, refusal.name) == (kind, name) and method in refusal.methods and \
                    (refusal.dry_run if dry_run else refusal.real):
                reason = {422: "Invalid", 403: "Forbidden"}.get(refusal.code, "BadRequest")
                return _status(refusal.code, refusal.message, reason=reason,
                               details={"name": name, "kind": PLURALS[kind]})
        return None

    def _discovery(self, parts: list[str]) -> httpx2.Response:
        if parts == ["api"]:
            return httpx2.Response(200, json={"kind": "APIVersions", "versions": ["v1"]})
        if parts == ["apis"]:
            groups = []
            for group_version in dict.fromkeys(api_version for plural, (api_version, _, _) in KINDS.items()
                                               if "/" in api_version and plural in self.served):
                version = {"groupVersion": group_version, "version": group_version.split("/")[1]}
                groups.append({"name": group_version.split("/")[0], "versions": [version],
                               "preferredVersion": version})
            for group_version in sorted(self.unavailable):
                version = {"groupVersion": group_version, "version": group_version.split("/")[1]}
                groups.append({"name": group_version.split("/")[0], "versions": [version],
                               "preferredVersion": version})
            return httpx2.Response(200, json={"kind": "APIGroupList", "groups": groups})
        group_version = "v1" if parts == ["api", "v1"] else "/".join(parts[1:])
        if group_version in self.unavailable:
            return _status(503, "the server is currently unable to handle the request", reason="ServiceUnavailable")
        resources = [{"name": plural, "kind": kind, "namespaced": namespaced,
                      "verbs": ["get", "list", "create", "patch", "delete"]}
                     for plural, (api_version, kind, namespaced) in KINDS.items()
                     if api_version == group_version and plural in self.served]
        resources.append({"name": "pods/log", "kind": "Pod", "namespaced": True, "verbs": ["get"]})
        return httpx2.Response(200, json={"kind": "APIResourceList", "groupVersion": group_version,
                                          "resources": resources})


def _not_found(plural: str, name: str | None) -> httpx2.Response:
    return _status(404, f'{plural} "{name}" not found', details={"name": name, "kind": plural})


def _status(code: int, message: str, *, reason: str = "NotFound", details: dict | None = None) -> httpx2.Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details:
        body["details"] = details
    return httpx2.Response(code, json=body)
