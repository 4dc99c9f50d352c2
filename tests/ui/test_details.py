"""The Details view of a runtime image: a real `jupyter lab`, a real local registry, a
real chromium.

The tests of this module share one server, one registry and one page, and run in order.
They open the view every way the panel offers (double-click, the row's Details button,
the palette, a Ready build's "Image details"), check that one view per image is reused,
drive the tabs from the keyboard, run the Checks tab's profiles against the registry
(`POST validate`), cancel a read held by a proxy and read again once it is released, and
audit the view with axe.

The routes of the backend branches (`GET inspect`, `layers`, `vulns`, `history`,
`updates`, `diff`, `sbom`) are asked of the server first: where the server does not have
one yet (404), the test asserts the view's answer to that (the server's message and a
Retry button, no page error); where it has it, the data it shows.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.fixtures.plugin)
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import images
from tests.fixtures.plugin import registry  # noqa: F401  (session fixture)
from tests.fixtures.proxy import HoldingProxy
from tests.fixtures.registry import RegistryServer

from .axe import audit
from .conftest import OUTPUT, ConsoleLog, LabServer
from .locators import build_row, image_row
from .steps import expect, focused, run_palette_command

pytestmark = pytest.mark.timeout(300)

OK = "details-ok"
HELD = "held-image"
TABS = ["overview", "packages", "layers", "checks", "vulnerabilities", "history", "compare"]


@pytest.fixture(scope="module")
def pushed(registry: RegistryServer) -> str:
    """The test image in the registry; its digest."""
    with registry.pusher() as pusher:
        return str(pusher.push_image("ui/details", "1", images.elyra_ok()))


@pytest.fixture(scope="module")
def proxy(registry: RegistryServer) -> Iterator[HoldingProxy]:
    """A proxy in front of the registry that holds requests until released."""
    with HoldingProxy(registry.port) as held:
        yield held


@pytest.fixture(scope="module")
def lab_options(
    tmp_path_factory: pytest.TempPathFactory,
    registry: RegistryServer,
    pushed: str,
    proxy: HoldingProxy,
) -> dict[str, Any]:
    """Two runtime images of the same image: one pinned in the registry, one behind the
    holding proxy. Loopback registries are plain http; no credentials from the machine."""
    auth = tmp_path_factory.mktemp("registry-auth") / "auth.json"
    auth.write_text("{}")

    def setup(data_dir: Path) -> None:
        store = data_dir / "metadata" / "runtime-images"
        store.mkdir(parents=True, exist_ok=True)
        for name, display, reference in [
            (OK, "Details OK", f"{registry.host}/ui/details:1@{pushed}"),
            (HELD, "Held Image", f"{proxy.host}/ui/details:1"),
        ]:
            document = {
                "display_name": display,
                "schema_name": "runtime-image",
                "metadata": {"image_name": reference},
            }
            (store / f"{name}.json").write_text(json.dumps(document))

    return {
        "setup": setup,
        "server_config": {"RegistryClient": {"auth_file": str(auth), "retry_backoff": 0.2}},
    }


def status_of(lab: LabServer, path: str) -> int:
    """The HTTP status the server answers `GET runtime-images/{path}` with."""
    try:
        lab.api(path)
    except urllib.error.HTTPError as error:
        return error.code
    return 200


def served(lab: LabServer, path: str) -> bool:
    """Whether the server has the route of `path` (not a 404 of a missing handler)."""
    return status_of(lab, path) != 404


def view(page: Any, name: str) -> Any:
    return page.locator(f'.jp-RuntimeImages-imageDetails[data-name="{name}"]:visible')


def tab(page: Any, name: str, which: str) -> Any:
    return view(page, name).locator(f'[role="tab"][data-tab="{which}"]')


def details_tabs(page: Any, label: str) -> Any:
    return page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=f"Details: {label}")


def test_double_click_opens_the_details(page: Any, lab: LabServer, pushed: str) -> None:
    run_palette_command(page, "Manage Runtime Images")
    row = image_row(page, OK)
    expect(row).to_be_visible()
    row.locator(".jp-RuntimeImages-displayName").dblclick()
    details = view(page, OK)
    expect(details).to_be_visible()
    expect(details.locator("h2")).to_have_text("Details OK")
    expect(details_tabs(page, "Details OK")).to_have_count(1)
    # The tabs: a tablist of seven, Overview selected, its panel labelled by it.
    tabs = details.locator('[role="tablist"] [role="tab"]')
    assert tabs.evaluate_all("tabs => tabs.map(t => t.dataset.tab)") == TABS
    expect(tab(page, OK, "overview")).to_have_attribute("aria-selected", "true")
    tabpanel = details.locator('[role="tabpanel"]')
    expect(tabpanel).to_have_attribute(
        "aria-labelledby", tab(page, OK, "overview").get_attribute("id") or ""
    )
    if served(lab, f"inspect?name={OK}"):
        facts = details.locator(".jp-RuntimeImages-facts")
        expect(facts).to_contain_text(pushed)
        expect(facts).to_contain_text("linux/amd64")
    else:
        # Not on this branch yet: the server's answer and Retry, nothing broken.
        error = details.locator(".jp-RuntimeImages-loadError")
        expect(error).to_be_visible()
        expect(error.locator('button[aria-label="Retry"]')).to_be_visible()
    page.screenshot(path=str(OUTPUT / "details-overview.png"))


def test_the_tabs_follow_the_keyboard(page: Any) -> None:
    tab(page, OK, "overview").focus()
    page.keyboard.press("ArrowRight")
    assert focused(page, "data-tab") == "packages"
    expect(tab(page, OK, "packages")).to_have_attribute("aria-selected", "true")
    # One tab stop: the selected tab.
    expect(view(page, OK).locator('[role="tab"][tabindex="0"]')).to_have_count(1)
    page.keyboard.press("End")
    assert focused(page, "data-tab") == "compare"
    page.keyboard.press("ArrowRight")  # wraps around
    assert focused(page, "data-tab") == "overview"
    page.keyboard.press("ArrowLeft")
    assert focused(page, "data-tab") == "compare"
    page.keyboard.press("Home")
    assert focused(page, "data-tab") == "overview"
    # Tab goes from the tab list into the panel.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "tabpanel"


def test_the_row_button_and_the_palette_reuse_the_view(page: Any) -> None:
    image_row(page, OK).locator('button[aria-label="Details"]').click()
    expect(view(page, OK)).to_be_visible()
    expect(details_tabs(page, "Details OK")).to_have_count(1)
    run_palette_command(page, "Runtime Image Details…")
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible()
    dialog.locator("select").select_option(label="Details OK (details-ok)")
    dialog.locator("button", has_text="Open").click()
    expect(dialog).to_have_count(0)
    expect(view(page, OK)).to_be_visible()
    expect(details_tabs(page, "Details OK")).to_have_count(1)


def test_checks_run_the_chosen_profiles(page: Any) -> None:
    tab(page, OK, "checks").click()
    details = view(page, OK)
    summary = details.locator(".jp-RuntimeImages-checksSummary")
    # The server's default profile (elyra): this image meets it.
    expect(summary).to_have_attribute("data-ok", "true", timeout=60_000)
    expect(details.locator('tr[data-profile="elyra"][data-id="python3"]')).to_have_attribute(
        "data-result", "pass"
    )
    expect(details.locator('input[type="checkbox"]').first).to_be_checked()
    # kubeflow instead: this image has no jovyan user.
    details.locator("label", has_text="elyra").locator("input").uncheck()
    details.locator("label", has_text="kubeflow").locator("input").check()
    details.locator('button[aria-label="Check the image"]').click()
    expect(details.locator('tr[data-profile="kubeflow"]').first).to_be_visible(timeout=60_000)
    expect(details.locator('tr[data-profile="elyra"]')).to_have_count(0)
    expect(summary).to_have_attribute("data-ok", "false")
    expect(details.locator('tr[data-id="user-jovyan"]')).to_have_attribute("data-result", "fail")
    page.screenshot(path=str(OUTPUT / "details-checks.png"))


def test_a_held_read_can_be_cancelled_and_read_again(page: Any, proxy: HoldingProxy) -> None:
    image_row(page, HELD).locator(".jp-RuntimeImages-displayName").dblclick()
    expect(view(page, HELD)).to_be_visible()
    tab(page, HELD, "checks").click()
    details = view(page, HELD)
    loading = details.locator(".jp-RuntimeImages-loading")
    expect(loading).to_be_visible()
    expect(loading).to_have_attribute("role", "status")
    # The time spent shows while it waits.
    expect(loading.locator(".jp-RuntimeImages-loadingText")).to_contain_text(" s)")
    loading.locator('button[aria-label="Cancel"]').click()
    expect(loading).to_have_count(0)
    cancelled = details.locator(".jp-RuntimeImages-loadCancelled")
    expect(cancelled).to_contain_text("Cancelled.")
    proxy.release()
    cancelled.locator('button[aria-label="Load again"]').click()
    expect(details.locator(".jp-RuntimeImages-checksSummary")).to_have_attribute(
        "data-ok", "true", timeout=60_000
    )


def test_other_tabs_answer_without_breaking(page: Any, lab: LabServer) -> None:
    """Each tab shows its data, or, for a route this server lacks, the server's answer."""
    image_row(page, OK).locator(".jp-RuntimeImages-displayName").dblclick()
    details = view(page, OK)
    expect(details).to_be_visible()
    for which, path, selector in [
        ("layers", f"layers?name={OK}", ".jp-RuntimeImages-layers"),
        ("vulnerabilities", f"vulns?name={OK}", ".jp-RuntimeImages-findingCount"),
        # A runtime image written as a file has no history: the read ends, empty or not.
        ("history", f"images/{OK}/history", '.jp-RuntimeImages-history [data-status="ready"]'),
    ]:
        tab(page, OK, which).click()
        expect(tab(page, OK, which)).to_have_attribute("aria-selected", "true")
        status = status_of(lab, path)
        if status == 404:
            error = details.locator(".jp-RuntimeImages-loadError")
            expect(error).to_be_visible()
            expect(error.locator('button[aria-label="Retry"]')).to_be_visible()
        elif which == "vulnerabilities" and status == 409:
            expect(details.locator(".jp-RuntimeImages-noDatabase")).to_be_visible()
        else:
            assert status == 200, (path, status)
            expect(details.locator(selector).first).to_be_visible(timeout=60_000)
    # Compare: nothing is read until asked.
    tab(page, OK, "compare").click()
    expect(details.locator(".jp-RuntimeImages-compareButton")).to_be_disabled()
    details.locator(".jp-RuntimeImages-compareImage").select_option(label="Held Image")
    expect(details.locator(".jp-RuntimeImages-compareButton")).to_be_enabled()


