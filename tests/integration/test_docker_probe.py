"""The Docker egress probe's other ways, on the real engine, with default options (no --probe-image):

- a remote engine (tcp://, here tests/faultproxy.py on a loopback port in front of the real socket):
  a short-lived probe container from the runner's own image, with the first tool it has;
- a probe container whose create is answered after --api-timeout: removed anyway by the end of the run;
- a runner image without curl, wget or nc on a remote engine: --probe auto skips with the way to
  enable it (exit 0), --probe on makes it not-evaluable (exit 1).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.docker import scenarios as lab
from tests.faultproxy import DOCKER_SOCK, FaultProxy, Rule
from tests.harness import run_checks, run_checks_as, temporary_user
from tests.reliability import Sees

pytestmark = pytest.mark.docker_lab

BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4"]
REACH = "docker.disconnected.blink-reachable"
PROBES = {"label": "blink-check=egress-probe"}
NO_TOOLS_IMAGE = "blink-lab/runner-notools:test"


@pytest.fixture
def remote_engine() -> Iterator[FaultProxy]:
    """The real engine behind tcp://127.0.0.1:PORT: the suite sees a remote engine."""
    proxy = FaultProxy(None, upstream=DOCKER_SOCK).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module", autouse=True)
def lab_down_after() -> Iterator[None]:
    yield
    lab.down()


def leftovers() -> list[str]:
    return [c.name for c in lab.client().containers.list(all=True, filters=PROBES)]


