"""Accessibility of every surface of the extension, in a real JupyterLab and chromium.

- axe-core audits (WCAG 2.1 A/AA and best practices) of the panel, the create/edit form,
  the Import, Build, Delete and Kernelspec dialogs and a build's details, in the light
  and the dark theme, beside JupyterLab's own File Browser, Running panel and Delete
  dialog. No violation of serious or critical impact is allowed in the extension's
  surfaces, and no rule is excepted: the one JupyterLab's own panels fail here
  (aria-allowed-attr, critical: the aria-pressed that a ToolbarButton with onClick
  carries) does not occur in the extension's, whose toolbar buttons are command
  buttons. Every audit is written to test-output/axe-results.json.
- Keyboard: where the focus goes after a failed save, after Save and Cancel, after
  "Clear filter", in the delete confirmation, and in the lists (one tab stop, arrows).
- What axe cannot judge: the dark theme's error text contrast, the tag chips with 13
  images (none half hidden under the filter box), what a screen reader reads.

A real `jupyter lab` with 13 runtime images (the 8 factory ones and 5 with tags), a real
local registry (for a real build to show the details of). The tests share one page and
run in order.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.fixtures.plugin)
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import images
from tests.fixtures.plugin import registry  # noqa: F401  (session fixture)
from tests.fixtures.registry import RegistryServer

from .axe import Violation, audit, contrast_ratio, counts
from .conftest import OUTPUT, LabServer
from .locators import FormDialog, build_row, image_row, panel
from .steps import expect, focused, run_palette_command

pytestmark = pytest.mark.timeout(300)

# surface -> theme -> {"rule (impact)": elements}
RESULTS: dict[str, dict[str, dict[str, int]]] = {}

USER_IMAGES = {
    "gpu_lab": ("GPU Lab", "quay.io/lab/gpu:2.1", ["gpu", "cuda", "team-a"]),
    "spark_jobs": ("Spark Jobs", "quay.io/lab/spark:3.5", ["spark", "java", "team-b"]),
    "r_studio": ("R Studio", "quay.io/lab/rstudio:4", ["R", "team-a", "teaching"]),
    "minimal": ("Minimal Python", "quay.io/lab/minimal:3.12", ["python-3.12", "small"]),
    "nightly": ("Nightly", "quay.io/lab/nightly", ["experimental", "unpinned-tag"]),
}


def write_user_images(data_dir: Path) -> None:
    store = data_dir / "metadata" / "runtime-images"
    store.mkdir(parents=True, exist_ok=True)
    for name, (display, reference, tags) in USER_IMAGES.items():
        document = {
            "display_name": display,
            "schema_name": "runtime-image",
            "metadata": {"image_name": reference, "tags": tags, "pull_policy": "IfNotPresent"},
        }
        (store / f"{name}.json").write_text(json.dumps(document))
    (data_dir.parent / "root").mkdir(parents=True, exist_ok=True)
    (data_dir.parent / "root" / "notes.txt").write_text("a file for JupyterLab's own dialog\n")


@pytest.fixture(scope="module")
def lab_options(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """13 images; plain-http loopback registries, no credentials from the machine; the
    app exposed as `window.jupyterapp`, so the theme can change while a dialog is open."""
    auth = tmp_path_factory.mktemp("a11y-auth") / "auth.json"
    auth.write_text("{}")
    return {
        "setup": write_user_images,
        "server_config": {"RegistryClient": {"auth_file": str(auth), "retry_backoff": 0.2}},
        "page_config": {"exposeAppInBrowser": True},
    }


def set_theme(page: Any, dark: bool) -> None:
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate(
        "theme => window.jupyterapp.commands.execute('apputils:change-theme', { theme })", theme
    )
    expect(page.locator("body")).to_have_attribute(
        "data-jp-theme-light", "false" if dark else "true", timeout=30_000
    )
    page.wait_for_timeout(400)  # the theme's stylesheet applies after the attribute


JUPYTERLAB_SURFACES = ("File Browser", "Running", "JupyterLab Delete dialog")


def jupyterlab_rules() -> set[str]:
    """The rules JupyterLab's own surfaces fail in this run (any impact)."""
    return {
        key.split(" (")[0]
        for surface in JUPYTERLAB_SURFACES
        for theme in RESULTS.get(surface, {}).values()
        for key in theme
    }


def record(page: Any, surface: str, selector: str) -> list[tuple[str, Violation]]:
    """Audit `selector` in the light and the dark theme; the violations, by theme."""
    found = []
    for theme in ("light", "dark"):
        set_theme(page, theme == "dark")
        violations = audit(page, selector)
        RESULTS.setdefault(surface, {})[theme] = counts(violations)
        found += [(theme, v) for v in violations]
    set_theme(page, False)
    (OUTPUT / "axe-results.json").write_text(json.dumps(RESULTS, indent=2, sort_keys=True))
    return found


