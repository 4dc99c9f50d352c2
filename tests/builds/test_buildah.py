"""The buildah engine, with real buildah (chroot isolation, vfs storage), a real Debian base
image with python3, pip and curl (tests/fixtures/debian.py), real packages from the package
index and Debian's mirror, and a real registry; the built images are run with buildah."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from runtime_images.builds.buildah import BuildahEngine
from runtime_images.builds.wiring import make_build_controller
from runtime_images.errors import ConflictError, NotFoundError
from runtime_images.inspect import ImageInspector
from tests.fixtures import images, oci
from tests.fixtures.plugin import PushedImage
from tests.fixtures.registry import RegistryServer, write_layout
from tests.support import run_cli

from .test_cli_and_restart import builds as cli_builds
from .test_controller import Harness, import_resource
from .test_handlers import Fetch, call, events, jp_server_config, wait_phase  # noqa: F401
from .test_layer_builds import git_build, git_repository, inspect, resource, steps_done

pytestmark = pytest.mark.timeout(900)
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(scope="session")
def buildah_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One buildah storage for the session, so the base image is pulled once; removed at
    the end (vfs keeps a full copy of the root filesystem per image: about 1.5 GB)."""
    if shutil.which("buildah") is None:  # a missing tool fails the suite: never skipped
        pytest.fail("buildah is not installed: ./scripts/dev.sh test installs it")
    storage = tmp_path_factory.mktemp("buildah")
    yield storage
    shutil.rmtree(storage, ignore_errors=True)


def buildah_config(storage: Path) -> dict[str, Any]:
    config: dict[str, Any] = {
        "root": str(storage / "root"),
        "runroot": str(storage / "runroot"),
    }
    if Path(CA_BUNDLE).exists():  # the host may sit behind a TLS-intercepting proxy
        config["volumes"] = [f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    return config


class BuildahHarness(Harness):
    def __init__(self, tmp_path: Path, storage: Path, target: str = "") -> None:
        self.layout = tmp_path / "layout"
        self.storage = storage
        super().__init__(
            tmp_path,
            Config(
                {
                    "ImageBuilder": {
                        "layout_dir": str(self.layout),
                        "target_registry": target,
                        "fallback_engine": "buildah",
                    },
                    "BuildahEngine": buildah_config(storage),
                }
            ),
        )

    async def run_with(self, document: dict[str, Any], engine: str | None) -> dict[str, Any]:
        await self.controller.submit(document, engine=engine)
        return await self.wait(document["metadata"]["name"], timeout=800)

    async def buildah(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [
                "buildah",
                "--storage-driver",
                "vfs",
                "--root",
                str(self.storage / "root"),
                "--runroot",
                str(self.storage / "runroot"),
                *args,
            ],
            capture_output=True,
            text=True,
            check=check,
            # buildah refuses missing auth files; isolated_home points these at none
            env={
                k: v
                for k, v in os.environ.items()
                if k not in ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG")
            },
        )

    async def run_in(self, image: str, *command: str) -> str:
        """Run ``command`` in ``image`` with ``buildah run --isolation chroot``; its stdout."""
        if "@" in image and not image.startswith("oci:"):  # buildah 1.28: no tag with a digest
            name, digest = image.split("@")
            image = f"{name.rsplit(':', 1)[0]}@{digest}"
        container = (await self.buildah("from", "--tls-verify=false", image)).stdout.strip()
        try:
            done = await self.buildah(
                "run", "--isolation", "chroot", container, "--", *command, check=False
            )
            assert done.returncode == 0, done.stderr
            return done.stdout
        finally:
            await self.buildah("rm", container, check=False)


def _harness(
    tmp_path: Path, storage: Path, loop: asyncio.AbstractEventLoop, target: str = ""
) -> Iterator[BuildahHarness]:
    yield from BuildahHarness(tmp_path, storage, target=target).running(loop)


@pytest.fixture
def pushing(
    tmp_path: Path,
    isolated_home: Path,
    registry: RegistryServer,
    buildah_storage: Path,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
) -> Iterator[BuildahHarness]:
    """Builds pushed to the test registry."""
    yield from _harness(tmp_path, buildah_storage, jp_asyncio_loop, f"{registry.host}/built")


@pytest.fixture
def local(
    tmp_path: Path,
    isolated_home: Path,
    buildah_storage: Path,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
) -> Iterator[BuildahHarness]:
    """Builds kept in the local OCI layout (no target registry)."""
    yield from _harness(tmp_path, buildah_storage, jp_asyncio_loop)


def conditions(build: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c["reason"]) for c in build["status"]["conditions"]]


