"""GitRepository environment detection (repo2docker's Python path) and cloning, against
files written by the test and a real local git repository made with the git CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from runtime_images.builds.repository import DetectedEnvironment, RepositoryError, clone, detect

INSTALLABLE_PYPROJECT = (
    '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
    '[project]\nname = "demo"\nversion = "0.1"\n'
)


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path to content) under ``root`` and return ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


# detect()


def test_root_requirements_txt(tmp_path: Path) -> None:
    """Root requirements.txt gives its specifiers, comments and blank lines dropped."""
    write(tmp_path, {"requirements.txt": "# pinned\nsix==1.16.0\n\nattrs>=23  # inline\n"})
    found = detect(tmp_path)
    assert found == DetectedEnvironment(
        files=["requirements.txt"], requirements=["six==1.16.0", "attrs>=23"]
    )


def test_nothing_to_detect(tmp_path: Path) -> None:
    """A repository without environment files asks for nothing."""
    write(tmp_path, {"README.md": "hello\n"})
    assert detect(tmp_path) == DetectedEnvironment()


@pytest.mark.parametrize("binder", ["binder", ".binder"])
def test_binder_directory_takes_precedence_over_root(tmp_path: Path, binder: str) -> None:
    """With binder/ or .binder/, only that directory is read: root files are ignored,
    including a root Dockerfile, runtime.txt and installable project."""
    write(
        tmp_path,
        {
            "requirements.txt": "rootpkg==1\n",
            "runtime.txt": "python-3.9\n",
            "Dockerfile": "FROM scratch\n",
            "setup.py": "from setuptools import setup\nsetup()\n",
            f"{binder}/requirements.txt": "binderpkg==2\n",
            f"{binder}/runtime.txt": "python-3.12\n",
        },
    )
    found = detect(tmp_path)
    assert found.requirements == ["binderpkg==2"]
    assert found.files == [f"{binder}/runtime.txt", f"{binder}/requirements.txt"]
    assert found.python_version == "3.12"
    assert found.install_project is False


def test_both_binder_directories_is_an_error(tmp_path: Path) -> None:
    """binder/ and .binder/ together are ambiguous and rejected."""
    write(tmp_path, {"binder/requirements.txt": "a\n", ".binder/requirements.txt": "b\n"})
    with pytest.raises(RepositoryError, match=r"both binder/ and \.binder/"):
        detect(tmp_path)


def test_pipfile_lock_preferred_over_pipfile(tmp_path: Path) -> None:
    """Pipfile.lock's pinned default packages win over Pipfile's loose ones."""
    lock = {
        "_meta": {},
        "default": {"six": {"version": "==1.16.0"}, "attrs": {"version": "==23.2.0"}},
        "develop": {"pytest": {"version": "==8.0.0"}},
    }
    write(
        tmp_path,
        {"Pipfile.lock": json.dumps(lock), "Pipfile": '[packages]\nrequests = "*"\n'},
    )
    found = detect(tmp_path)
    assert found.files == ["Pipfile.lock"]
    assert found.requirements == ["attrs==23.2.0", "six==1.16.0"]


def test_pipfile_alone(tmp_path: Path) -> None:
    """Pipfile's [packages] become specifiers ("*" means any version); dev packages do not."""
    pipfile = (
        '[packages]\nrequests = "*"\nsix = ">=1.15"\nattrs = {version = "==23.2.0"}\n\n'
        '[dev-packages]\npytest = "*"\n'
    )
    write(tmp_path, {"Pipfile": pipfile})
    found = detect(tmp_path)
    assert found.files == ["Pipfile"]
    assert found.requirements == ["attrs==23.2.0", "requests", "six>=1.15"]


def test_requirements_txt_preferred_over_pipfile(tmp_path: Path) -> None:
    """As the module implements it, requirements.txt is read before any Pipfile."""
    write(tmp_path, {"requirements.txt": "six\n", "Pipfile": '[packages]\nrequests = "*"\n'})
    found = detect(tmp_path)
    assert found.files == ["requirements.txt"]
    assert found.requirements == ["six"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("pyproject.toml", INSTALLABLE_PYPROJECT),
        ("setup.py", "from setuptools import setup\nsetup(name='demo')\n"),
    ],
)
def test_project_is_installed(tmp_path: Path, name: str, content: str) -> None:
    """A root pyproject.toml (with [project] and [build-system]) or setup.py installs the
    project itself, alongside requirements.txt."""
    write(tmp_path, {name: content, "requirements.txt": "six\n"})
    found = detect(tmp_path)
    assert found.install_project is True
    assert found.files == ["requirements.txt", name]
    assert found.requirements == ["six"]


