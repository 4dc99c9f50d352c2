"""Where things are in the page: the locators every browser test uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def panel(page: Any) -> Any:
    return page.locator("#runtime-images-panel")


def image_row(page: Any, name: str) -> Any:
    return panel(page).locator(f'.jp-RuntimeImages-row[data-name="{name}"]')


def build_row(page: Any, name: str) -> Any:
    return panel(page).locator(f'.jp-RuntimeImages-build[data-name="{name}"]')


@dataclass(frozen=True)
class FormDialog:
    """A form dialog of the extension (`ui/modal.tsx`, `ui/forms.tsx`): the dialog is
    `.jp-RuntimeImages-{kind}Dialog`, its field `name` is `#jp-RuntimeImages-{kind}-{name}`
    and that field's messages `#jp-RuntimeImages-{kind}-{name}-error`."""

    kind: str

    def locator(self, page: Any) -> Any:
        return page.locator(f".jp-RuntimeImages-{self.kind}Dialog")

    def field(self, page: Any, name: str) -> Any:
        return self.locator(page).locator(f"#jp-RuntimeImages-{self.kind}-{name}")

    def error(self, page: Any, name: str) -> Any:
        return self.field(page, f"{name}-error")


IMPORT_DIALOG = FormDialog("import")
BUILD_DIALOG = FormDialog("build")
KERNELSPEC_DIALOG = FormDialog("kernelspec")