def check(page: Any, surface: str, selector: str) -> list[str]:
    """Audit one of the extension's surfaces. What is not allowed: any serious or
    critical violation, and a lesser one that JupyterLab's own surfaces do not have (the
    extension's are to be as clean as JupyterLab's)."""
    assert set(JUPYTERLAB_SURFACES) <= set(RESULTS), "audit JupyterLab's own surfaces first"
    baseline = jupyterlab_rules()
    return [
        f"{theme}: {v.describe()}"
        for theme, v in record(page, surface, selector)
        if v.blocking or v.rule not in baseline
    ]


def show_sidebar(page: Any, widget_id: str) -> None:
    """Show a sidebar panel (a click on its tab would close it when it is open)."""
    page.evaluate("id => window.jupyterapp.shell.activateById(id)", widget_id)
    expect(page.locator(f"#{widget_id}")).to_be_visible()


def editor_selector(page: Any) -> str:
    editor = page.locator(".jp-RuntimeImages-editorPanel:not(.lm-mod-hidden)")
    expect(editor).to_have_count(1)
    return f"#{editor.get_attribute('id')}"


def our_dialog() -> str:
    return ".jp-RuntimeImages-importDialogHost"


def test_jupyterlab_panels(page: Any) -> None:
    """JupyterLab's own panels and a dialog of its own, audited the same way: the
    baseline the extension is compared with (not JupyterLab's to fix here). They fail
    aria-allowed-attr (critical) on their ToolbarButtons' aria-pressed."""
    OUTPUT.mkdir(exist_ok=True)
    show_sidebar(page, "filebrowser")
    record(page, "File Browser", "#filebrowser")
    item = page.locator(".jp-DirListing-item", has_text="notes.txt")
    item.click()
    page.keyboard.press("Delete")
    expect(page.locator(".jp-Dialog")).to_be_visible()
    record(page, "JupyterLab Delete dialog", ".jp-Dialog")
    page.locator(".jp-Dialog button.jp-mod-reject").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    show_sidebar(page, "jp-running-sessions")
    record(page, "Running", "#jp-running-sessions")


def test_panel(page: Any) -> None:
    run_palette_command(page, "Manage Runtime Images")
    expect(panel(page).locator(".jp-RuntimeImages-row").first).to_be_visible()
    expect(panel(page).locator(".jp-RuntimeImages-count")).to_have_attribute("data-total", "13")
    assert check(page, "panel", "#runtime-images-panel") == []


def test_create_form_after_a_failed_save(page: Any) -> None:
    panel(page).locator('button[aria-label="Create new runtime image"]').click()
    selector = editor_selector(page)
    page.locator(selector).locator('button[aria-label="Save"]').click()
    expect(page.locator(selector).locator(".jp-RuntimeImages-formMessage")).to_be_visible()
    page.locator(selector).screenshot(path=str(OUTPUT / "a11y-create-form-errors.png"))
    refused = check(page, "create/edit form", selector)
    page.locator(selector).locator('button[aria-label="Cancel"]').click()
    assert refused == []


def test_edit_form(page: Any) -> None:
    image_row(page, "gpu_lab").locator('button[aria-label="Edit"]').click()
    selector = editor_selector(page)
    refused = check(page, "edit form", selector)
    page.locator(selector).locator('button[aria-label="Cancel"]').click()
    assert refused == []


def test_delete_confirmation(page: Any) -> None:
    image_row(page, "nightly").locator('button[aria-label="Delete"]').click()
    expect(page.locator(".jp-Dialog")).to_be_visible()
    refused = check(page, "Delete dialog", ".jp-Dialog")
    page.locator(".jp-Dialog button.jp-mod-reject").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    assert refused == []


def audit_form_dialog(
    page: Any,
    surface: str,
    kind: str,
    opener: Any,
    fill: dict[str, str],
    submit: str,
    invalid: str,
) -> tuple[list[str], Any]:
    """Open a form dialog, fill `fill` (field -> text), submit it so that the field
    `invalid` shows an error, and audit it; returns the refused violations and that
    error (the dialog is left open)."""
    opener.click()
    dialog = FormDialog(kind)
    expect(dialog.locator(page)).to_be_visible()
    for field, text in fill.items():
        dialog.field(page, field).fill(text)
    dialog.locator(page).locator(f'button[aria-label="{submit}"]').click()
    error = dialog.error(page, invalid)
    expect(error).to_be_visible()
    return check(page, surface, our_dialog()), error


