"""The system parts careline loads are installed by name, and a missing one is named.

scripts/check-system.sh (run by `make test`) checks the machine; `make fresh-check` runs it
on a fresh Debian 12. These tests keep its table and the package list in step, and show
that a library nothing on the machine provides is reported with who needs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "check-system.sh"
PACKAGES = ROOT / "scripts" / "system-packages.txt"


def _listed_packages() -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in PACKAGES.read_text().splitlines())
    return {line for line in lines if line}


def test_every_package_the_check_names_is_in_the_list_make_test_installs() -> None:
    script = CHECK.read_text()
    for_files = re.findall(r'^\s*"/[^|"]+\|([a-z0-9.+-]+)\|', script, re.MULTILINE)
    for_libraries = re.findall(r"^\s*\[[^]]+\]=([a-z0-9.+-]+)$", script, re.MULTILINE)
    assert for_files, "found no files in check-system.sh: the pattern is wrong"
    assert "libatomic1" in for_libraries, "found no libraries in check-system.sh"
    assert set(for_files) | set(for_libraries) <= _listed_packages()


def _venv_linking(tmp_path: Path, library: bytes) -> Path:
    """A venv whose one compiled module needs `library`: a copy of bash with its libtinfo
    renamed (same length, so the ELF stays valid)."""
    elf = Path("/bin/bash").read_bytes()
    assert elf.count(b"libtinfo.so.6\0") == 1
    assert len(library) == len(b"libtinfo.so.6")
    package = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "fake"
    package.mkdir(parents=True)
    module = package / "_fake.cpython-311-x86_64-linux-gnu.so"
    module.write_bytes(elf.replace(b"libtinfo.so.6\0", library + b"\0"))
    module.chmod(0o755)
    return tmp_path / "venv"


def test_a_library_that_a_compiled_module_needs_and_nothing_provides_is_named(
    tmp_path: Path,
) -> None:
    venv = _venv_linking(tmp_path, b"libnowhere.so")
    result = subprocess.run(
        ["bash", str(CHECK), str(venv)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "missing: libnowhere.so (needed by fake/_fake.cpython-311-x86_64-linux-gnu.so; "
        "find its Debian package with apt-file search libnowhere.so)"
    ) in result.stderr.splitlines()


def test_a_complete_venv_passes(tmp_path: Path) -> None:
    venv = _venv_linking(tmp_path, b"libtinfo.so.6")
    result = subprocess.run(
        ["bash", str(CHECK), str(venv)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


DEPS = ROOT / "scripts" / "system-deps.sh"


def test_make_run_says_in_one_line_how_to_install_clamav_when_it_cannot() -> None:
    """`make run` installs ClamAV when it can without asking (root, or `sudo -n`); a
    person who cannot is told how in one line, and careline starts all the same."""
    with tempfile.TemporaryDirectory() as where:
        bin_dir = Path(where)
        bin_dir.chmod(0o755)  # for the unprivileged user the script runs as
        _run_unprivileged_deps(bin_dir)


def _run_unprivileged_deps(bin_dir: Path) -> None:
    for tool in ("bash", "dpkg-query", "grep", "id", "dirname"):
        found = subprocess.run(["which", tool], capture_output=True, text=True, check=True)
        (bin_dir / tool).symlink_to(found.stdout.strip())
    as_nobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    wanted = ["clamav-daemon", "careline-no-such-package"]
    run = subprocess.run(  # not root, and no sudo on PATH
        [*(as_nobody if os.geteuid() == 0 else []), "bash", str(DEPS), "--if-possible", *wanted],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(bin_dir)},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "careline: careline-no-such-package not installed (file sharing stays paused); "
        "install with: sudo apt-get install careline-no-such-package"
    ]
    assert run.stderr == ""
