"""``schemas/`` is the one source of the schemas and the OpenAPI description, and the wheel
carries exactly those bytes inside the package, where the installed package reads them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SCHEMAS = ROOT / "schemas"


@pytest.mark.timeout(300)
def test_the_installed_package_serves_the_same_bytes(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = tmp_path.glob("jupyter_runtime_images-*.whl")
    sources = {
        p.relative_to(SCHEMAS).as_posix(): p.read_bytes() for p in SCHEMAS.rglob("*") if p.is_file()
    }
    assert {
        "runtime-image.json",
        "custom-nb-image.json",
        "events/build.yaml",
        "openapi.yaml",
    } <= set(sources)
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removeprefix("runtime_images/schemas/"): archive.read(name)
            for name in archive.namelist()
            if name.startswith("runtime_images/schemas/")
        }
        archive.extractall(tmp_path / "installed")
    assert shipped == sources
    # The installed package reads them from inside itself.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runtime_images.schemas as s, sys; print(s.schema_path('openapi.yaml'))",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "installed"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    served = Path(probe.stdout.strip())
    assert served == tmp_path / "installed" / "runtime_images" / "schemas" / "openapi.yaml"
    assert served.read_bytes() == sources["openapi.yaml"]
