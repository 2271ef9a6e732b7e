"""--remediate: the runbook's recovery steps for what failed, planned (a dry run), performed on request (--yes),
and re-checked. Core: the plan (pure, over the run's results) and the records; the platform rooms perform
(blinkcheck/docker/remediate.py, blinkcheck/kubernetes/remediate.py); blinkcheck/remediating.py is the glue."""
