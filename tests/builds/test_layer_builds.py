"""PackageList and GitRepository builds by layer append, with real wheels from the package
index, a real registry as base and target, and the built image inspected afterwards."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from runtime_images.builds.image_config import with_on_path
from runtime_images.inspect import inspect_image
from runtime_images.inspect.filesystem import SERIAL_VERSION
from runtime_images.registry import RegistryClient
from tests.fixtures import images
from tests.fixtures.oci import Image, ImageConfig, LayerBuilder, make_image
from tests.fixtures.plugin import PushedImage
from tests.fixtures.registry import RegistryServer

from .test_controller import ANNOTATIONS, Harness

pytestmark = pytest.mark.timeout(300)
SITE = "usr/lib/python3/dist-packages"


def base_image() -> Image:
    """Debian-like, python3.11, jovyan (1000:100), and six 1.15.0 installed by the distro."""
    extra = LayerBuilder()
    extra.dir(f"{SITE}/six-1.15.0.dist-info")
    extra.file(f"{SITE}/six-1.15.0.dist-info/METADATA", images.metadata("six", "1.15.0"))
    extra.file(f"{SITE}/six-1.15.0.dist-info/RECORD", "six.py,,\n")
    extra.file(f"{SITE}/six.py", "# six 1.15.0\n")
    config = ImageConfig(user="1000", working_dir="/home/jovyan")
    return make_image([images.base_layer(), images.jovyan_layer(), extra.build()], config)


def resource(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "meteor.zone/v1alpha1",
        "kind": "CustomNBImage",
        "metadata": {"name": name, "annotations": dict(ANNOTATIONS)},
        "spec": spec,
    }


def package_list(name: str, base: str, *packages: str) -> dict[str, Any]:
    return resource(
        name, buildType="PackageList", builderImage=base, packageVersions=list(packages)
    )


def git_build(name: str, url: str, base: str) -> dict[str, Any]:
    return resource(name, buildType="GitRepository", repositoryUrl=url, builderImage=base)


def steps_done(status: dict[str, Any]) -> list[str]:
    """The types of the build's True conditions, in order (e.g. Building, Pushing, Ready)."""
    return [c["type"] for c in status["conditions"] if c["status"] == "True"]


class BuildHarness(Harness):
    def __init__(self, tmp_path: Path, target: str = "", **builder: Any) -> None:
        self.layout = tmp_path / "layout"
        settings = {"layout_dir": str(self.layout), "target_registry": target, **builder}
        super().__init__(tmp_path, Config({"ImageBuilder": settings}))


@pytest.fixture
def base(registry: RegistryServer, repo_name: str) -> str:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", base_image())
    return f"{registry.host}/{repo_name}:1"


@pytest.fixture
def builder(
    tmp_path: Path,
    isolated_home: Path,
    registry: RegistryServer,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
) -> Iterator[BuildHarness]:
    yield from BuildHarness(tmp_path, target=f"{registry.host}/built").running(jp_asyncio_loop)


async def inspect(reference: str) -> Any:
    async with RegistryClient(retries=0) as client:
        return await inspect_image(client, reference)


async def test_package_list_appends_a_layer_and_pushes_it(
    builder: BuildHarness, base: str, registry: RegistryServer
) -> None:
    build = await builder.run(package_list("with-packages", base, "six==1.16.0", "idna==3.7"))
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert steps_done(status) == ["Building", "Pushing", "Validating", "Ready"]
    assert status["image"].startswith(f"{registry.host}/built/with-packages:latest@sha256:")
    assert sorted(line.split(" ")[0] for line in status["lock"]) == ["idna==3.7", "six==1.16.0"]
    assert all("--hash=sha256:" in line for line in status["lock"])

    view = await inspect(status["image"])
    versions = {d.name.lower(): d.version for d in view.report.distributions}
    assert versions["six"] == "1.16.0" and versions["idna"] == "3.7"
    assert [d.name.lower() for d in view.report.distributions].count("six") == 1  # old one hidden
    site = "/usr/local/lib/python3.11/dist-packages"
    assert view.fs.lookup(f"{site}/six.py") is not None
    assert view.fs.lookup(f"/{SITE}/six.py") is None  # the distro's 1.15.0 is whited out
    assert view.fs.lookup(f"{site}/idna/__init__.py").uid == 1000  # owned by the image user
    assert not [p for p, _ in view.fs.walk(site) if p.endswith(".pyc")]  # no host bytecode
    labels = view.report.config.labels
    assert "six==1.16.0 --hash=sha256:" in labels["io.jupyter.runtime-images.lock"]

    runtime_image = builder.store.get("with-packages").to_api()
    assert runtime_image["metadata"]["image_name"] == status["image"]


