"""The scheduling files of deploy/ (README "Running on a schedule"), read by the real tools where there are ones:
actionlint and the GitHub workflow JSON schema for the GitHub Actions workflow, the GitLab CI JSON schema (as
check-jsonschema vendors it: gitlab.com is out of reach here) for the GitLab job, shellcheck for the shell scripts;
and what each must say: a run that fails fails the job, the reports are published either way, the CronJob cannot
overlap, is bounded and keeps a history, uses rbac/role.yaml's ServiceAccount and no copy of its Role.
The lab tests run them for real (tests/integration/test_schedule_docker.py, test_schedule_k8s.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from tests.deploy_files import DEPLOY, INSTALLED, cron_entries, installed, parse_unit
from tests.harness import ROOT, missing

CI = DEPLOY / "ci"
REPORTS = {"reports/report.html", "reports/junit.xml", "reports/results.json"}


def tool(name: str) -> str:
    """A linter scripts/setup.sh installs (actionlint into .venv/bin, shellcheck from Debian)."""
    found = shutil.which(name) or next((str(p) for p in [ROOT / ".venv" / "bin" / name] if p.exists()), None)
    if not found:
        missing(f"{name} is not installed (scripts/setup.sh installs it)")
    return found


def test_github_workflow_passes_actionlint():
    r = subprocess.run([tool("actionlint"), "-verbose", str(CI / "github-actions.yml")], capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    # shellcheck ran over the `run:` scripts (actionlint uses it when it is on PATH)
    assert 'Rule "shellcheck" was disabled' not in r.stderr, r.stderr


@pytest.mark.parametrize(("schema", "path"), [("vendor.github-workflows", CI / "github-actions.yml"),
                                              ("vendor.gitlab-ci", CI / "gitlab-ci.yml")])  # fmt: skip
def test_ci_templates_match_their_published_schemas(schema: str, path: Path):
    r = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_broken_template_is_caught_by_the_schemas(tmp_path: Path):
    """The schema checks can fail: a misspelt artifacts key, a job without a script."""
    bad = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    bad["blink-runner-checks"]["artifacts"]["whenn"] = "always"
    (tmp_path / "bad.yml").write_text(yaml.safe_dump(bad))
    r = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci",
                        str(tmp_path / "bad.yml")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    wf = yaml.safe_load((CI / "github-actions.yml").read_text())
    wf["jobs"]["checks"]["stepz"] = wf["jobs"]["checks"].pop("steps")
    (tmp_path / "bad-wf.yml").write_text(yaml.safe_dump(wf))
    r = subprocess.run([tool("actionlint"), str(tmp_path / "bad-wf.yml")], capture_output=True, text=True,
                       timeout=120)  # fmt: skip
    assert r.returncode == 1 and "stepz" in r.stdout, r.stdout + r.stderr


def _fails_only_with_the_run(commands: list[str]) -> None:
    runs = [line for c in commands for line in c.splitlines() if "pytest checks/" in line]
    assert runs, commands
    for line in runs:  # nothing swallows the suite's exit code
        assert not re.search(r"\|\||; *true|set \+e|exit 0|\|", line), line
    assert not any("set +e" in c for c in commands), commands


def test_github_workflow_fails_only_when_the_run_fails_and_always_publishes():
    wf = yaml.safe_load((CI / "github-actions.yml").read_text())
    steps = wf["jobs"]["checks"]["steps"]
    _fails_only_with_the_run([s.get("run", "") for s in steps])
    assert not any(s.get("continue-on-error") for s in steps)
    [upload] = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["if"] == "${{ !cancelled() }}"  # after a failed run too
    assert set(upload["with"]["path"].split()) == REPORTS
    assert "pip install ." in " ".join(s.get("run", "") for s in steps)
    assert wf["permissions"] == {"contents": "read"}


def test_gitlab_job_fails_only_when_the_run_fails_and_always_publishes():
    job = yaml.safe_load((CI / "gitlab-ci.yml").read_text())["blink-runner-checks"]
    _fails_only_with_the_run(job["script"])
    assert "allow_failure" not in job
    assert job["artifacts"]["when"] == "always" and set(job["artifacts"]["paths"]) == REPORTS
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    assert any("pip install ." in c for c in job["script"])


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_cronjob_is_bounded_cannot_overlap_and_uses_the_read_only_role():
    kube = DEPLOY / "kubernetes"
    kustomization = yaml.safe_load((kube / "kustomization.yaml").read_text())
    assert "../../rbac" in kustomization["resources"]  # rbac/role.yaml itself, not a copy
    assert yaml.safe_load((ROOT / "rbac" / "kustomization.yaml").read_text())["resources"] == ["role.yaml"]
    assert not any(d.get("kind") in ("Role", "ClusterRole", "RoleBinding") for f in kube.glob("*.yaml")
                   for d in _docs(f))  # fmt: skip
    [cron] = _docs(kube / "cronjob.yaml")
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0  # a failed run fails the Job, once
    pod = job["template"]["spec"]
    [sa] = [d for d in _docs(ROOT / "rbac" / "role.yaml") if d["kind"] == "ServiceAccount"]
    assert pod["serviceAccountName"] == sa["metadata"]["name"] and pod["automountServiceAccountToken"] is True
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
    [c] = pod["containers"]
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["BLINK_CHECK_TARGET"] == "kubernetes"
    # the suite's own deadline ends the run (partial report written) before Kubernetes kills the pod
    assert int(env["BLINK_DEADLINE"].rstrip("m")) * 60 < job["activeDeadlineSeconds"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert env["BLINK_REPORT_DIR"] in mounts and "persistentVolumeClaim" in volumes[mounts[env["BLINK_REPORT_DIR"]]]


def test_docker_unit_timer_and_cron_run_the_same_command_with_the_socket_read_only():
    unit = parse_unit(DEPLOY / "docker" / "blink-checks.service")
    [program] = unit.exec_start()
    assert program in INSTALLED and unit.get("Service", "Type") == ["oneshot"]
    assert unit.environment()["BLINK_CHECK_TARGET"] == "docker"
    timer = parse_unit(DEPLOY / "docker" / "blink-checks.timer")
    assert timer.get("Timer", "OnCalendar") == ["*:0/15"] and timer.get("Install", "WantedBy") == ["timers.target"]
    [(schedule, user, command)] = cron_entries(DEPLOY / "docker" / "blink-checks.cron")
    assert schedule == "*/15 * * * *" and user == "root" and program in command and "flock -n" in command
    script = Path(installed([program])[0]).read_text()
    assert '-v "$socket:/var/run/docker.sock:ro"' in script
    assert "--user 10001:10001" in script and "--read-only" in script and "network=${BLINK_CHECKS_NETWORK:-bridge}" in script


def test_shell_scripts_pass_shellcheck():
    scripts = [DEPLOY / "docker" / "blink-checks-docker", DEPLOY / "image" / "entrypoint.sh",
               ROOT / "scripts" / "build-image.sh"]  # fmt: skip
    r = subprocess.run([tool("shellcheck"), *map(str, scripts)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_image_lock_pins_every_dependency_within_pyproject():
    deps = [Requirement(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    pins = {}
    for line in (DEPLOY / "image" / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    for d in deps:
        name = d.name.lower().replace("_", "-")
        assert name in pins, f"{d.name} is not pinned in deploy/image/requirements.txt (bash scripts/build-image.sh --lock)"
        assert d.specifier.contains(pins[name], prereleases=True), f"{d.name}=={pins[name]} is not within {d}"


def test_entrypoint_runs_pytest_checks_with_options_from_the_environment():
    text = (DEPLOY / "image" / "entrypoint.sh").read_text()
    assert "BLINK_PYTEST_ARGS" in text and re.search(r"exec python -m pytest checks/ ", text)
    dockerfile = (DEPLOY / "image" / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile and 'ENTRYPOINT ["/opt/blinkcheck/entrypoint.sh"]' in dockerfile
    assert os.access(DEPLOY / "image" / "entrypoint.sh", os.X_OK)
