"""The sandbox runner: a one-node "kubelet + controller-manager + kube-proxy + DNS" on the local Docker
engine.

TEST AND DEMO SANDBOX ONLY - not a Kubernetes distribution. Real work runs on any real cluster (k3d, kind,
minikube,
cloud). The runner talks to the sandbox API server only over HTTP through the official `kubernetes` client
(list +
watch, then writes), exactly like real controllers; it never reaches into the server's memory.

Modules: settings (names, ranges), netsetup (Docker network, iptables chains, unreachable route), informer
(list +
watch caches), deployments / replicasets / endpoints (controllers), kubelet + podspec (Pods -> containers),
proxy
(Services -> iptables DNAT), dns (dnsmasq at the kube-dns ClusterIP), runner (wires them together), cleanup.
"""