async def test_pip_starts_while_the_base_is_read_and_its_result_is_kept_when_it_fits(
    builder: BuildHarness, base: str
) -> None:
    build = await builder.run(package_list("early", base, "idna==3.7"))
    assert build["status"]["phase"] == "Ready", build["status"]["conditions"]
    log = builder.controller.read_log("early")
    assert "Installing the requirements for Python 3.11 while the base is read." in log
    assert "does not fit" not in log
    assert log.count("pip: Successfully installed") == 1


async def test_an_early_install_that_moves_a_base_package_is_redone_with_constraints(
    builder: BuildHarness, base: str
) -> None:
    """python-dateutil needs six (any version >= 1.5): unconstrained, pip takes the newest
    six; the base has 1.15.0, which must stay."""
    build = await builder.run(package_list("dateutil", base, "python-dateutil==2.9.0.post0"))
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    log = builder.controller.read_log("dateutil")
    assert "The early installation does not fit the base; installing again." in log
    assert [line.split(" ")[0] for line in status["lock"]] == [
        "python-dateutil==2.9.0.post0",
        "six==1.15.0",
    ]
    dependencies = {d["name"].lower(): d["version"] for d in status["pythonDependencies"]}
    assert dependencies["six"] == "1.15.0"


async def test_same_inputs_give_the_same_digest(builder: BuildHarness, base: str) -> None:
    digests = []
    for name in ("first", "second"):
        build = await builder.run(package_list(name, base, "six==1.16.0"))
        assert build["status"]["phase"] == "Ready", build["status"]["conditions"]
        digests.append(build["status"]["image"].split("@")[1])
    assert digests[0] == digests[1]


async def test_builds_on_one_base_do_not_see_each_others_layers(
    builder: BuildHarness, base: str
) -> None:
    """The engine keeps the parsed base for the next build: the second build's checks must
    see the base plus its own layer only, not the first build's."""
    six = await builder.run(package_list("six", base, "six==1.16.0"))
    idna = await builder.run(package_list("idna", base, "idna==3.7"))
    assert six["status"]["phase"] == idna["status"]["phase"] == "Ready"
    dependencies = {d["name"].lower(): d["version"] for d in idna["status"]["pythonDependencies"]}
    assert dependencies["six"] == "1.15.0"  # the base's, not the first build's 1.16.0
    assert dependencies["idna"] == "3.7"
    view = await inspect(idna["status"]["image"])
    assert {d.name.lower(): d.version for d in view.report.distributions} == dependencies


async def test_a_restarted_server_reads_the_base_from_its_record(
    builder: BuildHarness, base: str
) -> None:
    """The parsed base is recorded in the layout; after a restart (memory cleared) it is
    read from there, and an unreadable record is replaced by reading the layers again."""
    bases = builder.controller.engines["embedded"].layer_append.bases

    def build(name: str) -> dict[str, Any]:
        return package_list(name, base, "idna==3.7")

    def dependencies(done: dict[str, Any]) -> dict[str, str]:
        assert done["status"]["phase"] == "Ready", done["status"]["conditions"]
        return {d["name"].lower(): d["version"] for d in done["status"]["pythonDependencies"]}

    assert dependencies(await builder.run(build("first")))["six"] == "1.15.0"
    (record,) = (builder.layout / ".parsed").iterdir()
    # Mark the record (the distro's six taken out of it) to see that it is what is read.
    recorded = json.loads(record.read_text())
    # Nodes: [kind, mode, uid, gid, size, target, content, layer, parent, name].
    names = {number: node[-1] for number, node in enumerate(recorded["nodes"])}
    (six,) = [
        node
        for node in recorded["nodes"]
        if node[-1] == "six-1.15.0.dist-info" and names[node[-2]] == SITE.rsplit("/", 1)[1]
    ]
    six[-1] = "renamed-by-the-test"
    record.write_text(json.dumps(recorded))
    bases.forget()  # a restarted server
    assert "six" not in dependencies(await builder.run(build("second")))

    record.write_bytes(b"{not json")
    bases.forget()
    assert dependencies(await builder.run(build("third")))["six"] == "1.15.0"
    assert json.loads(record.read_text())["version"] == SERIAL_VERSION  # recorded again


