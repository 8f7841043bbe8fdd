"""build.sh and test.sh stop with one clear line, not a traceback, when the machine
lacks what they need.  Each case runs the real scripts in a scratch copy."""
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scratch(tmp_path, requirements="numpy==2.4.6\n"):
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "setup_env.sh", tmp_path / "scripts")
    for name in ("build.sh", "test.sh"):
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / "requirements.txt").write_text(requirements)
    return tmp_path


def fake_ready_venv(root: Path):
    """A .venv that setup_env.sh accepts as up to date (no install happens)."""
    bindir = root / ".venv" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").symlink_to(sys.executable)
    digest = hashlib.sha256((root / "requirements.txt").read_bytes()).hexdigest()
    (root / ".venv" / ".requirements.sha256").write_text(digest + "\n")


def run(script: Path, path_dirs, extra_env=None):
    env = {"PATH": os.pathsep.join(str(p) for p in path_dirs), "HOME": str(script.parent)}
    env.update(extra_env or {})
    return subprocess.run(["/bin/bash", str(script)], capture_output=True, text=True, env=env, timeout=300)


def system_dirs():
    return [Path(p) for p in ("/usr/bin", "/bin")]


def one_error_line(result):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def test_missing_python_is_one_clear_line(tmp_path):
    root = scratch(tmp_path)
    fake = tmp_path / "oldpython"
    fake.mkdir()
    for name in ("python3", "python3.11", "python3.12", "python3.13", "python3.14"):
        exe = fake / name
        exe.write_text("#!/bin/sh\nexit 1\n")  # answers like an interpreter older than 3.11
        exe.chmod(0o755)
    line = one_error_line(run(root / "build.sh", [fake, *system_dirs()]))
    assert "Python 3.11 or newer is required" in line


def test_failed_install_is_one_clear_line(tmp_path):
    root = scratch(tmp_path, requirements="this-package-does-not-exist-anywhere==0.0.1\n")
    pydir = Path(sys.executable).parent
    result = run(root / "build.sh", [pydir, *system_dirs()], {"PIP_RETRIES": "0", "PIP_TIMEOUT": "10"})
    line = one_error_line(result)
    assert "pip install -r requirements.txt failed" in line
    assert (root / ".venv" / "install.log").is_file()


def test_missing_browser_is_one_clear_line(tmp_path):
    root = scratch(tmp_path)
    fake_ready_venv(root)
    nochromium = tmp_path / "bin"
    nochromium.mkdir()
    for tool in ("sha256sum", "cut", "cat", "dirname", "rm"):
        found = shutil.which(tool)
        (nochromium / tool).symlink_to(found)
    line = one_error_line(run(root / "test.sh", [nochromium]))
    assert "chromium not found" in line and "apt-get install" in line


def test_install_shows_pip_progress_on_the_terminal_and_keeps_the_log(tmp_path):
    root = scratch(tmp_path, requirements="six==1.16.0\n")
    pydir = Path(sys.executable).parent
    result = run(root / "build.sh", [pydir, *system_dirs()])
    progress = [line for line in result.stdout.splitlines() if line.startswith("  pip: ")]
    assert any("Collecting six" in line for line in progress), result.stdout
    assert any("Successfully installed six" in line for line in progress), result.stdout
    log = (root / ".venv" / "install.log").read_text()
    assert "Successfully installed six-1.16.0" in log
