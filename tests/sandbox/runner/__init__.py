"""The sandbox runner: a one-node kubelet, controller-manager, kube-proxy and DNS on the local Docker engine.

TEST AND DEMO SANDBOX ONLY - not a Kubernetes distribution. Real work runs on any real cluster (k3d, kind,
minikube, cloud). The runner talks to the sandbox API server only over HTTP through the official `kubernetes`
client (list + watch, then writes), exactly like real controllers; it never reaches into the server's memory.

Modules: settings (names, ranges), netsetup (Docker network, iptables chains, unreachable route), informer and
workqueue (list + watch caches, work queues), kubelet (Pod sync) with runtime (Docker), podfiles + volumes +
podenv (what goes into a container), podstatus and prober (status, probes), deployments / replicasets /
statefulsets / endpoints (controllers), proxy (Services -> iptables DNAT), dns (dnsmasq at the kube-dns
ClusterIP), node (the Node object), runner (wires them together), cleanup (removes everything).
"""

# The runner's threads (kubelet workers, controllers, DNS) import parts of the docker SDK lazily; two
# threads importing `docker.errors` and `docker.types` at once can meet inside the SDK's circular imports
# and one gets a partially initialised module. Importing it whole here, before any thread, rules that out.
import docker  # noqa: E402, F401