def test_the_view_passes_axe(page: Any) -> None:
    tab(page, OK, "checks").click()
    expect(view(page, OK).locator(".jp-RuntimeImages-checksSummary")).to_be_visible()
    widget = page.locator(".jp-RuntimeImages-imageDetailsPanel:visible")
    violations = audit(page, f"#{widget.get_attribute('id')}")
    (OUTPUT / "axe-details.json").write_text(
        json.dumps([v.describe() for v in violations], indent=2)
    )
    assert [v.describe() for v in violations if v.blocking] == []


def test_a_ready_build_links_to_the_image_details(
    page: Any, lab: LabServer, registry: RegistryServer
) -> None:
    lab.request(
        "POST",
        "builds",
        {
            "apiVersion": "meteor.zone/v1alpha1",
            "kind": "CustomNBImage",
            "metadata": {
                "name": "linked",
                "annotations": {
                    "opendatahub.io/notebook-image-name": "Linked",
                    "opendatahub.io/notebook-image-desc": "made by the details test",
                    "opendatahub.io/notebook-image-creator": "ui-tester",
                },
            },
            "spec": {"buildType": "ImageImport", "fromImage": f"{registry.host}/ui/details:1"},
        },
    )
    row = build_row(page, "linked")
    expect(row).to_have_attribute("data-phase", "Ready", timeout=60_000)
    runtime_image = lab.api("builds/linked")["status"]["runtimeImage"]
    row.locator('button[aria-label="Details"]').click()
    build = page.locator('.jp-RuntimeImages-buildDetails[data-name="linked"]:visible')
    build.locator("button.jp-RuntimeImages-imageDetailsLink").click()
    expect(view(page, runtime_image)).to_be_visible()
    expect(details_tabs(page, "Linked")).to_have_count(1)


def test_no_page_errors(console: ConsoleLog, lab: LabServer) -> None:
    """No uncaught error; the console's only errors are the 404s of the routes this
    server does not have yet and the 409 of `vulns` without a database (Chromium logs
    every failed fetch)."""
    missing = [
        path
        for path in [
            "inspect?",
            "layers?",
            "vulns?",
            f"images/{OK}/history",
            "images/linked/history",
            "updates",
        ]
        if not served(lab, path.rstrip("?") + ("?name=" + OK if path.endswith("?") else ""))
    ]
    unexpected = [
        error
        for error in console.errors
        if not (
            "status of 404" in error and any(f"/runtime-images/{path}" in error for path in missing)
        )
        and not ("status of 409" in error and "/runtime-images/vulns?" in error)
    ]
    assert unexpected == []
