"""What a person does in the page, shared by the browser tests."""

from __future__ import annotations

from typing import Any

import pytest


def expect(locator: Any) -> Any:
    """Playwright's `expect` (Playwright is a test dependency, imported when used)."""
    return pytest.importorskip("playwright.sync_api").expect(locator)


def run_palette_command(page: Any, label: str) -> None:
    """Run a command from the command palette (Ctrl+Shift+C), found by its label."""
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette-input")
    palette.wait_for(state="visible")
    palette.fill(label)
    item = page.locator(".lm-CommandPalette-item", has_text=label).first
    item.wait_for(state="visible")
    item.click()


def use_theme(page: Any, dark: bool) -> None:
    """Switch to JupyterLab's dark or light theme, and wait until it applies."""
    run_palette_command(page, f"Use Theme: JupyterLab {'Dark' if dark else 'Light'}")
    expect(page.locator("body")).to_have_attribute(
        "data-jp-theme-light", "false" if dark else "true", timeout=30_000
    )
    page.wait_for_timeout(500)  # the theme's stylesheet is applied after the attribute


def focused(page: Any, attribute: str = "aria-label") -> str | None:
    """An attribute of the element that has the keyboard focus."""
    value: str | None = page.evaluate(
        "name => document.activeElement && document.activeElement.getAttribute(name)", attribute
    )
    return value