def close_dialog(page: Any) -> None:
    page.keyboard.press("Escape")
    expect(page.locator(our_dialog())).to_have_count(0)


def test_kernelspec_dialog_with_field_errors(page: Any) -> None:
    opener = image_row(page, "gpu_lab").locator('button[aria-label="Create kernelspec"]')
    refused, _ = audit_form_dialog(
        page,
        "Kernelspec dialog",
        "kernelspec",
        opener,
        {"launchTimeout": "soon"},
        "Create",
        "launchTimeout",
    )
    close_dialog(page)
    assert refused == []


def test_build_dialog_with_field_errors(page: Any) -> None:
    opener = panel(page).locator('.jp-Toolbar jp-button[title="Build image"]')
    refused, _ = audit_form_dialog(page, "Build dialog", "build", opener, {}, "Build", "fromImage")
    close_dialog(page)
    assert refused == []


def test_import_dialog_with_field_errors(page: Any) -> None:
    opener = panel(page).locator('.jp-Toolbar jp-button[title="Import image"]')
    refused, error = audit_form_dialog(
        page, "Import dialog", "import", opener, {"image": "Not A Reference!"}, "Import", "image"
    )
    set_theme(page, dark=True)
    ratio = contrast_ratio(error)
    RESULTS["Import dialog"]["dark error text contrast"] = {f"{ratio}:1": 1}
    set_theme(page, dark=False)
    close_dialog(page)
    assert refused == []
    # axe cannot tell the dialog's background behind its backdrop: measured here.
    assert ratio >= 4.5, ratio


def test_build_details(page: Any, registry: RegistryServer) -> None:
    with registry.pusher() as pusher:
        pusher.push_image("a11y/elyra-ok", "1", images.elyra_ok())
    panel(page).locator('.jp-Toolbar jp-button[title="Import image"]').click()
    dialog = page.locator(".jp-RuntimeImages-importDialog")
    dialog.locator("#jp-RuntimeImages-import-image").fill(f"{registry.host}/a11y/elyra-ok:1")
    dialog.locator("#jp-RuntimeImages-import-displayName").fill("Audited")
    dialog.locator("#jp-RuntimeImages-import-description").fill("for the audit")
    dialog.locator("#jp-RuntimeImages-import-creator").fill("a11y")
    dialog.locator('button[aria-label="Import"]').click()
    row = build_row(page, "audited")
    expect(row).to_have_attribute("data-phase", "Ready", timeout=60_000)
    in_panel = check(page, "panel with a build", "#runtime-images-panel")
    row.locator('button[aria-label="Details"]').click()
    details = page.locator('.jp-RuntimeImages-buildDetails[data-name="audited"]')
    expect(details.locator(".jp-RuntimeImages-checks")).to_be_visible()
    assert check(page, "build details", ".jp-RuntimeImages-buildDetailsPanel") == []
    assert in_panel == []


# Keyboard and what axe cannot judge.


def list_stop(page: Any) -> Any:
    """The images list's buttons that are in the tab order."""
    return panel(page).locator('.jp-RuntimeImages-list button[tabindex="0"]')


def test_toolbar_buttons_do_not_toggle(page: Any) -> None:
    """Command toolbar buttons: no aria-pressed, before or after a click."""
    refresh = panel(page).locator('.jp-Toolbar jp-button[title="Refresh"]')
    expect(refresh).to_have_attribute("data-command", "runtime-images:refresh")
    for _ in range(2):
        refresh.click()
        assert refresh.get_attribute("aria-pressed") is None
        assert "lm-mod-toggled" not in (refresh.get_attribute("class") or "")