def probe_events(since: float) -> list[str]:
    """The engine's own record of probe containers made and removed since `since`."""
    out = subprocess.run(
        ["docker", "events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}", "--filter",
         "label=blink-check=egress-probe", "--filter", "type=container", "--format", "{{.Action}}"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    return [a for a in out.split() if a in ("create", "destroy")]


def test_remote_engine_probes_with_a_container_from_the_runners_own_image(tmp_path: Path, remote_engine: FaultProxy):
    lab.up("healthy")
    run = run_checks(*BASE, "--docker-host", remote_engine.url, report_dir=tmp_path)
    assert run.exit_code == 0, run.stdout[-3000:]
    entry = run.entries(REACH)[0]
    assert entry["outcome"] == "passed", entry
    text = entry["evidence"][0]["text"]
    assert "a probe container in the network namespace of container blink-runner" in text, text
    assert f"using the runner's own image {lab.RUNNER_IMAGE}" in text
    assert "not from inside the namespace: the engine is remote (tcp://)" in text
    assert "--entrypoint curl blinkops/blink-runner:1.0.994 -sSv" in text  # curl: the first tool the image has
    assert "--volumes-from" in text and "-e SSL_CERT_FILE" in text  # the runner's own trust store, as it sees it
    assert not leftovers()


def test_remote_engine_clock_skew_from_the_probe_containers_exit_time(tmp_path: Path, remote_engine: FaultProxy):
    """A remote engine (no way into the namespace): Blink's Date from curl -v in the probe container, the runner
    host's clock from the engine's own record of when that container's tool exited (State.FinishedAt)."""
    lab.up("clock-skew")  # the stand-in's Date is 5 minutes ahead
    run = run_checks(*BASE, "--docker-host", remote_engine.url, report_dir=tmp_path)
    (entry,) = run.entries("docker.runner.clock-skew")
    assert entry["outcome"] == "failed", entry
    # Blink's Date has whole seconds (cut down) and the tool exits just after its answer: 4m 59s to 5m 1s
    assert re.search(r"is (4m 59s|5m|5m 1s) behind Blink's", entry["summary"]), entry["summary"]
    clocks = {e["title"]: e["text"] for e in entry["evidence"]}["Clocks"]
    assert "Blink's Date header: " in clocks and re.search(r"offset: -(29\d|30\d)\.\ds", clocks), clocks
    assert not leftovers()
    lab.up("healthy")
    run = run_checks(*BASE, "--docker-host", remote_engine.url, report_dir=tmp_path / "healthy")
    (entry,) = run.entries("docker.runner.clock-skew")
    assert entry["outcome"] == "passed", entry


def test_remote_engine_probe_names_the_layer_too(tmp_path: Path, remote_engine: FaultProxy):
    lab.up("proxy-dead")
    run = run_checks(*BASE, "--docker-host", remote_engine.url, report_dir=tmp_path)
    entry = run.entries(REACH)[0]
    assert entry["outcome"] == "failed" and "failed at the proxy layer" in entry["summary"], entry
    assert lab.PROXY_SECRET not in json.dumps(run.results)
    assert not leftovers()


LATE_REMOVED = "the container the engine made late is found by its run label and removed before the run ends"


@pytest.mark.reliability(
    "a probe container whose create is answered after `--api-timeout 2` (remote engine)",
    Sees(exit=1, outcomes={REACH: "not-evaluable"}, says={REACH: "timed out"}, facts=(LATE_REMOVED,)),
)
def test_probe_container_created_late_is_removed_by_the_end_of_the_run(tmp_path: Path, remote_engine: FaultProxy,
                                                                        sees):  # fmt: skip
    lab.up("healthy")
    remote_engine.rules.append(Rule(r"POST /v[\d.]+/containers/create", delay_s=3.0))
    since = time.time()
    run = run_checks(*BASE, "--docker-host", remote_engine.url, "--api-timeout", "2", report_dir=tmp_path)
    sees(run)
    time.sleep(1)  # the engine writes its events asynchronously
    events = probe_events(since)
    # the engine did make it (it answered, late), and removed every one it made
    sees.fact(LATE_REMOVED, "create" in events and events.count("destroy") == events.count("create")
              and not leftovers(), events)  # fmt: skip


@pytest.fixture
def runner_without_tools() -> Iterator[None]:
    """A healthy runner whose image has no curl, wget or nc (many real runner images do not)."""
    dc = lab.client()
    lab.up("no-runner")
    base = dc.containers.run(lab.RUNNER_IMAGE, ["/bin/rm", "/usr/bin/curl", "/bin/wget", "/bin/nc"],
                             detach=True, labels=lab.LABEL)  # fmt: skip
    base.wait(timeout=30)
    base.commit(NO_TOOLS_IMAGE, changes=['CMD ["/fakerunner","runner"]', "LABEL blink-lab=1"])
    base.remove(force=True)
    ref = lab.run_runner(dc, image=NO_TOOLS_IMAGE)
    lab.wait_until("the runner connecting", lab.logs_contain(dc, ref, "Connected to Blink controller"))
    yield
    lab.clear(dc)
    dc.images.remove(NO_TOOLS_IMAGE, force=True)


HINT = "a hint shows how to enable it (`--probe-image IMAGE`)"


@pytest.mark.reliability(
    "a runner image without curl, wget or nc, on a remote engine (no way to probe), default `--probe auto`",
    Sees(exit=0, outcomes={REACH: "skipped"}, says={REACH: "has none of curl, wget, nc (tried: curl, wget, nc)"},
         facts=(HINT,), case="auto"),
)
@pytest.mark.reliability(
    "a runner image without curl, wget or nc, on a remote engine, `--probe on`",
    Sees(exit=1, outcomes={REACH: "not-evaluable"}, says={REACH: "--probe-image IMAGE"}, case="on"),
)
def test_no_tool_in_the_runner_image_is_skipped_in_auto_and_not_evaluable_when_on(
    tmp_path: Path, remote_engine: FaultProxy, runner_without_tools: None, sees
):
    auto = run_checks(*BASE, "--docker-host", remote_engine.url, report_dir=tmp_path / "auto")
    sees(auto, case="auto")  # a probe that cannot run here does not fail the run
    hints = auto.entries(REACH)[0]["hints"]
    sees.fact(HINT, any("--probe-image IMAGE" in h for h in hints), hints, case="auto")
    on = run_checks(*BASE, "--docker-host", remote_engine.url, "--probe", "on", report_dir=tmp_path / "on")
    sees(on, case="on")
    assert not leftovers()



def test_without_permission_to_enter_the_namespace_a_probe_container_is_used():
    """The suite as a user who may use the engine (its socket) but not enter namespaces (no root, no
    CAP_SYS_ADMIN): on the engine's own host, the probe falls back to a container from the runner's image."""
    lab.up("healthy")
    sock_dir = Path(tempfile.mkdtemp(prefix="blink-sock-", dir="/tmp"))
    sock_dir.chmod(0o755)
    proxy = FaultProxy(sock_dir / "docker.sock").start()  # world-writable: like membership of the docker group
    try:
        with temporary_user() as user:
            run = run_checks_as(user, *BASE, "--docker-host", proxy.url)
    finally:
        proxy.stop()
        shutil.rmtree(sock_dir, ignore_errors=True)
    entry = run.entries(REACH)[0]
    assert entry["outcome"] == "passed", entry
    text = entry["evidence"][0]["text"]
    assert "not from inside the namespace: the suite runs without root or CAP_SYS_ADMIN" in text, text
    assert "a probe container in the network namespace of container blink-runner" in text
    assert run.exit_code == 0, run.stdout[-3000:]
    assert not leftovers()
