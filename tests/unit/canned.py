"""Hand-made `docker inspect` data, shaped like the Engine API's answers, for the states the Docker lab cannot
produce (an OOM kill, thousands of restarts, paused / dead / created containers, odd mounts). The lab's own
containers, as recorded, are in tests/data/docker (tests/unit/recorded.py reads them)."""

from __future__ import annotations

from typing import Any

SECRET = "canned-secret-9a8b7c6d5e"


def inspect(
    name: str = "blink-runner",
    status: str = "running",
    exit_code: int = 0,
    oom: bool = False,
    restarts: int = 0,
    image: str = "blinkops/blink-runner:1.0.994",
    socket: bool = True,
    cid: str = "3f2a9c1b7d4e" + "0" * 52,
) -> dict[str, Any]:
    mounts = [{"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock"}]
    return {
        "Id": cid,
        "Name": "/" + name,
        "RestartCount": restarts,
        "State": {
            "Status": status,
            "Running": status == "running",
            "Paused": status == "paused",
            "Restarting": status == "restarting",
            "OOMKilled": oom,
            "Dead": status == "dead",
            "ExitCode": exit_code,
            "Error": "",
            "StartedAt": "2026-11-28T10:00:00Z",
            "FinishedAt": "2026-11-28T11:00:00Z" if status != "running" else "0001-01-01T00:00:00Z",
        },
        "Config": {
            "Image": image,
            "Env": [f"BLINK_RUNNER_GROUP_API_KEY={SECRET}", "RUNNER_MODE=docker", "PATH=/bin"],
        },
        "HostConfig": {"LogConfig": {"Type": "json-file"}},
        "Mounts": mounts if socket else [],
    }
