"""The web console's requests, against the in-memory API server: sign-in, pass-through of the user's token,
CSRF, and each action as the API change it is. The HTTP transport is the only thing stubbed."""

from __future__ import annotations

import base64
import copy
import json
import logging
import ssl
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from hcp.console import backend
from hcp.console.app import COOKIE, Console, Request
from hcp.console.backend import ManagementAPI
from hcp.console.server import ConsoleServer
from hcp.console.tls import serving_certificate
from tests.unit.cli.conftest import SERVER
from tests.unit.cli.fake_api import FakeAPI, _status

GOOD, NOBODY = "token-of-alice", "token-of-nobody"
USERS = {GOOD: "system:serviceaccount:team-a:alice", NOBODY: "system:serviceaccount:team-a:nobody"}
HOST = "console.test:8443"
ORIGIN = f"https://{HOST}"
RELEASE = "registry.hcp.internal:5000/hcp/release:v1.37.1"


def _merge(into: dict, patch: dict) -> dict:
    """RFC 7386 merge patch."""
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
    return into


class UserAPI(FakeAPI):
    """The fake API server with authentication and a little authorization: tokens are users; `nobody` may
    do nothing but ask who it is. Also SelfSubjectReview, the scale subresource and merge patches."""

    def __init__(self):
        super().__init__()
        self.tokens_seen: list[str] = []
        self.prometheus = None
        """Answers requests to Prometheus's service proxy path when set (else: 404, no such service)."""
        self.forbidden: set[str] = set()
        """Paths the good user may not GET either (403, as RBAC words it)."""

    def handle(self, request):
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        self.tokens_seen.append(token)
        if scheme != "Bearer" or token not in USERS:
            return _status(401, "Unauthorized", reason="Unauthorized")
        path = request.url.path
        if path == "/apis/authentication.k8s.io/v1/selfsubjectreviews":
            return _response(201, {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
                                   "status": {"userInfo": {"username": USERS[token], "groups": ["g"]}}})
        if path in self.forbidden:
            return _status(403, f'forbidden: User "{USERS[token]}" cannot get path {path}', reason="Forbidden")
        if "/proxy/" in path and self.prometheus is not None:
            return self.prometheus(request)
        if token == NOBODY:
            return _status(403, f'hostedclusters.hypershift.openshift.io is forbidden: User "{USERS[token]}" '
                                f'cannot list resource "hostedclusters" in API group "hypershift.openshift.io" '
                                f'at the cluster scope', reason="Forbidden")
        if request.method == "PATCH" and "merge-patch" in request.headers.get("content-type", ""):
            parts = path.split("/")
            plural, name = parts[6], parts[7]
            key = (plural, parts[5], name)
            existing = self.objects.get(key)
            if existing is None:
                return _status(404, f'{plural} "{name}" not found')
            patch = json.loads(request.content)
            self.writes.append(("PATCH", plural + ("/scale" if path.endswith("/scale") else ""), parts[5], name,
                                False))
            if path.endswith("/scale"):
                existing["spec"]["replicas"] = patch["spec"]["replicas"]
                return _response(200, {"kind": "Scale", "spec": {"replicas": existing["spec"]["replicas"]}})
            return _response(200, _merge(existing, patch))
        return super().handle(request)


def _response(code, body):
    import httpx2
    return httpx2.Response(code, json=body)


@pytest.fixture
def world(tmp_path):
    fake = UserAPI()
    management = ManagementAPI({"server": SERVER}, None, fake.transport)
    console = Console(management, tmp_path / "state")
    return fake, console


def call(console, method, target, *, cookie=None, body=b"", origin=ORIGIN, headers=None, json_body=None):
    head = {"Host": HOST, **(headers or {})}
    if origin is not None:
        head["Origin"] = origin
    if cookie:
        head["Cookie"] = f"{COOKIE}={cookie}"
    if json_body is not None:
        body = json.dumps(json_body).encode()
        head["Content-Type"] = "application/json"
    return console.handle(Request.make(method, target, head, body))


