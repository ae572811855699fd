"""A container's environment as the kubelet computes it (pure): precedence, references, expansion."""

from __future__ import annotations

import base64

import pytest

from gefyra.providers.kube.podenv import EnvProblem, PodFacts, container_env, expand, field_value

POD = PodFacts(
    metadata={"name": "web-1", "namespace": "shop", "uid": "u-1", "labels": {"app": "web"}},
    spec={"nodeName": "node-1", "serviceAccountName": "default"},
    status={"podIP": "10.1.0.7", "hostIP": "192.168.0.2", "podIPs": [{"ip": "10.1.0.7"}]},
)
OBJECTS = {
    ("ConfigMap", "settings"): {"GREETING": "hello", "LEVEL": "debug", "not a name": "x"},
    ("Secret", "db"): {"password": "s3cr3t"},
}


def lookup(kind: str, name: str):
    return OBJECTS.get((kind, name))


def env_of(container: dict, **kwargs) -> dict[str, str]:
    return container_env(container, POD, kwargs.get("services", []), lookup, api_service=kwargs.get("api"))


def test_env_from_sources_then_env_entries_later_wins():
    container = {
        "envFrom": [{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "db"}, "prefix": "DB_"}],
        "env": [
            {"name": "LEVEL", "value": "info"},
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "URL", "value": "http://$(POD):$(PORT)/$$(LEVEL)"},
        ],
    }
    assert env_of(container) == {
        "GREETING": "hello",
        "LEVEL": "info",
        "DB_password": "s3cr3t",
        "PASSWORD": "s3cr3t",
        "POD": "web-1",
        "URL": "http://web-1:$(PORT)/$(LEVEL)",
    }


def test_missing_objects_and_keys_name_them_never_a_value():
    missing_key = {
        "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "nope"}}}]
    }
    with pytest.raises(EnvProblem) as error:
        env_of(missing_key)
    assert str(error.value) == "variable X: ConfigMap shop/settings has no key 'nope'"
    missing_secret = {"env": [{"name": "Y", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "k"}}}]}
    with pytest.raises(EnvProblem, match="variable Y: Secret shop/gone does not exist"):
        env_of(missing_secret)
    with pytest.raises(EnvProblem, match="Secret shop/gone does not exist"):
        env_of({"envFrom": [{"secretRef": {"name": "gone"}}]})
    with pytest.raises(EnvProblem) as error:
        env_of({"env": [{"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}]})
    assert "resourceFieldRef is not supported" in str(error.value) and "s3cr3t" not in str(error.value)


def test_optional_references_may_be_missing():
    container = {
        "envFrom": [{"secretRef": {"name": "gone", "optional": True}}],
        "env": [
            {
                "name": "A",
                "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "no", "optional": True}},
            },
            {"name": "B", "value": "b"},
        ],
    }
    assert env_of(container) == {"B": "b"}


def test_downward_api_fields():
    assert field_value(POD, "metadata.namespace") == "shop"
    assert field_value(POD, "metadata.labels['app']") == "web"
    assert field_value(POD, "status.podIP") == "10.1.0.7"
    assert field_value(POD, "status.podIPs") == "10.1.0.7"
    assert field_value(POD, "spec.nodeName") == "node-1"
    with pytest.raises(EnvProblem, match="fieldRef 'status.phase' is not supported"):
        field_value(POD, "status.phase")


def test_service_links_and_the_api_server():
    other = {
        "metadata": {"name": "other-db", "namespace": "shop"},
        "spec": {"clusterIP": "10.96.0.9", "ports": [{"port": 5432}]},
    }
    foreign = {
        "metadata": {"name": "x", "namespace": "elsewhere"},
        "spec": {"clusterIP": "10.96.0.8", "ports": [{"port": 1}]},
    }
    api = {
        "metadata": {"name": "kubernetes", "namespace": "default"},
        "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443}]},
    }
    env = env_of({}, services=[other, foreign], api=api)
    assert env["OTHER_DB_SERVICE_HOST"] == "10.96.0.9" and env["OTHER_DB_PORT"] == "tcp://10.96.0.9:5432"
    assert "X_SERVICE_HOST" not in env
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1" and env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"


def test_expand():
    assert expand("$(A)-$(B)-$$(A)", {"A": "1"}) == "1-$(B)-$(A)"


def test_secret_data_is_decoded_and_bad_data_named():
    from gefyra.providers.kube.podenv import decode_secret

    assert decode_secret({"k": base64.b64encode(b"v").decode()}, "Secret s/x") == {"k": "v"}
    with pytest.raises(EnvProblem, match="Secret s/x holds a value that is not base64 UTF-8 text"):
        decode_secret({"k": base64.b64encode(b"\xff").decode()}, "Secret s/x")
