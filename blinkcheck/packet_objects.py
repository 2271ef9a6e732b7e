"""What of an API object may go into the escalation packet: an allow-list per object kind (Docker inspect,
Kubernetes objects). Values of environment variables, commands, labels, annotations and probe headers are
withheld. Used by the gatherers (blinkcheck.docker.gather, blinkcheck.kubernetes.gather), which keep the objects
they looked at for the packet (blinkcheck.report.packet)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from blinkcheck.artifacts import json_text
from blinkcheck.redact import WITHHELD

# ------------------------------------------------------------------ objects in the packet: an allow-list

def packet_json(obj: object) -> str:
    """An object as a file of the packet: sorted keys, ASCII only."""
    return json_text(obj, sort_keys=True, ensure_ascii=True)


PACKET_NOTE = (
    "Only the fields diagnosis needs are kept; values of environment variables, command, args, entrypoint, "
    "labels (Docker), annotations and probe headers are withheld."
)
Json = Any


def _pick(obj: Json, keys: Iterable[str]) -> dict[str, Json]:
    if not isinstance(obj, dict):
        return {}
    return {k: obj[k] for k in keys if k in obj and obj[k] is not None}


def _withheld_list(value: Json) -> Json:
    if not value:
        return value
    n = len(value) if isinstance(value, list) else 1
    return f"{WITHHELD} ({n} value{'s' if n != 1 else ''})"


def _names_only(mapping: Json) -> Json:
    return {str(k): WITHHELD for k in mapping} if isinstance(mapping, dict) else mapping


def _env_names(env: Json) -> list[str]:
    return [str(item).partition("=")[0] + "=" + WITHHELD for item in env or []]


SAFE_LOG_OPTIONS = ("max-size", "max-file", "mode", "compress", "max-buffer-size")


def docker_inspect_for_packet(raw: Json) -> dict[str, Json]:
    """`docker inspect` as R&D needs it: state, image, mounts, restart policy, log configuration, network
    mode and the names of the environment variables. Values of Env, Cmd, Entrypoint, Args, Labels, a
    health check's command and logging options (a splunk token...) are withheld; anything else is left out."""
    config = raw.get("Config") or {}
    host = raw.get("HostConfig") or {}
    log = host.get("LogConfig") or {}
    net = raw.get("NetworkSettings") or {}
    out = _pick(raw, ("Id", "Created", "Name", "Image", "Path", "State", "RestartCount", "Driver", "Platform",
                      "LogPath", "MountLabel", "AppArmorProfile"))  # fmt: skip
    if raw.get("Args"):
        out["Args"] = _withheld_list(raw["Args"])
    cfg = _pick(config, ("Image", "Hostname", "Domainname", "User", "WorkingDir", "Tty", "OpenStdin", "StopSignal",
                         "StopTimeout", "ExposedPorts", "Volumes", "AttachStdout", "AttachStderr"))  # fmt: skip
    cfg["Env"] = _env_names(config.get("Env"))
    for key in ("Cmd", "Entrypoint"):
        if config.get(key):
            cfg[key] = _withheld_list(config[key])
    if config.get("Labels"):
        cfg["Labels"] = _names_only(config["Labels"])
    if isinstance(config.get("Healthcheck"), dict):
        hc = dict(config["Healthcheck"])
        if hc.get("Test"):
            hc["Test"] = _withheld_list(hc["Test"])
        cfg["Healthcheck"] = hc
    out["Config"] = cfg
    hcfg = _pick(host, ("RestartPolicy", "NetworkMode", "Binds", "Privileged", "AutoRemove", "Memory", "MemorySwap",
                        "MemoryReservation", "NanoCpus", "CpuShares", "CpusetCpus", "PidMode", "IpcMode", "UsernsMode",
                        "PortBindings", "ReadonlyRootfs", "OomKillDisable", "CapAdd", "CapDrop", "SecurityOpt", "Dns",
                        "ShmSize", "Runtime", "Init"))  # fmt: skip
    hcfg["LogConfig"] = {
        "Type": log.get("Type", ""),
        "Config": {k: (v if k in SAFE_LOG_OPTIONS else WITHHELD) for k, v in (log.get("Config") or {}).items()},
    }
    out["HostConfig"] = hcfg
    out["Mounts"] = [_pick(m, ("Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation"))
                     for m in raw.get("Mounts") or []]  # fmt: skip
    networks = {name: _pick(n, ("NetworkID", "IPAddress", "Gateway", "IPPrefixLen", "MacAddress", "Aliases"))
                for name, n in (net.get("Networks") or {}).items()}  # fmt: skip
    out["NetworkSettings"] = {**_pick(net, ("IPAddress", "Gateway", "Ports")), "Networks": networks}
    out["_packet"] = PACKET_NOTE
    return out


_CONTAINER_KEYS = ("name", "image", "imagePullPolicy", "ports", "resources", "volumeMounts", "volumeDevices",
                   "workingDir", "securityContext", "terminationMessagePath", "terminationMessagePolicy",
                   "restartPolicy", "stdin", "stdinOnce", "tty", "resizePolicy", "targetContainerName")  # fmt: skip
