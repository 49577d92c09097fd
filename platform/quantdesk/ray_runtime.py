"""Starting Ray the one way the platform does: a cluster by address, or a small local one.

A local cluster listens on loopback only, has no dashboard and a small object store (what two
cores can spare). Ray 2.60 turns token authentication on for a new local cluster and, unless it
is handed a token, reads or writes the shared ``~/.ray/auth_token``: two local clusters started
at the same moment (two DAG tasks on one worker, two test processes) then race on that file and
one fails to authenticate. Each process therefore hands Ray its own token in the environment,
and always the same one: Ray caches the token in-process, so a second local cluster started by
the same process with another token could not authenticate either.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from quantdesk.config import Settings

AUTH_TOKEN_ENV = "RAY_AUTH_TOKEN"
_PROCESS_TOKEN = secrets.token_hex(32)


def local_auth_token() -> str:
    """This process's token for local clusters, set in the environment where Ray reads it."""
    token = os.environ.get(AUTH_TOKEN_ENV) or _PROCESS_TOKEN
    os.environ[AUTH_TOKEN_ENV] = token
    return token


def start_ray(settings: Settings) -> bool:
    """Connect to ``settings.ray.address`` or start a local Ray; True if this call started it."""
    import ray

    if ray.is_initialized():
        return False
    if settings.ray.address:
        ray.init(address=settings.ray.address, log_to_driver=False)
        return True
    import quantdesk

    local_auth_token()
    source_root = str(Path(quantdesk.__file__).resolve().parents[1])
    ray.init(
        num_cpus=settings.ray.num_cpus,
        _node_ip_address="127.0.0.1",
        include_dashboard=False,
        object_store_memory=settings.ray.object_store_memory_mb * 1024 * 1024,
        runtime_env={"env_vars": {"PYTHONPATH": source_root}},  # workers import our code
        log_to_driver=False,
    )
    return True