def sign_in(console, token=GOOD) -> str:
    response = call(console, "POST", "/login", body=f"token={token}".encode())
    assert response.status == 303, response.body
    cookie = dict(response.headers)["Set-Cookie"]
    return cookie.split(";")[0].split("=", 1)[1]


def cluster(fake, name="demo", namespace="team-a", **status):
    fake.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    fake.add({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster",
              "metadata": {"name": name, "namespace": namespace},
              "spec": {"release": {"image": RELEASE}}, "status": {
                  "conditions": [{"type": "Available", "status": "True", "reason": "AsExpected",
                                  "message": "The hosted control plane is available"},
                                 {"type": "Degraded", "status": "False", "reason": "AsExpected", "message": ""}],
                  "version": {"desired": {"version": "1.37.1"},
                              "availableUpdates": [{"image": RELEASE.replace("1.37.1", "1.37.2")}]},
                  "kubeconfig": {"name": f"{name}-admin-kubeconfig"}, **status}})
    fake.add({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
              "metadata": {"name": name, "namespace": namespace},
              "spec": {"clusterName": name, "replicas": 1, "release": {"image": RELEASE}},
              "status": {"replicas": 1}})


# -- authentication --------------------------------------------------------------------------------------------


def test_without_a_token_pages_answer_with_the_sign_in_form_and_the_api_with_401(world):
    _, console = world
    page = call(console, "GET", "/")
    assert page.status == 401 and b'name="token"' in page.body
    assert ("WWW-Authenticate", 'Bearer realm="hcp console"') in page.headers
    for target in ("/api/clusters", "/api/clusters/team-a/demo/kubeconfig", "/clusters/team-a/demo"):
        response = call(console, "GET", target)
        assert response.status == 401, target
    assert call(console, "POST", "/api/clusters", json_body={}).status == 401
    assert call(console, "GET", "/", cookie="made-up-session").status == 401


def test_sign_in_checks_the_token_and_keeps_it_on_the_server(world):
    fake, console = world
    response = call(console, "POST", "/login", body=f"token={GOOD}".encode())
    assert response.status == 303
    cookie = dict(response.headers)["Set-Cookie"]
    assert {"HttpOnly", "Secure", "SameSite=Strict"} <= {part.strip() for part in cookie.split(";")}
    assert GOOD not in cookie and GOOD not in str(response.headers)
    sid = cookie.split(";")[0].split("=", 1)[1]
    whoami = call(console, "GET", "/api/whoami", cookie=sid)
    assert json.loads(whoami.body)["username"] == USERS[GOOD]
    assert GOOD not in whoami.body.decode()

    refused = call(console, "POST", "/login", body=b"token=wrong")
    assert refused.status == 401 and b"refused this token: Unauthorized" in refused.body
    assert len(console.sessions) == 1

    out = call(console, "POST", "/logout", cookie=sid)
    assert out.status == 303 and call(console, "GET", "/", cookie=sid).status == 401


def test_a_bearer_header_works_without_a_session(world):
    fake, console = world
    cluster(fake)
    response = call(console, "GET", "/api/clusters", headers={"Authorization": f"Bearer {GOOD}"}, origin=None)
    assert response.status == 200 and json.loads(response.body)["clusters"][0]["name"] == "demo"


def test_state_changes_need_this_consoles_origin(world):
    fake, console = world
    cluster(fake)
    sid = sign_in(console)
    for origin in (None, "https://evil.test", "null"):
        response = call(console, "POST", "/api/clusters/team-a/demo/nodepools/demo/scale", cookie=sid,
                        origin=origin, json_body={"replicas": 3})
        assert response.status == 403 and b"cross-site" in response.body
    assert fake.get("NodePool", "demo", "team-a")["spec"]["replicas"] == 1
    assert call(console, "POST", "/login", body=f"token={GOOD}".encode(), origin="https://evil.test").status == 403


