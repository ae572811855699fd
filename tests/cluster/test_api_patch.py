"""PATCH: JSON patch, JSON merge patch and strategic merge patch with Kubernetes merge keys and directives."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.cluster
MERGE = "application/merge-patch+json"


def _pod(core, namespace, spec):
    return core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p"}, "spec": {"automountServiceAccountToken": False, **spec}}
    )


@pytest.fixture
def pod(core, namespace):
    return _pod(
        core,
        namespace,
        {
            "initContainers": [{"name": "init", "image": "i:1"}],
            "containers": [
                {
                    "name": "app",
                    "image": "app:1",
                    "ports": [{"containerPort": 80}, {"containerPort": 81}],
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "volumeMounts": [
                        {"name": "data", "mountPath": "/data"},
                        {"name": "cfg", "mountPath": "/cfg"},
                    ],
                },
                {"name": "side", "image": "side:1"},
            ],
            "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "emptyDir": {}}],
        },
    )


def test_strategic_merge_by_container_name(core, namespace, pod):
    patched = core.patch_namespaced_pod(
        "p", namespace, {"spec": {"containers": [{"name": "side", "image": "side:2"}]}}
    )
    images = [(c.name, c.image) for c in patched.spec.containers]
    assert images == [("app", "app:1"), ("side", "side:2")]


def test_strategic_merge_init_containers(core, namespace, pod):
    patched = core.patch_namespaced_pod(
        "p",
        namespace,
        {"spec": {"initContainers": [{"name": "init", "image": "i:2"}, {"name": "init2", "image": "j:1"}]}},
    )
    assert [(c.name, c.image) for c in patched.spec.init_containers] == [("init", "i:2"), ("init2", "j:1")]


def test_strategic_merge_env_ports_mounts_volumes(core, namespace, pod):
    patched = core.patch_namespaced_pod(
        "p",
        namespace,
        {
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
                        "ports": [{"containerPort": 81, "name": "alt"}],
                        "volumeMounts": [{"mountPath": "/cfg", "name": "cfg", "readOnly": True}],
                    }
                ],
                "volumes": [{"name": "extra", "emptyDir": {}}],
            }
        },
    )
    app = patched.spec.containers[0]
    assert [(e.name, e.value) for e in app.env] == [("A", "1"), ("B", "two"), ("C", "3")]
    assert [(p.container_port, p.name) for p in app.ports] == [(80, None), (81, "alt")]
    assert [(m.mount_path, bool(m.read_only)) for m in app.volume_mounts] == [
        ("/data", False),
        ("/cfg", True),
    ]
    assert [v.name for v in patched.spec.volumes] == ["data", "cfg", "extra"]


def test_strategic_delete_directive(core, namespace, pod):
    patched = core.patch_namespaced_pod(
        "p",
        namespace,
        {
            "spec": {
                "containers": [
                    {"name": "side", "$patch": "delete"},
                    {"name": "app", "env": [{"name": "A", "$patch": "delete"}]},
                ],
                "volumes": [{"name": "cfg", "$patch": "delete"}],
            }
        },
    )
    assert [c.name for c in patched.spec.containers] == ["app"]
    assert [e.name for e in patched.spec.containers[0].env] == ["B"]
    assert [v.name for v in patched.spec.volumes] == ["data"]


def test_strategic_replace_directive_on_list_and_map(core, namespace, pod):
    patched = core.patch_namespaced_pod(
        "p",
        namespace,
        {
            "spec": {
                "containers": [{"name": "app", "env": [{"name": "Z", "value": "26"}, {"$patch": "replace"}]}]
            }
        },
    )
    assert [e.name for e in patched.spec.containers[0].env] == ["Z"]
    replaced = core.patch_namespaced_pod(
        "p", namespace, {"metadata": {"labels": {"only": "this", "$patch": "replace"}}}
    )
    assert replaced.metadata.labels == {"only": "this"}


def test_strategic_delete_directive_on_a_map(core, namespace, pod):
    core.patch_namespaced_pod("p", namespace, {"spec": {"securityContext": {"runAsUser": 1000}}})
    patched = core.patch_namespaced_pod("p", namespace, {"spec": {"securityContext": {"$patch": "delete"}}})
    assert patched.spec.security_context is None


def test_set_element_order_directive(core, namespace, pod):
    patched = core.patch_namespaced_pod(
        "p",
        namespace,
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
                "containers": [{"name": "side", "image": "side:3"}],
            }
        },
    )
    assert [c.name for c in patched.spec.containers] == ["side", "app"]


def test_delete_from_primitive_list_and_finalizers_as_set(core, namespace, pod):
    core.patch_namespaced_pod("p", namespace, {"metadata": {"finalizers": ["a/x", "b/y"]}})
    merged = core.patch_namespaced_pod("p", namespace, {"metadata": {"finalizers": ["b/y", "c/z"]}})
    assert merged.metadata.finalizers == ["a/x", "b/y", "c/z"]
    pruned = core.patch_namespaced_pod(
        "p", namespace, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x", "c/z"]}}
    )
    assert pruned.metadata.finalizers == ["b/y"]
    core.patch_namespaced_pod("p", namespace, {"metadata": {"finalizers": None}})


def test_retain_keys_directive(apps, namespace):
    apps.create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        },
    )
    patched = apps.patch_namespaced_deployment(
        "d", namespace, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    )
    assert patched.spec.strategy.type == "Recreate" and patched.spec.strategy.rolling_update is None


def test_service_ports_merge_by_port(core, namespace):
    core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "s"},
            "spec": {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}]},
        },
    )
    patched = core.patch_namespaced_service(
        "s", namespace, {"spec": {"ports": [{"port": 81, "targetPort": 9000}]}}
    )
    assert [(p.port, p.target_port) for p in patched.spec.ports] == [(80, 80), (81, 9000)]


def test_strategic_merge_null_deletes_key(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}})
    assert core.patch_namespaced_config_map("c", namespace, {"data": {"a": None}}).data == {"b": "2"}


def test_merge_patch_replaces_lists_and_null_deletes(core, namespace, pod):
    patched = core.patch_namespaced_pod(
        "p",
        namespace,
        {"metadata": {"labels": {"x": "1"}}, "spec": {"containers": [{"name": "only", "image": "o:1"}]}},
        _content_type=MERGE,
    )
    assert [c.name for c in patched.spec.containers] == ["only"]
    removed = core.patch_namespaced_pod(
        "p", namespace, {"metadata": {"labels": {"x": None}}}, _content_type=MERGE
    )
    assert not removed.metadata.labels


def test_json_patch(core, namespace, pod):
    patched = core.patch_namespaced_pod(
        "p",
        namespace,
        [
            {"op": "add", "path": "/metadata/labels", "value": {"a": "b"}},
            {"op": "replace", "path": "/spec/containers/0/image", "value": "app:9"},
            {"op": "remove", "path": "/spec/containers/1"},
        ],
    )
    assert patched.metadata.labels == {"a": "b"}
    assert [(c.name, c.image) for c in patched.spec.containers] == [("app", "app:9")]


def test_json_patch_failed_test_is_invalid(core, namespace, pod):
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_pod(
            "p",
            namespace,
            [
                {"op": "test", "path": "/metadata/resourceVersion", "value": "1"},
                {"op": "add", "path": "/metadata/finalizers", "value": ["x/y"]},
            ],
        )
    assert caught.value.status == 422
    assert json.loads(caught.value.body)["reason"] == "Invalid"
    assert not core.read_namespaced_pod("p", namespace).metadata.finalizers


def test_json_patch_with_current_resource_version_succeeds(core, namespace, pod):
    current = core.read_namespaced_pod("p", namespace).metadata.resource_version
    patched = core.patch_namespaced_pod(
        "p",
        namespace,
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": current},
            {"op": "add", "path": "/metadata/finalizers", "value": ["x/y"]},
        ],
    )
    assert patched.metadata.finalizers == ["x/y"]
    core.patch_namespaced_pod("p", namespace, [{"op": "remove", "path": "/metadata/finalizers"}])


def _documents():
    from hypothesis import strategies as st

    keys = st.sampled_from(["a", "b", "c", "d"])
    scalars = st.one_of(st.integers(-3, 3), st.text("xy", max_size=2), st.booleans())
    return st.recursive(scalars, lambda inner: st.dictionaries(keys, inner, max_size=3), max_leaves=8)


def test_strategic_merge_equals_merge_patch_on_maps_without_lists():
    """Without lists or directives the two merge flavours must agree (RFC 7386 semantics)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tests.sandbox.apiserver.patch import merge_patch, strategic_merge

    maps = st.dictionaries(st.sampled_from(["a", "b", "c"]), _documents(), max_size=3)
    patches = st.dictionaries(
        st.sampled_from(["a", "b", "c"]), st.one_of(st.none(), _documents()), max_size=3
    )

    @settings(max_examples=200, deadline=None)
    @given(maps, patches)
    def check(original, patch):
        assert strategic_merge(original, patch) == merge_patch(original, patch)

    check()


def test_strategic_list_merge_keeps_unpatched_items_and_order():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tests.sandbox.apiserver.patch import strategic_merge

    names = st.lists(st.sampled_from(list("abcdef")), unique=True, max_size=6)

    @settings(max_examples=200, deadline=None)
    @given(names, names)
    def check(existing, patched):
        original = {"containers": [{"name": n, "image": "old"} for n in existing]}
        result = strategic_merge(original, {"containers": [{"name": n, "image": "new"} for n in patched]})
        assert [c["name"] for c in result["containers"]] == existing + [
            n for n in patched if n not in existing
        ]
        for container in result["containers"]:
            assert container["image"] == ("new" if container["name"] in patched else "old")

    check()
