"""What the escalation packet keeps of inspect output and Kubernetes objects: an allow-list."""

from __future__ import annotations

import json
import os
from pathlib import Path

from blinkcheck.artifacts import Artifacts
from blinkcheck.packet_objects import docker_inspect_for_packet, k8s_object_for_packet, packet_json

SECRET = "tok-Zk9sQ2x1ZHhQb2ZtN3dqV"

INSPECT = {
    "Id": "3f2a9c1b7d4e" * 4,
    "Name": "/blink-runner",
    "Path": "/blink-runner",
    "Args": ["--token", SECRET],
    "RestartCount": 3,
    "State": {"Status": "exited", "ExitCode": 1, "OOMKilled": False},
    "Image": "sha256:abc",
    "Config": {
        "Image": "blinkops/blink-runner:1.0.994",
        "Env": [f"BLINK_RUNNER_GROUP_API_KEY={SECRET}", "RUNNER_MODE=docker"],
        "Cmd": ["--token", SECRET],
        "Entrypoint": ["/blink-runner"],
        "Labels": {"com.example.deploy-token": SECRET, "com.docker.compose.project": "blink"},
        "Healthcheck": {"Test": ["CMD", "curl", "-H", f"X-Key: {SECRET}", "localhost"], "Interval": 30},
        "SomethingNew": SECRET,
    },
    "HostConfig": {
        "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
        "NetworkMode": "bridge",
        "LogConfig": {"Type": "splunk", "Config": {"splunk-token": SECRET, "max-size": "10m"}},
        "Binds": ["/var/run/docker.sock:/var/run/docker.sock"],
    },
    "Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock", "RW": True}],
    "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2", "Gateway": "172.17.0.1"}}},
    "GraphDriver": {"Data": {"MergedDir": SECRET}},
}


def test_docker_inspect_keeps_what_diagnosis_needs_and_withholds_the_rest():
    text = packet_json(docker_inspect_for_packet(INSPECT))
    assert SECRET not in text
    out = json.loads(text)
    assert out["State"]["ExitCode"] == 1 and out["RestartCount"] == 3
    assert out["Config"]["Image"] == "blinkops/blink-runner:1.0.994"
    assert out["Config"]["Env"] == ["BLINK_RUNNER_GROUP_API_KEY=[withheld]", "RUNNER_MODE=[withheld]"]
    assert out["Config"]["Labels"] == {"com.example.deploy-token": "[withheld]", "com.docker.compose.project": "[withheld]"}
    assert out["Args"].startswith("[withheld]") and out["Config"]["Cmd"].startswith("[withheld]")
    assert out["HostConfig"]["RestartPolicy"]["Name"] == "always" and out["HostConfig"]["NetworkMode"] == "bridge"
    assert out["HostConfig"]["LogConfig"] == {"Type": "splunk", "Config": {"splunk-token": "[withheld]", "max-size": "10m"}}
    assert out["Mounts"][0]["Destination"] == "/var/run/docker.sock"
    assert "GraphDriver" not in out and "SomethingNew" not in out["Config"]


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "blink-runner-7d9f8-abcde", "namespace": "blink", "labels": {"app": "blink-runner"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps({"env": SECRET}),
                        "vault.example/token": SECRET},
        "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:x": SECRET}}],
    },
    "spec": {
        "serviceAccountName": "blink-runner",
        "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", f"echo {SECRET}"],
                            "env": [{"name": "INIT_TOKEN", "value": SECRET}]}],
        "containers": [{
            "name": "blink-runner", "image": "blinkops/blink-runner:1.0.994",
            "args": ["--api-key", SECRET],
            "env": [{"name": "BLINK_RUNNER_GROUP_API_KEY",
                     "valueFrom": {"secretKeyRef": {"name": "blink-runner-secret", "key": "appKey"}}},
                    {"name": "LITERAL_KEY", "value": SECRET}],
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080,
                                          "httpHeaders": [{"name": "Authorization", "value": f"Bearer {SECRET}"}]}},
            "readinessProbe": {"exec": {"command": ["check", "--token", SECRET]}},
            "lifecycle": {"preStop": {"exec": {"command": ["logout", SECRET]}}},
        }],
        "ephemeralContainers": [{"name": "debug", "image": "busybox", "env": [{"name": "X", "value": SECRET}]}],
        "volumes": [{"name": "cfg", "configMap": {"name": "blink-runner-config"}},
                    {"name": "vault", "csi": {"driver": "vault", "volumeAttributes": {"token": SECRET}}}],
    },
    "status": {"phase": "Running", "containerStatuses": [{"name": "blink-runner", "ready": True, "restartCount": 0}]},
}  # fmt: skip