async def test_a_package_without_a_wheel_is_handed_to_buildah(
    pushing: BuildahHarness, debian_image: str, registry: RegistryServer
) -> None:
    # docopt 0.6.2 is an sdist only: layer append cannot add it, pip in the image builds it.
    build = await pushing.run_with(
        resource(
            "sdist-only",
            buildType="PackageList",
            builderImage=debian_image,
            packageVersions=["docopt==0.6.2"],
        ),
        engine=None,
    )
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert status["engine"] == "embedded" and status["handedOverTo"] == "buildah"
    log = pushing.controller.read_log("sdist-only")
    assert "Building=Unknown HandedOver: Layer append cannot build this (No wheel of docopt" in log
    assert "handing it to the buildah engine" in log
    assert steps_done(status) == ["Building", "Pushing", "Validating", "Ready"]
    assert status["image"].startswith(f"{registry.host}/built/sdist-only:latest@sha256:")
    assert status["baseImage"].startswith(f"{debian_image}@sha256:")
    assert {c["result"] for c in status["checks"]} <= {"pass", "warn"}
    assert {d["name"].lower(): d["version"] for d in status["pythonDependencies"]}[
        "docopt"
    ] == "0.6.2"

    assert "buildah: STEP 2/4: RUN python3 -m pip install" in log
    assert "buildah: Successfully installed docopt-0.6.2" in log

    out = await pushing.run_in(
        status["image"], "python3", "-c", "import docopt; print(docopt.__version__)"
    )
    assert out.strip() == "0.6.2"
    runtime_image = pushing.store.get("sdist-only").to_api()
    assert runtime_image["metadata"]["image_name"] == status["image"]
    view = await inspect(status["image"])
    assert view.report.config.labels["io.jupyter.runtime-images.engine"] == "buildah"


async def test_a_layer_append_build_runs_in_a_real_python(
    local: BuildahHarness, debian_image: str
) -> None:
    """The default engine's image (no buildah in the build): its packages import in the
    base's real python3, at the versions asked for, from the layer appended."""
    build = await local.run_with(
        resource(
            "appended",
            buildType="PackageList",
            builderImage=debian_image,
            packageVersions=["six==1.16.0", "idna==3.7"],
        ),
        engine=None,
    )
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert status["engine"] == "embedded" and "handedOverTo" not in status
    out = await local.run_in(
        f"oci:{local.layout}:appended:latest",
        "python3",
        "-c",
        "import six, idna; print(six.__version__, idna.__version__, six.__file__)",
    )
    assert out.split() == ["1.16.0", "3.7", "/usr/local/lib/python3.11/dist-packages/six.py"]


async def test_console_scripts_of_a_layer_append_run_with_the_images_python(
    local: BuildahHarness, debian_image: str
) -> None:
    """Scripts installed by layer append (entry points and ``.data/scripts``) run in the
    image with its own python3, and every file their RECORD lists exists there (so pip in
    the image can uninstall them)."""
    build = await local.run_with(
        resource(
            "scripts",
            buildType="PackageList",
            builderImage=debian_image,
            packageVersions=["tqdm", "idna", "docutils==0.16"],
        ),
        engine=None,
    )
    assert build["status"]["phase"] == "Ready", build["status"]["conditions"]
    image = f"oci:{local.layout}:scripts:latest"
    assert (await local.run_in(image, "tqdm", "--version")).strip()
    assert "Usage" in await local.run_in(image, "rst2html.py", "--help")
    out = await local.run_in(
        image,
        "python3",
        "-c",
        "import importlib.metadata as m, sys;"
        "missing = [str(f) for d in ('tqdm', 'idna', 'docutils')"
        " for f in m.distribution(d).files if not f.locate().exists()];"
        "print(sys.executable, missing)",
    )
    assert out.strip().split(maxsplit=1) == ["/usr/bin/python3", "[]"]