def test_pyproject_without_project_table_is_not_installed(tmp_path: Path) -> None:
    """A pyproject.toml holding only tool settings is not an installable project."""
    write(tmp_path, {"pyproject.toml": "[tool.ruff]\nline-length = 99\n"})
    found = detect(tmp_path)
    assert found.install_project is False
    assert found.files == []


def test_setup_py_installed_despite_tool_only_pyproject(tmp_path: Path) -> None:
    """repo2docker installs a project with setup.py; a pyproject.toml with only [tool.*]
    next to it should not stop that."""
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.black]\nline-length = 99\n",
            "setup.py": "from setuptools import setup\nsetup(name='demo')\n",
        },
    )
    found = detect(tmp_path)
    assert found.install_project is True
    assert found.files == ["setup.py"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", "[project\nname = 'x'\n"),
        ("Pipfile", "[packages\n"),
        ("Pipfile.lock", "{not json"),
    ],
)
def test_a_malformed_file_is_an_error_naming_it(tmp_path: Path, name: str, text: str) -> None:
    write(tmp_path, {name: text})
    with pytest.raises(RepositoryError, match=rf"^{re.escape(name)} cannot be read: "):
        detect(tmp_path)


@pytest.mark.parametrize(
    ("content", "version"),
    [("python-3.11", "3.11"), ("python-3.11\n", "3.11"), ("python-3.10.4", "3.10")],
)
def test_runtime_txt_picks_python_version(tmp_path: Path, content: str, version: str) -> None:
    """runtime.txt python-X.Y[.Z] gives python_version X.Y and is listed as a file."""
    write(tmp_path, {"runtime.txt": content})
    found = detect(tmp_path)
    assert found.python_version == version
    assert found.files == ["runtime.txt"]


UNSUPPORTED = ["environment.yml", "environment.yaml", "apt.txt", "Dockerfile", "postBuild"]


@pytest.mark.parametrize(
    ("path", "content"),
    [
        *[("runtime.txt", c) for c in ("r-4.0", "r-2023-01-01", "python-3", "python3.11")],
        ("binder/runtime.txt", "r-4.0"),
    ],
)
def test_invalid_runtime_txt_is_an_error_naming_the_file(
    tmp_path: Path, path: str, content: str
) -> None:
    """A runtime.txt that is not python-X.Y fails with a reason naming the file where it is,
    e.g. binder/runtime.txt."""
    write(tmp_path, {path: content})
    with pytest.raises(RepositoryError, match=rf"^{re.escape(path)} must read python-X\.Y"):
        detect(tmp_path)


@pytest.mark.parametrize("path", [*UNSUPPORTED, "binder/apt.txt"])
def test_unsupported_file_is_an_error_naming_it(tmp_path: Path, path: str) -> None:
    """Files needing more than wheels fail with a reason starting with the file's name,
    with its binder/ prefix when it is inside binder/."""
    write(tmp_path, {path: "x\n", "requirements.txt": "six\n"})
    with pytest.raises(
        RepositoryError, match=rf"^{re.escape(path)} needs more than adding Python wheels"
    ):
        detect(tmp_path)


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_allowed_unsupported_file_is_listed(tmp_path: Path, name: str) -> None:
    """With ``allow``, an unsupported file is listed in ``files`` instead of failing."""
    write(tmp_path, {name: "x\n", "requirements.txt": "six\n"})
    found = detect(tmp_path, allow=(name,))
    assert found.files == [name, "requirements.txt"]
    assert found.requirements == ["six"]


@pytest.mark.parametrize(
    "line", ["-r other.txt", "-e .", "git+https://example.com/x.git", "--index-url https://x"]
)
def test_requirements_line_that_is_not_a_specifier_is_rejected(tmp_path: Path, line: str) -> None:
    """Only package specifiers are accepted in requirements.txt."""
    write(tmp_path, {"requirements.txt": f"six\n{line}\n"})
    with pytest.raises(RepositoryError, match="is not supported"):
        detect(tmp_path)