def test_every_api_request_carries_the_users_own_token(world):
    fake, console = world
    cluster(fake)
    sid = sign_in(console)
    call(console, "GET", "/api/clusters", cookie=sid)
    call(console, "GET", "/api/clusters/team-a/demo", cookie=sid)
    assert fake.tokens_seen and set(fake.tokens_seen) == {GOOD}


def test_what_the_api_forbids_is_shown_in_its_own_words(world):
    fake, console = world
    cluster(fake)
    sid = sign_in(console, NOBODY)
    response = call(console, "GET", "/api/clusters", cookie=sid)
    assert response.status == 403
    assert json.loads(response.body)["error"] == (
        f'hostedclusters.hypershift.openshift.io is forbidden: User "{USERS[NOBODY]}" cannot list resource '
        f'"hostedclusters" in API group "hypershift.openshift.io" at the cluster scope')


def test_the_token_never_reaches_the_log(world, caplog):
    fake, console = world
    caplog.set_level(logging.DEBUG)
    sid = sign_in(console)
    call(console, "GET", "/api/clusters", cookie=sid)
    assert GOOD not in caplog.text and sid not in caplog.text


# -- reading ---------------------------------------------------------------------------------------------------


def test_the_list_shows_conditions_versions_and_node_pools(world):
    fake, console = world
    cluster(fake)
    cluster(fake, "other", "team-b")
    sid = sign_in(console)
    rows = json.loads(call(console, "GET", "/api/clusters?namespace=team-a", cookie=sid).body)["clusters"]
    assert [(r["namespace"], r["name"]) for r in rows] == [("team-a", "demo")]
    row = rows[0]
    assert row["version"] == "1.37.1" and row["nodePools"] == 1
    assert row["conditions"]["Available"]["message"] == "The hosted control plane is available"
    assert row["conditions"]["Progressing"] is None
    everyone = json.loads(call(console, "GET", "/api/clusters", cookie=sid).body)["clusters"]
    assert len(everyone) == 2


@pytest.mark.parametrize(("type_", "status", "health"), [
    ("Available", "True", "good"), ("Available", "False", "bad"),
    ("Progressing", "False", "good"), ("Progressing", "True", "neutral"),  # a rollout under way is no fault
    ("Degraded", "False", "good"), ("Degraded", "True", "bad"),
    ("ValidConfiguration", "False", "bad"), ("Ready", "True", "good"), ("UpdatingVersion", "True", "neutral"),
    ("Available", "Unknown", "neutral"), ("ReconciliationPaused", "True", "neutral"),
    ("SomethingNew", "False", "neutral"), ("SomethingNew", "True", "neutral"),
])
def test_a_condition_is_coloured_by_its_meaning_not_its_status(type_, status, health):
    assert backend.condition_health(type_, status) == health


def test_the_list_and_the_page_say_how_healthy_each_condition_is(world):
    fake, console = world
    cluster(fake, conditions=[
        {"type": "Available", "status": "True", "reason": "AsExpected", "message": ""},
        {"type": "Progressing", "status": "False", "reason": "AsExpected", "message": "at expected version"},
        {"type": "Degraded", "status": "False", "reason": "AsExpected", "message": ""},
        {"type": "ValidReleaseImage", "status": "False", "reason": "InvalidImage", "message": "no such image"}])
    sid = sign_in(console)
    [row] = json.loads(call(console, "GET", "/api/clusters?namespace=team-a", cookie=sid).body)["clusters"]
    assert {kind: c["health"] for kind, c in row["conditions"].items()} == {
        "Available": "good", "Progressing": "good", "Degraded": "good"}
    detail = json.loads(call(console, "GET", "/api/clusters/team-a/demo", cookie=sid).body)
    assert [(c["type"], c["status"], c["health"]) for c in detail["allConditions"]] == [
        ("Available", "True", "good"), ("Progressing", "False", "good"), ("Degraded", "False", "good"),
        ("ValidReleaseImage", "False", "bad")]


