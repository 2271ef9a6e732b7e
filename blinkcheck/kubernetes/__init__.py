"""The Kubernetes room, shaped like the Docker one: client (the official client, every call bounded), gather
(the facts gatherer: the suite's Kubernetes I/O), facts and parse (API objects -> facts), pods (pod state and
kubectl-style tables), judges by runbook section (preconditions, disconnected, upgrade, deployment), probe (the
exec egress probe). Never imports the Docker room."""
