"""Log windows, shared by Docker and Kubernetes: read whole and scanned while streaming (scan), then judged
(judge)."""
