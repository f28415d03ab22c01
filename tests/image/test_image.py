"""The image's build steps, run here as Docker runs them (no Docker engine on this machine): the
Dockerfile is read instruction by instruction, COPY makes root-owned copies of the build context
(owned by the build user only with --chown), and each RUN of the non-root user runs as an unprivileged
user (nobody, when the tests run as root; otherwise files are made read-only), with pip of a fresh
virtualenv that sees this environment's packages (installed from the same lock). A step that needs to
write where the build user may not fails here as it fails in `docker build`."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
# Paths of the image that the steps use, and where they live in this emulation.
IMAGE_DIRS = ("/build", "/requirements", "/wheels")


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    steps = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            steps.append((op.upper(), rest.strip()))
    return steps


def context_files() -> list[Path]:
    """What .dockerignore lets into the build context (its rules: everything out, then the !exceptions)."""
    rules = [r for r in (ROOT / ".dockerignore").read_text().splitlines() if r and not r.startswith("#")]
    assert rules[0] == "*"
    sent = []
    for rule in rules[1:]:
        if rule.startswith("!"):
            path = ROOT / rule[1:].rstrip("/")
            sent += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    excluded = [r for r in rules[1:] if not r.startswith("!")]

    def left_out(path: Path) -> bool:  # a rule matching the path or a folder above it (Docker's own reading)
        parts = path.relative_to(ROOT).parts
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        return "__pycache__" in parts or any(fnmatch.fnmatchcase(p, r) for p in prefixes for r in excluded)

    return [p for p in sent if not left_out(p)]


class Build:
    """The file system of the emulated build and the user its non-root steps run as."""

    def __init__(self, top: Path) -> None:
        self.top = top
        self.fs = top / "fs"
        self.home = top / "home"
        self.as_root = os.geteuid() == 0
        self.uid = NOBODY if self.as_root else os.geteuid()
        self.fs.mkdir()
        self.home.mkdir()
        venv = top / "venv"
        subprocess.run([self.interpreter(), "-m", "venv", str(venv)], check=True)
        site = Path(sysconfig.get_path("purelib", vars={"base": str(venv)}))
        # The virtualenv sees this environment's packages: installed from the same lock as the image's.
        (site / "project-environment.pth").write_text(sysconfig.get_path("purelib") + "\n")
        self.bin = venv / "bin"
        if self.as_root:
            for path in (self.home, venv):
                shutil.chown(path, NOBODY, NOBODY)
                for p in path.rglob("*"):
                    os.lchown(p, NOBODY, NOBODY)

    def interpreter(self) -> str:
        """A Python 3.11 the build user may run: this one, or the system's when this one lies where
        that user cannot reach (a Python under root's home)."""
        for candidate in (sys._base_executable, "/usr/bin/python3.11"):
            if (
                not self.as_root
                or subprocess.run(
                    # through bash, as the steps run (a direct exec by setpriv may still pass where they fail)
                    [
                        "setpriv",
                        f"--reuid={NOBODY}",
                        f"--regid={NOBODY}",
                        "--clear-groups",
                        "bash",
                        "-c",
                        '"$0" -c ""',
                        candidate,
                    ],
                    capture_output=True,
                    check=False,
                ).returncode
                == 0
            ):
                return candidate
        raise AssertionError("no Python 3.11 the unprivileged build user can run")

    def path(self, image_path: str) -> Path:
        return self.fs / image_path.lstrip("/")

    def own(self, path: Path, build_user: bool, *, recurse: bool = True) -> None:
        """Owned by the build user (COPY --chown) or by root, as COPY leaves it (read-only for the
        build user where the tests cannot be root)."""
        inside = list(path.rglob("*")) if recurse and path.is_dir() else []
        for p in [*inside, path]:  # a folder after its contents: read-only last
            if self.as_root:
                os.lchown(p, self.uid if build_user else 0, 0)
            elif not build_user:
                p.chmod(p.stat().st_mode & ~0o222)

    def copy(self, args: str) -> None:
        words = shlex.split(args)
        flags = {w.split("=", 1)[0]: w.split("=", 1)[1] for w in words if w.startswith("--")}
        *sources, dest = [w for w in words if not w.startswith("--")]
        target, chown, built = self.path(dest), "--chown" in flags, "--from" in flags
        folder = target if dest.endswith("/") else target.parent
        made = [d for d in [folder, *folder.parents] if d.is_relative_to(self.fs) and d != self.fs and not d.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        copied = []
        for source in sources:
            origin = self.path(source) if built else ROOT / source
            assert origin.exists(), f"COPY {source}: not in the build context"
            files = None if built else [p for p in context_files() if p == origin or p.is_relative_to(origin)]
            assert built or files, f"COPY {source}: left out by .dockerignore"
            into = target / origin.name if dest.endswith("/") else target
            if origin.is_dir():
                shutil.copytree(origin, into, dirs_exist_ok=True, ignore=None if built else _only(origin, files))
            else:
                shutil.copy2(origin, into)
            copied.append(into)
        for path in copied:
            self.own(path, chown)
        for made_folder in made:  # directories the COPY created take its owner too (BuildKit)
            self.own(made_folder, chown, recurse=False)

    def run(self, command: str) -> subprocess.CompletedProcess:
        for image_dir in IMAGE_DIRS:
            command = re.sub(rf"(?<![\w/]){re.escape(image_dir)}(?=/|\s|$)", str(self.path(image_dir)), command)
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(self.home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if self.as_root else []
        return subprocess.run([*prefix, "bash", "-c", command], env=env, capture_output=True, text=True, check=False)


def _only(origin: Path, files: list[Path]):
    keep = {str(p) for p in files} | {str(parent) for p in files for parent in p.parents}

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if str(Path(folder) / n) not in keep]

    return ignore


@pytest.fixture
def build() -> Iterator[Build]:
    top = Path(tempfile.mkdtemp(prefix="image-build-", dir="/tmp"))
    top.chmod(0o755)
    try:
        yield Build(top)
    finally:
        for p in top.rglob("*"):
            if not p.is_symlink():
                p.chmod(p.stat().st_mode | 0o700)
        shutil.rmtree(top)


def test_the_dockerfile_builds_as_its_non_root_user_on_a_root_owned_context(build: Build) -> None:
    """Every step of the non-root user runs and succeeds: the package is built into a wheel where the
    build user may write, the runtime set installs under requirements.lock, the wheel installs, and
    pip check passes. Only the root steps (apt) are not run here."""
    user, stages, ran, skipped = "airflow", 0, [], []
    for op, args in instructions((ROOT / "Dockerfile").read_text()):
        if op == "FROM":
            user, stages = "airflow", stages + 1  # the Airflow image's default user
            assert args.startswith("apache/airflow:slim-3.3.2-python3.11"), args
        elif op == "USER":
            user = args
        elif op == "COPY":
            build.copy(args)
        elif op == "RUN" and user == "root":
            skipped.append(args)
        elif op == "RUN":
            result = build.run(args)
            assert result.returncode == 0, f"RUN {args}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
            ran.append(args)
    assert stages == 2
    assert [s.split()[0] for s in skipped] == ["apt-get"]
    assert any("pip check" in step for step in ran)
    wheels = list(build.path("/wheels").glob("sap_warehouse-*.whl"))
    assert len(wheels) == 1, "the build stage's wheel reaches the final stage"
    installed = subprocess.run(
        [str(build.bin / "python"), "-c", "import sap_warehouse, sys; print(sap_warehouse.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert installed.startswith(str(build.top / "venv")), installed
    # Every module of the package is in the wheel, and its page templates: the image's tasks import
    # any of them (a subpackage the wheel left out would fail its first task, not the build).
    shipped = {
        p.relative_to(ROOT / "src").with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
        for p in (ROOT / "src" / "sap_warehouse").rglob("*.py")
    }
    check = (
        "import importlib, sys; from importlib.resources import files; "
        "[importlib.import_module(m) for m in sys.argv[1:]]; "
        "print(files('sap_warehouse.signals').joinpath('templates', 'oncall.html').is_file())"
    )
    imported = subprocess.run(
        [str(build.bin / "python"), "-c", check, *sorted(shipped)], capture_output=True, text=True, check=False
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert imported.stdout.strip() == "True"


def test_the_emulation_fails_where_docker_build_fails(build: Build) -> None:
    """The step as it used to be (COPY without --chown, then `pip install /build` as the non-root
    user): setuptools cannot create build/ in a root-owned tree, here as under Docker."""
    build.copy("pyproject.toml requirements.txt /build/")
    build.copy("src /build/src")
    result = build.run("pip install --no-cache-dir --no-deps /build")
    assert result.returncode != 0
    assert "Permission denied" in result.stdout + result.stderr