def test_the_cluster_page_has_node_pools_events_and_updates(world):
    fake, console = world
    cluster(fake)
    fake.add({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "team-a"},
              "involvedObject": {"kind": "HostedCluster", "name": "demo"}, "type": "Normal",
              "reason": "ReconciliationSucceeded", "message": "control plane applied",
              "lastTimestamp": "2030-01-01T00:00:00Z"})
    fake.add({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e2", "namespace": "team-a"},
              "involvedObject": {"kind": "NodePool", "name": "demo"}, "message": "not this one"})
    sid = sign_in(console)
    detail = json.loads(call(console, "GET", "/api/clusters/team-a/demo", cookie=sid).body)
    assert [e["message"] for e in detail["events"]] == ["control plane applied"]
    assert detail["nodePools"][0] | {"conditions": []} == {"name": "demo", "replicas": 1, "currentReplicas": 1,
                                                           "version": "", "platform": None, "conditions": []}
    assert detail["availableUpdates"] == [RELEASE.replace("1.37.1", "1.37.2")]
    assert detail["kubeconfigReady"] and detail["destroy"] is None
    page = call(console, "GET", "/clusters/team-a/demo", cookie=sid)
    assert page.status == 200 and b"<h2>Metrics</h2>" in page.body and b'id="plots"' in page.body
    assert b'href="/api/clusters/team-a/demo/dashboard" download>Grafana dashboard</a>' in page.body
    missing = call(console, "GET", "/api/clusters/team-a/nothing", cookie=sid)
    assert missing.status == 400 and b"HostedCluster team-a/nothing not found" in missing.body


def test_names_from_the_url_are_checked_and_text_is_escaped(world):
    fake, console = world
    sid = sign_in(console)
    assert call(console, "GET", "/api/clusters/team-a/..%2f..%2fsecrets", cookie=sid).status == 404
    assert call(console, "GET", "/api/clusters?namespace=a/b", cookie=sid).status == 404
    page = call(console, "GET", "/?namespace=<script>alert(1)</script>[[body]]", cookie=sid)
    assert b"<script>alert" not in page.body and b"&lt;script&gt;" in page.body
    assert dict(page.all_headers())["Content-Security-Policy"].startswith("default-src 'self'")


def test_capacity_is_hcp_capacitys_report(world):
    fake, console = world
    fake.add({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
              "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "250"},
                         "conditions": [{"type": "Ready", "status": "True"}]}})
    sid = sign_in(console)
    data = json.loads(call(console, "GET", "/api/capacity", cookie=sid).body)
    assert "request" in data["table"] and data["report"]["nodes"]


# -- metrics ---------------------------------------------------------------------------------------------------

PROXY = "/api/v1/namespaces/hcp-monitoring/services/https:prometheus:web/proxy/api/v1/query_range"


def prometheus(queries: list, fail: dict | None = None):
    """Prometheus behind the service proxy: each query_range answered with two series a minute apart."""
    import httpx2
    from urllib.parse import parse_qs

    def answer(request):
        assert request.url.path == PROXY
        params = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        queries.append(params)
        for needle, (code, body) in (fail or {}).items():
            if needle in params["query"]:
                return httpx2.Response(code, json=body)
        start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
        values = [[start + i * step, str(i)] for i in range(int((end - start) / step) + 1)]
        result = [{"metric": {"pod": pod, "code": "200"}, "values": values} for pod in ("etcd-0", "etcd-1")]
        return httpx2.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": result}})

    return answer


