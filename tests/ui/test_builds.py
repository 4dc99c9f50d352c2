"""Builds (CustomNBImage imports) in the Runtime Images panel: a real `jupyter lab`, a
real local registry, a real chromium.

The tests of this module share one server, one registry and one page, and run in order.
Builds are followed live through the server's event stream: the page is never reloaded
(a marker set on `window` at the start must still be there at the end).
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.fixtures.plugin)
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures import images
from tests.fixtures.plugin import registry  # noqa: F401  (session fixture)
from tests.fixtures.proxy import HoldingProxy
from tests.fixtures.registry import RegistryServer

from .conftest import OUTPUT, ConsoleLog, LabServer
from .locators import IMPORT_DIALOG, build_row, image_row, panel
from .steps import expect, run_palette_command, use_theme

pytestmark = pytest.mark.timeout(300)

BLOCKER = "Blocker Image"
ELYRA = "Elyra OK"
NO_PYTHON = "No Python"

TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def lab_options(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Loopback registries are plain http by default; an empty auth file (no
    credentials from the machine); one build at a time, so a second build stays
    Pending while the first one runs."""
    auth = tmp_path_factory.mktemp("registry-auth") / "auth.json"
    auth.write_text("{}")
    return {
        "server_config": {
            "RegistryClient": {"auth_file": str(auth), "retry_backoff": 0.2},
            "BuildController": {"concurrency": 1},
        }
    }


@pytest.fixture(scope="module")
def pushed(registry: RegistryServer) -> dict[str, str]:
    """Test images in the registry: repository -> digest."""
    digests = {}
    with registry.pusher() as pusher:
        for repo, image in [
            ("ui/blocker", images.elyra_ok()),
            ("ui/elyra-ok", images.elyra_ok()),
            ("ui/no-python", images.elyra_no_python()),
        ]:
            digests[repo] = pusher.push_image(repo, "1", image)
    return digests


@pytest.fixture(scope="module")
def proxies(registry: RegistryServer) -> Iterator[list[HoldingProxy]]:
    """Two proxies in front of the registry that hold requests until released."""
    with HoldingProxy(registry.port) as first, HoldingProxy(registry.port) as second:
        yield [first, second]


def details(page: Any, name: str) -> Any:
    return page.locator(f'.jp-RuntimeImages-buildDetails[data-name="{name}"]:visible')


def import_button(page: Any) -> Any:
    return panel(page).locator('.jp-Toolbar jp-button[title="Import image"]')


