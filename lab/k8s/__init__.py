"""A real Kubernetes lab cluster (etcd, control plane, containerd + kubelet) for the checks.

Usage: ``python3 -m lab.k8s up|down|status|scenario NAME``; see lab/k8s/README.md.
"""
