"""The Hub in one import, for scripts and notebooks: `zoo.hub.set_hub_org(...)`, `zoo.hub.publish(...)`.

The work is done in two modules on either side of zoo/weights.py: zoo/download.py (which repo holds
a model, downloading and verifying it) and zoo/publish.py (uploading weights and cards, deploying the
app as a Space). Nothing inside zoo/ imports this module.
"""

from .download import (
    HUB_ORG_ENV,
    HUB_PREFIX,
    TIMEOUT_ENV,
    HubUnavailable,
    cache_dir,
    endpoint,
    hub_org,
    hub_timeout,
    locate,
    locate_repo,
    offline,
    repo_for,
    reset,
    set_hub_org,
)
from .publish import Published, deploy_space, publish

__all__ = [
    "set_hub_org", "hub_org", "repo_for", "hub_timeout", "endpoint", "cache_dir", "offline", "reset",
    "locate", "locate_repo", "HubUnavailable", "publish", "deploy_space", "Published",
    "HUB_ORG_ENV", "HUB_PREFIX", "TIMEOUT_ENV",
]
