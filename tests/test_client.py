"""The Python client (``runtime_images.client``) against a real server subprocess.

Every method is called on a ``jupyter server`` with the extension (tests.support
RunningServer), with images in a real registry (Debian's docker-registry) where the method
talks to one; every typed error is provoked by a real request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runtime_images.client import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    RuntimeImages,
    ServerNotFoundError,
    UpstreamError,
    ValidationError,
    discover,
)
from tests.fixtures import images
from tests.fixtures.plugin import PushedImage
from tests.fixtures.proxy import HoldingProxy
from tests.fixtures.registry import RegistryServer

from .support import RunningServer, free_port

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def client(running_server: RunningServer) -> RuntimeImages:
    return RuntimeImages(url=running_server.url, token=running_server.token, timeout=60)


def test_runtime_image_methods_and_their_errors(client: RuntimeImages) -> None:
    # create / get / list
    created = client.create("My Image", "quay.io/me/img:1.0", tags=["gpu"], description="d")
    assert created["name"] == "my_image"
    assert created["metadata"] == {
        "image_name": "quay.io/me/img:1.0",
        "tags": ["gpu"],
        "description": "d",
    }
    assert client.get("my_image") == created
    assert "my_image" in [image["name"] for image in client.list()]

    # update (merge) / duplicate / delete
    updated = client.update("my_image", display_name="Renamed", pull_policy="Always")
    assert updated["display_name"] == "Renamed"
    assert updated["metadata"]["pull_policy"] == "Always"
    assert updated["metadata"]["tags"] == ["gpu"]
    copy = client.duplicate("my_image")
    assert copy["display_name"] == "Renamed (copy)"
    client.delete(copy["name"])
    with pytest.raises(NotFoundError) as missing:
        client.get(copy["name"])
    assert missing.value.status == 404
    assert copy["name"] in missing.value.message

    # ValidationError names every field
    with pytest.raises(ValidationError) as invalid:
        client.create("Bad", "not a valid image !!", pull_policy="Sometimes")
    assert {e["path"] for e in invalid.value.errors} == {
        "metadata.image_name",
        "metadata.pull_policy",
    }
    # ConflictError: the name is taken
    with pytest.raises(ConflictError):
        client.create("Other", "quay.io/me/img:2.0", name="my_image")
    # ForbiddenError: a factory image cannot be deleted
    factory = next(i for i in client.list() if i["origin"] == "factory")
    with pytest.raises(ForbiddenError):
        client.delete(factory["name"])
    # include_invalid lists broken files too
    assert client.list(include_invalid=True)[: len(client.list())] == client.list()


def test_registry_methods(client: RuntimeImages, elyra_image: PushedImage) -> None:
    reference, digest = elyra_image.reference, elyra_image.digest
    created = client.create("Registry image", reference)

    # pin: stores repo:tag@digest; a stale If-Match is a PreconditionFailedError
    with pytest.raises(PreconditionFailedError) as stale:
        client.pin(created["name"], if_match='"stale"')
    assert stale.value.status == 412
    pinned = client.pin(created["name"])
    assert pinned["metadata"]["image_name"] == f"{reference}@{digest}"

    # validate: by runtime image name, or by image reference
    by_name = client.validate(created["name"], profiles=["elyra"])
    assert by_name["ok"] is True
    assert by_name["profiles"] == ["elyra"]
    assert by_name["report"]["digest"] == digest
    assert {c["id"] for c in by_name["checks"]} >= {"python3", "curl"}
    by_image = client.validate(reference, profiles=["kubeflow"])
    assert by_image["ok"] is False
    assert any(c["result"] == "fail" for c in by_image["checks"])

    with pytest.raises(ValidationError) as unknown:
        client.validate(reference, profiles=["no-such-profile"])
    assert unknown.value.errors[0]["path"] == "profiles"
    with pytest.raises(UpstreamError) as not_there:
        client.validate(f"{elyra_image.repository}:missing")
    assert (not_there.value.status, not_there.value.code) == (422, "ImageNotFound")
    with pytest.raises(NotFoundError):
        client.pin("no_such_image")


def test_registry_failures_are_upstream_errors_with_their_code(
    client: RuntimeImages,
    basic_registry: RegistryServer,
    repo_name: str,
) -> None:
    private = f"{basic_registry.host}/{repo_name}:1"
    with pytest.raises(UpstreamError) as needs_credentials:
        client.validate(private)
    assert (needs_credentials.value.status, needs_credentials.value.code) == (424, "AuthRequired")
    created = client.create("Private", private)
    with pytest.raises(UpstreamError) as also:
        client.pin(created["name"])
    assert also.value.code == "AuthRequired"
    assert "authentication" in also.value.message


def test_build_methods(client: RuntimeImages, elyra_image: PushedImage) -> None:
    digest = elyra_image.digest
    submitted = client.import_image(
        elyra_image.reference, "Imported image", name="imported", creator="tester"
    )
    assert submitted["metadata"]["name"] == "imported"
    build = client.wait("imported", timeout=120, interval=0.2)
    assert build["status"]["phase"] == "Ready", build["status"]
    assert build["status"]["image"].endswith(digest)
    assert client.get_build("imported")["status"]["phase"] == "Ready"
    assert "imported" in [b["metadata"]["name"] for b in client.builds()]
    assert "Ready=True" in client.build_log("imported")
    assert client.get("imported")["metadata"]["image_name"].endswith(digest)
    with pytest.raises(NotFoundError):
        client.get_build("no-such-build")
    with pytest.raises(ValidationError):
        client.build({"kind": "CustomNBImage"})

    # The lifecycle: an ended build cannot be cancelled, but retried; a running one can
    # be cancelled; any can be deleted (the runtime image it configured stays).
    with pytest.raises(ConflictError, match="already ended"):
        client.cancel_build("imported")
    retried = client.retry_build("imported")
    assert retried["metadata"]["generation"] == 2
    with pytest.raises(ConflictError, match="still running"):
        client.retry_build("imported")
    client.wait("imported", timeout=120, interval=0.2)
    client.delete_build("imported")
    with pytest.raises(NotFoundError):
        client.delete_build("imported")
    assert client.get("imported")["metadata"]["image_name"].endswith(digest)


def test_a_running_build_is_cancelled_from_the_client(
    client: RuntimeImages,
    registry: RegistryServer,
    repo_name: str,
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    with HoldingProxy(registry.port) as proxy:
        client.import_image(f"{proxy.host}/{repo_name}:1", "Held", name="held")
        cancelled = client.cancel_build("held")
        assert cancelled["status"]["phase"] == "Failed"
        assert cancelled["status"]["conditions"][-1]["reason"] == "Cancelled"


def test_kernelspec(client: RuntimeImages, env: dict[str, str]) -> None:
    client.create("Data Science", "quay.io/acme/ds:1", name="data_sci")
    installed = client.kernelspec(
        "data_sci", "kubernetes", launch_timeout=60, authorized_users=["alice"]
    )
    resource_dir = Path(env["JUPYTER_DATA_DIR"]) / "kernels" / "k8s_data_sci"
    assert installed["resource_dir"] == str(resource_dir)
    assert json.loads((resource_dir / "kernel.json").read_text()) == installed["kernel_json"]
    assert installed["kernel_json"]["metadata"]["kernel_provisioner"]["config"] == {
        "image_name": "quay.io/acme/ds:1",
        "authorized_users": ["alice"],
        "launch_timeout": 60,
    }
    with pytest.raises(ConflictError):
        client.kernelspec("data_sci", "kubernetes")
    replaced = client.kernelspec("data_sci", "kubernetes", replace=True, display_name="DS")
    assert replaced["kernel_json"]["display_name"] == "DS"
    docker = client.kernelspec("data_sci", "docker", language="r")
    assert docker["kernel_name"] == "docker_data_sci"
    with pytest.raises(ValidationError) as refused:
        client.kernelspec("data_sci", "docker", kernel_name="x", prefix="/tmp/elsewhere")
    assert [e["path"] for e in refused.value.errors] == ["prefix"]
    with pytest.raises(NotFoundError):
        client.kernelspec("nope", "docker")


def test_discovery_of_a_running_server(
    running_server: RunningServer,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for variable in ("JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_SERVICE_PREFIX"):
        monkeypatch.delenv(variable, raising=False)
    # jupyter_server.serverapp.list_running_servers reads the server's runtime file.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", env["JUPYTER_RUNTIME_DIR"])
    found = RuntimeImages()
    assert found.base_url == running_server.url + "/"
    assert found.token == running_server.token
    assert isinstance(found.list(), list)

    # JupyterHub's variables win over the runtime files.
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", f"http://0.0.0.0:{running_server.port}/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", running_server.token)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/")
    hub = RuntimeImages()
    assert hub.base_url == f"http://127.0.0.1:{running_server.port}/"
    assert isinstance(hub.list(), list)

    # An explicit URL wins over both.
    assert discover("http://example.test:1/base", "t") == ("http://example.test:1/base/", "t")


def test_no_server_and_bad_token(
    running_server: RunningServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable in ("JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_API_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    empty = tmp_path / "empty-runtime"
    empty.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(empty))
    with pytest.raises(ServerNotFoundError, match="No running Jupyter server"):
        RuntimeImages()
    with pytest.raises(ServerNotFoundError, match="cannot be reached"):
        RuntimeImages(url=f"http://127.0.0.1:{free_port()}", token="t").list()
    with pytest.raises(ForbiddenError):
        RuntimeImages(url=running_server.url, token="wrong-token").list()


NOTEBOOK = Path(__file__).parents[1] / "docs" / "runtime-images-client.ipynb"


def run_notebook(source: Path, env: dict[str, str], workdir: Path) -> str:
    """Execute a notebook with nbclient (through ``jupyter nbconvert``) in a real kernel;
    the JSON of every cell's outputs."""
    import nbformat

    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter"),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=120",
            "--output",
            "executed.ipynb",
            str(source),
        ],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    executed = nbformat.read(workdir / "executed.ipynb", as_version=4)
    return json.dumps([c.get("outputs", []) for c in executed.cells])