def test_the_plots_are_prometheus_queries_through_the_service_proxy_drawn_as_svg(world):
    fake, console = world
    cluster(fake)
    queries = []
    fake.prometheus = prometheus(queries)
    sid = sign_in(console)
    response = call(console, "GET", "/api/clusters/team-a/demo/metrics", cookie=sid)
    assert response.status == 200, response.body
    data = json.loads(response.body)
    assert data["unavailable"] is None
    assert [p["title"] for p in data["plots"]] == ["API request rate by code", "etcd database size",
                                                   "Control-plane CPU by pod", "Control-plane memory by pod"]
    assert queries[0]["query"] == 'sum by (code) (rate(apiserver_request_total{namespace="team-a-demo"}[5m]))'
    assert all('namespace="team-a-demo"' in q["query"] for q in queries)
    assert {float(q["end"]) - float(q["start"]) for q in queries} == {3600.0} and {q["step"] for q in queries} == {"60"}
    for plot in data["plots"]:
        assert plot["error"] is None and plot["svg"].startswith("<svg") and plot["svg"].count("<polyline") == 2
    assert 'etcd-0 <tspan fill="#1d2330">60 B</tspan>' in data["plots"][1]["svg"]  # the last value, in bytes
    assert set(fake.tokens_seen) == {GOOD}


def test_without_prometheus_the_page_gets_one_line_not_an_error(world):
    fake, console = world
    cluster(fake)
    sid = sign_in(console)
    data = json.loads(call(console, "GET", "/api/clusters/team-a/demo/metrics", cookie=sid).body)
    assert data["plots"] == []
    assert data["unavailable"].startswith("No plots: Prometheus is not installed or not running (service "
                                          "hcp-monitoring/prometheus through the API server's proxy answered 404")
    assert "`hcp install --prometheus` deploys it" in data["unavailable"]
    fake.prometheus = lambda request: _status(503, 'no endpoints available for service "https:prometheus:web"',
                                              reason="ServiceUnavailable")
    data = json.loads(call(console, "GET", "/api/clusters/team-a/demo/metrics", cookie=sid).body)
    assert "answered 503: no endpoints available" in data["unavailable"]


def test_a_user_who_may_not_use_the_proxy_reads_the_apis_words(world):
    fake, console = world
    cluster(fake)
    message = ('services "https:prometheus:web" is forbidden: User "system:serviceaccount:team-a:alice" cannot get '
               'resource "services/proxy" in API group "" in the namespace "hcp-monitoring"')
    fake.prometheus = lambda request: _status(403, message, reason="Forbidden")
    sid = sign_in(console)
    response = call(console, "GET", "/api/clusters/team-a/demo/metrics", cookie=sid)
    assert response.status == 200 and json.loads(response.body) | {"start": 0, "end": 0} == {
        "plots": [], "unavailable": message, "start": 0, "end": 0}


def test_a_query_prometheus_refuses_is_that_plots_error(world):
    fake, console = world
    cluster(fake)
    fake.prometheus = prometheus([], {"etcd_mvcc": (400, {"status": "error", "errorType": "bad_data",
                                                          "error": "parse error"})})
    sid = sign_in(console)
    plots = json.loads(call(console, "GET", "/api/clusters/team-a/demo/metrics", cookie=sid).body)["plots"]
    assert [p["error"] for p in plots] == [None, "Prometheus: parse error", None, None]
    assert plots[1]["svg"] is None


