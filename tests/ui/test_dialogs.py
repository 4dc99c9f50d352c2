"""The "Create kernelspec" and "Build image" dialogs in a real JupyterLab, a real local
registry and a real chromium.

The tests of this module share one server and one page and run in order. The page is
never reloaded: a build is followed live through the server's event stream.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.fixtures.plugin)
from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from runtime_images.kernelspec import GatewayProvisionersMissing
from tests.builds.test_layer_builds import base_image, git_repository
from tests.fixtures.plugin import registry  # noqa: F401  (session fixture)
from tests.fixtures.registry import RegistryServer

from .conftest import OUTPUT, ConsoleLog, LabServer
from .locators import BUILD_DIALOG, KERNELSPEC_DIALOG, build_row, image_row, panel
from .steps import expect, run_palette_command

pytestmark = pytest.mark.timeout(300)

FACTORY = "r"
FACTORY_IMAGE = "quay.io/jupyter/r-notebook:python-3.11"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def lab_options(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Builds write their layouts in a temporary directory; an empty auth file (no
    credentials from the machine)."""
    tmp = tmp_path_factory.mktemp("dialogs-config")
    auth = tmp / "auth.json"
    auth.write_text("{}")
    return {
        "server_config": {
            "RegistryClient": {"auth_file": str(auth), "retry_backoff": 0.2},
            "ImageBuilder": {"layout_dir": str(tmp / "layout")},
        }
    }


def kernel_json(lab: LabServer, kernel: str) -> dict[str, Any]:
    path = lab.data_dir / "kernels" / kernel / "kernel.json"
    assert path.is_file(), f"{path} not written"
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def open_kernelspec_dialog(page: Any) -> None:
    """Open the dialog from the keyboard: focus the row's button, press Enter."""
    button = image_row(page, FACTORY).locator('button[aria-label="Create kernelspec"]')
    expect(button).to_have_attribute("title", "Create kernelspec")
    button.focus()
    page.keyboard.press("Enter")
    expect(KERNELSPEC_DIALOG.locator(page)).to_be_visible()
    # The first field has the focus.
    assert page.evaluate("document.activeElement.id") == "jp-RuntimeImages-kernelspec-provisioner"


def test_open_panel(page: Any) -> None:
    page.evaluate("window.__notReloaded = true")
    run_palette_command(page, "Manage Runtime Images")
    expect(panel(page)).to_be_visible()
    search = panel(page).locator(".jp-RuntimeImages-search")
    search.fill("R Script")
    expect(image_row(page, FACTORY)).to_be_visible()
    expect(image_row(page, FACTORY)).to_have_attribute("data-origin", "factory")


def test_create_kernelspec(page: Any, lab: LabServer) -> None:
    open_kernelspec_dialog(page)
    # The server's defaults show as placeholders.
    expect(KERNELSPEC_DIALOG.field(page, "kernelName")).to_have_attribute("placeholder", "k8s_r")
    expect(KERNELSPEC_DIALOG.field(page, "displayName")).to_have_attribute(
        "placeholder", "R Script 4.3.1 on Kubernetes"
    )
    KERNELSPEC_DIALOG.field(page, "provisioner").select_option("docker")
    expect(KERNELSPEC_DIALOG.field(page, "kernelName")).to_have_attribute("placeholder", "docker_r")
    KERNELSPEC_DIALOG.field(page, "provisioner").select_option("kubernetes")
    KERNELSPEC_DIALOG.field(page, "language").select_option("r")
    # A field error only the server finds shows next to its field.
    KERNELSPEC_DIALOG.field(page, "launchTimeout").fill("soon")
    KERNELSPEC_DIALOG.field(page, "portRange").fill("40000-41000")
    KERNELSPEC_DIALOG.locator(page).locator('button[aria-label="Create"]').click()
    expect(KERNELSPEC_DIALOG.error(page, "launchTimeout")).to_contain_text("whole number")
    expect(KERNELSPEC_DIALOG.error(page, "portRange")).to_contain_text("LOWER..UPPER")
    expect(KERNELSPEC_DIALOG.field(page, "launchTimeout")).to_have_attribute("aria-invalid", "true")
    assert not (lab.data_dir / "kernels" / "k8s_r").exists()

    KERNELSPEC_DIALOG.field(page, "launchTimeout").fill("60")
    expect(KERNELSPEC_DIALOG.error(page, "launchTimeout")).to_have_count(0)
    KERNELSPEC_DIALOG.field(page, "portRange").fill("40000..41000")
    KERNELSPEC_DIALOG.field(page, "authorizedUsers").fill("alice, bob")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "ui-dialogs-kernelspec.png"))
    # Submit from the keyboard.
    KERNELSPEC_DIALOG.field(page, "portRange").press("Enter")
    result = KERNELSPEC_DIALOG.locator(page).locator(".jp-RuntimeImages-kernelspecResult")
    expect(result.locator(".jp-RuntimeImages-kernelspecName")).to_have_text("k8s_r")
    path = lab.data_dir / "kernels" / "k8s_r" / "kernel.json"
    expect(result.locator(".jp-RuntimeImages-kernelspecPath")).to_have_text(str(path))
    spec = kernel_json(lab, "k8s_r")
    provisioner = spec["metadata"]["kernel_provisioner"]
    assert provisioner["provisioner_name"] == "kubernetes-provisioner"
    assert provisioner["config"]["image_name"] == FACTORY_IMAGE
    assert provisioner["config"]["launch_timeout"] == 60
    assert provisioner["config"]["port_range"] == "40000..41000"
    assert sorted(provisioner["config"]["authorized_users"]) == ["alice", "bob"]
    assert spec["display_name"] == "R Script 4.3.1 on Kubernetes"
    assert spec["language"].lower() == "r"
    page.keyboard.press("Enter")  # the Close button has the focus
    expect(KERNELSPEC_DIALOG.locator(page)).to_have_count(0)


