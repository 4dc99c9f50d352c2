"""Where things are in the page: the locators every browser test uses."""

from __future__ import annotations

from typing import Any


def panel(page: Any) -> Any:
    return page.locator("#runtime-images-panel")


def image_row(page: Any, name: str) -> Any:
    return panel(page).locator(f'.jp-RuntimeImages-row[data-name="{name}"]')


def build_row(page: Any, name: str) -> Any:
    return panel(page).locator(f'.jp-RuntimeImages-build[data-name="{name}"]')
