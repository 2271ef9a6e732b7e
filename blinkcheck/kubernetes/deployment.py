"""Deployment docs on Kubernetes: the runner Secret (`blink-runner-secret`, key `appKey`) exists, existence only.
Pure."""

from __future__ import annotations

from blinkcheck.kubernetes.facts import DEFAULT_SECRET, DEFAULT_SECRET_KEY, DeploymentFacts, SecretFacts
from blinkcheck.model import Evidence, Finding, Outcome

# ------------------------------------------------------------------ judges: deployment


def secret_refs_to_check(deployment: DeploymentFacts | None) -> list[tuple[str, str]]:
    """The secret/key the runner reads (from its pod template), else Blink's documented default."""
    keyed = [(n, k) for n, k in (deployment.secret_refs if deployment else ()) if k]
    if keyed:
        return list(dict.fromkeys(keyed))
    return [(DEFAULT_SECRET, DEFAULT_SECRET_KEY)]


def judge_secret(cid: str, secret: SecretFacts, key: str, deployment: DeploymentFacts | None) -> Finding:
    label = f"secret {secret.namespace}/{secret.name}"
    values = {"secret": secret.name, "secret_key": key, "namespace": secret.namespace,
              "deployment": deployment.name if deployment else ""}  # fmt: skip
    keys = ", ".join(secret.keys) or "(none)"
    used_by = f" (read by deployment {deployment.name})" if deployment and any(
        r[0] == secret.name for r in deployment.secret_refs) else ""  # fmt: skip
    if not secret.found:
        summary = f"Secret {secret.name} does not exist in {secret.namespace}{used_by}."
        return Finding(cid, Outcome.FAILED, summary, label, values=values, variant="missing")
    evidence = (Evidence("Secret keys (values never read into results)", keys, source=label),)
    values["keys"] = keys
    if key not in secret.keys:
        summary = f"Secret {secret.name} in {secret.namespace} has no key {key} (keys: {keys})."
        return Finding(cid, Outcome.FAILED, summary, label, evidence, values, variant="no-key")
    if key in secret.empty_keys:
        summary = f"Secret {secret.name} in {secret.namespace} has key {key}, but it is empty."
        return Finding(cid, Outcome.FAILED, summary, label, evidence, values, variant="empty-key")
    return Finding(cid, Outcome.PASSED, f"Secret {secret.name} in {secret.namespace} has key {key}{used_by}.",
                   label, evidence, values)  # fmt: skip
