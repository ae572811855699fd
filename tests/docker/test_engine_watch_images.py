"""A watch reaction's plan looks up only the images gefyra.yaml names (an inspect each) instead of listing
every image of the engine: the ids it finds are those the full listing finds, and a plan after an apply stays
a no-op for every spelling of a reference (tag, untagged, fully qualified, by id)."""

from __future__ import annotations

from gefyra import api
from gefyra.model.desired import image_key
from gefyra.providers.docker.engine import Engine
from gefyra.providers.docker.observe import MAX_IMAGE_INSPECTS, observe
from gefyra.providers.docker.provider import planned_images
from tests.docker.engine_helpers import SLEEPER


def test_looked_up_images_have_the_ids_of_the_full_listing(engine_project, docker_client) -> None:
    base_id = docker_client.api.inspect_image("debian:bookworm-slim")["Id"]
    refs = [
        "debian:bookworm-slim",
        "docker.io/library/debian:bookworm-slim",
        base_id,
        "t-eng-no-such-image:1",
        "t-eng-no-such-image",
    ]
    engine = Engine.from_env()
    looked_up = observe(engine, engine_project.name, image_refs=refs).images
    listed = observe(engine, engine_project.name).images
    keys = {image_key(ref) for ref in refs}
    assert looked_up == {key: value for key, value in listed.items() if key in keys}
    assert looked_up[image_key("docker.io/library/debian:bookworm-slim")] == base_id
    assert looked_up[base_id] == base_id
    assert "t-eng-no-such-image:latest" not in looked_up  # missing: a create pulls it


def test_many_images_or_a_build_fall_back_to_the_listing(engine_project) -> None:
    many = {f"c{i}": {**SLEEPER, "image": f"t-eng-img-{i}:1"} for i in range(MAX_IMAGE_INSPECTS + 1)}
    engine_project.write(many)
    refs = planned_images(engine_project.load())
    assert refs is not None and len(refs) == MAX_IMAGE_INSPECTS + 1
    engine = Engine.from_env()
    listed = observe(engine, engine_project.name, image_refs=refs).images
    assert len(listed) > MAX_IMAGE_INSPECTS  # every local image: the listing answered
    (engine_project.folder / "app").mkdir()
    (engine_project.folder / "app" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    engine_project.write({"a": SLEEPER, "b": {"build": "app"}})
    assert planned_images(engine_project.load()) is None


def test_a_plan_after_an_apply_is_a_no_op_for_every_spelling(engine_project, docker_client) -> None:
    base_id = docker_client.api.inspect_image("debian:bookworm-slim")["Id"]
    engine_project.write(
        {
            "tag": SLEEPER,
            "qualified": {**SLEEPER, "image": "docker.io/library/debian:bookworm-slim"},
            "by-id": {**SLEEPER, "image": base_id},
        }
    )
    config = engine_project.load()
    assert planned_images(config) is not None
    api.apply(config).raise_for_failures()
    planned = api.plan(engine_project.load())
    assert not planned.has_changes, [(str(c.key), c.cause) for c in planned.changes]


def test_a_tag_moved_to_another_image_is_a_replace(engine_project, docker_client, base_image) -> None:
    """The looked-up id is the tag's current one: retagging the reference replaces the container."""
    repository = f"{engine_project.name}-img"
    docker_client.api.tag(base_image, repository, "1")
    try:
        engine_project.write({"a": {**SLEEPER, "image": f"{repository}:1"}})
        api.apply(engine_project.load()).raise_for_failures()
        running = engine_project.ids()["a"]
        moved = docker_client.api.commit(running, repository=repository, tag="1")["Id"]
        planned = api.plan(engine_project.load())
        causes = {str(c.key): c.cause for c in planned.changes}
        assert causes == {"network/default": "up to date", "container/a": "image_id changed"}
        api.apply(engine_project.load()).raise_for_failures()
        assert engine_project.containers()["a"]["Image"] == moved
    finally:
        api.down(engine_project.name)
        docker_client.api.remove_image(f"{repository}:1", force=True)
