#!/bin/bash
# The image's ENTRYPOINT: `pytest checks/` with the options from the environment (README "The container image").
# Every option of the suite is an environment variable (BLINK_CHECK_TARGET, BLINK_URL, BLINK_NAMESPACE, ...;
# the README's options table); BLINK_REPORT_DIR defaults to /reports here. Besides those:
#   BLINK_PYTEST_ARGS   more pytest arguments, split on spaces (e.g. "-m kubernetes", "-v", "--deadline 10m")
# Arguments given to the container (`docker run IMAGE -k docker`, a pod's args) are appended.
# The exit code is the suite's: 0 nothing failed, 1 a check failed or could not look, 4 usage error, ...
set -u
cd /opt/blinkcheck || exit 4
read -r -a extra <<<"${BLINK_PYTEST_ARGS:-}"
exec python -m pytest checks/ -q -p no:cacheprovider "${extra[@]}" "$@"
