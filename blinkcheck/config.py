"""The run's configuration, frozen: what to check and how (built once from the options by blinkcheck.options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DockerTLS:
    ca: str | None
    cert: str | None
    key: str | None
    verify: bool


@dataclass(frozen=True)
class TargetSpec:
    target: str
    docker_host: str
    blink_url: str
    runner_name: str
    report_dir: Path
    catalog_path: Path
    log_since_s: float
    log_since: str
    log_tail: int
    log_timeout_s: float
    api_timeout_s: float
    probe: bool  # the egress probe runs (--probe auto or on)
    probe_image: str  # "" = the runner's own image
    probe_strict: bool  # --probe on: a probe that cannot run here is not-evaluable (auto: skipped)
    probe_timeout_s: float
    kubeconfig: str | None
    kube_context: str | None
    namespace: str | None
    all_namespaces: bool
    operator_wait_s: float
    rollback_window_s: float
    deadline_s: float | None
    bundle: str
    docker_context: str | None = None  # the docker context docker_host came from
    docker_tls: DockerTLS | None = None
    # Blink's own view (its public API): the URL the suite asks (default: blink_url), a user's API key (never shown:
    # repr=False), the workspace, the readiness path ("auto": both of the spec's readings), when a runner is stale.
    blink_api_url: str = ""
    blink_api_key: str = field(default="", repr=False)
    workspace_id: str = ""
    readiness_path: str = "auto"
    blink_stale_s: float = 300.0
    remediate: bool = False  # --remediate: list the runbook's recovery steps for what failed (a dry run)
    assume_yes: bool = False  # --yes: perform them without asking

    @property
    def log_window(self) -> str:
        return f"last {self.log_tail} lines, since {self.log_since}"