def test_a_failed_save_focuses_the_first_invalid_field(page: Any) -> None:
    create = panel(page).locator('.jp-Toolbar jp-button[title="Create new runtime image"]')
    create.focus()
    page.keyboard.press("Enter")
    selector = editor_selector(page)
    editor = page.locator(selector)
    display = editor.locator("[id$='-root_display_name']")
    expect(display).to_be_focused()
    editor.locator('button[aria-label="Save"]').click()
    # The first invalid field has the focus, is marked invalid, and is described by
    # its error, which says what is wrong in words.
    expect(display).to_be_focused()
    expect(display).to_have_attribute("aria-invalid", "true")
    error_id = f"{display.get_attribute('id')}__error"
    assert error_id in (display.get_attribute("aria-describedby") or "").split()
    expect(editor.locator(f"#{error_id}")).to_have_text("Display Name is required.")
    # Every control is named by a <label for> (the pull policy's select too).
    for path in ["display_name", "name", "metadata_image_name", "metadata_pull_policy"]:
        control = editor.locator(f"[id$='-root_{path}']")
        label = editor.locator(f"label[for='{control.get_attribute('id')}']")
        expect(label).to_have_count(1)
    expect(editor.get_by_role("combobox", name="Image Pull Policy")).to_have_count(1)
    # Fixed: the next invalid field gets the focus on the next save.
    display.fill("Keyboard Image")
    editor.locator("[id$='-root_metadata_image_name']").fill("Not An Image!")
    editor.locator('button[aria-label="Save"]').click()
    image = editor.locator("[id$='-root_metadata_image_name']")
    expect(image).to_be_focused()
    expect(image).to_have_attribute("aria-invalid", "true")
    expect(editor.locator(f"#{image.get_attribute('id')}__error")).to_contain_text(
        "Not a valid image reference"
    )
    expect(display).not_to_have_attribute("aria-invalid", "true")
    # Cancel: the focus goes back to the button that opened the form.
    editor.locator('button[aria-label="Cancel"]').click()
    expect(page.locator(selector)).to_have_count(0)
    expect(create).to_be_focused()


def test_save_gives_the_focus_back(page: Any, lab: LabServer) -> None:
    edit = image_row(page, "gpu_lab").locator('button[aria-label="Edit"]')
    edit.focus()
    page.keyboard.press("Enter")
    editor = page.locator(editor_selector(page))
    editor.locator("[id$='-root_metadata_description']").fill("saved from the keyboard")
    editor.locator('button[aria-label="Save"]').focus()
    page.keyboard.press("Enter")
    expect(editor).to_have_count(0)
    expect(edit).to_be_focused()
    stored = json.loads((lab.store / "gpu_lab.json").read_text())
    assert stored["metadata"]["description"] == "saved from the keyboard"


def test_opened_from_the_palette_the_focus_goes_to_the_panel(page: Any) -> None:
    run_palette_command(page, "Create New Runtime Image")
    editor = page.locator(editor_selector(page))
    editor.locator('button[aria-label="Cancel"]').click()
    expect(editor).to_have_count(0)
    # The palette is gone: the panel's filter box has the focus, not the page.
    expect(panel(page).locator("input.jp-RuntimeImages-search")).to_be_focused()


def test_clear_filter_keeps_the_focus(page: Any) -> None:
    search = panel(page).locator("input.jp-RuntimeImages-search")
    search.fill("gpu")
    clear = panel(page).locator('button[aria-label="Clear filter"]')
    clear.focus()
    page.keyboard.press("Enter")
    expect(clear).to_have_count(0)
    expect(search).to_be_focused()
    expect(search).to_have_value("")


def test_delete_confirmation_opens_on_cancel(page: Any, lab: LabServer) -> None:
    delete = image_row(page, "nightly").locator('button[aria-label="Delete"]')
    delete.focus()
    page.keyboard.press("Enter")
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Delete runtime image")
    expect(dialog.locator("button.jp-mod-reject")).to_be_focused()
    page.keyboard.press("Enter")  # Cancel, not Delete
    expect(dialog).to_have_count(0)
    expect(image_row(page, "nightly")).to_have_count(1)
    assert (lab.store / "nightly.json").exists()


def test_the_list_is_one_tab_stop_with_arrow_keys(page: Any) -> None:
    panel(page).locator("input.jp-RuntimeImages-search").fill("")
    expect(list_stop(page)).to_have_count(1)
    rows = panel(page).locator(".jp-RuntimeImages-row")
    names = rows.evaluate_all("rows => rows.map(r => r.dataset.name)")
    first = rows.nth(0).locator('button[aria-label="Edit"]')
    # From the filter, Tab reaches the list once: its first row's Edit button.
    first.focus()
    assert focused(page) == "Edit"
    assert focused(page, "aria-describedby") == f"jp-RuntimeImages-image-{names[0]}"
    page.keyboard.press("ArrowDown")
    assert focused(page, "aria-describedby") == f"jp-RuntimeImages-image-{names[1]}"
    page.keyboard.press("ArrowRight")
    assert focused(page) == "Duplicate"
    page.keyboard.press("End")
    assert focused(page) == "Duplicate"
    assert focused(page, "aria-describedby") == f"jp-RuntimeImages-image-{names[-1]}"
    expect(list_stop(page)).to_have_count(1)
    page.keyboard.press("Home")
    assert focused(page, "aria-describedby") == f"jp-RuntimeImages-image-{names[0]}"
    page.keyboard.press("ArrowLeft")
    assert focused(page) == "Edit"
    # Tab leaves the list (the next row's buttons are not tab stops).
    page.keyboard.press("Tab")
    assert not page.evaluate(
        "!!document.activeElement.closest('#runtime-images-panel .jp-RuntimeImages-list')"
    )
    # Back with Shift+Tab: to the same button.
    page.keyboard.press("Shift+Tab")
    assert focused(page, "aria-describedby") == f"jp-RuntimeImages-image-{names[0]}"
    # Each row's name is what its buttons act on; the unpinned badge's warning is text.
    badge = image_row(page, "nightly").locator(".jp-RuntimeImages-unpinned")
    warning = badge.get_attribute("title") or ""
    assert "no tag and no digest" in warning
    assert warning in badge.text_content()
    assert badge.get_attribute("aria-label") is None


