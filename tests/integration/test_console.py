"""The web console in a real browser against a real management cluster, as a namespaced user would use it.

Debian's headless Chromium, driven by Selenium through Debian's chromedriver
(named explicitly, so Selenium's driver manager never downloads anything).
The user is a ServiceAccount bound to hcp's `hcp:cluster-service-consumer`
persona in one namespace only: everything the console does is done with that
token, so it also shows RBAC passing through. A second ServiceAccount with no
rights sees the API's Forbidden message verbatim. Screenshots of the cluster
list and the cluster page are saved under the test's tmp_path and copied to
test-artifacts/console/ at the top of the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from tests.integration.conftest import ManagementCluster, stop_process, wait_for
from tests.integration.ports import free_port

pytestmark = pytest.mark.integration

CONSUMER = "hcp:cluster-service-consumer"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


@pytest.fixture(scope="module")
def team(operator_installed: ManagementCluster):
    """Namespace console-<id> with ServiceAccounts alice (the consumer persona there) and nobody (no rights)."""
    cluster, namespace = operator_installed, f"console-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("-n", namespace, "create", "serviceaccount", "alice")
    cluster.kubectl("-n", namespace, "create", "serviceaccount", "nobody")
    cluster.kubectl("-n", namespace, "create", "rolebinding", "alice", f"--clusterrole={CONSUMER}",
                    f"--serviceaccount={namespace}:alice")
    tokens = {who: cluster.kubectl("-n", namespace, "create", "token", who, "--duration=2h").stdout.strip()
              for who in ("alice", "nobody")}
    yield namespace, tokens
    cluster.kubectl("delete", "namespace", namespace, "--ignore-not-found", "--timeout=180s", timeout=240)


@pytest.fixture(scope="module")
def console_url(operator_installed: ManagementCluster, tmp_path_factory):
    """`hcp console` on a free loopback port, against the management cluster (its certificate's CA alongside)."""
    cluster, port = operator_installed, free_port()
    log = tmp_path_factory.mktemp("console") / "console.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hcp.cli", "console", "--port", str(port), "--state-dir", str(cluster.state_dir),
             "--kubeconfig", str(cluster.state_dir / "admin.kubeconfig")], stdout=out, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    ca = cluster.state_dir / "console" / "ca.crt"
    try:
        def up() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return httpx.get(f"{url}/healthz", verify=str(ca), timeout=2).status_code == 200
            except (httpx.TransportError, FileNotFoundError, OSError):
                return False
        wait_for(up, 60, "hcp console to serve")
        yield url, ca
    finally:
        stop_process(process)


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (make test installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--ignore-certificate-errors"):  # the console's own CA is not in the browser's store
        options.add_argument(argument)
    # The profile and Chromium's scratch files (its singleton socket directory goes to TMPDIR) in a directory
    # removed after: otherwise every run left an org.chromium.Chromium.* directory in /tmp. A short path in
    # /tmp, not tmp_path: the socket's path must fit a Unix socket address (108 bytes), or Chromium exits.
    scratch = Path(tempfile.mkdtemp(prefix="hcp-chromium-"))
    options.add_argument(f"--user-data-dir={scratch / 'profile'}")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    service = Service(executable_path=str(CHROMEDRIVER), env={**os.environ, "TMPDIR": str(scratch)})
    driver = webdriver.Chrome(service=service, options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(scratch, ignore_errors=True)


def _by():
    from selenium.webdriver.common.by import By
    return By


def text(driver, css: str) -> str:
    """The text of the first element `css` selects; "" if none, or if the page's live update replaced it
    between finding and reading (the callers poll, so they look again)."""
    from selenium.common.exceptions import StaleElementReferenceException
    found = driver.find_elements(_by().CSS_SELECTOR, css)
    try:
        return found[0].text.strip() if found else ""
    except StaleElementReferenceException:
        return ""


def sign_in(driver, url: str, token: str) -> None:
    By = _by()
    driver.get(f"{url}/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "sign-in").click()
    wait_for(lambda: driver.find_elements(By.ID, "sign-out") and text(driver, "#user"), 30, "the signed-in page")


def screenshot(driver, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert driver.save_screenshot(str(path)), name
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / name)


def test_unauthenticated_requests_are_refused(console_url):
    url, ca = console_url
    page = httpx.get(f"{url}/", verify=str(ca))
    assert page.status_code == 401 and 'name="token"' in page.text
    api = httpx.get(f"{url}/api/clusters", verify=str(ca))
    assert api.status_code == 401 and api.json()["error"].startswith("sign in first")
    assert httpx.get(f"{url}/api/clusters", verify=str(ca),
                     headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    refused = httpx.post(f"{url}/login", verify=str(ca), data={"token": "not-a-token"}, headers={"Origin": url})
    assert refused.status_code == 401 and "refused this token: Unauthorized" in refused.text


def test_a_user_without_rights_sees_the_apis_forbidden_message(console_url, team, browser):
    url, _ = console_url
    namespace, tokens = team
    sign_in(browser, url, tokens["nobody"])
    browser.get(f"{url}/?namespace={namespace}")
    message = wait_for(lambda: text(browser, "#error"), 30, "the API's refusal")
    assert message == (f'hostedclusters.hypershift.openshift.io is forbidden: User '
                       f'"system:serviceaccount:{namespace}:nobody" cannot list resource "hostedclusters" in API '
                       f'group "hypershift.openshift.io" in the namespace "{namespace}"')


def test_create_scale_download_and_destroy_in_the_browser(operator_installed, console_url, team, browser, tmp_path):
    By = _by()
    cluster, (url, _), (namespace, tokens) = operator_installed, console_url, team
    name = "web"
    try:
        sign_in(browser, url, tokens["alice"])
        assert browser.find_element(By.ID, "user").text == f"system:serviceaccount:{namespace}:alice"

        # Create through the form; the namespace comes along from the list's filter.
        browser.get(f"{url}/?namespace={namespace}")
        browser.find_element(By.ID, "create-link").click()
        wait_for(lambda: browser.find_element(By.ID, "release-image").get_attribute("value"), 30, "release images")
        browser.find_element(By.ID, "name").send_keys(name)
        assert browser.find_element(By.ID, "create-namespace").get_attribute("value") == namespace
        replicas = browser.find_element(By.ID, "replicas")
        replicas.clear()
        replicas.send_keys("1")
        browser.find_element(By.ID, "create-button").click()
        row = f'tr[data-cluster="{namespace}/{name}"]'

        def listed():
            assert not text(browser, "#error"), text(browser, "#error")  # a refusal, in the API's words
            return browser.find_elements(By.CSS_SELECTOR, row)
        wait_for(listed, 60, f"the list to show {name}")
        assert cluster.kubectl("-n", namespace, "get", "hostedcluster", name).returncode == 0

        # Live: the page is not reloaded while the control plane comes up.
        browser.execute_script("window.notReloaded = true")
        wait_for(lambda: text(browser, f"{row} td.cond-Available .status") == "True", 900,
                 f"{name} to show Available")
        assert browser.execute_script("return window.notReloaded") is True
        screenshot(browser, tmp_path, "cluster-list.png")

        # Scale the NodePool to 2 and watch the replicas follow.
        browser.find_element(By.CSS_SELECTOR, f"{row} a").click()
        pool = f'tr[data-nodepool="{name}"]'
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, pool), 30, "the NodePool row")
        field = browser.find_element(By.CSS_SELECTOR, f"{pool} form.scale input")
        field.clear()
        field.send_keys("2")
        browser.find_element(By.CSS_SELECTOR, f"{pool} form.scale button").click()
        wait_for(lambda: text(browser, f"{pool} td.replicas") == "2", 30, "the desired replicas to show 2")
        wait_for(lambda: text(browser, f"{pool} td.currentReplicas") == "2", 300, "2 nodes in the NodePool")
        assert cluster.kubectl("-n", namespace, "get", "nodepool", name, "-o",
                               "jsonpath={.spec.replicas}").stdout == "2"

        # Download the kubeconfig: the admin one, pointing at this cluster's API server.
        link = browser.find_element(By.ID, "kubeconfig")
        wait_for(link.is_displayed, 60, "the kubeconfig link")
        link.click()
        downloaded = wait_for(lambda: [p for p in browser.downloads.glob("*.kubeconfig")], 60, "the download")[0]
        config = yaml.safe_load(downloaded.read_text())
        endpoint = yaml.safe_load(cluster.kubectl("-n", namespace, "get", "hostedcluster", name, "-o",
                                                  "jsonpath={.status.controlPlaneEndpoint}").stdout)
        assert config["kind"] == "Config"
        assert config["clusters"][0]["cluster"]["server"] == f"https://{endpoint['host']}:{endpoint['port']}"

        # Metrics: the plots, or the one line that says why there are none (alice may not use Prometheus's
        # service proxy in hcp-monitoring: the API's Forbidden, verbatim), never an error.
        wait_for(lambda: text(browser, "#plots-unavailable") or browser.find_elements(By.CSS_SELECTOR, "#plots svg"),
                 60, "the plots or the line saying why there are none")
        assert not text(browser, "#plots-error"), text(browser, "#plots-error")
        screenshot(browser, tmp_path, "cluster-page.png")

        # Destroy: a wrong name is refused; the right one removes the cluster, and the list follows.
        browser.find_element(By.ID, "destroy-confirm").send_keys("wrong")
        browser.find_element(By.ID, "destroy-button").click()
        wait_for(lambda: "type the cluster's name" in text(browser, "#error"), 30, "the refusal")
        confirm = browser.find_element(By.ID, "destroy-confirm")
        confirm.clear()
        confirm.send_keys(name)
        browser.find_element(By.ID, "destroy-button").click()
        wait_for(lambda: "deleting HostedCluster" in text(browser, "#destroy-log"), 30, "the destroy to start")
        browser.get(f"{url}/?namespace={namespace}")
        wait_for(lambda: text(browser, "#updated") and not browser.find_elements(By.CSS_SELECTOR, row), 600,
                 f"{name} to leave the list")
        wait_for(lambda: cluster.kubectl("-n", namespace, "get", "hostedcluster", name, check=False).returncode != 0,
                 60, "the HostedCluster to be gone")
    finally:
        cluster.kubectl("-n", namespace, "delete", "hostedcluster", name, "--ignore-not-found", "--wait=true",
                        "--timeout=300s", timeout=400)
