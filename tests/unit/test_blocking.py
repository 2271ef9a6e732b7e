"""Blocking per object: a failed precondition of one pod blocks that pod's judgements only, and says once why."""

from __future__ import annotations

from blinkcheck.blocking import Record, per_object, record_of, whole_blocker
from blinkcheck.catalog import load_catalog
from blinkcheck.model import Finding, Outcome

P, F, B, N, S = Outcome.PASSED, Outcome.FAILED, Outcome.BLOCKED, Outcome.NOT_EVALUABLE, Outcome.SKIPPED
READY, REACH = "k8s.disconnected.pods-ready", "k8s.disconnected.blink-reachable"
EXIST, LOGS, NET = "k8s.disconnected.pods-exist", "k8s.disconnected.logs-readable", "k8s.disconnected.no-network-errors"
DAEMON, CEXISTS = "docker.host.daemon-reachable", "docker.disconnected.container-exists"
CATALOG = load_catalog()


def pod(cid: str, outcome: Outcome, name: str, ns: str = "blink", summary: str = "", because_of: str = "") -> Finding:
    text = summary or f"pod {ns}/{name} is {outcome}."
    return Finding(cid, outcome, text, f"pod {ns}/{name}", values={"pod": name, "namespace": ns},
                   because_of=because_of)  # fmt: skip


def ran(*records: tuple[str, list[Finding]]) -> dict[str, Record]:
    runs: dict[str, Record] = {}
    for cid, findings in records:
        runs[cid] = record_of(cid, findings, runs)
    return runs


def test_one_crashing_pod_of_three_blocks_only_that_pod():
    runs = ran((READY, [pod(READY, P, "a"), pod(READY, P, "b"),
                        pod(READY, F, "c", summary="pod blink/c is CrashLoopBackOff (restarted 4 times).")]))  # fmt: skip
    assert whole_blocker(REACH, CATALOG[REACH].requires, runs) is None  # it runs: two pods can be probed
    probed = [pod(REACH, P, "a", summary="reached"), pod(REACH, P, "b", summary="reached"),
              pod(REACH, F, "c", summary="exec failed")]  # fmt: skip
    out = per_object(REACH, CATALOG[REACH].requires, probed, runs)
    assert [(f.object, f.outcome) for f in out] == [("pod blink/a", P), ("pod blink/b", P), ("pod blink/c", B)]
    assert out[2].summary == f"Blocked by {READY} (failed): pod blink/c is CrashLoopBackOff (restarted 4 times)."
    assert out[2].because_of == READY


def test_the_checks_own_blocked_finding_for_that_pod_stays():
    runs = ran((READY, [pod(READY, P, "a"), pod(READY, F, "c")]))
    own = pod(REACH, B, "c", summary="pod blink/c is CrashLoopBackOff: the probe runs inside a Ready pod.",
              because_of=READY)  # fmt: skip
    out = per_object(REACH, CATALOG[REACH].requires, [pod(REACH, P, "a"), own], runs)
    assert out[1] is own


def test_every_pod_failing_blocks_the_whole_check():
    runs = ran((READY, [pod(READY, F, "a"), pod(READY, F, "b")]))
    blocker = whole_blocker(REACH, CATALOG[REACH].requires, runs)
    assert blocker is not None and blocker.outcome is B and blocker.summary.startswith(f"Blocked by {READY} (failed)")


def test_a_failure_without_an_object_concerns_everything():
    """Could not look (an exception, a missing permission) is about every object, however many were judged."""
    runs = ran((READY, [pod(READY, P, "a"), Finding(READY, N, "missing permission: list pods in namespace blink",
                                                    because_of="k8s.cluster.permissions")]))  # fmt: skip
    blocker = whole_blocker(REACH, CATALOG[REACH].requires, runs)
    assert blocker is not None and blocker.outcome is N
    assert blocker.summary == "Not evaluable because of k8s.cluster.permissions: missing permission: list pods in " \
                              "namespace blink"  # fmt: skip


