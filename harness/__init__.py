"""The local harness: everything that runs the platform on a laptop or in CI, and never in a pod.

The runtime package ``customer360`` (contract, the settings a task reads, the task factory and its
steps) is what the images ship; this package brings up what the runtime needs around it on one
machine: a real Kubernetes cluster made of upstream components (:mod:`harness.cluster`).
"""
