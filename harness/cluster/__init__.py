"""A single-node Kubernetes made of the real upstream components, on this machine.

``c360-cluster up`` builds (once per machine) and starts etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, containerd, kubelet, kube-proxy, CoreDNS, kube-router's
NetworkPolicy firewall and the local-path provisioner inside a network namespace of their own, the
way Kubernetes' ``hack/local-up-cluster.sh`` runs them as local processes. docs/kubernetes.md
describes it; :mod:`harness.cluster.components` pins every version.
"""
