"""Watch: initial state, resourceVersion replay, 410 Gone, bookmarks, initial events, timeouts, selectors."""

from __future__ import annotations

import json
import threading
import time

import pytest

pytestmark = pytest.mark.cluster


def _events(core, namespace, **kwargs):
    from kubernetes import watch

    return list(watch.Watch().stream(core.list_namespaced_config_map, namespace, **kwargs))


def test_watch_without_version_replays_current_objects_then_follows(core, namespace):
    from kubernetes import watch

    core.create_namespaced_config_map(namespace, {"metadata": {"name": "before"}})
    seen: list[tuple[str, str]] = []
    w = watch.Watch()

    def writer() -> None:
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "after"}})
        core.patch_namespaced_config_map("after", namespace, {"data": {"k": "v"}})
        core.delete_namespaced_config_map("after", namespace)

    thread = threading.Thread(target=writer)
    thread.start()
    for event in w.stream(core.list_namespaced_config_map, namespace, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if event["type"] == "DELETED":
            w.stop()
    thread.join()
    assert ("ADDED", "before") in seen
    assert seen[-3:] == [("ADDED", "after"), ("MODIFIED", "after"), ("DELETED", "after")]


def test_watch_from_resource_version_replays_history(core, namespace):
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    core.patch_namespaced_config_map("x", namespace, {"data": {"a": "1"}})
    events = _events(core, namespace, resource_version=start, timeout_seconds=1)
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "x"), ("MODIFIED", "x")]
    assert events[1]["object"].data == {"a": "1"}


def test_too_old_resource_version_is_410(private_api):
    import urllib.request

    for index in range(30):  # the private server keeps only 20 events
        private_api.request(
            "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": f"c{index}"}}
        )
    request = urllib.request.Request(
        f"{private_api.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2",
        headers={"Authorization": f"Bearer {private_api.token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        lines = [json.loads(line) for line in response.read().splitlines() if line]
    assert [line["type"] for line in lines] == ["ERROR"]
    assert (lines[0]["object"]["code"], lines[0]["object"]["reason"]) == (410, "Expired")


def test_too_old_resource_version_raises_in_the_official_client(private_api, tmp_path):
    from kubernetes import client, config, watch

    for index in range(30):
        private_api.request(
            "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": f"c{index}"}}
        )
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(private_api.kubeconfig)))
    with pytest.raises(client.ApiException) as caught:
        list(
            watch.Watch().stream(
                api.list_namespaced_config_map, "default", resource_version="2", timeout_seconds=2
            )
        )
    assert caught.value.status == 410


def test_bookmarks_carry_the_current_resource_version(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    events = _events(core, namespace, allow_watch_bookmarks=True, timeout_seconds=2)
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks, [e["type"] for e in events]
    assert int(bookmarks[-1]["raw_object"]["metadata"]["resourceVersion"]) >= int(
        core.read_namespaced_config_map("x", namespace).metadata.resource_version
    )


def test_send_initial_events_ends_with_annotated_bookmark(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    events = _events(
        core,
        namespace,
        send_initial_events=True,
        allow_watch_bookmarks=True,
        resource_version_match="NotOlderThan",
        timeout_seconds=1,
    )
    names = [e["object"].metadata.name for e in events if e["type"] == "ADDED"]
    assert sorted(names) == ["kube-root-ca.crt", "x"]
    first_bookmark = next(e for e in events if e["type"] == "BOOKMARK")
    assert first_bookmark["raw_object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert events.index(first_bookmark) == len(names)


def test_timeout_seconds_ends_the_stream(core, namespace):
    started = time.monotonic()
    _events(core, namespace, timeout_seconds=1)
    assert 0.9 <= time.monotonic() - started < 5


def test_selector_transitions_become_added_and_deleted(core, namespace):
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x", "labels": {"on": "no"}}})
    core.patch_namespaced_config_map("x", namespace, {"metadata": {"labels": {"on": "yes"}}})
    core.patch_namespaced_config_map("x", namespace, {"data": {"k": "v"}})
    core.patch_namespaced_config_map("x", namespace, {"metadata": {"labels": {"on": "no"}}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "y", "labels": {"on": "no"}}})
    events = _events(core, namespace, resource_version=start, label_selector="on=yes", timeout_seconds=1)
    assert [(e["type"], e["object"].metadata.name) for e in events] == [
        ("ADDED", "x"),
        ("MODIFIED", "x"),
        ("DELETED", "x"),
    ]


def test_field_selector_watch_of_one_object(core, namespace):
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "y"}})
    events = _events(
        core, namespace, resource_version=start, field_selector="metadata.name=y", timeout_seconds=1
    )
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "y")]


def test_watch_all_namespaces_sees_each(core, namespace):
    from kubernetes import watch

    start = core.list_config_map_for_all_namespaces().metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": f"x-{namespace}"}})
    events = list(
        watch.Watch().stream(
            core.list_config_map_for_all_namespaces, resource_version=start, timeout_seconds=1
        )
    )
    names = {(e["object"].metadata.namespace, e["object"].metadata.name) for e in events}
    assert {(namespace, "x"), ("default", f"x-{namespace}")} <= names
    core.delete_namespaced_config_map(f"x-{namespace}", "default")


def test_server_stop_ends_open_watches(private_api):
    import urllib.request

    request = urllib.request.Request(
        f"{private_api.url}/api/v1/namespaces?watch=1",
        headers={"Authorization": f"Bearer {private_api.token}"},
    )
    response = urllib.request.urlopen(request, timeout=10)
    response.readline()
    started = time.monotonic()
    private_api.stop()
    response.read()
    assert time.monotonic() - started < 5


def test_closed_watch_releases_its_watcher(private_api):
    import urllib.request

    store = private_api.server.store
    request = urllib.request.Request(
        f"{private_api.url}/api/v1/namespaces?watch=1",
        headers={"Authorization": f"Bearer {private_api.token}"},
    )
    response = urllib.request.urlopen(request, timeout=10)
    response.readline()
    assert len(store.watchers) == 1
    response.close()
    deadline = time.monotonic() + 5
    while store.watchers:
        assert time.monotonic() < deadline, "the server kept the watcher of a closed connection"
        time.sleep(0.02)