def widen_sidebar(page: Any, by: int) -> None:
    """Drag the handle between the left sidebar and the main area."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + by, y, steps=5)
    page.mouse.up()


def fill_import(
    page: Any, reference: str, display: str, description: str = "Imported by the UI test"
) -> None:
    import_button(page).click()
    expect(IMPORT_DIALOG.locator(page)).to_be_visible()
    IMPORT_DIALOG.field(page, "image").fill(reference)
    IMPORT_DIALOG.field(page, "displayName").fill(display)
    IMPORT_DIALOG.field(page, "description").fill(description)
    IMPORT_DIALOG.field(page, "creator").fill("ui-tester")


def submit_import(page: Any) -> None:
    IMPORT_DIALOG.locator(page).locator('button[aria-label="Import"]').click()


def phases_seen(page: Any, name: str) -> list[str]:
    seen: list[str] = page.evaluate(f"window.__buildPhases[{json.dumps(name)}] || []")
    return seen


def test_open_panel_and_builds_section(page: Any, lab: LabServer) -> None:
    page.evaluate("window.__notReloaded = true")
    # Record every phase each build row shows (each DOM commit), to check the order.
    page.evaluate(
        """() => {
        window.__buildPhases = {};
        const record = () => {
          for (const row of document.querySelectorAll('.jp-RuntimeImages-build')) {
            const name = row.dataset.name, phase = row.dataset.phase;
            const seen = (window.__buildPhases[name] = window.__buildPhases[name] || []);
            if (seen[seen.length - 1] !== phase) { seen.push(phase); }
          }
        };
        new MutationObserver(record).observe(document.body, {
          subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase']
        });
      }"""
    )
    run_palette_command(page, "Manage Runtime Images")
    expect(panel(page)).to_be_visible()
    section = panel(page).locator(".jp-RuntimeImages-builds")
    expect(section).to_be_visible()
    expect(section).to_have_attribute("data-count", "0")
    expect(section.locator(".jp-RuntimeImages-buildsEmpty")).to_contain_text("No builds yet")
    # The toolbar button: a <jp-button> whose host has the title, its <button> the label.
    expect(import_button(page)).to_have_count(1)
    expect(import_button(page).locator("button")).to_have_attribute("aria-label", "Import image")


def test_import_dialog_checks_the_reference_as_you_type(
    page: Any, registry: RegistryServer
) -> None:
    import_button(page).click()
    expect(IMPORT_DIALOG.locator(page)).to_be_visible()
    # The reference field has the focus.
    assert page.evaluate("document.activeElement.id") == "jp-RuntimeImages-import-image"
    field = IMPORT_DIALOG.field(page, "image")
    warning = IMPORT_DIALOG.locator(page).locator(
        '[data-field="image"] .jp-RuntimeImages-fieldWarning'
    )
    field.fill("Not A Valid Reference!")
    expect(IMPORT_DIALOG.error(page, "image")).to_contain_text("Not a valid image reference")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill(f"{registry.host}/ui/elyra-ok")
    expect(IMPORT_DIALOG.error(page, "image")).to_have_count(0)
    expect(warning).to_contain_text("Unpinned")
    field.fill(f"{registry.host}/ui/elyra-ok:latest")
    expect(warning).to_contain_text("Unpinned")
    field.fill(f"{registry.host}/ui/elyra-ok:1")
    expect(warning).to_have_count(0)
    field.fill(f"{registry.host}/ui/elyra-ok@sha256:" + "0" * 64)
    expect(warning).to_have_count(0)
    # The resource name is derived from the name (a DNS-1123 label).
    IMPORT_DIALOG.field(page, "displayName").fill("My 1st Image!")
    expect(IMPORT_DIALOG.locator(page).locator(".jp-RuntimeImages-resourceName")).to_have_text(
        "my-1st-image"
    )
    # Submitting with missing fields says which ones, and sends nothing.
    submit_import(page)
    expect(IMPORT_DIALOG.error(page, "description")).to_contain_text("required")
    # elyra is checked by default; every profile is offered.
    for profile in ["elyra", "kubeflow", "odh-notebook", "gateway-kernel"]:
        box = IMPORT_DIALOG.locator(page).locator(f'input[aria-label="Check profile {profile}"]')
        expect(box).to_be_visible()
        assert box.is_checked() == (profile == "elyra")
    IMPORT_DIALOG.locator(page).screenshot(path=str(OUTPUT / "builds-import-dialog.png"))
    # Escape closes without importing.
    page.keyboard.press("Escape")
    expect(IMPORT_DIALOG.locator(page)).to_have_count(0)
    expect(panel(page).locator(".jp-RuntimeImages-builds")).to_have_attribute("data-count", "0")


def test_import_goes_pending_building_ready_live(
    page: Any,
    lab: LabServer,
    registry: RegistryServer,
    pushed: dict[str, str],
    proxies: list[HoldingProxy],
) -> None:
    first, second = proxies
    # A first import, held by a proxy: it stays Building.
    fill_import(page, f"{first.host}/ui/blocker:1", BLOCKER)
    submit_import(page)
    expect(IMPORT_DIALOG.locator(page)).to_have_count(0)
    blocker = build_row(page, "blocker-image")
    expect(blocker).to_have_attribute("data-phase", "Building")
    expect(blocker.locator(".jp-RuntimeImages-buildMessage")).to_be_visible()
    expect(blocker.locator('[role="progressbar"]')).to_be_visible()

    # A second one waits (one build at a time): Pending, at once.
    fill_import(page, f"{second.host}/ui/elyra-ok:1", ELYRA)
    submit_import(page)
    expect(IMPORT_DIALOG.locator(page)).to_have_count(0)
    elyra = build_row(page, "elyra-ok")
    expect(elyra).to_have_attribute("data-phase", "Pending")
    expect(elyra.locator(".jp-RuntimeImages-buildPhaseText")).to_have_text("Pending")
    expect(elyra.locator(".jp-RuntimeImages-buildCreator")).to_have_text("ui-tester")
    expect(elyra.locator(".jp-RuntimeImages-buildEngine")).to_have_text("embedded")
    expect(elyra.locator(".jp-RuntimeImages-buildAge")).not_to_be_empty()
    panel(page).screenshot(path=str(OUTPUT / "builds-pending-building.png"))

    # The first one goes on; the second starts and is held in its turn.
    first.release()
    expect(blocker).to_have_attribute("data-phase", "Ready", timeout=30_000)
    expect(elyra).to_have_attribute("data-phase", "Building", timeout=30_000)
    # The latest condition's message (not the first one's).
    expect(elyra.locator(".jp-RuntimeImages-buildMessageText")).not_to_be_empty()
    second.release()
    expect(elyra).to_have_attribute("data-phase", "Ready", timeout=30_000)
    expect(elyra.locator(".jp-RuntimeImages-buildPhaseText")).to_have_text("Ready")
    expect(elyra.locator('[role="progressbar"]')).to_have_count(0)
    assert phases_seen(page, "elyra-ok") == ["Pending", "Building", "Ready"]
    assert phases_seen(page, "blocker-image")[-1] == "Ready"
    panel(page).screenshot(path=str(OUTPUT / "builds-ready.png"))

    # The runtime image it created, pinned to the digest (tag kept), without reloading.
    digest = pushed["ui/elyra-ok"]
    elyra.locator("button.jp-RuntimeImages-openImage").click()
    row = image_row(page, "elyra-ok")
    expect(row).to_be_visible()
    expect(row.locator(".jp-RuntimeImages-pinned")).to_have_text("pinned")
    # A wider sidebar shows the whole reference, "pinned" mark included.
    widen_sidebar(page, 260)
    reference = row.locator(".jp-RuntimeImages-imageRef").bounding_box()
    pinned = row.locator(".jp-RuntimeImages-pinned").bounding_box()
    assert reference and pinned
    assert pinned["x"] + pinned["width"] <= reference["x"] + reference["width"] + 1
    expect(row.locator(".jp-RuntimeImages-imageRef")).to_have_attribute(
        "title", f"{second.host}/ui/elyra-ok:1@{digest}"
    )
    expect(row.locator(".jp-RuntimeImages-digest")).to_contain_text("@sha256:")
    panel(page).screenshot(path=str(OUTPUT / "builds-runtime-image-pinned.png"))
    assert page.evaluate("window.__notReloaded === true")
    stored = lab.api("images/elyra-ok")
    assert stored["metadata"]["image_name"] == f"{second.host}/ui/elyra-ok:1@{digest}"
    panel(page).locator("input.jp-RuntimeImages-search").fill("")


def test_details_of_a_ready_build(page: Any) -> None:
    build_row(page, "elyra-ok").locator('button[aria-label="Details"]').click()
    view = details(page, "elyra-ok")
    expect(view).to_be_visible()
    conditions = view.locator(".jp-RuntimeImages-conditions tbody tr")
    expect(conditions.last).to_have_attribute("data-type", "Ready")
    types = conditions.evaluate_all(
        "rows => rows.map(r => r.dataset.type + '=' + r.dataset.status)"
    )
    assert types == ["Importing=True", "Validating=True", "Ready=True"], types
    checks = view.locator(".jp-RuntimeImages-checks tbody tr")
    expect(checks.first).to_be_visible()
    results = checks.evaluate_all("rows => rows.map(r => r.dataset.result)")
    assert "fail" not in results and "pass" in results, results
    expect(view.locator(".jp-RuntimeImages-software")).to_contain_text("Python")
    expect(view.locator(".jp-RuntimeImages-pythonPackages")).to_contain_text("pip")
    expect(view.locator(".jp-RuntimeImages-logText")).to_contain_text("Ready=True")
    expect(view.locator('button[aria-label="Retry build"]')).to_be_visible()
    expect(view.locator('button[aria-label="Delete build"]')).to_be_visible()
    expect(view.locator('button[aria-label="Open runtime image elyra-ok"]')).to_be_visible()
    page.screenshot(path=str(OUTPUT / "builds-details-ready.png"))


def test_failed_import_shows_the_reason(
    page: Any,
    lab: LabServer,
    registry: RegistryServer,
    pushed: dict[str, str],
) -> None:
    fill_import(page, f"{registry.host}/ui/no-python:1", NO_PYTHON)
    submit_import(page)
    expect(IMPORT_DIALOG.locator(page)).to_have_count(0)
    row = build_row(page, "no-python")
    expect(row).to_have_attribute("data-phase", "Failed", timeout=30_000)
    expect(row.locator(".jp-RuntimeImages-buildReason")).to_have_text("RequirementsNotMet")
    expect(row.locator(".jp-RuntimeImages-buildMessageText")).to_contain_text("python3")
    assert phases_seen(page, "no-python")[-1] == "Failed"
    # No runtime image from a failed import.
    assert all(i["name"] != "no-python" for i in lab.api("images")["runtime-images"])
    panel(page).screenshot(path=str(OUTPUT / "builds-failed.png"))

    row.locator('button[aria-label="Details"]').click()
    view = details(page, "no-python")
    expect(view).to_be_visible()
    validating = view.locator(
        '.jp-RuntimeImages-conditions tr[data-type="Validating"][data-status="False"]'
    )
    expect(validating).to_contain_text("RequirementsNotMet")
    expect(validating).to_contain_text("python3")
    latest = view.locator(".jp-RuntimeImages-conditions tbody tr").last
    expect(latest).to_have_attribute("data-status", "False")
    expect(latest).to_contain_text("RequirementsNotMet")
    expect(view.locator('.jp-RuntimeImages-checks tr[data-result="fail"]').first).to_be_visible()
    expect(view.locator(".jp-RuntimeImages-buildMessage")).to_contain_text("python3")
    page.screenshot(path=str(OUTPUT / "builds-details-failed.png"))


def test_retry_runs_a_failed_build_again(page: Any) -> None:
    view = details(page, "no-python")
    view.locator('button[aria-label="Retry build"]').click()
    page.wait_for_function(
        "(window.__buildPhases['no-python'] || []).filter(p => p === 'Failed').length === 2",
        timeout=30_000,
    )
    expect(build_row(page, "no-python")).to_have_attribute("data-phase", "Failed")
    seen = phases_seen(page, "no-python")
    assert seen[-1] == "Failed" and seen.count("Failed") == 2, seen


def test_server_errors_show_next_to_the_fields(page: Any, registry: RegistryServer) -> None:
    # A name that is taken: 409, shown at the name field.
    fill_import(page, f"{registry.host}/ui/elyra-ok:1", ELYRA)
    submit_import(page)
    expect(IMPORT_DIALOG.error(page, "displayName")).to_contain_text("taken")
    expect(IMPORT_DIALOG.locator(page)).to_be_visible()
    # Passes the grammar (32+ hex digits) but not the server's check (sha256 has 64):
    # the server's 400 names spec.fromImage, shown at the reference field.
    IMPORT_DIALOG.field(page, "displayName").fill("Another One")
    IMPORT_DIALOG.field(page, "image").fill(f"{registry.host}/ui/elyra-ok:1@sha256:" + "a" * 40)
    expect(IMPORT_DIALOG.error(page, "image")).to_have_count(0)
    submit_import(page)
    expect(IMPORT_DIALOG.error(page, "image")).to_be_visible()
    expect(IMPORT_DIALOG.locator(page)).to_be_visible()
    IMPORT_DIALOG.locator(page).screenshot(path=str(OUTPUT / "builds-import-server-error.png"))
    IMPORT_DIALOG.locator(page).locator('button[aria-label="Cancel"]').click()
    expect(IMPORT_DIALOG.locator(page)).to_have_count(0)
    expect(build_row(page, "another-one")).to_have_count(0)


def test_delete_asks_first(page: Any, lab: LabServer) -> None:
    row = build_row(page, "no-python")
    row.locator('button[aria-label="Delete build"]').click()
    confirm = page.locator(".jp-Dialog-content", has_text="Delete build")
    expect(confirm).to_contain_text("No Python")
    confirm.locator("button", has_text="Cancel").click()
    expect(row).to_be_visible()
    row.locator('button[aria-label="Delete build"]').click()
    page.locator(".jp-Dialog-content", has_text="Delete build").locator(
        "button", has_text="Delete"
    ).last.click()
    expect(row).to_have_count(0)
    expect(details(page, "no-python")).to_have_count(0)
    names = [b["metadata"]["name"] for b in lab.api("builds")["builds"]]
    assert "no-python" not in names


def test_build_from_the_command_line_appears_live(
    page: Any, lab: LabServer, registry: RegistryServer, pushed: dict[str, str]
) -> None:
    """A build submitted by another client (here the REST API directly) shows up from
    its events, without reloading."""

    body = {
        "apiVersion": "meteor.zone/v1alpha1",
        "kind": "CustomNBImage",
        "metadata": {
            "name": "from-elsewhere",
            "annotations": {
                "opendatahub.io/notebook-image-name": "From Elsewhere",
                "opendatahub.io/notebook-image-desc": "submitted without the panel",
                "opendatahub.io/notebook-image-creator": "someone-else",
            },
        },
        "spec": {"buildType": "ImageImport", "fromImage": f"{registry.host}/ui/elyra-ok:1"},
    }
    status, _ = lab.request("POST", "builds", body)
    assert status == 201
    row = build_row(page, "from-elsewhere")
    expect(row).to_have_attribute("data-phase", "Ready", timeout=30_000)
    expect(row.locator(".jp-RuntimeImages-buildName")).to_have_text("From Elsewhere")
    expect(row.locator(".jp-RuntimeImages-buildCreator")).to_have_text("someone-else")
    # The whole resource was fetched after the events (its runtime image is known).
    expect(row.locator("button.jp-RuntimeImages-openImage")).to_be_visible()
    # Deleted elsewhere: the "Deleted" event removes the row.
    status, _ = lab.request("DELETE", "builds/from-elsewhere")
    assert status == 204
    expect(row).to_have_count(0)
    assert page.evaluate("window.__notReloaded === true")


def test_cancel_a_running_build(
    page: Any, registry: RegistryServer, pushed: dict[str, str]
) -> None:
    with HoldingProxy(registry.port) as proxy:
        fill_import(page, f"{proxy.host}/ui/elyra-ok:1", "To Cancel")
        submit_import(page)
        row = build_row(page, "to-cancel")
        expect(row).to_have_attribute("data-phase", "Building", timeout=30_000)
        row.locator('button[aria-label="Cancel build"]').click()
        expect(row).to_have_attribute("data-phase", "Failed", timeout=30_000)
        expect(row.locator(".jp-RuntimeImages-buildReason")).to_have_text("Cancelled")
        # An ended build offers Retry instead of Cancel.
        expect(row.locator('button[aria-label="Retry build"]')).to_be_visible()
        expect(row.locator('button[aria-label="Cancel build"]')).to_have_count(0)


def test_keyboard_reachable(page: Any) -> None:
    # The toolbar button opens the dialog from the keyboard.
    import_button(page).locator("button").focus()
    page.keyboard.press("Enter")
    expect(IMPORT_DIALOG.locator(page)).to_be_visible()
    # Tab goes through the fields and stays in the dialog.
    labels = []
    for _ in range(12):
        page.keyboard.press("Tab")
        labels.append(page.evaluate("document.activeElement.getAttribute('aria-label')"))
    assert "Name" in labels and "Check profile kubeflow" in labels and "Import" in labels
    assert page.evaluate("!!document.activeElement.closest('.jp-RuntimeImages-importDialog')")
    page.keyboard.press("Escape")
    expect(IMPORT_DIALOG.locator(page)).to_have_count(0)
    # A build's buttons are reachable with the arrow keys (the list is one tab stop);
    # Enter on Details opens them.
    row = build_row(page, "elyra-ok")
    row.locator(".jp-RuntimeImages-buildName").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Details"
    page.keyboard.press("Enter")
    expect(details(page, "elyra-ok")).to_be_visible()


def test_every_button_is_labelled(page: Any) -> None:
    for scope in [panel(page).locator(".jp-RuntimeImages-builds"), details(page, "elyra-ok")]:
        buttons = scope.locator("button")
        assert buttons.count() > 0
        for index in range(buttons.count()):
            button = buttons.nth(index)
            assert button.get_attribute("aria-label"), button.inner_html()
            assert button.get_attribute("title"), button.inner_html()


def test_screenshots_dark(page: Any) -> None:
    use_theme(page, dark=True)
    page.screenshot(path=str(OUTPUT / "builds-dark.png"))
    use_theme(page, dark=False)


def test_no_console_errors(page: Any, console: ConsoleLog, lab: LabServer) -> None:
    # The deliberate 409 and 400 of the import dialog are the only failed requests.
    unexpected = [
        e
        for e in console.errors
        if not (
            e.startswith("console.error: Failed to load resource")
            and ("status of 400" in e or "status of 409" in e)
            and "/runtime-images/builds" in e
        )
    ]
    assert unexpected == []
    deliberate = [e for e in console.errors if e not in unexpected]
    assert len(deliberate) == 2, deliberate
    errors = [
        line
        for line in lab.log().splitlines()
        if line.startswith(("[E ", "[C ")) or " 500 " in line or "Traceback" in line
    ]
    assert [e for e in errors if "received signal" not in e] == []
    assert page.evaluate("window.__notReloaded === true")
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "builds-ui-timings.json").write_text(json.dumps(TIMINGS, indent=2))
