"""Field table of the Kubernetes protobuf messages the sandbox decodes (request bodies of imperative kubectl).

Facts from the generated.proto files of k8s.io/api (core/v1, apps/v1, batch/v1, authentication/v1, rbac/v1,
policy/v1, networking/v1) and k8s.io/apimachinery (meta/v1, resource, intstr). One entry per message:
`number name[:type]` separated by `;`.

Types: `s` string (default), `b` bytes (base64 in JSON), `i` varint integer, `t` bool, `Name` a message,
`[x]` repeated, `{x}` map<string, x>, `^Name` a message inlined into its parent (Go struct embedding, e.g.
`VolumeSource` in `Volume`). A trailing `?` marks a Go pointer: its zero value was set on purpose and is kept;
other zero scalars are what gogo-protobuf writes for unset non-pointer fields and are dropped, as `omitempty`
JSON would. `Time`, `Quantity` and `IntOrString` have their own JSON forms (protobuf.py).
Fields missing here are skipped; a kind missing from KINDS is refused with a 415 that says JSON works.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGES: dict[str, str] = {
    # meta/v1
    "ObjectMeta": "1 name; 2 generateName; 3 namespace; 5 uid; 6 resourceVersion; 7 generation:i; "
    "8 creationTimestamp:Time; 9 deletionTimestamp:Time; 10 deletionGracePeriodSeconds:i?; 11 labels:{s}; "
    "12 annotations:{s}; 13 ownerReferences:[OwnerReference]; 14 finalizers:[s]",
    "OwnerReference": "5 apiVersion; 1 kind; 3 name; 4 uid; 6 controller:t?; 7 blockOwnerDeletion:t?",
    "LabelSelector": "1 matchLabels:{s}; 2 matchExpressions:[LabelSelectorRequirement]",
    "LabelSelectorRequirement": "1 key; 2 operator; 3 values:[s]",
    "DeleteOptions": "1 gracePeriodSeconds:i?; 2 preconditions:Preconditions; 3 orphanDependents:t?; "
    "4 propagationPolicy; 5 dryRun:[s]",
    "Preconditions": "1 uid; 2 resourceVersion",
    # core/v1 objects
    "Namespace": "1 metadata:ObjectMeta; 2 spec:NamespaceSpec",
    "NamespaceSpec": "1 finalizers:[s]",
    "ConfigMap": "1 metadata:ObjectMeta; 4 immutable:t?; 2 data:{s}; 3 binaryData:{b}",
    "Secret": "1 metadata:ObjectMeta; 5 immutable:t?; 2 data:{b}; 4 stringData:{s}; 3 type",
    "ServiceAccount": "1 metadata:ObjectMeta; 2 secrets:[ObjectReference]; "
    "3 imagePullSecrets:[LocalObjectReference]; 4 automountServiceAccountToken:t?",
    "ObjectReference": "1 kind; 2 namespace; 3 name; 4 uid; 5 apiVersion; 6 resourceVersion; 7 fieldPath",
    "LocalObjectReference": "1 name",
    "Service": "1 metadata:ObjectMeta; 2 spec:ServiceSpec",
    "ServiceSpec": "1 ports:[ServicePort]; 2 selector:{s}; 3 clusterIP; 18 clusterIPs:[s]; 4 type; "
    "5 externalIPs:[s]; 7 sessionAffinity; 8 loadBalancerIP; 9 loadBalancerSourceRanges:[s]; "
    "10 externalName; "
    "11 externalTrafficPolicy; 12 healthCheckNodePort:i; 13 publishNotReadyAddresses:t; "
    "14 sessionAffinityConfig:SessionAffinityConfig; 19 ipFamilies:[s]; 17 ipFamilyPolicy; "
    "20 allocateLoadBalancerNodePorts:t?; 21 loadBalancerClass; 22 internalTrafficPolicy",
    "ServicePort": "1 name; 2 protocol; 6 appProtocol; 3 port:i; 4 targetPort:IntOrString; 5 nodePort:i",
    "SessionAffinityConfig": "1 clientIP:ClientIPConfig",
    "ClientIPConfig": "1 timeoutSeconds:i?",
    "Pod": "1 metadata:ObjectMeta; 2 spec:PodSpec",
    "PodTemplateSpec": "1 metadata:ObjectMeta; 2 spec:PodSpec",
    "PodSpec": "1 volumes:[Volume]; 20 initContainers:[Container]; 2 containers:[Container]; "
    "3 restartPolicy; "
    "4 terminationGracePeriodSeconds:i?; 5 activeDeadlineSeconds:i?; 6 dnsPolicy; 7 nodeSelector:{s}; "
    "8 serviceAccountName; 9 serviceAccount; 21 automountServiceAccountToken:t?; 10 nodeName; "
    "11 hostNetwork:t; "
    "12 hostPID:t; 13 hostIPC:t; 27 shareProcessNamespace:t?; 14 securityContext:PodSecurityContext; "
    "15 imagePullSecrets:[LocalObjectReference]; 16 hostname; 17 subdomain; 19 schedulerName; "
    "22 tolerations:[Toleration]; 23 hostAliases:[HostAlias]; 24 priorityClassName; 25 priority:i?; "
    "26 dnsConfig:PodDNSConfig; 29 runtimeClassName; 30 enableServiceLinks:t?; 35 setHostnameAsFQDN:t?",
    "Container": "1 name; 2 image; 3 command:[s]; 4 args:[s]; 5 workingDir; 6 ports:[ContainerPort]; "
    "19 envFrom:[EnvFromSource]; 7 env:[EnvVar]; 8 resources:ResourceRequirements; 24 restartPolicy; "
    "9 volumeMounts:[VolumeMount]; 10 livenessProbe:Probe; 11 readinessProbe:Probe; 22 startupProbe:Probe; "
    "12 lifecycle:Lifecycle; 13 terminationMessagePath; 20 terminationMessagePolicy; 14 imagePullPolicy; "
    "15 securityContext:SecurityContext; 16 stdin:t; 17 stdinOnce:t; 18 tty:t",
    "ContainerPort": "1 name; 2 hostPort:i; 3 containerPort:i; 4 protocol; 5 hostIP",
    "EnvVar": "1 name; 2 value; 3 valueFrom:EnvVarSource",
    "EnvVarSource": "1 fieldRef:ObjectFieldSelector; 2 resourceFieldRef:ResourceFieldSelector; "
    "3 configMapKeyRef:KeySelector; 4 secretKeyRef:KeySelector",
    # ConfigMapKeySelector and SecretKeySelector
    "KeySelector": "1 :^LocalObjectReference; 2 key; 3 optional:t?",
    "ObjectFieldSelector": "1 apiVersion; 2 fieldPath",
    "ResourceFieldSelector": "1 containerName; 2 resource; 3 divisor:Quantity",
    "EnvFromSource": "1 prefix; 2 configMapRef:EnvSource; 3 secretRef:EnvSource",
    "EnvSource": "1 :^LocalObjectReference; 2 optional:t?",  # ConfigMapEnvSource, SecretEnvSource
    "ResourceRequirements": "1 limits:{Quantity}; 2 requests:{Quantity}",
    "VolumeMount": "1 name; 2 readOnly:t; 3 mountPath; 4 subPath; 5 mountPropagation; 6 subPathExpr",
    "Probe": "1 :^ProbeHandler; 2 initialDelaySeconds:i; 3 timeoutSeconds:i; 4 periodSeconds:i; "
    "5 successThreshold:i; 6 failureThreshold:i; 7 terminationGracePeriodSeconds:i?",
    "ProbeHandler": "1 exec:ExecAction; 2 httpGet:HTTPGetAction; 3 tcpSocket:TCPSocketAction",
    "Lifecycle": "1 postStart:ProbeHandler; 2 preStop:ProbeHandler",  # LifecycleHandler: same first fields
    "ExecAction": "1 command:[s]",
    "HTTPGetAction": "1 path; 2 port:IntOrString; 3 host; 4 scheme; 5 httpHeaders:[HTTPHeader]",
    "HTTPHeader": "1 name; 2 value",
    "TCPSocketAction": "1 port:IntOrString; 2 host",
    "SecurityContext": "1 capabilities:Capabilities; 2 privileged:t?; 4 runAsUser:i?; 8 runAsGroup:i?; "
    "5 runAsNonRoot:t?; 6 readOnlyRootFilesystem:t?; 7 allowPrivilegeEscalation:t?",
    "Capabilities": "1 add:[s]; 2 drop:[s]",
    "PodSecurityContext": "2 runAsUser:i?; 6 runAsGroup:i?; 3 runAsNonRoot:t?; 4 supplementalGroups:[i]; "
    "5 fsGroup:i?; 7 sysctls:[HTTPHeader]",  # Sysctl: name 1, value 2, as HTTPHeader
    "Toleration": "1 key; 2 operator; 3 value; 4 effect; 5 tolerationSeconds:i?",
    "HostAlias": "1 ip; 2 hostnames:[s]",
    "PodDNSConfig": "1 nameservers:[s]; 2 searches:[s]; 3 options:[HTTPHeader]",  # PodDNSConfigOption
    "Volume": "1 name; 2 :^VolumeSource",
    "VolumeSource": "1 hostPath:HostPathVolumeSource; 2 emptyDir:EmptyDirVolumeSource; "
    "6 secret:SecretVolumeSource; 10 persistentVolumeClaim:PersistentVolumeClaimVolumeSource; "
    "16 downwardAPI:DownwardAPIVolumeSource; 19 configMap:ConfigMapVolumeSource; "
    "26 projected:ProjectedVolumeSource",
    "HostPathVolumeSource": "1 path; 2 type",
    "EmptyDirVolumeSource": "1 medium; 2 sizeLimit:Quantity",
    "SecretVolumeSource": "1 secretName; 2 items:[KeyToPath]; 3 defaultMode:i?; 4 optional:t?",
    "ConfigMapVolumeSource": "1 :^LocalObjectReference; 2 items:[KeyToPath]; 3 defaultMode:i?; 4 optional:t?",
    "KeyToPath": "1 key; 2 path; 3 mode:i?",
    "PersistentVolumeClaimVolumeSource": "1 claimName; 2 readOnly:t",
    "DownwardAPIVolumeSource": "1 items:[DownwardAPIVolumeFile]; 2 defaultMode:i?",
    "DownwardAPIVolumeFile": "1 path; 2 fieldRef:ObjectFieldSelector; "
    "3 resourceFieldRef:ResourceFieldSelector; 4 mode:i?",
    "ProjectedVolumeSource": "1 sources:[VolumeProjection]; 2 defaultMode:i?",
    "VolumeProjection": "1 secret:Projection; 2 downwardAPI:DownwardAPIVolumeSource; 3 configMap:Projection; "
    "4 serviceAccountToken:ServiceAccountTokenProjection",
    # ConfigMapProjection and SecretProjection
    "Projection": "1 :^LocalObjectReference; 2 items:[KeyToPath]; 4 optional:t?",
    "ServiceAccountTokenProjection": "1 audience; 2 expirationSeconds:i?; 3 path",
    # apps/v1
    "Deployment": "1 metadata:ObjectMeta; 2 spec:DeploymentSpec",
    "DeploymentSpec": "1 replicas:i?; 2 selector:LabelSelector; 3 template:PodTemplateSpec; "
    "4 strategy:DeploymentStrategy; 5 minReadySeconds:i; 6 revisionHistoryLimit:i?; 7 paused:t; "
    "9 progressDeadlineSeconds:i?",
    "DeploymentStrategy": "1 type; 2 rollingUpdate:RollingUpdateDeployment",
    "RollingUpdateDeployment": "1 maxUnavailable:IntOrString; 2 maxSurge:IntOrString",
    # batch/v1
    "Job": "1 metadata:ObjectMeta; 2 spec:JobSpec",
    "JobSpec": "1 parallelism:i?; 2 completions:i?; 3 activeDeadlineSeconds:i?; 7 backoffLimit:i?; "
    "4 selector:LabelSelector; 5 manualSelector:t?; 6 template:PodTemplateSpec; "
    "8 ttlSecondsAfterFinished:i?; "
    "9 completionMode; 10 suspend:t?",
    "CronJob": "1 metadata:ObjectMeta; 2 spec:CronJobSpec",
    "CronJobSpec": "1 schedule; 8 timeZone; 2 startingDeadlineSeconds:i?; 3 concurrencyPolicy; 4 suspend:t?; "
    "5 jobTemplate:JobTemplateSpec; 6 successfulJobsHistoryLimit:i?; 7 failedJobsHistoryLimit:i?",
    "JobTemplateSpec": "1 metadata:ObjectMeta; 2 spec:JobSpec",
    # rbac.authorization.k8s.io/v1
    "Role": "1 metadata:ObjectMeta; 2 rules:[PolicyRule]",
    "ClusterRole": "1 metadata:ObjectMeta; 2 rules:[PolicyRule]; 3 aggregationRule:AggregationRule",
    "PolicyRule": "1 verbs:[s]; 2 apiGroups:[s]; 3 resources:[s]; 4 resourceNames:[s]; 5 nonResourceURLs:[s]",
    "AggregationRule": "1 clusterRoleSelectors:[LabelSelector]",
    "RoleBinding": "1 metadata:ObjectMeta; 2 subjects:[Subject]; 3 roleRef:RoleRef",
    "RoleRef": "1 apiGroup; 2 kind; 3 name",
    "Subject": "1 kind; 2 apiGroup; 3 name; 4 namespace",
    # policy/v1, core/v1 ResourceQuota, networking.k8s.io/v1 (kubectl create pdb|quota|ingress)
    "PodDisruptionBudget": "1 metadata:ObjectMeta; 2 spec:PodDisruptionBudgetSpec",
    "PodDisruptionBudgetSpec": "1 minAvailable:IntOrString; 2 selector:LabelSelector; "
    "3 maxUnavailable:IntOrString; 4 unhealthyPodEvictionPolicy",
    "ResourceQuota": "1 metadata:ObjectMeta; 2 spec:ResourceQuotaSpec",
    "ResourceQuotaSpec": "1 hard:{Quantity}; 2 scopes:[s]; 3 scopeSelector:ScopeSelector",
    "ScopeSelector": "1 matchExpressions:[ScopedResourceSelectorRequirement]",
    "ScopedResourceSelectorRequirement": "1 scopeName; 2 operator; 3 values:[s]",
    "Ingress": "1 metadata:ObjectMeta; 2 spec:IngressSpec",
    "IngressSpec": "4 ingressClassName; 1 defaultBackend:IngressBackend; 2 tls:[IngressTLS]; "
    "3 rules:[IngressRule]",
    "IngressBackend": "4 service:IngressServiceBackend; 3 resource:TypedLocalObjectReference",
    "IngressServiceBackend": "1 name; 2 port:ServiceBackendPort",
    "ServiceBackendPort": "1 name; 2 number:i",
    "IngressRule": "1 host; 2 :^IngressRuleValue",
    "IngressRuleValue": "1 http:HTTPIngressRuleValue",
    "HTTPIngressRuleValue": "1 paths:[HTTPIngressPath]",
    "HTTPIngressPath": "1 path; 3 pathType; 2 backend:IngressBackend",
    "IngressTLS": "1 hosts:[s]; 2 secretName",
    "TypedLocalObjectReference": "1 apiGroup; 2 kind; 3 name",
    # authentication.k8s.io/v1 (kubectl create token)
    "TokenRequest": "1 metadata:ObjectMeta; 2 spec:TokenRequestSpec",
    "TokenRequestSpec": "1 audiences:[s]; 4 expirationSeconds:i?; 3 boundObjectRef:BoundObjectReference",
    "BoundObjectReference": "1 kind; 2 apiVersion; 3 name; 4 uid",
}

# (apiVersion, kind) of a runtime.Unknown envelope -> its message
KINDS: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): "Namespace",
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
    ("v1", "Service"): "Service",
    ("v1", "ServiceAccount"): "ServiceAccount",
    ("v1", "Pod"): "Pod",
    ("apps/v1", "Deployment"): "Deployment",
    ("batch/v1", "Job"): "Job",
    ("batch/v1", "CronJob"): "CronJob",
    ("authentication.k8s.io/v1", "TokenRequest"): "TokenRequest",
    ("v1", "ResourceQuota"): "ResourceQuota",
    ("rbac.authorization.k8s.io/v1", "Role"): "Role",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "ClusterRole",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "RoleBinding",
    ("policy/v1", "PodDisruptionBudget"): "PodDisruptionBudget",
    ("networking.k8s.io/v1", "Ingress"): "Ingress",
    ("v1", "DeleteOptions"): "DeleteOptions",
    ("meta.k8s.io/v1", "DeleteOptions"): "DeleteOptions",
}

SPECIAL = frozenset({"Time", "Quantity", "IntOrString"})


@dataclass(frozen=True)
class Field:
    """One field of a message: JSON name ("" for an inlined message), kind of value and its flags."""

    name: str
    type: str  # s, b, i, t, or a message name
    repeated: bool = False
    mapped: bool = False  # map<string, type>
    inline: bool = False
    pointer: bool = False


def parse_field(spec: str) -> tuple[int, Field]:
    number, _, rest = spec.strip().partition(" ")
    name, _, type_ = rest.partition(":")
    type_ = type_ or "s"
    pointer = type_.endswith("?")
    type_ = type_.rstrip("?")
    repeated, mapped, inline = type_.startswith("["), type_.startswith("{"), type_.startswith("^")
    return int(number), Field(name, type_.strip("[]{}^"), repeated, mapped, inline, pointer)


def parse_table(table: dict[str, str]) -> dict[str, dict[int, Field]]:
    """The compact table above as {message: {field number: Field}}; every message named must exist."""
    messages = {name: dict(parse_field(spec) for spec in specs.split(";")) for name, specs in table.items()}
    for name, fields in messages.items():
        for field in fields.values():
            if field.type not in {"s", "b", "i", "t"} | SPECIAL and field.type not in messages:
                raise ValueError(f"pbschema: {name}.{field.name} names unknown message {field.type}")
    return messages


SCHEMA = parse_table(MESSAGES)
