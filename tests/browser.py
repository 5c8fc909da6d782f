"""The browser the browser tests drive: Debian's Chromium (or Chrome) on the PATH, or none (the
tests then skip). Playwright's own browser download is not used."""

from __future__ import annotations

import shutil


def browser_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None
