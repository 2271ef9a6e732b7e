"""A throwaway OpenSSH server on loopback ports, with its own config, host key and authorized key,
in front of the real local Docker engine; and a client home with its own ~/.ssh/config.

Never the machine's ssh service: our own `sshd -D -f <our config>` process, stopped by `stop()`.
Its ports, each a way a remote host can be (sshd's `Match LocalPort`):

- `ok`: root logs in with the client's key; the remote `docker` is the local CLI, reaching the engine;
- `nodocker`: no `docker` on the remote PATH;
- `noperm`: the remote command runs as `nobody`, who may not use the engine's socket;
- `stuck`: the remote command never answers (it only reads);
- `smalldisk`, `inodes`: Docker's data root is a small tmpfs (64 MB; 1 GB with 96 of 100 inodes used), mounted
  over /var/lib/docker in a mount namespace of the session's own;
- `hang`: not sshd: a loopback listener that sends an SSH banner and then nothing, ever.

The client side: ssh reads `~/.ssh/config` from the home directory in the password database, not from
$HOME, so `client_prefix()` runs a command in a private mount namespace where /etc/passwd is a copy
naming our temporary home as root's (the machine's own files are untouched).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SCENARIOS = ("ok", "nodocker", "noperm", "stuck", "smalldisk", "inodes")
# A host whose Docker data root is a small filesystem: each session in a mount namespace of its own where a real
# tmpfs is mounted over /var/lib/docker (the engine's socket is elsewhere: docker itself still answers).
_OWN_DATA_ROOT = ("unshare --mount --propagation private -- /bin/sh -c 'mount -t tmpfs -o {opts} blink-lab {root} "
                  "{fill}&& exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"'")
FORCE = {
    "nodocker": 'env PATH=/nonexistent /bin/sh -c "$SSH_ORIGINAL_COMMAND"',
    "noperm": 'setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent /bin/sh -c "$SSH_ORIGINAL_COMMAND"',
    "stuck": "cat >/dev/null",
    # 64 MB in all: far less than the 20 GB the runner needs
    "smalldisk": _OWN_DATA_ROOT.format(opts="size=64m", root="/var/lib/docker", fill=""),
    # 1 GB but only 100 inodes, 96 of them used
    "inodes": _OWN_DATA_ROOT.format(opts="size=1g,nr_inodes=100", root="/var/lib/docker",
                                    fill="&& for i in $(seq 1 95); do : > /var/lib/docker/f$i; done "),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True)


@dataclass
class LoopbackSSH:
    root: Path
    ports: dict[str, int] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = None
    _hang: socket.socket | None = None
    _stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def home(self) -> Path:
        return self.root / "home"

    def start(self) -> LoopbackSSH:
        if not os.access(SSHD, os.X_OK):
            raise RuntimeError("sshd is missing: scripts/setup.sh installs openssh-server")
        server, ssh_dir = self.root / "server", self.home / ".ssh"
        server.mkdir(parents=True)
        ssh_dir.mkdir(parents=True, mode=0o700)
        _keygen(server / "host_key")
        _keygen(ssh_dir / "id_ed25519")  # the user's key: authorized on the server
        _keygen(ssh_dir / "other_key")  # a key the server does not know
        shutil.copy(ssh_dir / "id_ed25519.pub", server / "authorized_keys")
        self.ports = {name: _free_port() for name in (*SCENARIOS, "hang")}
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        lines = [
            "ListenAddress 127.0.0.1",
            *(f"Port {self.ports[name]}" for name in SCENARIOS),
            f"HostKey {server / 'host_key'}",
            f"AuthorizedKeysFile {server / 'authorized_keys'}",
            f"PidFile {server / 'sshd.pid'}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "LogLevel ERROR",
        ]
        for name, command in FORCE.items():
            lines += [f"Match LocalPort {self.ports[name]}", f"  ForceCommand {command}"]
        (server / "sshd_config").write_text("\n".join(lines) + "\n")
        log = (server / "sshd.log").open("wb")
        self._proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(server / "sshd_config")], stdout=log, stderr=log)
        self._start_hanging_listener()
        self._write_client_config()
        self._wait_listening()
        return self

    def _wait_listening(self) -> None:
        end = time.monotonic() + 15
        while time.monotonic() < end:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.root / 'server' / 'sshd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.ports["ok"]), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("sshd did not answer within 15s")

    def _start_hanging_listener(self) -> None:
        srv = socket.socket()
        srv.bind(("127.0.0.1", self.ports["hang"]))
        srv.listen(8)
        srv.settimeout(0.2)
        self._hang = srv
        held: list[socket.socket] = []

        def serve() -> None:
            while not self._stopped.is_set():
                try:
                    conn, _ = srv.accept()
                except OSError:
                    continue
                conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 stuck\r\n")  # then nothing: key exchange never starts
                held.append(conn)
            for conn in held:
                conn.close()

        threading.Thread(target=serve, daemon=True).start()

    def _write_client_config(self) -> None:
        ssh_dir = self.home / ".ssh"
        host_key = (self.root / "server" / "host_key.pub").read_text().split()
        known = [f"[127.0.0.1]:{self.ports[name]} {host_key[0]} {host_key[1]}" for name in SCENARIOS]
        wrong = (ssh_dir / "other_key.pub").read_text().split()  # recorded for blinklab-changed: not its key
        known.append(f"blinklab-changed {wrong[0]} {wrong[1]}")
        (ssh_dir / "known_hosts").write_text("\n".join(known) + "\n")
        blocks = []
        key, other = f"IdentityFile {ssh_dir / 'id_ed25519'}", f"IdentityFile {ssh_dir / 'other_key'}"
        for alias, port, extra in (
            ("blinklab", self.ports["ok"], [key]),
            ("blinklab-nodocker", self.ports["nodocker"], [key]),
            ("blinklab-noperm", self.ports["noperm"], [key]),
            ("blinklab-stuck", self.ports["stuck"], [key]),
            ("blinklab-smalldisk", self.ports["smalldisk"], [key]),
            ("blinklab-inodes", self.ports["inodes"], [key]),
            ("blinklab-hang", self.ports["hang"], [key]),
            ("blinklab-unknown", self.ports["ok"], [key, "HostKeyAlias blinklab-unknown"]),  # a key never seen
            ("blinklab-changed", self.ports["ok"], [key, "HostKeyAlias blinklab-changed"]),  # another key recorded
            ("blinklab-badkey", self.ports["ok"], [other]),  # a key the server does not know
        ):
            lines = [f"Host {alias}", "  HostName 127.0.0.1", f"  Port {port}", "  User root", "  IdentitiesOnly yes"]
            blocks.append("\n".join(lines + [f"  {line}" for line in extra]))
        blocks.append("Host *\n  GlobalKnownHostsFile /dev/null\n  IdentityAgent none")
        (ssh_dir / "config").write_text("\n\n".join(blocks) + "\n")
        for path in ssh_dir.iterdir():
            path.chmod(0o600)
        passwd = Path("/etc/passwd").read_text().splitlines()
        mine = [":".join([*f[:5], str(self.home), *f[6:]]) if f[0] == "root" else line
                for line in passwd for f in [line.split(":")]]  # fmt: skip
        (self.root / "passwd").write_text("\n".join(mine) + "\n")
        (self.root / "passwd").chmod(0o644)

    def client_prefix(self) -> list[str]:
        """Run a command as a user whose home (for ssh too) is our client home."""
        script = 'mount --bind "$0" /etc/passwd && exec "$@"'
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script,
                str(self.root / "passwd")]  # fmt: skip

    def client_env(self) -> dict[str, str]:
        """The user's environment: that home, no DOCKER_* (empty is unset, for the docker CLI and for us)."""
        return {"HOME": str(self.home), "DOCKER_CONFIG": "", "DOCKER_HOST": "", "DOCKER_CONTEXT": ""}

    def stop(self) -> None:
        self._stopped.set()
        if self._hang is not None:
            self._hang.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
