"""The Runtime Images panel in a real JupyterLab, driven by a real chromium.

The tests of this module share one server and one page and run in order: each step
starts from the state the previous one left (like a person using the panel).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import run_cli

from .conftest import OUTPUT, ConsoleLog, LabServer
from .locators import image_row, panel
from .steps import run_palette_command, use_theme

pytestmark = pytest.mark.timeout(300)

DISPLAY = "UI Test Image"
NAME = "ui_test_image"


def editor(page: Any) -> Any:
    return page.locator(".jp-RuntimeImages-editor:visible")


def field(page: Any, path: str) -> Any:
    return editor(page).locator(f"[id$='-root_{path}']").first


def field_error(page: Any, path: str) -> Any:
    return editor(page).locator(f"[id$='-root_{path}__error']")


def write_image(lab: LabServer, name: str, document: dict[str, Any] | str) -> Path:
    path = lab.store / f"{name}.json"
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    path.write_text(text)
    return path


def create_with_cli(lab: LabServer, name: str, display_name: str, image_name: str) -> None:
    """Create a runtime image as a user would, with `jupyter runtime-images create`."""
    result = run_cli(
        lab.env,
        "create",
        "--name",
        name,
        "--display_name",
        display_name,
        "--image_name",
        image_name,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def count(page: Any) -> int:
    return int(panel(page).locator(".jp-RuntimeImages-count").get_attribute("data-count"))


def test_open_from_palette(page: Any, lab: LabServer) -> None:
    assert not panel(page).is_visible()
    run_palette_command(page, "Manage Runtime Images")
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(panel(page)).to_be_visible()
    # The factory images (shipped with the package) are listed, sorted by display name.
    expect(panel(page).locator(".jp-RuntimeImages-row").first).to_be_visible()
    names = panel(page).locator(".jp-RuntimeImages-displayName").all_inner_texts()
    assert len(names) >= 8
    assert names == sorted(names, key=str.casefold)
    factory = panel(page).locator('.jp-RuntimeImages-row[data-origin="factory"]').first
    expect(factory.locator(".jp-RuntimeImages-origin")).to_have_text("factory")
    # Every toolbar button is labelled for assistive technologies and has a tooltip.
    for label in ["Create new runtime image", "Refresh", "Export", "Import"]:
        # Toolbar buttons are <jp-button> web components: the host has the title,
        # the focusable <button> inside has the aria-label.
        host = panel(page).locator(f'.jp-Toolbar jp-button[title="{label}"]')
        expect(host).to_have_count(1)
        expect(host.locator("button")).to_have_attribute("aria-label", label)
    # The sidebar tab has the panel's own icon.
    expect(page.locator('.jp-SideBar [data-id="runtime-images-panel"]')).to_be_visible()


def test_create_through_form(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    panel(page).locator('button[aria-label="Create new runtime image"]').click()
    expect(editor(page)).to_be_visible()
    field(page, "display_name").fill(DISPLAY)
    field(page, "metadata_image_name").fill("not a valid image !!")
    editor(page).locator('button[aria-label="Save"]').click()
    # Client-side validation: the error is next to the field, in words (not the
    # schema's pattern), and nothing was written.
    expect(field_error(page, "metadata_image_name")).to_contain_text("Not a valid image reference")
    assert not (lab.store / f"{NAME}.json").exists()

    field(page, "metadata_image_name").fill("quay.io/test/ui-image:1.0")
    expect(field_error(page, "metadata_image_name")).to_have_count(0)
    field(page, "metadata_pull_policy").select_option("IfNotPresent")
    field(page, "metadata_description").fill("Made by the UI test")
    # tags: Enter adds one, the button adds another, the chip's button removes it
    field(page, "metadata_tags").fill("ui-test")
    field(page, "metadata_tags").press("Enter")
    field(page, "metadata_tags").fill("temporary")
    editor(page).locator('button[aria-label="Add tag"]').click()
    editor(page).locator('button[aria-label="Remove tag temporary"]').click()
    expect(editor(page).locator(".jp-RuntimeImages-tagsList li")).to_have_count(1)
    editor(page).locator('button[aria-label="Save"]').click()
    expect(editor(page)).to_have_count(0)

    expect(image_row(page, NAME)).to_be_visible()
    expect(image_row(page, NAME).locator(".jp-RuntimeImages-registry")).to_have_text("quay.io")
    expect(image_row(page, NAME).locator(".jp-RuntimeImages-tag")).to_have_text(":1.0")
    expect(image_row(page, NAME)).to_contain_text("IfNotPresent")
    expect(image_row(page, NAME).locator(".jp-RuntimeImages-tagChip")).to_have_text("ui-test")
    stored = json.loads((lab.store / f"{NAME}.json").read_text())
    assert stored["display_name"] == DISPLAY
    assert stored["metadata"]["image_name"] == "quay.io/test/ui-image:1.0"
    assert stored["metadata"]["tags"] == ["ui-test"]


def test_server_field_errors_show_next_to_fields(page: Any, lab: LabServer) -> None:
    """Errors only the server finds: shown next to their fields."""
    expect = pytest.importorskip("playwright.sync_api").expect
    panel(page).locator('button[aria-label="Create new runtime image"]').click()
    field(page, "display_name").fill("Another")
    # Passes the schema's pattern (32+ hex digits) but not the reference grammar
    # (sha256 digests have 64): the server answers 400 with the field's path.
    field(page, "metadata_image_name").fill("quay.io/test/other:2@sha256:" + "a" * 40)
    editor(page).locator('button[aria-label="Save"]').click()
    expect(field_error(page, "metadata_image_name")).to_contain_text("digest")
    expect(editor(page).locator(".jp-RuntimeImages-formMessage")).to_be_visible()
    assert not (lab.store / "another.json").exists()
    # A name that is taken: the server's 409 shows at the name field.
    field(page, "metadata_image_name").fill("quay.io/test/other:2")
    field(page, "name").fill(NAME)
    editor(page).locator('button[aria-label="Save"]').click()
    expect(field_error(page, "name")).to_be_visible()
    expect(field_error(page, "metadata_image_name")).to_have_count(0)
    editor(page).locator('button[aria-label="Cancel"]').click()
    expect(editor(page)).to_have_count(0)


def test_edit(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    image_row(page, NAME).locator('button[aria-label="Edit"]').click()
    expect(editor(page)).to_be_visible()
    expect(field(page, "display_name")).to_have_value(DISPLAY)
    expect(field(page, "name")).to_have_attribute("readonly", "")
    field(page, "display_name").fill(DISPLAY + " v2")
    field(page, "metadata_image_name").fill("quay.io/test/ui-image:1.0@sha256:" + "ab" * 32)
    editor(page).locator('button[aria-label="Save"]').click()
    expect(editor(page)).to_have_count(0)
    expect(image_row(page, NAME).locator(".jp-RuntimeImages-displayName")).to_have_text(
        DISPLAY + " v2"
    )
    expect(image_row(page, NAME).locator(".jp-RuntimeImages-pinned")).to_have_text("pinned")
    expect(image_row(page, NAME).locator(".jp-RuntimeImages-digest")).to_contain_text(
        "@sha256:abab"
    )


def test_edit_factory_image_saves_a_user_copy(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    factory = image_row(page, "r")
    expect(factory).to_have_attribute("data-origin", "factory")
    expect(factory.locator('button[aria-label="Delete"]')).to_have_count(0)
    factory.locator('button[aria-label="Edit"]').click()
    expect(editor(page).locator(".jp-RuntimeImages-note")).to_contain_text("factory")
    field(page, "metadata_description").fill("my own R")
    editor(page).locator('button[aria-label="Save"]').click()
    expect(editor(page)).to_have_count(0)
    expect(image_row(page, "r")).to_have_attribute("data-origin", "user")
    assert json.loads((lab.store / "r.json").read_text())["metadata"]["description"] == "my own R"
    # Deleting the user copy brings the factory image back.
    image_row(page, "r").locator('button[aria-label="Delete"]').click()
    page.locator(".jp-Dialog button.jp-mod-warn").click()
    expect(image_row(page, "r")).to_have_attribute("data-origin", "factory")
    assert not (lab.store / "r.json").exists()


def test_stale_edit_offers_reload(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    image_row(page, NAME).locator('button[aria-label="Edit"]').click()
    expect(editor(page)).to_be_visible()
    field(page, "metadata_description").fill("my local change")
    # Someone else changes the file meanwhile.
    path = lab.store / f"{NAME}.json"
    document = json.loads(path.read_text())
    document["metadata"]["description"] = "changed elsewhere"
    path.write_text(json.dumps(document, indent=2))
    time.sleep(0.05)
    editor(page).locator('button[aria-label="Save"]').click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("changed")
    dialog.locator('button:has-text("Reload")').click()
    expect(field(page, "metadata_description")).to_have_value("changed elsewhere")
    editor(page).locator('button[aria-label="Cancel"]').click()
    expect(editor(page)).to_have_count(0)


def test_closing_an_edited_form_asks_first(page: Any) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    close = page.locator(
        "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon"
    )
    # Unchanged: closes at once.
    image_row(page, NAME).locator('button[aria-label="Edit"]').click()
    expect(editor(page)).to_be_visible()
    close.click()
    expect(editor(page)).to_have_count(0)
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    # Changed: asks; "Keep editing" keeps it, "Discard changes" closes it.
    image_row(page, NAME).locator('button[aria-label="Edit"]').click()
    field(page, "metadata_description").fill("unsaved")
    close.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Close without saving?")
    dialog.locator("button.jp-mod-reject").click()
    expect(editor(page)).to_be_visible()
    close.click()
    page.locator(".jp-Dialog button.jp-mod-warn").click()
    expect(editor(page)).to_have_count(0)


def test_duplicate_and_delete_the_duplicate(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    before = {p.name for p in lab.store.glob("*.json")}
    image_row(page, NAME).locator('button[aria-label="Duplicate"]').click()
    copy = panel(page).locator(".jp-RuntimeImages-row", has_text=f"{DISPLAY} v2 (copy)")
    expect(copy).to_be_visible()
    copy_name = copy.get_attribute("data-name")
    assert copy_name and copy_name != NAME
    assert {p.name for p in lab.store.glob("*.json")} - before == {f"{copy_name}.json"}

    copy.locator('button[aria-label="Delete"]').click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(f"{DISPLAY} v2 (copy)")
    dialog.locator("button.jp-mod-warn").click()
    expect(image_row(page, copy_name)).to_have_count(0)
    assert not (lab.store / f"{copy_name}.json").exists()
    expect(image_row(page, NAME)).to_be_visible()


def test_filter(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    search = panel(page).locator("input.jp-RuntimeImages-search")
    total = count(page)
    search.fill("ui-image")  # matches the image name only
    expect(panel(page).locator(".jp-RuntimeImages-row")).to_have_count(1)
    expect(image_row(page, NAME)).to_be_visible()
    search.fill("pytorch")
    expect(image_row(page, NAME)).to_have_count(0)
    assert count(page) >= 1
    search.fill("no such image at all")
    expect(panel(page)).to_contain_text("No runtime image matches the filter.")
    search.fill("")
    expect(panel(page).locator(".jp-RuntimeImages-count")).to_have_attribute(
        "data-count", str(total)
    )
    # by tag
    chip = panel(page).locator('.jp-RuntimeImages-tagToggle[aria-label="Tag: ui-test"]')
    chip.click()
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(panel(page).locator(".jp-RuntimeImages-row")).to_have_count(1)
    chip.click()
    expect(panel(page).locator(".jp-RuntimeImages-count")).to_have_attribute(
        "data-count", str(total)
    )


def test_repair_invalid_file(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    write_image(
        lab,
        "broken",
        {
            "display_name": "Broken Image",
            "schema_name": "runtime-image",
            "metadata": {"image_name": "NOT a valid image !!", "keep_me": 1},
        },
    )
    panel(page).locator('button[aria-label="Refresh"]').first.click()
    invalid = panel(page).locator('.jp-RuntimeImages-invalidItem[data-name="broken"]')
    expect(invalid).to_be_visible()
    expect(invalid.locator(".jp-RuntimeImages-invalidMark")).to_have_text("invalid")
    expect(invalid.locator(".jp-RuntimeImages-reason")).not_to_be_empty()
    invalid.locator('button[aria-label="Edit"]').click()
    expect(editor(page)).to_be_visible()
    expect(editor(page).locator(".jp-RuntimeImages-repairReason")).to_be_visible()
    field(page, "metadata_image_name").fill("quay.io/test/fixed:1")
    editor(page).locator('button[aria-label="Save"]').click()
    expect(editor(page)).to_have_count(0)
    expect(invalid).to_have_count(0)
    expect(image_row(page, "broken")).to_be_visible()
    stored = json.loads((lab.store / "broken.json").read_text())
    assert stored["metadata"]["image_name"] == "quay.io/test/fixed:1"
    assert stored["metadata"]["keep_me"] == 1  # unknown keys are preserved


def test_cli_change_appears_without_reload(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    create_with_cli(lab, "x", "X", "quay.io/a/b:1")
    assert (lab.store / "x.json").exists()
    # No click on Refresh: the panel polls (conditional GET) and shows it.
    expect(image_row(page, "x")).to_be_visible(timeout=15_000)
    expect(image_row(page, "x").locator(".jp-RuntimeImages-registry")).to_have_text("quay.io")
    expect(image_row(page, "x").locator(".jp-RuntimeImages-unpinned")).to_have_count(0)


def test_unpinned_reference_is_marked(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    create_with_cli(lab, "floating", "Floating", "ubuntu")
    badge = image_row(page, "floating").locator(".jp-RuntimeImages-unpinned")
    expect(badge).to_be_visible(timeout=15_000)
    expect(badge).to_have_attribute("title", re.compile("has no tag and no digest"))


def test_export_and_import(page: Any, lab: LabServer, tmp_path: Path) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    with page.expect_download() as download_info:
        panel(page).locator('button[aria-label="Export"]').click()
    download = download_info.value
    target = tmp_path / "export.json"
    download.save_as(target)
    bundle = json.loads(target.read_text())
    names = {image["name"] for image in bundle["runtime-images"]}
    assert {NAME, "x", "broken"} <= names

    new_bundle = {
        "runtime-images": [
            {
                "name": "imported_one",
                "display_name": "Imported One",
                "schema_name": "runtime-image",
                "metadata": {"image_name": "ghcr.io/org/imported:3", "tags": ["imported"]},
            },
            {
                "name": "imported_bad",
                "display_name": "Imported Bad",
                "schema_name": "runtime-image",
                "metadata": {"image_name": "Not An Image!"},
            },
            {
                "name": NAME,
                "display_name": "Would overwrite",
                "schema_name": "runtime-image",
                "metadata": {"image_name": "quay.io/other/thing:1"},
            },
        ]
    }
    source = tmp_path / "import.json"
    source.write_text(json.dumps(new_bundle))
    with page.expect_file_chooser() as chooser_info:
        panel(page).locator('button[aria-label="Import"]').click()
    chooser_info.value.set_files(str(source))
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("import.json")
    dialog.locator("button.jp-mod-accept").click()
    # The report names what failed and what was skipped (no overwrite asked).
    report = page.locator(".jp-Dialog .jp-RuntimeImages-importReport")
    expect(report.locator('li[data-status="failed"]')).to_contain_text("imported_bad")
    expect(report.locator('li[data-status="skipped"]')).to_contain_text(NAME)
    page.locator(".jp-Dialog button.jp-mod-accept").click()
    expect(image_row(page, "imported_one")).to_be_visible()
    expect(image_row(page, "imported_one").locator(".jp-RuntimeImages-registry")).to_have_text(
        "ghcr.io"
    )
    expect(image_row(page, "imported_bad")).to_have_count(0)
    assert json.loads((lab.store / f"{NAME}.json").read_text())["display_name"] != "Would overwrite"


def test_keyboard_reachable(page: Any) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    search = panel(page).locator("input.jp-RuntimeImages-search")
    search.focus()
    search.fill("imported")
    expect(panel(page).locator(".jp-RuntimeImages-row")).to_have_count(1)
    # Tab from the filter reaches the row's first button (its check box), the
    # Right arrow its Edit button; Enter opens the editor.
    for _ in range(16):
        page.keyboard.press("Tab")
        label = page.evaluate("document.activeElement.getAttribute('aria-label')")
        if label == "Select":
            break
    assert label == "Select"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Edit"
    page.keyboard.press("Enter")
    expect(editor(page)).to_be_visible()
    page.keyboard.press("Escape")
    editor(page).locator('button[aria-label="Cancel"]').click()
    expect(editor(page)).to_have_count(0)
    search.fill("")


def test_screenshots_light_and_dark(page: Any) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    OUTPUT.mkdir(exist_ok=True)
    sidebar = page.locator("#jp-left-stack")
    panel(page).locator("input.jp-RuntimeImages-search").fill("")
    expect(panel(page).locator(".jp-RuntimeImages-row").first).to_be_visible()
    page.screenshot(path=str(OUTPUT / "runtime-images-light.png"))
    sidebar.screenshot(path=str(OUTPUT / "runtime-images-panel-light.png"))
    use_theme(page, dark=True)
    page.screenshot(path=str(OUTPUT / "runtime-images-dark.png"))
    sidebar.screenshot(path=str(OUTPUT / "runtime-images-panel-dark.png"))
    # Dark theme really applies to the panel: its background is dark.
    background = panel(page).evaluate("node => getComputedStyle(node).backgroundColor")
    channels = [int(c) for c in background[background.index("(") + 1 : -1].split(",")[:3]]
    assert sum(channels) < 3 * 100, background
    use_theme(page, dark=False)


def test_panel_restored_with_the_layout(page: Any, lab: LabServer) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(panel(page)).to_be_visible()
    page.wait_for_timeout(1500)  # the layout is saved asynchronously
    page.goto(lab.lab_url().replace("&reset", ""))
    page.wait_for_selector("#jp-main-dock-panel", state="visible", timeout=60_000)
    expect(panel(page)).to_be_visible(timeout=30_000)


def test_no_console_errors(console: ConsoleLog, lab: LabServer) -> None:
    assert console.errors == []
    # ... and the server logged no error (no 5xx, no traceback).
    errors = [
        line
        for line in lab.log().splitlines()
        if line.startswith(("[E ", "[C ")) or " 500 " in line
    ]
    assert [e for e in errors if "received signal" not in e] == []
    # The deliberate 400, 409 and 412 did happen (and were the only 4xx answers).
    assert len(console.expected) == 3, console.expected
