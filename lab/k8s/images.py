"""Images for the lab node without a registry: written as docker-archive tarballs or taken from
Docker with `docker save`, then imported with `ctr -n k8s.io images import`."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from .settings import REPO, Settings

# The runner-like images that lab/images/build.sh builds into Docker (fakerunner).
RUNNER_IMAGES = [
    "blinkops/blink-runner:1.0.994",
    "blinkops/blink-runner:1.0.995",
    "blink-lab/runner:1.0.994",
    "blink-lab/runner:1.0.995",
    "blink-lab/operator:1.0.995",
]
IMAGES_SCRIPT = REPO / "lab" / "images" / "build.sh"


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} lab.k8s: {msg}", flush=True)


def write_docker_archive(out: Path, tag: str, files: dict[str, tuple[bytes, int]], entrypoint: list[str]) -> None:
    """A single-layer image in `docker save` format (manifest.json + config + layer.tar)."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, (data, mode) in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Entrypoint": entrypoint, "Env": ["PATH=/"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "blink-lab k8s images.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id.split(":")[1] + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [layer_name]}]
    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as tar:
        for name, data in [(config_name, config_bytes), (layer_name, layer_bytes),
                           ("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    tmp.rename(out)


def pause_archive(s: Settings) -> Path:
    out = s.cache / "pause" / s.pause_version / "pause-image.tar"
    binary = s.bin("pause")
    if not out.exists() or out.stat().st_mtime < binary.stat().st_mtime:
        write_docker_archive(out, s.pause_image, {"pause": (binary.read_bytes(), 0o755)}, ["/pause"])
    return out


def ctr(s: Settings, *args: str, input_file=None, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = ["ctr", "--address", str(s.containerd_sock), "-n", "k8s.io", *args]
    return subprocess.run(cmd, stdin=input_file, capture_output=True, text=True, timeout=timeout)


def import_archive(s: Settings, path: Path) -> None:
    with open(path, "rb") as f:
        r = ctr(s, "images", "import", "-", input_file=f)
    if r.returncode != 0:
        raise RuntimeError(f"ctr images import {path} failed: {r.stderr.strip()[-2000:]}")


def docker_ok() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def _inputs_key() -> str:
    """A key for the runner images' inputs (lab/images), so a cached `docker save` is reused safely."""
    h = hashlib.sha256()
    base = REPO / "lab" / "images"
    for p in sorted(base.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(base)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def start_dockerd(s: Settings) -> None:
    """Start Docker's daemon (only when nothing answers); it is stopped again by `down`."""
    if not shutil.which("dockerd"):
        raise RuntimeError("dockerd is missing: apt-get install docker.io")
    s.logs.mkdir(parents=True, exist_ok=True)
    from .cluster import Procs
    procs = Procs(s)
    procs.spawn("dockerd", ["/usr/sbin/dockerd"] if os.path.exists("/usr/sbin/dockerd") else ["dockerd"])
    pid = procs.pid("dockerd")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if procs.pid("dockerd") != pid:
            break
        if docker_ok():
            log("dockerd started (stopped again by down)")
            return
        time.sleep(0.5)
    tail = (s.logs / "dockerd.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"dockerd did not answer within 60 s; tail of {s.logs / 'dockerd.log'}:\n{tail}")


def runner_archive(s: Settings) -> Path | None:
    """The runner images as one `docker save` archive, cached by the inputs of lab/images."""
    if not IMAGES_SCRIPT.exists():
        log(f"{IMAGES_SCRIPT} does not exist yet: runner images not imported")
        return None
    key = _inputs_key()
    out = s.cache / "images" / f"runner-images-{key}.tar"
    if out.exists():
        return out
    if not docker_ok():
        start_dockerd(s)
    log("building runner images (lab/images/build.sh)")
    r = subprocess.run(["bash", str(IMAGES_SCRIPT)], capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"lab/images/build.sh failed:\n{(r.stdout + r.stderr)[-3000:]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    for old in out.parent.glob("runner-images-*.tar"):
        old.unlink()
    tmp = out.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        r2 = subprocess.run(["docker", "save", *RUNNER_IMAGES], stdout=f, stderr=subprocess.PIPE, timeout=300)
    if r2.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"docker save failed: {r2.stderr.decode(errors='replace')[-2000:]}")
    os.replace(tmp, out)
    return out


def import_all(s: Settings) -> list[str]:
    import_archive(s, pause_archive(s))
    names = [s.pause_image]
    archive = runner_archive(s)
    if archive:
        import_archive(s, archive)
        names += RUNNER_IMAGES
    return names