async def test_a_virtual_environment_on_path_gets_the_packages(
    builder: BuildHarness, registry: RegistryServer, repo_name: str
) -> None:
    """UBI-style base: python3 on PATH is a venv's (/opt/app-root), whose interpreter does
    not see the system site-packages its symlink resolves into."""
    venv = LayerBuilder()
    venv.dir("opt").dir("opt/app-root").dir("opt/app-root/bin")
    venv.file("opt/app-root/pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\n")
    venv.symlink("opt/app-root/bin/python3", "/usr/bin/python3.11")
    venv.dir("opt/app-root/lib").dir("opt/app-root/lib/python3.11")
    venv.dir("opt/app-root/lib/python3.11/site-packages")
    path = "PATH=/opt/app-root/bin:/usr/local/bin:/usr/bin:/bin"
    config = ImageConfig(user="1001", env=[path])
    with registry.pusher() as pusher:
        pusher.push_image(
            repo_name, "venv", make_image([images.base_layer(), venv.build()], config)
        )
    build = await builder.run(
        package_list("in-venv", f"{registry.host}/{repo_name}:venv", "idna==3.7")
    )
    assert build["status"]["phase"] == "Ready", build["status"]["conditions"]
    view = await inspect(build["status"]["image"])
    site = "/opt/app-root/lib/python3.11/site-packages"
    assert view.fs.lookup(f"{site}/idna/__init__.py") is not None
    assert view.fs.lookup("/usr/local/lib/python3.11/dist-packages/idna") is None
    assert view.report.config.path[0] == "/opt/app-root/bin"  # PATH already had the venv


def test_console_scripts_directory_is_put_on_path() -> None:
    default = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert with_on_path(["A=1", "PATH=/usr/bin:/bin"], "/usr/bin") == ["A=1", "PATH=/usr/bin:/bin"]
    assert with_on_path(["PATH=/usr/bin"], "/opt/venv/bin") == ["PATH=/usr/bin:/opt/venv/bin"]
    assert with_on_path(["A=1"], "/opt/venv/bin") == ["A=1", f"{default}:/opt/venv/bin"]


async def test_a_package_without_a_wheel_fails_with_its_name(
    builder: BuildHarness, base: str
) -> None:
    """Only an sdist exists: building it would run its setup.py (issue 11: RequiresBuild)."""
    build = await builder.run(package_list("sdist-only", base, "pycrypto==2.6.1"))
    latest = build["status"]["conditions"][-1]
    assert (latest["reason"], build["status"]["phase"]) == ("RequiresBuild", "Failed")
    assert "pycrypto" in latest["message"] and "wheel" in latest["message"]


async def test_runtime_environment_without_a_configured_base_fails_clearly(
    builder: BuildHarness,
) -> None:
    build = await builder.run(
        resource(
            "no-base",
            buildType="PackageList",
            packageVersions=["six"],
            runtimeEnvironment={"osName": "plan9", "osVersion": "4", "pythonVersion": "3.11"},
        )
    )
    assert "plan9:4:3.11" in build["status"]["conditions"][-1]["message"]


def git_repository(path: Path, files: dict[str, str], links: dict[str, Path] | None = None) -> str:
    """A repository at ``path`` with ``files`` (name -> text) and symbolic ``links``
    (name -> target, committed as links); its ``file://`` URL."""
    path.mkdir()
    for name, content in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(content)
    for name, target in (links or {}).items():
        (path / name).symlink_to(target)
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
    ):
        subprocess.run(command, cwd=path, check=True, capture_output=True)
    return f"file://{path}"


async def test_git_repository_with_requirements(
    builder: BuildHarness, base: str, tmp_path: Path
) -> None:
    url = git_repository(
        tmp_path / "repo",
        {
            "binder/requirements.txt": "six==1.16.0\n# a comment\n",
            "notebooks/analysis.ipynb": json.dumps({"cells": [], "nbformat": 4}),
            "requirements.txt": "this-is-ignored-because-of-binder\n",
        },
    )
    build = await builder.run(
        resource(
            "from-git",
            buildType="GitRepository",
            repositoryUrl=url,
            gitRef="main",
            builderImage=base,
        )
    )
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert status["detected"]["files"] == ["binder/requirements.txt"]
    assert len(status["commit"]) == 40
    view = await inspect(status["image"])
    notebook = view.fs.lookup("/home/jovyan/notebooks/analysis.ipynb")
    assert notebook is not None and notebook.uid == 1000
    assert view.fs.lookup("/home/jovyan/.git") is None
    assert {d.name.lower(): d.version for d in view.report.distributions}["six"] == "1.16.0"


