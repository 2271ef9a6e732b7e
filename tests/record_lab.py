"""Record the raw API objects the suite reads, from each lab scenario, as canned data for the unit tests.

    /work/labrun .venv/bin/python -m tests.record_lab docker [SCENARIO ...]
    /work/labrun .venv/bin/python -m tests.record_lab kubernetes [SCENARIO ...]

Each scenario is applied as a user applies it (`python -m lab.docker up NAME`, `python -m lab.k8s scenario
NAME`), then what the suite's gatherers read is saved under tests/data/<platform>/<scenario>/:

- Docker: `containers.json` (GET /containers/json?all=1, the lab's containers), `inspect-<name>.json` (GET
  /containers/{id}/json) and `logs-<name>.txt` (GET /containers/{id}/logs?timestamps=1, the newest lines), or
  `logs-<name>.error.txt`, the engine's refusal to read them;
- Kubernetes: `pods.json`, `deployments.json`, `events.json`, `hpas.json`, `networkpolicies.json`,
  `resourcequotas.json`, `limitranges.json` (the namespace's lists, as the API answers them), `nodes.json` (the
  runner pods' nodes: name, unschedulable, conditions), `secrets.json` (the Secrets the runner reads: key names, values withheld) and
  `logs/<pod>.log` / `logs/<pod>.previous.log` (`kubectl logs --timestamps`, the newest lines), or
  `logs/<pod>.error.txt`, the API's refusal to read them.

`meta.json` says when it was recorded (`recorded_at`: the unit tests pin "now" to it when they judge ages)
and what the scenario is. Volatile fields (ids, timestamps, restart counts, IPs) are kept as the API gave
them. Secrets are removed: the lab's planted keys (LAB_API_KEY, the dead proxy's password, the Kubernetes
lab's appKey) in every encoding the redactor knows, and every Secret value; a file that still holds one
after that is an error and is not written.

Uses the shared labs: run it under /work/labrun. Docker takes about 4 minutes for all scenarios; run the
Kubernetes scenarios in two or three calls (each waits up to 2 minutes for its state).
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from blinkcheck.redact import MASK, encodings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
LOG_TAIL = 300  # newest log lines kept per container: enough for every pattern the lab makes, small files
SETTLE_S = 3  # after a scenario reached its state: a few more lines of the runner's life (it pings every 1-2 s)
MASKED_VALUE = base64.b64encode(MASK.encode()).decode()


def planted_secrets() -> list[str]:
    from lab.docker.scenarios import LAB_API_KEY, PROXY_SECRET
    from lab.k8s.scenario import PROXY_SECRET as K8S_PROXY_SECRET

    # The Kubernetes lab's appKey (lab/k8s/scenarios/secret.yaml) and its proxy-dead scenario's proxy password.
    return [LAB_API_KEY, PROXY_SECRET, "lab-runner-group-key-not-a-secret", K8S_PROXY_SECRET]


def scrub(text: str, secrets: list[str]) -> str:
    """Every form of every planted secret (raw, JSON-escaped, URL-encoded, base64, ...) becomes MASK."""
    forms = sorted({f for s in secrets for f in encodings(s)}, key=len, reverse=True)
    for form in forms:
        text = text.replace(form, MASK)
    return text


def write(path: Path, text: str, secrets: list[str]) -> None:
    text = scrub(text, secrets)
    left = [s for s in secrets for f in encodings(s) if f in text]
    if left:
        raise SystemExit(f"record_lab: {path} would still hold a planted secret; not written")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


def run(*cmd: str) -> str:
    print(f"[record] {' '.join(cmd)}", flush=True)
    r = subprocess.run([sys.executable, *cmd], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"record_lab: {' '.join(cmd)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r.stdout + r.stderr


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ Docker


def record_docker(name: str, secrets: list[str]) -> None:
    from docker.errors import APIError

    from lab.docker import scenarios

    said = run("-m", "lab.docker", "up", name)
    time.sleep(SETTLE_S)
    dc = scenarios.client()
    out = DATA / "docker" / name
    if out.exists():
        for old in out.iterdir():
            old.unlink()
    listed = [c for c in dc.api.containers(all=True)
              if (c.get("Labels") or {}).get("blink-lab") == "1" or c["Names"][0].startswith("/blink-runner")]
    names = []
    for c in sorted(listed, key=lambda c: c["Names"][0]):
        cname = c["Names"][0].lstrip("/")
        names.append(cname)
        write(out / f"inspect-{cname}.json", dump(dc.api.inspect_container(c["Id"])), secrets)
        try:
            logs = dc.api.logs(c["Id"], stdout=True, stderr=True, timestamps=True, tail=LOG_TAIL)
        except APIError as exc:  # the engine refuses (e.g. logging driver none): its words, as the gatherer has them
            write(out / f"logs-{cname}.error.txt", str(exc) + "\n", secrets)
            continue
        write(out / f"logs-{cname}.txt", logs.decode("utf-8", "replace"), secrets)
    write(out / "containers.json", dump(listed), secrets)
    meta = {"scenario": name, "platform": "docker", "recorded_at": now_text(), "containers": names,
            "description": scenarios.SCENARIOS[name].description, "lab": said.strip().splitlines()[-2:]}  # fmt: skip
    write(out / "meta.json", dump(meta), secrets)


# ------------------------------------------------------------------ Kubernetes


def _withheld_secret(secret: dict[str, Any]) -> dict[str, Any]:
    """A Secret as the suite sees it (which keys, which are empty), with every value withheld."""
    meta = secret.get("metadata") or {}
    data = {k: (MASKED_VALUE if v else "") for k, v in (secret.get("data") or {}).items()}
    return {"apiVersion": "v1", "kind": "Secret", "type": secret.get("type", ""), "data": data,
            "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace")}}  # fmt: skip


def record_kubernetes(name: str, secrets: list[str]) -> None:
    from lab.k8s.cluster import Api
    from lab.k8s.scenario import SCENARIOS
    from lab.k8s.settings import Settings

    said = run("-m", "lab.k8s", "scenario", name)
    time.sleep(SETTLE_S)
    s = Settings()
    api = Api(s)
    ns = s.namespace
    recorded_at = now_text()
    out = DATA / "kubernetes" / name
    if out.exists():
        for old in sorted(out.rglob("*"), reverse=True):
            old.rmdir() if old.is_dir() else old.unlink()
    lists = {
        "pods": f"/api/v1/namespaces/{ns}/pods",
        "deployments": f"/apis/apps/v1/namespaces/{ns}/deployments",
        "hpas": f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers",
        "networkpolicies": f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies",
        "resourcequotas": f"/api/v1/namespaces/{ns}/resourcequotas",
        "limitranges": f"/api/v1/namespaces/{ns}/limitranges",
    }
    got = {kind: api.get(path) for kind, path in lists.items()}
    # The runner pods' nodes, as the node-pressure check reads them (name, unschedulable, conditions: what it judges).
    names = sorted({str((p.get("spec") or {}).get("nodeName") or "") for p in got["pods"]["items"]} - {""})
    got["nodes"] = {"apiVersion": "v1", "kind": "NodeList", "items": [
        {"metadata": {"name": n["metadata"]["name"]}, "spec": {"unschedulable": n["spec"].get("unschedulable")},
         "status": {"conditions": n["status"].get("conditions")}} for n in (api.get(f"/api/v1/nodes/{x}") for x in names)]}
    # Events as the suite asks for them: per pod (fieldSelector involvedObject.name=<pod>), in one list.
    got["events"] = {"apiVersion": "v1", "kind": "EventList", "items": [
        e for p in got["pods"]["items"] for e in api.get(f"/api/v1/namespaces/{ns}/events?fieldSelector="
                                                         f"involvedObject.name%3D{p['metadata']['name']}")["items"]]}
    for kind, data in got.items():
        write(out / f"{kind}.json", dump(data), secrets)
    # The Secrets the runner deployment reads (the suite reads only those): key names, values withheld.
    from blinkcheck.kubernetes.deployment import secret_refs_to_check
    from blinkcheck.kubernetes.parse import deployment_facts

    runner = next((d for d in got["deployments"]["items"] if d["metadata"]["name"] == "blink-runner"), None)
    wanted = sorted({n for n, _ in secret_refs_to_check(deployment_facts(runner) if runner else None)})
    found = []
    for sname in wanted:
        try:
            found.append(_withheld_secret(api.get(f"/api/v1/namespaces/{ns}/secrets/{sname}")))
        except OSError:  # 404: the secret-missing scenario
            continue
    write(out / "secrets.json", dump({"apiVersion": "v1", "kind": "SecretList", "items": found}), secrets)
    for pod in got["pods"]["items"]:
        pname = pod["metadata"]["name"]
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            for previous in (False, True) if cs.get("restartCount") else (False,):
                q = f"?timestamps=true&tailLines={LOG_TAIL}&container={cs['name']}" + ("&previous=true" if previous else "")
                try:
                    text = api.get(f"/api/v1/namespaces/{ns}/pods/{pname}/log{q}", raw=True)
                except OSError as exc:  # not started yet, kubelet unreachable: the API's refusal, as the suite meets it
                    if not previous:  # a previous container that cannot be read only adds nothing (as in the gatherer)
                        write(out / "logs" / f"{pname}.error.txt", f"{exc}\n", secrets)
                    continue
                write(out / "logs" / f"{pname}{'.previous' if previous else ''}.log", text, secrets)
    meta = {"scenario": name, "platform": "kubernetes", "recorded_at": recorded_at, "namespace": ns,
            "description": SCENARIOS[name].description, "lab": said.strip().splitlines()[-1:]}  # fmt: skip
    write(out / "meta.json", dump(meta), secrets)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.record_lab", description=__doc__.split("\n\n")[0])
    ap.add_argument("platform", choices=("docker", "kubernetes"))
    ap.add_argument("scenarios", nargs="*", help="default: every scenario of the platform's lab")
    a = ap.parse_args(argv)
    secrets = planted_secrets()
    if a.platform == "docker":
        from lab.docker.scenarios import SCENARIOS as DOCKER

        names = a.scenarios or list(DOCKER)
        try:
            for name in names:
                t0 = time.monotonic()
                record_docker(name, secrets)
                print(f"[record] docker {name}: {time.monotonic() - t0:.0f}s", flush=True)
        finally:
            run("-m", "lab.docker", "down")
    else:
        from lab.k8s.scenario import SCENARIOS as K8S

        names = a.scenarios or list(K8S)
        try:
            for name in names:
                t0 = time.monotonic()
                record_kubernetes(name, secrets)
                print(f"[record] kubernetes {name}: {time.monotonic() - t0:.0f}s", flush=True)
        finally:
            run("-m", "lab.k8s", "scenario", "clear")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
