"""The panel when the server extension is not enabled: a clear message, not a broken panel."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ConsoleLog

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def lab_options() -> dict[str, Any]:
    # The frontend is installed, the server extension is disabled (user config wins).
    return {"server_config": {"ServerApp": {"jpserver_extensions": {"runtime_images": False}}}}


def test_missing_server_extension_message(page: Any, console: ConsoleLog) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Manage Runtime Images")
    page.locator(".lm-CommandPalette-item", has_text="Manage Runtime Images").first.click()
    panel = page.locator("#runtime-images-panel")
    expect(panel).to_be_visible()
    message = panel.locator('.jp-RuntimeImages-serverError[data-status="missing"]')
    expect(message).to_be_visible()
    expect(message).to_contain_text("not installed or not enabled")
    expect(message).to_contain_text("jupyter server extension enable runtime_images")
    # The toolbar is still there, the list is not.
    expect(panel.locator(".jp-RuntimeImages-list")).to_have_count(0)
    retry = message.locator('button[aria-label="Retry"]')
    expect(retry).to_have_attribute("title", "Retry")
    retry.click()
    expect(message).to_be_visible()
    # Only the expected 404s of the schema check reached the console.
    unexpected = [
        e for e in console.errors if not ("status of 404" in e and "/runtime-images/schema" in e)
    ]
    assert unexpected == []
    assert any("/runtime-images/schema" in e for e in console.errors)
