"""Where the browser tests find Chromium: Debian's package, never a downloaded one (`playwright install`
needs the internet). The `browser` fixture (conftest.py) launches it once per session."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
NEEDS_CHROMIUM = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="Debian's Chromium is not installed at /usr/bin/chromium (apt install chromium)")