async def test_git_repository_with_an_unsupported_file_names_it(
    builder: BuildHarness, base: str, tmp_path: Path
) -> None:
    url = git_repository(tmp_path / "conda", {"environment.yml": "dependencies: [numpy]\n"})
    build = await builder.run(git_build("conda", url, base))
    latest = build["status"]["conditions"][-1]
    assert latest["reason"] == "BuildFailed" and "environment.yml" in latest["message"]


async def test_without_a_target_registry_the_image_stays_in_the_local_layout(
    tmp_path: Path, isolated_home: Path, base: str
) -> None:
    async with BuildHarness(tmp_path).started() as harness:
        build = await harness.run(package_list("local", base, "six==1.16.0"))
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert status["image"].startswith("localhost/local:latest@sha256:")
    index = json.loads((harness.layout / "index.json").read_text())
    tagged = {
        m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"]
        for m in index["manifests"]
    }
    assert tagged["local:latest"] == status["image"].split("@")[1]
    copied = await asyncio.to_thread(
        subprocess.run,
        ["skopeo", "inspect", "--raw", f"oci:{harness.layout}:local:latest"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(json.loads(copied.stdout)["layers"]) == 4  # the base's three and ours


async def test_import_copies_to_the_target_registry_when_configured(
    tmp_path: Path,
    isolated_home: Path,
    elyra_image: PushedImage,
    own_registry: RegistryServer,
) -> None:
    """The ImageStream idea: the runtime image points at a copy in the team's registry."""
    digest = elyra_image.digest
    async with BuildHarness(
        tmp_path, target=f"{own_registry.host}/mirror", copy_imports=True
    ).started() as harness:
        build = await harness.run(
            {**resource("copied", buildType="ImageImport", fromImage=elyra_image.reference)}
        )
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert status["image"] == f"{own_registry.host}/mirror/copied:1@{digest}"
    assert status["sourceImage"] == f"{elyra_image.reference}@{digest}"
    pushing = next(c for c in status["conditions"] if c["type"] == "Pushing")
    assert pushing["status"] == "True"
    copied = await inspect(status["image"])  # it is really there, with the same digest
    assert copied.report.digest == digest
    assert harness.store.get("copied").to_api()["metadata"]["image_name"] == status["image"]


async def test_console_scripts_and_data_files_land_where_pip_would_put_them(
    builder: BuildHarness, base: str
) -> None:
    """Current releases with entry-point scripts (tqdm, idna ≥ 3.10), ``.data/scripts``
    (docutils 0.16) and ``.data/data`` files (jupyterlab_widgets' labextension): scripts in
    the interpreter's bin with the image's python in their shebang, data under the prefix,
    nothing left in site-packages' own bin/ or share/."""
    build = await builder.run(
        package_list("scripts", base, "tqdm", "idna", "docutils==0.16", "jupyterlab_widgets")
    )
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert builder.store.get("scripts").to_api()["metadata"]["tags"] == ["built"]
    view = await inspect(status["image"])
    for script in ("tqdm", "idna", "rst2html.py"):
        node = view.fs.lookup(f"/usr/local/bin/{script}")
        assert node is not None and node.is_executable, script
        content = view.fs.read(f"/usr/local/bin/{script}")
        assert content is not None and content.startswith(b"#!/usr/bin/python3\n"), content
    labextension = "/usr/local/share/jupyter/labextensions/@jupyter-widgets/jupyterlab-manager"
    assert view.fs.lookup(f"{labextension}/package.json") is not None
    site = "/usr/local/lib/python3.11/dist-packages"
    assert view.fs.lookup(f"{site}/tqdm/cli.py") is not None
    assert view.fs.lookup(f"{site}/bin") is None
    assert view.fs.lookup(f"{site}/share") is None


async def test_a_local_image_is_a_base_for_the_next_build(
    tmp_path: Path, isolated_home: Path, own_registry: RegistryServer, repo_name: str
) -> None:
    """A build on the local image another build made: read from the layout, no registry
    (the first base's registry is stopped before the second build)."""
    with own_registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", base_image())
    async with BuildHarness(tmp_path).started() as harness:
        first = await harness.run(
            package_list("first", f"{own_registry.host}/{repo_name}:1", "six==1.16.0")
        )
        assert first["status"]["phase"] == "Ready", first["status"]["conditions"]
        own_registry.stop()
        second = await harness.run(package_list("second", first["status"]["image"], "idna==3.7"))
    status = second["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert status["image"].startswith("localhost/second:latest@sha256:")
    async with RegistryClient(retries=0, local_layout_dir=str(harness.layout)) as client:
        view = await inspect_image(client, status["image"])
    versions = {d.name: d.version for d in view.report.distributions}
    assert versions["six"] == "1.16.0" and versions["idna"] == "3.7"
