#!/bin/bash
# The kubectl verbs a newcomer types, run against the sandbox with one kubectl binary
# (tests/sandbox/test_kubectl_versions.py runs it once per kubectl version found).
# Usage: KUBECTL=/path/to/kubectl KUBECONFIG=... NS=<fresh namespace> IMAGE=<local image> kubectl_verbs.sh
# Each step prints "STEP <name>" first, so a failure names the step; the script stops at the first failure.
set -euo pipefail
: "${KUBECTL:?}" "${NS:?}" "${IMAGE:?}"
k() { "$KUBECTL" --request-timeout=20s "$@"; }
step() { echo "STEP $1"; }
expect() { # expect <what> <wanted> <kubectl args...>: the command succeeds and prints exactly <wanted>
  local what=$1 wanted=$2 got
  shift 2
  got=$(k "$@") || { echo "FAIL $what: kubectl $* exited $?" >&2; exit 1; }
  if [ "$got" != "$wanted" ]; then echo "FAIL $what: got '$got', wanted '$wanted'" >&2; exit 1; fi
}

step create-namespace
k create namespace "$NS"
expect namespace Active get namespace "$NS" -o jsonpath='{.status.phase}'

step create-configmap
k -n "$NS" create configmap settings --from-literal=greeting=hello --from-literal=empty=
expect configmap hello -n "$NS" get configmap settings -o jsonpath='{.data.greeting}'

step create-secret
k -n "$NS" create secret generic creds --from-literal=password=s3cret
expect secret czNjcmV0 -n "$NS" get secret creds -o jsonpath='{.data.password}'

step create-deployment
k -n "$NS" create deployment web --image="$IMAGE" --port=8080 --replicas=1
expect deployment-image "$IMAGE" -n "$NS" get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}'

step expose
k -n "$NS" expose deployment web --port=80 --target-port=8080
expect service-port 80/8080 -n "$NS" get service web -o jsonpath='{.spec.ports[0].port}/{.spec.ports[0].targetPort}'

step label-annotate
k -n "$NS" label deployment web tier=frontend
k -n "$NS" annotate deployment web owner=newcomer
expect label frontend/newcomer -n "$NS" get deployment web -o jsonpath='{.metadata.labels.tier}/{.metadata.annotations.owner}'

step rollout-status
k -n "$NS" rollout status deployment/web --timeout=60s

step scale
k -n "$NS" scale deployment web --replicas=2
expect replicas 2 -n "$NS" get deployment web -o jsonpath='{.spec.replicas}'
k -n "$NS" rollout status deployment/web --timeout=60s
expect ready 2 -n "$NS" get deployment web -o jsonpath='{.status.readyReplicas}'

step set-image
k -n "$NS" set image deployment/web "*=$IMAGE"
expect set-image "$IMAGE" -n "$NS" get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}'

step set-env
k -n "$NS" set env deployment/web MESSAGE=v2
k -n "$NS" rollout status deployment/web --timeout=60s

step get
k -n "$NS" get deployment,service,configmap,secret,pods -o wide
k -n "$NS" get deployment web -o yaml | grep -q 'name: web'
k -n "$NS" get service web -o json | grep -q '"clusterIP"'
k -n "$NS" describe deployment web | grep -q 'Replicas:'

step logs
k -n "$NS" logs deployment/web --tail=5

step wait
k -n "$NS" wait --for=condition=Available deployment/web --timeout=30s

step run
k -n "$NS" run solo --image="$IMAGE" --port=8080 --env=MESSAGE=solo --labels=app=solo
k -n "$NS" wait --for=condition=Ready pod/solo --timeout=60s
expect run-env MESSAGE=solo -n "$NS" get pod solo -o jsonpath='{.spec.containers[0].env[0].name}={.spec.containers[0].env[0].value}'

step serviceaccount-token
k -n "$NS" create serviceaccount robot
token=$(k -n "$NS" create token robot --duration=10m)
[ -n "$token" ] || { echo "FAIL token: empty" >&2; exit 1; }

step apply
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: "1"\n' |
  k -n "$NS" apply --validate=false -f -
expect applied 1 -n "$NS" get configmap applied -o jsonpath='{.data.a}'

step patch
k -n "$NS" patch configmap applied --type=merge -p '{"data":{"b":"2"}}'
k -n "$NS" patch configmap applied --type=json -p '[{"op":"add","path":"/data/c","value":"3"}]'
k -n "$NS" patch deployment web -p '{"spec":{"template":{"metadata":{"labels":{"patched":"yes"}}}}}'
expect patched 123 -n "$NS" get configmap applied -o jsonpath='{.data.a}{.data.b}{.data.c}'

step delete
k -n "$NS" delete deployment web --wait=true --timeout=60s
k -n "$NS" delete service/web configmap/settings configmap/applied secret/creds pod/solo serviceaccount/robot
expect left "" -n "$NS" get deployment/web service/web configmap/settings -o name --ignore-not-found
k delete namespace "$NS" --wait=false
echo "ALL OK"