def test_a_namespace_without_a_runner_blocks_only_that_namespace():
    """--all-namespaces: pods-exist failed for namespace b only; pods in namespace a are judged."""
    missing = Finding(EXIST, F, "No deployment blink-runner and no pods labelled app=blink-runner in namespace b.",
                      "deployment b/blink-runner", values={"namespace": "b"})  # fmt: skip
    runs = ran((EXIST, [Finding(EXIST, P, "ok", "deployment a/blink-runner", values={"namespace": "a"}), missing]))
    assert whole_blocker(READY, CATALOG[READY].requires, runs) is None
    out = per_object(READY, CATALOG[READY].requires, [pod(READY, P, "x", ns="a")], runs)
    assert [(f.object, f.outcome) for f in out] == [("pod a/x", P), ("deployment b/blink-runner", B)]
    assert out[1].summary.endswith("no pods labelled app=blink-runner in namespace b.")


def test_blocked_chain_names_the_root_and_says_why_once():
    """Issue 9.6: not 'Not evaluable because of X: Not evaluable because of X: …'."""
    reason = "Could not reach the Docker engine at unix:///var/run/docker.sock: no Docker socket"
    runs = ran((DAEMON, [Finding(DAEMON, N, reason, "unix:///var/run/docker.sock")]))
    first = whole_blocker(CEXISTS, CATALOG[CEXISTS].requires, runs)
    assert first is not None
    runs[CEXISTS] = record_of(CEXISTS, [first], runs)
    for cid in ("docker.disconnected.container-running", "docker.runner.socket-mounted"):
        second = whole_blocker(cid, CATALOG[cid].requires, runs)
        assert second is not None
        assert second.summary == f"Not evaluable because of {DAEMON}: {reason}"
        assert second.because_of == DAEMON


def test_blocked_by_a_pod_that_never_started_names_pods_ready():
    """logs-readable blocked one pod (never started); no-network-errors of that pod names pods-ready's reason."""
    runs = ran(
        (READY, [pod(READY, P, "a"), pod(READY, F, "p", summary="pod blink/p is Pending (Unschedulable).")]),
        (LOGS, [pod(LOGS, P, "a"), pod(LOGS, B, "p", summary="pod blink/p has no logs", because_of=READY)]),
    )
    out = per_object(NET, CATALOG[NET].requires, [pod(NET, P, "a")], runs)  # the check skipped p: never ran
    assert [(f.object, f.outcome) for f in out] == [("pod blink/a", P), ("pod blink/p", B)]
    assert out[1].summary == f"Blocked by {READY} (failed): pod blink/p is Pending (Unschedulable)."


def test_a_check_skipped_as_a_whole_stays_skipped():
    runs = ran((READY, [pod(READY, P, "a"), pod(READY, F, "c")]))
    off = [Finding(REACH, S, "the egress probe is switched off (--probe off)")]
    assert per_object(REACH, CATALOG[REACH].requires, off, runs) == off


def test_a_precondition_not_run_blocks_nothing():
    assert whole_blocker(REACH, CATALOG[REACH].requires, {}) is None
    found = [pod(REACH, P, "a")]
    assert per_object(REACH, CATALOG[REACH].requires, found, {}) == found


def test_docker_container_label_covers_its_log_source():
    exited = Finding("docker.disconnected.logs-readable", F, "logging driver none", "container old (abc)")
    runs = ran(("docker.disconnected.logs-readable", [
        Finding("docker.disconnected.logs-readable", P, "ok", "container blink-runner (def)"), exited]))  # fmt: skip
    net = "docker.disconnected.no-network-errors"
    out = per_object(net, CATALOG[net].requires, [Finding(net, P, "none", "container blink-runner (def)"),
                                                  Finding(net, N, "no logs", "container old (abc)")], runs)  # fmt: skip
    assert [f.outcome for f in out] == [P, B]
    assert out[1].summary == "Blocked by docker.disconnected.logs-readable (failed): logging driver none"


# ------------------------------------------------------------------ edges the mutation tests found


def test_namespace_of_a_finding():
    from blinkcheck.blocking import namespace_of

    assert namespace_of(Finding(READY, P, "s", "pod a/x", values={"namespace": "b"})) == "b"  # the value wins
    assert namespace_of(Finding(READY, P, "s", "pod a/x")) == "a"
    assert namespace_of(Finding(READY, P, "s", "deployment a/blink-runner")) == "a"
    assert namespace_of(Finding(READY, P, "s", "pod a/x/y")) == "a"
    assert namespace_of(Finding(READY, P, "s", "container a/b (abc)")) == ""  # only pods and deployments
    assert namespace_of(Finding(READY, P, "s", "pod x")) == ""
    assert namespace_of(Finding(READY, P, "s", "")) == ""