def test_k8s_pod_keeps_what_diagnosis_needs_and_withholds_every_container_kind():
    text = packet_json(k8s_object_for_packet(POD))
    assert SECRET not in text
    out = json.loads(text)
    c = out["spec"]["containers"][0]
    assert c["image"] == "blinkops/blink-runner:1.0.994" and c["args"].startswith("[withheld]")
    assert c["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "blink-runner-secret", "key": "appKey"}
    assert c["env"][1] == {"name": "LITERAL_KEY", "value": "[withheld]"}
    assert c["livenessProbe"]["httpGet"]["httpHeaders"] == [{"name": "Authorization", "value": "[withheld]"}]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert out["spec"]["initContainers"][0]["command"].startswith("[withheld]")
    assert out["spec"]["ephemeralContainers"][0]["env"] == [{"name": "X", "value": "[withheld]"}]
    assert out["metadata"]["annotations"] == {"kubectl.kubernetes.io/last-applied-configuration": "[withheld]",
                                              "vault.example/token": "[withheld]"}
    assert out["metadata"]["labels"] == {"app": "blink-runner"} and "managedFields" not in out["metadata"]
    assert out["spec"]["volumes"] == [{"name": "cfg", "configMap": {"name": "blink-runner-config"}},
                                      {"name": "vault", "csi": "[withheld]"}]
    assert out["status"]["phase"] == "Running"


def test_k8s_deployment_template_is_projected_too():
    deployment = {"kind": "Deployment", "metadata": {"name": "blink-runner", "namespace": "blink"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "blink-runner"}},
                           "template": {"metadata": {"labels": {"app": "blink-runner"}}, "spec": POD["spec"]}},
                  "status": {"availableReplicas": 1}}  # fmt: skip
    text = packet_json(k8s_object_for_packet(deployment))
    assert SECRET not in text
    out = json.loads(text)
    assert out["spec"]["replicas"] == 1 and out["spec"]["selector"]["matchLabels"] == {"app": "blink-runner"}
    assert out["spec"]["template"]["spec"]["containers"][0]["name"] == "blink-runner"


# ------------------------------------------------------------------ the run's own files


def test_artifacts_replace_a_planted_link_never_write_through_it(tmp_path: Path):
    target = tmp_path / "precious.txt"
    target.write_text("the user's own file")
    os.symlink(target, tmp_path / "results.json")
    arts = Artifacts()
    arts.write(tmp_path / "results.json", "{}")
    assert target.read_text() == "the user's own file"
    assert not (tmp_path / "results.json").is_symlink() and (tmp_path / "results.json").read_text() == "{}"
    assert arts.paths == [tmp_path / "results.json"]


def test_artifacts_unique_names_and_only_own_files_are_removed(tmp_path: Path):
    a, b = Artifacts(), Artifacts()
    p1, fd1 = a.create_unique(tmp_path, "escalation-20250101-000000", ".tar.gz")
    p2, fd2 = b.create_unique(tmp_path, "escalation-20250101-000000", ".tar.gz")  # another run, same second
    os.close(fd1)
    os.close(fd2)
    assert p1 != p2 and p2.name == "escalation-20250101-000000-2.tar.gz"
    assert not a.remove(p2) and p2.exists()  # not this run's file
    other = tmp_path / ".env"
    other.write_text("KEY=x")
    assert not a.remove(other) and other.exists()
    assert a.remove(p1) and not p1.exists()
