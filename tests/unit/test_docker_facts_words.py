"""Docker facts read word for word from recorded inspects (tests/data/docker) and a `docker info` answer."""

from __future__ import annotations

import json
from pathlib import Path

from blinkcheck.docker.facts import EngineInfo, container_facts, engine_info, gb

DATA = Path(__file__).resolve().parents[1] / "data" / "docker"


def _inspect(scenario: str) -> dict:
    return json.loads((DATA / scenario / "inspect-blink-runner.json").read_text())


def test_what_the_checks_past_the_runbook_and_blinks_view_read_from_an_inspect():
    oom = container_facts(_inspect("runner-oom"))
    assert (oom.restart_policy, oom.memory_limit, oom.dns, oom.network_mode, oom.cert_file, oom.ips) == (
        "no", 16777216, ("172.30.251.1",), "blink-lab", "/etc/blink-lab/ca.pem", ())  # fmt: skip
    assert oom.hostname == "ced43ee98ecc"
    sees = container_facts(_inspect("blink-sees"))
    assert (sees.ips, sees.hostname, sees.restart_policy) == (("172.30.251.2",), "96112df8ec4a", "")


def test_addresses_of_every_network_that_has_one():
    raw = _inspect("blink-sees")
    raw["NetworkSettings"]["Networks"] = {"a": {"IPAddress": "10.0.0.2"}, "b": {"IPAddress": ""}, "c": None,
                                          "d": {"IPAddress": "10.0.1.2"}}  # fmt: skip
    assert container_facts(raw).ips == ("10.0.0.2", "10.0.1.2")
    raw["Config"]["Env"] = ["A=1", "SSL_CERT_FILE=/x=y.pem"]
    assert container_facts(raw).cert_file == "/x=y.pem"


def test_engine_info_word_for_word():
    info = {"Name": "host-1", "DockerRootDir": "/var/lib/docker", "MemTotal": 4294967296,
            "HttpProxy": "http://proxy:3128", "HttpsProxy": "http://proxy:3129", "NoProxy": "localhost",
            "OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "ServerVersion": "20.10.24"}  # fmt: skip
    assert engine_info(info) == EngineInfo("host-1", "/var/lib/docker", 4294967296, "http://proxy:3128",
                                           "http://proxy:3129", "localhost", "Debian GNU/Linux 12 (bookworm)")  # fmt: skip
    assert engine_info({}) == EngineInfo()
    assert engine_info({"MemTotal": None, "HttpProxy": None}) == EngineInfo()


def test_sizes_as_df_h_shows_them():
    assert gb(1000 * 1024**2) == "1000 MB"
    assert gb(1024**3) == "1.0 GB" and gb(66.3 * 1024**3) == "66.3 GB"