def test_records_keep_each_objects_namespace_root_and_reason():
    runs = ran((READY, [pod(READY, P, "a", ns="n1"), pod(READY, F, "b", ns="n2", summary="bad")]))
    judged = runs[READY].judged
    assert [(j.object, j.namespace, j.outcome, j.root, j.root_outcome, j.reason) for j in judged] == [
        ("pod n1/a", "n1", P, READY, P, "pod n1/a is passed."),
        ("pod n2/b", "n2", F, READY, F, "bad"),
    ]
    assert runs[READY].outcome is F and [j.object for j in runs[READY].bad] == ["pod n2/b"]
    assert not runs[READY].everything


def test_a_blocked_object_without_an_upstream_judgement_of_its_own_takes_the_first_bad_one():
    from blinkcheck.blocking import record_of

    runs = ran((READY, [pod(READY, F, "a", summary="a crashed"), pod(READY, F, "b", summary="b crashed")]))
    rec = record_of(REACH, [pod(REACH, B, "zz", because_of=READY)], runs)
    assert (rec.judged[0].root, rec.judged[0].reason) == (READY, "a crashed")
    said = record_of(READY, [pod(READY, F, "q", summary="secret=abc")], {}, say=lambda s: s.replace("abc", "[X]"))
    assert said.judged[0].reason == "secret=[X]"


def test_covers_objects_inside_others_and_namespace_wide_objects():
    from blinkcheck.blocking import Judged, covers

    j = Judged("pod blink/a", "blink", F, READY, F, "r")
    assert covers(j, Finding(REACH, P, "s", "pod blink/a"))
    assert covers(j, Finding(REACH, P, "s", "pod blink/a container x"))
    assert not covers(j, Finding(REACH, P, "s", "pod blink/ab"))
    assert not covers(j, Finding(REACH, P, "s", "pod blink/b", values={"namespace": "blink"}))  # a pod: itself only
    d = Judged("deployment blink/blink-runner", "blink", F, EXIST, F, "r")
    assert covers(d, Finding(REACH, P, "s", "pod blink/b"))  # a deployment covers its namespace's pods
    assert not covers(d, Finding(REACH, P, "s", "pod other/b"))
    assert not covers(Judged("deployment x", "", F, EXIST, F, "r"), Finding(REACH, P, "s", "pod /b"))
    assert covers(Judged("", "", N, EXIST, N, "r"), Finding(REACH, P, "s", "pod blink/b"))  # no object: everything


def test_blocked_findings_exactly():
    runs = ran((READY, [pod(READY, P, "a"), pod(READY, N, "b", summary="could not read pod b")]))
    out = per_object(REACH, CATALOG[REACH].requires, [pod(REACH, P, "a"), pod(REACH, P, "b")], runs)
    b = out[1]
    assert (b.condition_id, b.outcome, b.summary, b.object, dict(b.values), b.because_of) == (
        REACH, N, "Not evaluable because of k8s.disconnected.pods-ready: could not read pod b", "pod blink/b",
        {"pod": "b", "namespace": "blink"}, READY)
    # An object the check did not judge at all gets a blocked finding of its own, with its namespace.
    runs = ran((READY, [pod(READY, P, "a"), pod(READY, F, "c", ns="n2", summary="c crashed")]))
    out = per_object(REACH, CATALOG[REACH].requires, [pod(REACH, P, "a")], runs)
    extra = out[1]
    assert (extra.condition_id, extra.outcome, extra.summary, extra.object, dict(extra.values), extra.because_of) == (
        REACH, B, f"Blocked by {READY} (failed): c crashed", "pod n2/c", {"namespace": "n2"}, READY)
    whole = whole_blocker(REACH, CATALOG[REACH].requires, ran((READY, [pod(READY, F, "a", summary="a crashed")])))
    assert whole is not None
    assert (whole.condition_id, whole.object, dict(whole.values), whole.because_of) == (REACH, "", {}, READY)