def test_kernelspec_exists_offers_replace(page: Any, lab: LabServer) -> None:
    open_kernelspec_dialog(page)
    KERNELSPEC_DIALOG.field(page, "displayName").fill("R on the cluster")
    KERNELSPEC_DIALOG.locator(page).locator('button[aria-label="Create"]').click()
    conflict = KERNELSPEC_DIALOG.locator(page).locator(".jp-RuntimeImages-kernelspecConflict")
    expect(conflict).to_contain_text("exists")
    # Nothing replaced yet.
    assert kernel_json(lab, "k8s_r")["display_name"] == "R Script 4.3.1 on Kubernetes"
    conflict.locator('button[aria-label="Replace"]').click()
    result = KERNELSPEC_DIALOG.locator(page).locator(".jp-RuntimeImages-kernelspecResult")
    expect(result.locator(".jp-RuntimeImages-kernelspecName")).to_have_text("k8s_r")
    spec = kernel_json(lab, "k8s_r")
    assert spec["display_name"] == "R on the cluster"
    assert spec["metadata"]["kernel_provisioner"]["config"]["image_name"] == FACTORY_IMAGE
    result.locator('button[aria-label="Close"]').click()
    expect(KERNELSPEC_DIALOG.locator(page)).to_have_count(0)
    # Escape closes a dialog without a request.
    open_kernelspec_dialog(page)
    page.keyboard.press("Escape")
    expect(KERNELSPEC_DIALOG.locator(page)).to_have_count(0)


def test_gateway_provisioners_missing_is_shown_as_the_server_says(
    page: Any, console: ConsoleLog
) -> None:
    """gateway-provisioners is installed here, so its absence is simulated at the network
    layer: the answer is the server's own 424 body (message of GatewayProvisionersMissing,
    code), as write_error sends it."""
    message = str(GatewayProvisionersMissing())
    body = {"message": message, "reason": "Failed Dependency", "code": "GatewayProvisionersMissing"}
    # ServerConnection adds a cache-busting query string.
    pattern = re.compile(r".*/runtime-images/images/r/kernelspec(\?.*)?$")
    page.route(
        pattern,
        lambda route: route.fulfill(
            status=424, content_type="application/json", body=json.dumps(body)
        ),
    )
    try:
        open_kernelspec_dialog(page)
        KERNELSPEC_DIALOG.locator(page).locator('button[aria-label="Create"]').click()
        error = KERNELSPEC_DIALOG.locator(page).locator(".jp-RuntimeImages-importError")
        expect(error).to_have_text(message)
        assert "pip install gateway-provisioners" in message
        page.keyboard.press("Escape")
        expect(KERNELSPEC_DIALOG.locator(page)).to_have_count(0)
    finally:
        page.unroute(pattern)
    # Chromium logs the simulated 424 as a failed load: expected here.
    for text in [e for e in console.errors if "status of 424" in e]:
        console.errors.remove(text)
        console.expected.append(text)