def test_landmarks(page: Any) -> None:
    region = page.get_by_role("region", name="Runtime Images Section")
    expect(region).to_have_attribute("id", "runtime-images-panel")
    details = page.locator(".jp-RuntimeImages-buildDetailsPanel")
    expect(details).to_have_count(1)
    expect(details.locator("header")).to_have_count(0)
    expect(details.get_by_role("banner")).to_have_count(0)


def test_builds_list_is_one_tab_stop(page: Any) -> None:
    row = build_row(page, "audited")
    name = row.locator(".jp-RuntimeImages-buildName")
    expect(panel(page).locator('.jp-RuntimeImages-buildList button[tabindex="0"]')).to_have_count(1)
    name.focus()
    page.keyboard.press("ArrowRight")
    assert focused(page) == "Details"
    assert focused(page, "aria-describedby") == "jp-RuntimeImages-build-audited"
    page.keyboard.press("ArrowRight")
    assert focused(page) == "Retry build"


def test_tag_chips_are_never_half_hidden_in_the_dark_theme(page: Any) -> None:
    """13 images: more tag chips than three rows hold. Scrolled by the keyboard to the
    last chip, every chip is whole or out of sight: none is cut by the filter box."""
    set_theme(page, dark=True)
    try:
        area = panel(page).locator(".jp-RuntimeImages-tagFilter")
        chips = area.locator(".jp-RuntimeImages-tagToggle")
        assert chips.count() > 12
        search = panel(page).locator("input.jp-RuntimeImages-search")
        for index in (0, chips.count() - 1, 5):
            chips.nth(index).focus()
            page.wait_for_timeout(300)  # smooth scrolling and snapping settle
            box = area.evaluate(
                "n => { const r = n.getBoundingClientRect(); const s = getComputedStyle(n);"
                " return [r.top + parseFloat(s.paddingTop), r.bottom - parseFloat(s.paddingBottom)]; }"
            )
            filter_bottom = search.bounding_box()["y"] + search.bounding_box()["height"]
            for chip in chips.all():
                c = chip.bounding_box()
                top, bottom = c["y"], c["y"] + c["height"]
                whole = top >= box[0] - 0.5 and bottom <= box[1] + 0.5
                hidden = bottom <= box[0] + 0.5 or top >= box[1] - 0.5
                assert whole or hidden, (index, chip.inner_text(), top, bottom, box)
                if whole:
                    assert top >= filter_bottom, (chip.inner_text(), top, filter_bottom)
            # The focused chip is in sight.
            c = chips.nth(index).bounding_box()
            assert c["y"] >= box[0] - 0.5 and c["y"] + c["height"] <= box[1] + 0.5
        page.locator("#jp-left-stack").screenshot(path=str(OUTPUT / "a11y-13-images-dark.png"))
    finally:
        set_theme(page, dark=False)


def test_deleting_the_focused_row_keeps_the_focus_in_the_list(page: Any, lab: LabServer) -> None:
    panel(page).locator("input.jp-RuntimeImages-search").fill("")
    rows = panel(page).locator(".jp-RuntimeImages-row")
    names = rows.evaluate_all("rows => rows.map(r => r.dataset.name)")
    at = names.index("minimal")
    delete = image_row(page, "minimal").locator('button[aria-label="Delete"]')
    delete.focus()
    page.keyboard.press("Enter")
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator("button.jp-mod-reject")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.locator("button.jp-mod-warn")).to_be_focused()
    page.keyboard.press("Enter")
    expect(image_row(page, "minimal")).to_have_count(0)
    assert not (lab.store / "minimal.json").exists()
    # The row now in its place has the focus, on its first button (its check box).
    page.wait_for_function(
        "name => document.activeElement.getAttribute('aria-describedby') === name",
        arg=f"jp-RuntimeImages-image-{names[at + 1]}",
    )
    assert focused(page) == "Select"