def test_whole_blocker_picks_the_deciding_outcome_and_an_objectless_one_first():
    runs = ran((READY, [pod(READY, F, "a", summary="a crashed"),
                        Finding(READY, N, "cannot list pods", because_of="k8s.cluster.permissions")]))  # fmt: skip
    b = whole_blocker(REACH, CATALOG[REACH].requires, runs)
    assert b is not None and b.summary == "Blocked by k8s.disconnected.pods-ready (failed): a crashed"
    runs = ran((READY, [Finding(READY, F, "x failed", "pod blink/x"), Finding(READY, F, "nothing to see")]))
    b = whole_blocker(REACH, CATALOG[REACH].requires, runs)
    assert b is not None and b.summary == "Blocked by k8s.disconnected.pods-ready (failed): nothing to see"
    # The first required condition that is healthy does not stop the look at the next one.
    two = ran((EXIST, [Finding(EXIST, P, "ok", "deployment blink/blink-runner")]),
              (READY, [pod(READY, F, "a", summary="a crashed")]))  # fmt: skip
    b = whole_blocker(REACH, (EXIST, READY), two)
    assert b is not None and b.because_of == READY
    assert per_object(REACH, (EXIST, READY), [pod(REACH, P, "a"), pod(REACH, P, "z")], ran(
        (EXIST, [Finding(EXIST, P, "ok", "deployment blink/blink-runner")]),
        (READY, [pod(READY, P, "z"), pod(READY, F, "a", summary="a crashed")])))[0].outcome is B


def test_namespace_of_a_container_inside_a_pod():
    from blinkcheck.blocking import namespace_of

    assert namespace_of(Finding(READY, P, "s", "pod a/x container y")) == "a"


def test_blocked_by_a_condition_that_was_healthy_points_at_it():
    from blinkcheck.blocking import record_of

    runs = ran((READY, [pod(READY, P, "a")]))
    rec = record_of(REACH, [pod(REACH, B, "a", summary="told so", because_of=READY)], runs)
    assert (rec.judged[0].root, rec.judged[0].reason) == (READY, "told so")


def test_a_root_that_could_not_look_stays_not_evaluable_down_the_chain():
    runs = ran(
        (EXIST, [Finding(EXIST, N, "cannot list deployments in b", "deployment b/blink-runner", values={"namespace": "b"}),
                 Finding(EXIST, P, "ok", "deployment a/blink-runner", values={"namespace": "a"})]),
        (READY, [pod(READY, P, "x", ns="a"), pod(READY, B, "y", ns="b", summary="blocked", because_of=EXIST)]),
    )  # fmt: skip
    out = per_object(NET, (READY,), [pod(NET, P, "x", ns="a"), pod(NET, P, "y", ns="b")], runs)
    assert [(f.object, f.outcome) for f in out] == [("pod a/x", P), ("pod b/y", N)]
    assert out[1].summary == f"Not evaluable because of {EXIST}: cannot list deployments in b"


def test_per_object_leaves_a_condition_that_failed_for_everything_to_the_whole_blocker():
    runs = ran((READY, [pod(READY, F, "a"), pod(READY, F, "b")]))
    found = [pod(REACH, P, "a"), pod(REACH, P, "b")]
    assert per_object(REACH, CATALOG[REACH].requires, found, runs) == found


def test_a_namespace_wide_failure_blocks_every_pod_it_covers():
    runs = ran((EXIST, [Finding(EXIST, F, "deployment wants 2", "deployment blink/blink-runner",
                                values={"namespace": "blink"}),
                        Finding(EXIST, P, "ok", "deployment other/blink-runner", values={"namespace": "other"})]))  # fmt: skip
    own = pod(READY, B, "a", summary="own words", because_of=EXIST)
    out = per_object(READY, (EXIST,), [own, pod(READY, P, "b"), pod(READY, P, "c", ns="other")], runs)
    assert [(f.object, f.outcome) for f in out] == [("pod blink/a", B), ("pod blink/b", B), ("pod other/c", P)]
    assert out[0] is own and out[1].summary == f"Blocked by {EXIST} (failed): deployment wants 2"


def test_an_object_without_namespace_gets_no_namespace_value():
    ok = "docker.disconnected.container-running"
    runs = ran((ok, [Finding(ok, P, "ok", "container a (1)"), Finding(ok, F, "exited", "container b (2)")]))
    out = per_object("docker.runner.socket-mounted", (ok,), [Finding("docker.runner.socket-mounted", P, "ok",
                                                                     "container a (1)")], runs)  # fmt: skip
    assert [(f.object, f.outcome, dict(f.values)) for f in out] == [("container a (1)", P, {}),
                                                                     ("container b (2)", B, {})]  # fmt: skip