async def test_git_repository_with_apt_txt_and_post_build(
    local: BuildahHarness, debian_image: str, tmp_path: Path
) -> None:
    url = git_repository(
        tmp_path / "repo",
        {
            "binder/apt.txt": "# OS packages\npython3-yaml\n",
            "binder/requirements.txt": "six==1.16.0\n",
            "binder/postBuild": '#!/bin/sh\nset -e\necho "post-build ran in $PWD" > built.txt\n',
            "notebooks/analysis.ipynb": "{}",
        },
    )
    build = await local.run_with(
        resource(
            "apt-and-post-build",
            buildType="GitRepository",
            repositoryUrl=url,
            gitRef="main",
            builderImage=debian_image,
        ),
        engine="buildah",
    )
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert status["engine"] == "buildah"
    assert sorted(status["detected"]["files"]) == [
        "binder/apt.txt",
        "binder/postBuild",
        "binder/requirements.txt",
    ]
    assert steps_done(status) == ["Building", "Validating", "Ready"]
    assert status["image"].startswith("localhost/apt-and-post-build:latest@sha256:")
    log = local.controller.read_log("apt-and-post-build")
    assert "buildah: STEP" in log and "python3-yaml" in log

    layout_image = f"oci:{local.layout}:apt-and-post-build:latest"
    out = await local.run_in(
        layout_image,
        "sh",
        "-c",
        "cd /home/jovyan && cat built.txt && ls notebooks && "
        "python3 -c 'import yaml, six; print(yaml.__version__, six.__version__)'",
    )
    assert "post-build ran in /home/jovyan" in out
    assert "analysis.ipynb" in out
    assert out.strip().endswith("1.16.0")


async def test_a_failing_run_ends_failed_with_buildahs_last_lines(
    local: BuildahHarness, debian_image: str, tmp_path: Path
) -> None:
    url = git_repository(
        tmp_path / "failing",
        {"postBuild": "#!/bin/sh\necho 'compiling the frobnicator failed' >&2\nexit 3\n"},
    )
    build = await local.run_with(
        git_build("failing", url, debian_image),
        engine="buildah",
    )
    status = build["status"]
    latest = status["conditions"][-1]
    assert (status["phase"], latest["reason"]) == ("Failed", "BuildFailed")
    assert "buildah bud failed" in latest["message"]
    assert "compiling the frobnicator failed" in latest["message"]
    assert ("Building", "False", "BuildFailed") in conditions(build)
    assert "runtimeImage" not in status
    with pytest.raises(NotFoundError):
        local.store.get("failing")


async def test_buildah_is_registered_only_when_installed(
    tmp_path: Path, isolated_home: Path
) -> None:
    harness = Harness(tmp_path)
    assert "buildah" in harness.controller.engines
    without = make_build_controller(
        None,
        harness.store,
        harness.client,
        ImageInspector(),
        builds_dir=str(tmp_path / "other-builds"),
        config=Config(
            {
                "BuildahEngine": {"command": "no-such-buildah"},
                "ImageBuilder": {"fallback_engine": "buildah"},
            }
        ),
    )
    assert "buildah" not in without.engines
    document = resource("x", buildType="PackageList", builderImage="a/b:1", packageVersions=["s"])
    with pytest.raises(ConflictError, match="buildah"):
        without.new_resource(document, engine="buildah")
    await harness.client.aclose()


def test_containerfile_for_a_package_list_handles_pep_668_inside_the_build() -> None:
    from runtime_images.builds import buildah

    line = buildah._pip_install(["docopt==0.6.2", "numpy>=2"])
    assert line.startswith("RUN python3 -m pip install --no-cache-dir $(python3 -c ")
    assert "EXTERNALLY-MANAGED" in line and "--break-system-packages" in line
    assert line.endswith(" docopt==0.6.2 'numpy>=2'")
    assert BuildahEngine.name == "buildah"


# -- choosing the engine: REST ?engine= and the CLI's --engine (imports: no buildah run) ----


async def test_rest_engine_query_picks_the_engine(
    jp_fetch: Fetch,
    events: list[dict[str, Any]],  # noqa: F811 (the fixture imported above)
    elyra_image: PushedImage,
) -> None:
    document = import_resource(elyra_image.reference, name="via-buildah")
    status, _, created = await call(
        jp_fetch, "POST", "builds", body=document, params={"engine": "buildah"}
    )
    assert status == 201, created
    assert created["status"]["engine"] == "buildah"
    build = await wait_phase(jp_fetch, "via-buildah")
    assert build["status"]["phase"] == "Ready", build["status"]["conditions"]

    document = import_resource(elyra_image.reference, name="nowhere")
    status, _, error = await call(
        jp_fetch, "POST", "builds", body=document, params={"engine": "no-such-engine"}
    )
    assert status == 409 and "no-such-engine" in error["message"]