def test_the_grafana_dashboard_is_rendered_for_the_cluster_from_the_template_the_user_can_read(world):
    fake, console = world
    cluster(fake)
    fake.get("HostedCluster", "demo", "team-a")["spec"]["clusterID"] = "2f3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
    sid = sign_in(console)
    download = call(console, "GET", "/api/clusters/team-a/demo/dashboard", cookie=sid)
    assert download.status == 200 and download.content_type == "application/json"
    assert dict(download.headers)["Content-Disposition"] == 'attachment; filename="cp-team-a-demo.json"'
    board = json.loads(download.body)
    assert board["title"] == "Hosted cluster team-a/demo" and board["uid"] == "hcp-2f3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
    assert 'namespace="team-a-demo"' in board["panels"][0]["targets"][0]["expr"]

    fake.add({"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "monitoring-dashboard-template", "namespace": "hypershift"},
              "data": {"template": '{"title": "ours: __NAMESPACE__/__NAME__ in __CONTROL_PLANE_NAMESPACE__"}'}})
    custom = json.loads(call(console, "GET", "/api/clusters/team-a/demo/dashboard", cookie=sid).body)
    assert custom == {"title": "ours: team-a/demo in team-a-demo"}
    fake.forbidden.add("/api/v1/namespaces/hypershift/configmaps/monitoring-dashboard-template")
    again = json.loads(call(console, "GET", "/api/clusters/team-a/demo/dashboard", cookie=sid).body)
    assert again["title"] == "Hosted cluster team-a/demo"
    missing = call(console, "GET", "/api/clusters/team-a/nothing/dashboard", cookie=sid)
    assert missing.status == 400 and b"HostedCluster team-a/nothing not found" in missing.body


# -- changing --------------------------------------------------------------------------------------------------


def test_create_makes_what_hcp_create_cluster_kwok_makes(world, hcp, api):
    fake, console = world
    rendered = hcp("create", "cluster", "kwok", "--name", "demo", "--namespace", "team-a", "--release-image", RELEASE,
                   "--node-pool-replicas", "3", "--api-server-address", "10.1.2.3", "--render", "--render-sensitive")
    assert rendered.code == 0, rendered.err
    sid = sign_in(console)
    request = backend.CreateRequest("demo", "team-a", RELEASE, 3, "10.1.2.3")
    documents = backend.cluster_documents(console.management.as_user(GOOD), request, Path("/nonexistent"))
    assert documents == list(yaml.safe_load_all(rendered.out))

    response = call(console, "POST", "/api/clusters", cookie=sid, json_body={
        "name": "demo", "namespace": "team-a", "releaseImage": RELEASE, "replicas": 3,
        "apiServerAddress": "10.1.2.3"})
    assert response.status == 201, response.body
    assert fake.get("HostedCluster", "demo", "team-a")["spec"]["release"]["image"] == RELEASE
    assert fake.get("NodePool", "demo", "team-a")["spec"]["replicas"] == 3
    assert any(dry for *_, dry in fake.writes), "validated by a dry run first"
    again = call(console, "POST", "/api/clusters", cookie=sid, json_body={
        "name": "demo", "namespace": "team-a", "releaseImage": RELEASE, "replicas": 3, "apiServerAddress": "1.1.1.1"})
    assert again.status == 409 and b"already exists" in again.body


def test_create_shows_the_apis_refusal_verbatim(world):
    fake, console = world
    fake.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    fake.refuse("HostedCluster", "demo", 'HostedCluster.hypershift.openshift.io "demo" is invalid: spec.release: '
                                         'Invalid value: "x": no')
    sid = sign_in(console)
    response = call(console, "POST", "/api/clusters", cookie=sid, json_body={
        "name": "demo", "namespace": "team-a", "releaseImage": RELEASE, "apiServerAddress": "10.1.2.3"})
    assert response.status == 400
    assert 'HostedCluster.hypershift.openshift.io "demo" is invalid: spec.release: Invalid value: "x": no' in \
        json.loads(response.body)["error"]
    assert fake.get("HostedCluster", "demo", "team-a") is None
    bad = call(console, "POST", "/api/clusters", cookie=sid, json_body={"name": "Demo", "namespace": "team-a",
                                                                         "releaseImage": RELEASE})
    assert bad.status == 400 and b"not a DNS label" in bad.body