def parameterised_notebook(registry: RegistryServer, repo_name: str, workdir: Path) -> Path:
    import nbformat

    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source = f'IMAGE = "{registry.host}/{repo_name}:1"\nNAME = "nb_image"'
    source = workdir / "notebook.ipynb"
    nbformat.write(notebook, source)
    return source


def test_the_documented_notebook_runs_top_to_bottom_twice(
    running_server: RunningServer,
    env: dict[str, str],
    tmp_path: Path,
    registry: RegistryServer,
    repo_name: str,
) -> None:
    """docs/runtime-images-client.ipynb, executed by a real kernel that finds the server —
    twice, as a person re-runs it (names it created are taken the second time)."""
    source = parameterised_notebook(registry, repo_name, tmp_path)
    kernel_env = {k: v for k, v in env.items() if not k.startswith("JUPYTERHUB_")}
    for run in (1, 2):
        text = run_notebook(source, kernel_env, tmp_path)
        assert "ename" not in text, (run, text[-2000:])
        assert "metadata.pull_policy" in text  # the ValidationError cell
        assert "OK" in text  # validate
        assert "@sha256:" in text  # pin
        assert "kernels/k8s_nb_image/kernel.json" in text
        assert "Ready" in text  # the import build


def test_the_notebook_goes_on_without_gateway_provisioners(
    env: dict[str, str],
    tmp_path: Path,
    registry: RegistryServer,
    repo_name: str,
) -> None:
    """A server where gateway-provisioners cannot be imported (as on a machine that never
    installed it): the kernelspec cell reports what to install and the rest runs."""
    blocker = tmp_path / "no-gateway-provisioners"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['gateway_provisioners'] = None  # not installed here\n"
    )
    server_env = {**env, "PYTHONPATH": str(blocker)}
    running = RunningServer(server_env, tmp_path)
    try:
        source = parameterised_notebook(registry, repo_name, tmp_path)
        kernel_env = {k: v for k, v in server_env.items() if not k.startswith("JUPYTERHUB_")}
        text = run_notebook(source, kernel_env, tmp_path)
    finally:
        running.stop()
    assert "ename" not in text, text[-2000:]
    assert "GatewayProvisionersMissing" in text
    assert "gateway-provisioners" in text
    assert "Ready" in text  # the cells after it ran