def test_cli_engine_option(
    env: dict[str, str],
    elyra_image: PushedImage,
) -> None:
    image = elyra_image.reference
    result = run_cli(env, "import-image", image, "--display-name", "By CLI", "--engine", "buildah")
    assert result.returncode == 0, result.stdout + result.stderr
    assert cli_builds(env)["by-cli"]["status"]["engine"] == "buildah"
    result = run_cli(env, "import-image", image, "--display-name", "Nope", "--engine", "nope")
    assert result.returncode == 1 and "nope" in result.stderr


async def test_a_repository_dockerfile_is_built_as_is(
    local: BuildahHarness, debian_image: str, tmp_path: Path
) -> None:
    url = git_repository(
        tmp_path / "docker",
        {
            "Dockerfile": f"FROM {debian_image}\nRUN echo from-the-dockerfile > /marker\n",
            "requirements.txt": "ignored-because-of-the-dockerfile\n",
        },
    )
    build = await local.run_with(
        resource("dockerfile", buildType="GitRepository", repositoryUrl=url), engine="buildah"
    )
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert status["detected"] == {"files": ["Dockerfile"]}
    out = await local.run_in(f"oci:{local.layout}:dockerfile:latest", "cat", "/marker")
    assert out.strip() == "from-the-dockerfile"


async def test_environment_yml_without_conda_fails_clearly(
    local: BuildahHarness, debian_image: str, tmp_path: Path
) -> None:
    url = git_repository(tmp_path / "conda", {"environment.yml": "dependencies: [numpy]\n"})
    build = await local.run_with(
        git_build("conda", url, debian_image),
        engine="buildah",
    )
    latest = build["status"]["conditions"][-1]
    assert (build["status"]["phase"], latest["reason"]) == ("Failed", "BuildFailed")
    assert "environment.yml needs conda or mamba on the base image PATH" in latest["message"]


async def test_cancelling_stops_buildah(
    local: BuildahHarness, debian_image: str, tmp_path: Path
) -> None:
    url = git_repository(
        tmp_path / "slow", {"postBuild": "#!/bin/sh\necho sleeping-now\nsleep 300\n"}
    )
    document = git_build("slow", url, debian_image)
    await local.controller.submit(document, engine="buildah")
    for _ in range(1200):
        if "buildah: sleeping-now" in local.controller.read_log("slow"):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(local.controller.read_log("slow"))
    cancelled = await local.controller.cancel("slow")
    latest = cancelled["status"]["conditions"][-1]
    assert (cancelled["status"]["phase"], latest["reason"]) == ("Failed", "Cancelled")
    # A killed process disappears shortly after the signal, not at once: wait for it.
    assert await gone(f"{local.storage}.*bud")  # no buildah bud left behind
    assert await gone("^sleep 300$")  # nor what its RUN started


async def gone(pattern: str, timeout: float = 10) -> bool:
    """Whether no process matches ``pattern`` (pgrep -f) within ``timeout`` seconds."""
    for _ in range(int(timeout / 0.1)):
        found = await asyncio.to_thread(
            subprocess.run, ["pgrep", "-f", pattern], capture_output=True
        )
        if found.returncode == 1:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_local_base_is_refused_before_buildah_tries_to_pull_it(
    local: BuildahHarness,
) -> None:
    """buildah pulls FROM images itself and no registry serves ``localhost/…``: the build
    fails at once, saying to publish the base."""
    base = oci.make_image([images.base_layer()])
    write_layout(local.layout, [base], base.manifest, ref_name="base:latest")
    build = await local.run_with(
        resource(
            "on-local",
            buildType="PackageList",
            builderImage="localhost/base:latest",
            packageVersions=["six==1.16.0"],
        ),
        engine="buildah",
    )
    latest = build["status"]["conditions"][-1]
    assert build["status"]["phase"] == "Failed"
    assert latest["reason"] == "BuildFailed"
    assert "buildah cannot pull: publish it first" in latest["message"]
