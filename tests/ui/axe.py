"""axe-core audits of one part of the page: WCAG 2.1 A and AA, and axe's best practices.

The axe-core build is the one axe-playwright-python ships (a test dependency, so a fresh
`pip install -e '.[test]'` has it); it is injected into the page once and run on a CSS
selector, so each surface (the panel, a dialog, a main-area tab) is judged on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")

RUN = """([selector, tags]) => axe.run(
  { include: [selector] },
  { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }
)"""


@dataclass(frozen=True)
class Violation:
    """One rule that fails, and where (the CSS paths axe gives for each element)."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return self.impact in BLOCKING

    def describe(self) -> str:
        where = "; ".join(self.targets[:4]) + (" …" if len(self.targets) > 4 else "")
        return f"{self.rule} ({self.impact}, {len(self.targets)}): {self.help} — {where}"


def audit(page: Any, selector: str) -> list[Violation]:
    """The violations axe finds in the elements `selector` matches (which must exist)."""
    if page.locator(selector).count() == 0:
        raise AssertionError(f"nothing to audit: {selector} is not in the page")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    result = page.evaluate(RUN, [selector, TAGS])
    return [
        Violation(
            rule=v["id"],
            impact=v.get("impact") or "minor",
            help=v["help"],
            targets=tuple(" ".join(map(str, node["target"])) for node in v["nodes"]),
        )
        for v in result["violations"]
    ]


def counts(violations: list[Violation]) -> dict[str, int]:
    """`{"rule (impact)": elements}`, for the report."""
    return {f"{v.rule} ({v.impact})": len(v.targets) for v in violations}


CONTRAST = """el => {
  const rgba = text => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map(c => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  let node = el;
  let background = [0, 0, 0, 0];
  while (node && background[3] === 0) {
    const color = rgba(getComputedStyle(node).backgroundColor);
    background = color.length === 3 ? [...color, 1] : color;
    node = node.parentElement;
  }
  const text = rgba(getComputedStyle(el).color);
  const [a, b] = [luminance(text), luminance(background)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def contrast_ratio(locator: Any) -> float:
    """The WCAG contrast ratio of an element's text colour against the first opaque
    background behind it (enough for text on a plain panel or dialog background)."""
    ratio: float = locator.evaluate(CONTRAST)
    return round(ratio, 2)
