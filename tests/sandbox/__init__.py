"""A TEST AND DEMO SANDBOX for gefyra - not a Kubernetes distribution.

No Kubernetes binary can be had on the machines this project is built on, so the sandbox provides an HTTP
server speaking the Kubernetes API (`tests.sandbox.apiserver`) and a runner that turns its Pods and Services
into Docker containers and iptables rules. It exists only to test gefyra and to run the demo.
Real work runs on any real cluster: k3d, kind, minikube or a cloud provider.
gefyra itself never imports this package.
"""