@pytest.fixture(scope="module")
def base(registry: RegistryServer) -> str:
    """The layer-build tests' base image (python3.11, jovyan), in the test registry."""
    with registry.pusher() as pusher:
        pusher.push_image("ui/base", "1", base_image())
    return f"{registry.host}/ui/base:1"


def build_button(page: Any) -> Any:
    return panel(page).locator('.jp-Toolbar jp-button[title="Build image"]')


def test_build_dialog_checks_its_fields(page: Any) -> None:
    expect(build_button(page)).to_have_count(1)
    expect(build_button(page).locator("button")).to_have_attribute("aria-label", "Build image")
    build_button(page).click()
    expect(BUILD_DIALOG.locator(page)).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "jp-RuntimeImages-build-fromImage"
    # The runtime images are offered as base images.
    options = BUILD_DIALOG.locator(page).locator("#jp-RuntimeImages-build-bases option")
    assert FACTORY_IMAGE in options.evaluate_all("nodes => nodes.map(n => n.value)")
    BUILD_DIALOG.locator(page).locator('button[aria-label="Build"]').click()
    expect(
        BUILD_DIALOG.locator(page).locator("#jp-RuntimeImages-build-fromImage-error")
    ).to_contain_text("base image is required")
    expect(
        BUILD_DIALOG.locator(page).locator("#jp-RuntimeImages-build-packages-error")
    ).to_contain_text("At least one package")
    # The field with the first error has the focus.
    assert page.evaluate("document.activeElement.id") == "jp-RuntimeImages-build-fromImage"
    BUILD_DIALOG.field(page, "mode-git").check()
    expect(BUILD_DIALOG.field(page, "repositoryUrl")).to_be_visible()
    expect(
        BUILD_DIALOG.locator(page).locator("#jp-RuntimeImages-build-repositoryUrl-error")
    ).to_contain_text("repository URL is required")
    page.keyboard.press("Escape")
    expect(BUILD_DIALOG.locator(page)).to_have_count(0)


def test_build_from_a_git_repository(
    page: Any, lab: LabServer, base: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = git_repository(
        tmp_path_factory.mktemp("git") / "repo", {"requirements.txt": "six==1.16.0\n"}
    )
    panel(page).locator(".jp-RuntimeImages-search").fill("")
    build_button(page).click()
    expect(BUILD_DIALOG.locator(page)).to_be_visible()
    BUILD_DIALOG.field(page, "mode-git").check()
    BUILD_DIALOG.field(page, "repositoryUrl").fill(url)
    BUILD_DIALOG.field(page, "gitRef").fill("main")
    BUILD_DIALOG.field(page, "fromImage").fill(base)
    BUILD_DIALOG.field(page, "displayName").fill("From Git UI")
    expect(BUILD_DIALOG.locator(page).locator(".jp-RuntimeImages-resourceName")).to_have_text(
        "from-git-ui"
    )
    BUILD_DIALOG.field(page, "description").fill("Built by the UI test")
    BUILD_DIALOG.field(page, "creator").fill("ui-tester")
    page.screenshot(path=str(OUTPUT / "ui-dialogs-build.png"))
    submitted = time.monotonic()
    BUILD_DIALOG.locator(page).locator('button[aria-label="Build"]').click()
    expect(BUILD_DIALOG.locator(page)).to_have_count(0)
    row = build_row(page, "from-git-ui")
    expect(row).to_be_visible(timeout=5_000)
    TIMINGS["build shown after submit"] = round(time.monotonic() - submitted, 2)
    expect(row).to_have_attribute("data-phase", "Ready", timeout=240_000)
    TIMINGS["build Ready after submit"] = round(time.monotonic() - submitted, 2)
    build = lab.api("builds/from-git-ui")
    assert build["spec"]["buildType"] == "GitRepository"
    assert build["spec"]["repositoryUrl"] == url
    assert build["spec"]["gitRef"] == "main"
    assert build["status"]["detected"]["files"] == ["requirements.txt"]
    assert any(line.startswith("six==1.16.0") for line in build["status"]["lock"])
    # The runtime image it configured is listed, without a reload.
    expect(image_row(page, "from-git-ui")).to_be_visible(timeout=20_000)
    assert page.evaluate("window.__notReloaded") is True


def test_no_unexpected_console_errors(console: ConsoleLog) -> None:
    assert console.errors == []
    (OUTPUT / "ui-dialogs-timings.json").write_text(json.dumps(TIMINGS, indent=2))
