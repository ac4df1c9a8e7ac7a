"""The web console's requests and answers, apart from the HTTP server that carries them (server.py).

Sign-in: the user pastes a bearer token for the management cluster; the
console asks the API server who it belongs to (SelfSubjectReview) and, if it
is anyone, keeps it in memory under a random session id, which the browser
holds in an HttpOnly, Secure, SameSite=Strict cookie. The token itself never
goes back to the browser, into a URL or into a log. Scripts may instead send
`Authorization: Bearer <token>` on every request. Without either, pages
answer 401 with the sign-in form and the JSON API answers 401.

Every state change is a POST; with a cookie session it must carry an Origin
that is this console's own (SameSite=Strict already keeps the cookie off
cross-site requests; the Origin check is the second lock).
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from hcp.console import backend
from hcp.console.backend import ApiProblem, ManagementAPI
from hcp.hostedcluster.kube import Kube
from hcp.monitoring import NAMESPACE as MONITORING_NAMESPACE

COOKIE = "hcp-console"
SESSION_SECONDS = 8 * 3600
"""A session lasts a working day at most; the token's own expiry (checked by the API server) may end it earlier."""
MAX_BODY = 64 * 1024
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
STATIC = re.compile(r"^[a-z0-9_-]+\.(css|js|svg)$")
CONTENT_TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"}
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),  # not no-referrer: with it, Chromium sends "Origin: null" on form POSTs
    ("X-Frame-Options", "DENY"),
    ("Strict-Transport-Security", "max-age=31536000"),
]


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def all_headers(self) -> list[tuple[str, str]]:
        cache = [] if any(k == "Cache-Control" for k, _ in self.headers) else [("Cache-Control", "no-store")]
        return [("Content-Type", self.content_type), ("Content-Length", str(len(self.body))), *SECURITY_HEADERS,
                *cache, *self.headers]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes = b""

    @classmethod
    def make(cls, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Request:
        path, _, query = target.partition("?")
        return cls(method, path, {k: v[0] for k, v in parse_qs(query).items()},
                   {k.lower(): v for k, v in headers.items()}, body)

    def cookie(self, name: str) -> str | None:
        for part in self.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return None

    def json(self) -> dict[str, Any]:
        try:
            body = json.loads(self.body or b"{}")
        except ValueError:
            raise ApiProblem("the request body is not JSON", 400) from None
        if not isinstance(body, dict):
            raise ApiProblem("the request body is not a JSON object", 400)
        return body


@dataclass
class Session:
    token: str
    user: dict[str, Any]
    kube: Kube
    expires: float
    destroys: dict[str, backend.Destroy] = field(default_factory=dict)


class Sessions:
    """Signed-in users by random session id, in memory only: a restart signs everyone out."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def add(self, session: Session) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[sid] = session
        return sid

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            now = self._clock()
            for key in [k for k, s in self._sessions.items() if s.expires < now]:
                self._sessions.pop(key).kube.close()
            return self._sessions.get(sid)

    def remove(self, sid: str | None) -> None:
        with self._lock:
            session = self._sessions.pop(sid or "", None)
        if session is not None:
            session.kube.close()

    def __len__(self) -> int:
        return len(self._sessions)


def _template(name: str) -> str:
    return resources.files("hcp.console").joinpath("templates", name).read_text()


def _static(name: str) -> bytes:
    return resources.files("hcp.console").joinpath("static", name).read_bytes()


class Console:
    """Routes requests; every API step goes to `backend` with the requesting user's own client."""

    def __init__(self, management: ManagementAPI, state_dir: Path, clock: Callable[[], float] = time.time):
        self.management = management
        self.state_dir = state_dir
        self.clock = clock
        self.sessions = Sessions(clock)

    # -- entry -----------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except ApiProblem as problem:
            if request.path.startswith("/api/"):
                return _json({"error": str(problem)}, problem.code)
            return self._page("Error", "error.html", None, message=str(problem), status=problem.code)

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path.startswith("/static/") and method == "GET":
            name = path.removeprefix("/static/")
            if not STATIC.match(name):
                return _not_found(request)
            try:
                body = _static(name)
            except (FileNotFoundError, IsADirectoryError):
                return _not_found(request)
            return Response(200, body, CONTENT_TYPES[name.rsplit(".", 1)[1]], [("Cache-Control", "no-cache")])
        if path == "/login":
            if method == "GET":
                return self._login_page()
            if method == "POST":
                return self._login(request)
        if path == "/logout" and method == "POST":
            self._check_origin(request)
            self.sessions.remove(request.cookie(COOKIE))
            return Response(303, headers=[("Location", "/login"), ("Set-Cookie", _cookie("", 0))])
        if path == "/favicon.ico":
            return Response(204)
        if path == "/healthz":
            return Response(200, b"ok", "text/plain; charset=utf-8")

        bearer = _bearer(request)
        session = None if bearer else self.sessions.get(request.cookie(COOKIE))
        if bearer is None and session is None:
            if path.startswith("/api/"):
                return _json({"error": "sign in first: send a bearer token for the management cluster"}, 401,
                             [("WWW-Authenticate", 'Bearer realm="hcp console"')])
            return self._login_page(status=401)
        if method == "POST" and session is not None:
            self._check_origin(request)
        if bearer is not None:
            kube = self.management.as_user(bearer)
            try:
                return self._authenticated(request, kube, None, bearer)
            finally:
                kube.close()
        return self._authenticated(request, session.kube, session, session.token)

    def _authenticated(self, request: Request, kube: Kube, session: Session | None, token: str) -> Response:
        parts = [p for p in request.path.split("/") if p]
        method = request.method
        user = session.user["username"] if session else None
        if not parts and method == "GET":
            return self._page("Hosted clusters", "list.html", user, page="list",
                              namespace=request.query.get("namespace", ""))
        if parts == ["new"] and method == "GET":
            return self._page("Create a hosted cluster", "new.html", user, page="new",
                              namespace=request.query.get("namespace", "") or "clusters")
        if len(parts) == 3 and parts[0] == "clusters" and method == "GET":
            namespace, name = _names(request, parts[1], parts[2])
            return self._page(f"{namespace}/{name}", "cluster.html", user, page="cluster", namespace=namespace,
                              name=name, monitoring_namespace=MONITORING_NAMESPACE)
        if parts[:1] != ["api"]:
            return _not_found(request)
        return self._api(request, parts[1:], kube, session, token)

    def _api(self, request: Request, parts: list[str], kube: Kube, session: Session | None,
             token: str) -> Response:
        method = request.method
        if parts == ["whoami"] and method == "GET":
            return _json(session.user if session else backend.who_am_i(kube))
        if parts == ["releases"] and method == "GET":
            return _json(backend.releases(kube))
        if parts == ["capacity"] and method == "GET":
            return _json(backend.capacity(kube))
        if parts == ["clusters"] and method == "GET":
            namespace = request.query.get("namespace") or None
            if namespace is not None:
                _names(request, namespace)
            clusters = backend.list_clusters(kube, namespace)
            destroys = {key: job.as_json() for key, job in (session.destroys if session else {}).items()}
            return _json({"clusters": clusters, "destroys": destroys})
        if parts == ["clusters"] and method == "POST":
            create = backend.CreateRequest.from_json(request.json())
            lines = backend.create_cluster(kube, create, self.state_dir)
            return _json({"namespace": create.namespace, "name": create.name, "lines": lines}, 201)
        if len(parts) >= 3 and parts[0] == "clusters":
            namespace, name = _names(request, parts[1], parts[2])
            rest = parts[3:]
            if not rest and method == "GET":
                detail = backend.cluster_detail(kube, namespace, name)
                job = session.destroys.get(f"{namespace}/{name}") if session else None
                detail["destroy"] = job.as_json() if job else None
                return _json(detail)
            if rest == ["kubeconfig"] and method == "GET":
                text = backend.kubeconfig(kube, namespace, name)
                return Response(200, text.encode(), "application/yaml", [
                    ("Content-Disposition", f'attachment; filename="{name}.kubeconfig"')])
            if rest == ["metrics"] and method == "GET":
                return _json(backend.metrics(kube, namespace, name))
            if rest == ["dashboard"] and method == "GET":
                filename, text = backend.grafana_dashboard(kube, namespace, name)
                return Response(200, text.encode(), "application/json", [
                    ("Content-Disposition", f'attachment; filename="{filename}"')])
            if rest == ["update"] and method == "POST":
                backend.start_update(kube, namespace, name, str(request.json().get("image") or ""))
                return _json({"ok": True})
            if rest == ["destroy"] and method == "POST":
                job = backend.destroy(self.management, token, namespace, name,
                                      str(request.json().get("confirm") or ""))
                if session is not None:
                    session.destroys[f"{namespace}/{name}"] = job
                return _json(job.as_json(), 202)
            if len(rest) == 3 and rest[0] == "nodepools" and rest[2] == "scale" and method == "POST":
                (pool,) = _names(request, rest[1])
                try:
                    replicas = int(request.json().get("replicas"))
                except (TypeError, ValueError):
                    raise ApiProblem("replicas must be a whole number", 400) from None
                scaled = backend.scale(kube, namespace, pool, replicas)
                return _json({"replicas": (scaled.get("spec") or {}).get("replicas")})
        return _not_found(request)

    # -- sign-in ---------------------------------------------------------------------------------------------

    def _login(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != _own_origin(request):
            return Response(403, b"cross-site sign-in refused", "text/plain; charset=utf-8")
        if len(request.body) > MAX_BODY:
            return Response(413, b"request too large", "text/plain; charset=utf-8")
        form = parse_qs(request.body.decode(errors="replace"))
        token = (form.get("token") or [""])[0].strip()
        if not token:
            return self._login_page(status=400, message="paste a bearer token for the management cluster")
        kube = self.management.as_user(token)
        try:
            user = backend.who_am_i(kube)
        except ApiProblem as problem:
            kube.close()
            if problem.code == 401:
                return self._login_page(status=401, message=f"the management API server refused this token: {problem}")
            return self._login_page(status=502 if problem.code == 502 else 400,
                                    message=f"could not check this token: {problem}")
        sid = self.sessions.add(Session(token, user, kube, self.clock() + SESSION_SECONDS))
        return Response(303, headers=[("Location", "/"), ("Set-Cookie", _cookie(sid, SESSION_SECONDS))])

    def _login_page(self, status: int = 200, message: str = "") -> Response:
        response = self._page("Sign in", "login.html", None, status=status, message=message,
                              server=self.management.server)
        if status == 401:
            response.headers.append(("WWW-Authenticate", 'Bearer realm="hcp console"'))
        return response

    def _check_origin(self, request: Request) -> None:
        if request.headers.get("origin") != _own_origin(request):
            raise ApiProblem("cross-site request refused: the Origin header is not this console's", 403)

    def _page(self, title: str, template: str, user: str | None, *, status: int = 200,
              **values: str) -> Response:
        body = _fill(_template(template), values)
        page = _fill(_template("layout.html"), {"title": title, "user": user or "",
                                                "page": values.get("page", ""),
                                                "namespace": values.get("namespace", ""),
                                                "name": values.get("name", "")},
                     raw={"signed_in": "signed-in" if user else "", "body": body})  # the body last
        return Response(status, page.encode())


def _fill(text: str, values: dict[str, str], raw: dict[str, str] | None = None) -> str:
    """Put values into a template's {{key}} holes, HTML-escaped, then `raw` ones into [[key]] holes as they are.

    Raw ones last, so text a user typed (escaped into an inner template)
    is never taken for a hole of the outer one.
    """
    text = re.sub(r"\{\{(\w+)\}\}", lambda m: html.escape(str(values.get(m.group(1), ""))), text)
    for key, value in (raw or {}).items():
        text = text.replace("[[" + key + "]]", value)
    return text


def _names(request: Request, *names: str) -> tuple[str, ...]:
    """Names from the URL, checked to be DNS labels before they go into an API path."""
    for name in names:
        if not NAME.match(name):
            raise ApiProblem(f"{name!r} is not a valid name", 404)
    return names


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _own_origin(request: Request) -> str:
    return f"https://{request.headers.get('host', '')}"


def _cookie(value: str, max_age: int) -> str:
    return f"{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"


def _json(body: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, json.dumps(body).encode(), "application/json", headers or [])


def _not_found(request: Request) -> Response:
    if request.path.startswith("/api/"):
        return _json({"error": f"no such console endpoint: {request.method} {request.path}"}, 404)
    return Response(404, b"not found", "text/plain; charset=utf-8")