def test_summary_and_json(tmp_path: Path) -> None:
    """summary() and to_json() report what was detected."""
    write(tmp_path, {"runtime.txt": "python-3.11", "requirements.txt": "six\nattrs\n"})
    found = detect(tmp_path)
    assert found.summary() == "runtime.txt, requirements.txt; Python 3.11; 2 requirement(s)"
    assert found.to_json() == {
        "files": ["runtime.txt", "requirements.txt"],
        "requirements": ["six", "attrs"],
        "pythonVersion": "3.11",
        "installProject": False,
    }


# clone()


class Upstream:
    """A local git repository, cloned through its file:// URL so shallow fetches apply:
    "version 1" (tag v1) then "version 2" on main, and "other branch" on branch other."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "upstream"
        self.path.mkdir()
        self.url = self.path.as_uri()
        home = tmp_path / "home"
        home.mkdir()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
        }
        self.git("-c", "init.defaultBranch=main", "init", "-q")
        self.commit("version 1\n")
        self.first = self.git("rev-parse", "HEAD")
        self.git("tag", "v1")
        self.commit("version 2\n")
        self.second = self.git("rev-parse", "HEAD")
        self.git("checkout", "-q", "-b", "other")
        self.commit("other branch\n")
        self.other = self.git("rev-parse", "HEAD")
        self.git("checkout", "-q", "main")

    def git(self, *args: str) -> str:
        """Run git in the repository and return its trimmed output."""
        result = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, check=True, capture_output=True, text=True
        )
        return result.stdout.strip()

    def commit(self, content: str) -> None:
        """Commit ``content`` as VERSION."""
        (self.path / "VERSION").write_text(content)
        self.git("add", "VERSION")
        self.git("commit", "-qm", content.strip())


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return Upstream(tmp_path)


@pytest.mark.parametrize(
    ("ref", "content", "commit"),
    [
        (None, "version 2\n", "second"),
        ("main", "version 2\n", "second"),
        ("other", "other branch\n", "other"),
        ("v1", "version 1\n", "first"),
    ],
)
async def test_clone_branch_or_tag(
    upstream: Upstream, tmp_path: Path, ref: str | None, content: str, commit: str
) -> None:
    """Cloning the default branch, a branch or a tag checks it out and returns its commit."""
    logs: list[str] = []
    target = tmp_path / "clone"
    result = await clone(upstream.url, ref, target, logs.append)
    assert result == getattr(upstream, commit)
    assert (target / "VERSION").read_text() == content
    assert logs[-1] == f"Cloned commit {result}"
    assert logs[0].startswith(f"Cloning {upstream.url}")


async def test_clone_older_commit_by_full_sha(upstream: Upstream, tmp_path: Path) -> None:
    """A full sha of an older commit checks out that commit's files, not the branch tip."""
    logs: list[str] = []
    target = tmp_path / "clone"
    result = await clone(upstream.url, upstream.first, target, logs.append)
    assert result == upstream.first
    assert (target / "VERSION").read_text() == "version 1\n"
    assert logs == [f"Cloning {upstream.url} at {upstream.first}", f"Cloned commit {result}"]


async def test_clone_older_commit_by_short_sha(upstream: Upstream, tmp_path: Path) -> None:
    """An abbreviated sha is resolved to the full commit."""
    target = tmp_path / "clone"
    result = await clone(upstream.url, upstream.first[:10], target, lambda _: None)
    assert result == upstream.first
    assert (target / "VERSION").read_text() == "version 1\n"


async def test_clone_missing_branch_is_a_clear_error(upstream: Upstream, tmp_path: Path) -> None:
    """A branch or tag that does not exist fails with git's reason."""
    with pytest.raises(
        RepositoryError, match=r"(?s)git clone failed: .*Remote branch no-such-branch not found"
    ):
        await clone(upstream.url, "no-such-branch", tmp_path / "clone", lambda _: None)


async def test_clone_missing_commit_is_a_clear_error(upstream: Upstream, tmp_path: Path) -> None:
    """A sha that is not in the repository fails with git's reason naming it."""
    missing = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(RepositoryError, match=rf"(?s)git checkout failed: .*{missing}"):
        await clone(upstream.url, missing, tmp_path / "clone", lambda _: None)


async def test_clone_missing_repository_is_a_clear_error(tmp_path: Path) -> None:
    """A URL that is not a repository fails with git clone's reason."""
    with pytest.raises(RepositoryError, match="git clone failed"):
        await clone(str(tmp_path / "nowhere"), None, tmp_path / "clone", lambda _: None)