def test_scale_update_and_kubeconfig_are_plain_api_changes(world):
    fake, console = world
    cluster(fake)
    kubeconfig = "apiVersion: v1\nkind: Config\nclusters: [{name: demo, cluster: {server: 'https://10.1.2.3:30443'}}]\n"
    fake.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "demo-admin-kubeconfig", "namespace": "team-a"},
              "data": {"kubeconfig": base64.b64encode(kubeconfig.encode()).decode()}})
    sid = sign_in(console)
    scaled = call(console, "POST", "/api/clusters/team-a/demo/nodepools/demo/scale", cookie=sid,
                  json_body={"replicas": 2})
    assert scaled.status == 200 and fake.get("NodePool", "demo", "team-a")["spec"]["replicas"] == 2
    assert ("PATCH", "nodepools/scale", "team-a", "demo", False) in fake.writes

    new = RELEASE.replace("1.37.1", "1.37.2")
    updated = call(console, "POST", "/api/clusters/team-a/demo/update", cookie=sid, json_body={"image": new})
    assert updated.status == 200
    spec = fake.get("HostedCluster", "demo", "team-a")["spec"]
    assert spec["release"]["image"] == new

    download = call(console, "GET", "/api/clusters/team-a/demo/kubeconfig", cookie=sid)
    assert download.status == 200 and download.body.decode() == kubeconfig
    assert dict(download.headers)["Content-Disposition"] == 'attachment; filename="demo.kubeconfig"'
    assert ("Cache-Control", "no-store") in download.all_headers()


def test_destroy_needs_the_name_typed_and_removes_everything(world):
    fake, console = world
    cluster(fake)
    fake.add({"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": "demo-pull-secret", "namespace": "team-a",
        "labels": {"hypershift.openshift.io/auto-created-for-infra": "demo"}}})
    sid = sign_in(console)
    refused = call(console, "POST", "/api/clusters/team-a/demo/destroy", cookie=sid, json_body={"confirm": "dem"})
    assert refused.status == 400 and fake.get("HostedCluster", "demo", "team-a") is not None
    started = call(console, "POST", "/api/clusters/team-a/demo/destroy", cookie=sid, json_body={"confirm": "demo"})
    assert started.status == 202
    job = console.sessions.get(sid).destroys["team-a/demo"]
    deadline = time.monotonic() + 10
    while not job.done and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.done and job.error is None, job.lines
    assert fake.names("HostedCluster") == [] and fake.names("NodePool") == [] and fake.names("Secret") == []
    listed = json.loads(call(console, "GET", "/api/clusters", cookie=sid).body)
    assert listed["clusters"] == [] and listed["destroys"]["team-a/demo"]["done"]


# -- serving ---------------------------------------------------------------------------------------------------


def test_the_certificate_is_kept_private_and_reused(tmp_path):
    ca, cert, key = serving_certificate(tmp_path / "console", "127.0.0.1")
    assert key.stat().st_mode & 0o777 == 0o600 and (tmp_path / "console" / "ca.key").stat().st_mode & 0o777 == 0o600
    before = cert.read_bytes()
    assert serving_certificate(tmp_path / "console", "127.0.0.1")[1].read_bytes() == before
    serving_certificate(tmp_path / "console", "console.example")
    assert cert.read_bytes() != before, "a name not covered gets a new leaf"


def test_the_server_speaks_tls_and_refuses_anonymous_requests(world, tmp_path):
    _, console = world
    ca, cert, key = serving_certificate(tmp_path / "tls", "127.0.0.1")
    server = ConsoleServer(console, "127.0.0.1", 0, cert, key)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"https://127.0.0.1:{server.server_address[1]}"
        context = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(verify=context) as client:
            assert client.get(f"{base}/").status_code == 401
            assert client.get(f"{base}/api/clusters").json()["error"].startswith("sign in first")
            assert client.get(f"{base}/static/console.js").status_code == 200
            signed = client.post(f"{base}/login", data={"token": GOOD}, headers={"Origin": base})
            assert signed.status_code == 303
            assert client.get(f"{base}/api/whoami").json()["username"] == USERS[GOOD]
    finally:
        server.shutdown()
        server.server_close()
