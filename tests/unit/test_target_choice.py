"""`--target auto` decides by where a runner is; the catalog gives every check its markers."""

from __future__ import annotations

from blinkcheck.catalog import load_catalog, step_numbers
from blinkcheck.platforms import Look, decide

DOCKER_RUNNER = Look("docker", True, True, found="runner container blink-runner", where="unix:///var/run/docker.sock")
DOCKER_EMPTY = Look("docker", True, True, where="containers named blink-runner* at unix:///var/run/docker.sock")
K8S_DEAD = Look("kubernetes", True, False, why="API did not answer (https://127.0.0.1:1: connection refused)",
                namespace="blink")
K8S_EMPTY = Look("kubernetes", True, True, where="namespace blink-empty of context lab", namespace="blink-empty")
K8S_RUNNER = Look("kubernetes", True, True, found="deployment blink/blink-runner", where="namespace blink")
K8S_ABSENT = Look("kubernetes", False, why="no kubeconfig")


def test_a_stale_kubeconfig_beside_a_docker_runner_is_not_checked():
    choice = decide("auto", [DOCKER_RUNNER, K8S_DEAD])
    assert choice.platforms == ("docker",)
    assert choice.skipped == (("kubernetes", "API did not answer (https://127.0.0.1:1: connection refused)"),)
    assert "kubernetes: not checked: API did not answer (https://127.0.0.1:1: connection refused)" in choice.notes
    assert "docker: checked: runner container blink-runner (unix:///var/run/docker.sock)" in choice.notes


def test_a_cluster_without_a_runner_is_not_checked():
    choice = decide("auto", [DOCKER_RUNNER, K8S_EMPTY])
    assert choice.platforms == ("docker",)
    assert choice.skipped == (("kubernetes", "no runner found (looked for namespace blink-empty of context lab)"),)


def test_both_platforms_with_a_runner_are_both_checked():
    choice = decide("auto", [DOCKER_RUNNER, K8S_RUNNER])
    assert choice.platforms == ("docker", "kubernetes") and not choice.skipped


def test_no_runner_anywhere_checks_every_platform_there_and_says_where_it_looked():
    choice = decide("auto", [DOCKER_EMPTY, K8S_EMPTY])
    assert choice.platforms == ("docker", "kubernetes") and not choice.skipped
    [note] = choice.notes
    assert note.startswith("no runner found on any platform (docker: looked for containers named blink-runner*")
    assert "kubernetes: looked for namespace blink-empty of context lab" in note
    assert "`docker ps -a | grep blink-runner`, `kubectl get pods -n blink-empty`" in note


def test_no_runner_and_a_platform_that_is_not_there():
    choice = decide("auto", [DOCKER_EMPTY, K8S_ABSENT])
    assert choice.platforms == ("docker",)
    assert choice.skipped == (("kubernetes", "not there (no kubeconfig)"),)


def test_nothing_there_checks_both_so_each_says_why():
    choice = decide("auto", [Look("docker", False, why="no socket"), K8S_ABSENT])
    assert choice.platforms == ("docker", "kubernetes")


def test_explicit_target_is_strict():
    assert decide("kubernetes", []).platforms == ("kubernetes",)


def test_step_numbers_and_markers():
    assert step_numbers("3") == (3,) and step_numbers("3-4") == (3, 4) and step_numbers("-") == ()
    catalog = load_catalog()
    assert catalog["k8s.upgrade.operator-state"].markers == ("kubernetes", "upgrade", "step3", "step4")
    assert catalog["docker.host.daemon-reachable"].markers == ("docker", "precondition")