_POD_SPEC_KEYS = ("nodeName", "serviceAccountName", "serviceAccount", "automountServiceAccountToken", "restartPolicy",
                  "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy", "nodeSelector",
                  "schedulerName", "priorityClassName", "priority", "preemptionPolicy", "tolerations", "affinity",
                  "topologySpreadConstraints", "hostNetwork", "hostPID", "hostIPC", "securityContext",
                  "imagePullSecrets", "enableServiceLinks", "runtimeClassName", "os", "schedulingGates",
                  "readinessGates", "shareProcessNamespace", "hostname", "subdomain", "dnsConfig", "overhead",
                  "hostAliases")  # fmt: skip
_VOLUME_KINDS = ("configMap", "secret", "emptyDir", "hostPath", "persistentVolumeClaim", "projected", "downwardAPI")
_META_KEYS = ("name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
              "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences", "finalizers", "labels")  # fmt: skip
_DEPLOYMENT_SPEC_KEYS = ("replicas", "selector", "strategy", "minReadySeconds", "revisionHistoryLimit",
                         "progressDeadlineSeconds", "paused")  # fmt: skip


def _handler(h: Json) -> Json:
    """A probe or lifecycle handler: exec commands and HTTP header values withheld."""
    if not isinstance(h, dict):
        return h
    out = dict(h)
    if isinstance(out.get("exec"), dict) and out["exec"].get("command"):
        out["exec"] = {"command": _withheld_list(out["exec"]["command"])}
    if isinstance(out.get("httpGet"), dict):
        get = dict(out["httpGet"])
        if get.get("httpHeaders"):
            get["httpHeaders"] = [{"name": x.get("name", ""), "value": WITHHELD} for x in get["httpHeaders"]]
        out["httpGet"] = get
    return out


def _env_entry(e: Json) -> Json:
    if not isinstance(e, dict):
        return WITHHELD
    if "valueFrom" in e:  # a reference (secretKeyRef name/key, configMapKeyRef, fieldRef): no value in it
        return {"name": e.get("name", ""), "valueFrom": e["valueFrom"]}
    return {"name": e.get("name", ""), "value": WITHHELD}


def _container(c: Json) -> dict[str, Json]:
    out = _pick(c, _CONTAINER_KEYS)
    for key in ("command", "args"):
        if c.get(key):
            out[key] = _withheld_list(c[key])
    if c.get("env"):
        out["env"] = [_env_entry(e) for e in c["env"]]
    if c.get("envFrom"):
        out["envFrom"] = [_pick(e, ("configMapRef", "secretRef", "prefix")) for e in c["envFrom"]]
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        if key in c:
            out[key] = _handler(c[key])
    if isinstance(c.get("lifecycle"), dict):
        out["lifecycle"] = {k: _handler(v) for k, v in c["lifecycle"].items()}
    return out


def _volume(v: Json) -> dict[str, Json]:
    out: dict[str, Json] = {"name": v.get("name", "")} if isinstance(v, dict) else {}
    for kind, source in (v.items() if isinstance(v, dict) else ()):
        if kind == "name":
            continue
        out[kind] = source if kind in _VOLUME_KINDS else WITHHELD  # csi attributes, flexVolume options, ...
    return out


def _meta(meta: Json) -> dict[str, Json]:
    out = _pick(meta, _META_KEYS)
    if meta.get("annotations"):
        out["annotations"] = _names_only(meta["annotations"])
    return out


def _pod_spec(spec: Json) -> dict[str, Json]:
    out = _pick(spec, _POD_SPEC_KEYS)
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        if spec.get(kind):
            out[kind] = [_container(c) for c in spec[kind]]
    if spec.get("volumes"):
        out["volumes"] = [_volume(v) for v in spec["volumes"]]
    return out


def k8s_object_for_packet(obj: Json) -> dict[str, Json]:
    """A pod or deployment as R&D needs it: metadata (annotation values withheld), the pod spec by
    allow-list (every container kind's command, args and env values withheld, probe header values
    withheld, other volume sources than config/secret references withheld) and the whole status."""
    spec = obj.get("spec") or {}
    out: dict[str, Json] = _pick(obj, ("apiVersion", "kind"))
    out["metadata"] = _meta(obj.get("metadata") or {})
    if "template" in spec:  # a deployment
        tmpl = spec.get("template") or {}
        out["spec"] = {**_pick(spec, _DEPLOYMENT_SPEC_KEYS),
                       "template": {"metadata": _meta(tmpl.get("metadata") or {}),
                                    "spec": _pod_spec(tmpl.get("spec") or {})}}  # fmt: skip
    else:
        out["spec"] = _pod_spec(spec)
    if "status" in obj:
        out["status"] = obj["status"]
    out["_packet"] = PACKET_NOTE
    return out
