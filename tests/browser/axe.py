"""axe-core, the accessibility engine, run in the page a browser test has open.

The engine is vendored under vendor/ (MPL-2.0, its licence beside it) and used by the tests alone:
the product never serves it. It is evaluated through the DevTools protocol, which the pages'
Content-Security-Policy does not apply to, so the pages are checked as they are served.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-4.10.3.min.js"
BLOCKING = frozenset({"serious", "critical"})


def serious_violations(page: Page) -> list[str]:
    """The serious and critical axe violations of the open page, one line each (rule: targets)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => (await window.axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in result
        if v["impact"] in BLOCKING
    ]
