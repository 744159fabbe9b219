"""Outputs never replace what is not a regular file of ours (issue #10, the output half).

- A character device or a FIFO at an output path is written through, never renamed over
  (``--json /dev/null`` leaves a device, ``--json /dev/stdout`` and a named pipe get the JSON).
- A symlink is followed: its target is replaced atomically, the link stays a link.
- A folder, an empty path, an input of the run (the instance, a study, suite or benchmark file,
  under any spelling or through a symlink) or two outputs on one file: exit 2 before any work,
  every problem at once, each naming its option and path; no traceback, the input unchanged
  byte for byte, nothing solved (no solver log anywhere).
- A run that asks for no output file writes nothing in the working directory: the solver log
  and ``run.json`` go to the user cache, and ``-v`` says where.

The solutions themselves are not checked here (tests/unit derives the tiny optimum by hand):
only where the bytes go. Devices are private copies of /dev/null and /dev/full made with
``mknod`` where the tests run as root, so that a broken writer never replaces the machine's.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "instances" / "tiny.yaml"
ORLIB = REPO / "benchmarks" / "data" / "orlib-cap" / "cap41.txt"


def _no_traceback(ran) -> None:
    assert "Traceback" not in ran.both
    assert "internal error" not in ran.both


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user cache of this test's runs (``$XDG_CACHE_HOME``), not yet created."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """A copy of tiny.yaml in its own folder: the input that a refused output must leave
    alone (a broken check overwrites the copy, never the repository's file)."""
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "tiny.yaml"
    path.write_bytes(TINY.read_bytes())
    return path


def _private_device(tmp_path: Path, name: str) -> Path:
    """A character device to write to: a private copy of /dev/NAME (same device numbers)
    where this process may ``mknod`` (root), else /dev/NAME itself, which a non-root writer
    cannot replace (a broken writer then fails instead of replacing it)."""
    real = Path("/dev") / name
    if not real.exists():
        pytest.skip(f"no {real}")
    path = tmp_path / "dev" / name
    path.parent.mkdir(exist_ok=True)
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.stat(real).st_rdev)
    except (PermissionError, AttributeError):
        return real
    return path


def _solution(text: str) -> dict:
    data = json.loads(text)
    assert data["version"] == 1
    assert data["instance"] == "tiny"
    assert data["status"] == "optimal"
    return data


# ---------------------------------------------------------------------------------------------
# devices, FIFOs and symlinks: written through or followed, never replaced
# ---------------------------------------------------------------------------------------------

def test_json_to_a_character_device_leaves_the_device(tmp_path: Path, cache: Path,
                                                      run_subprocess) -> None:
    char_device = _private_device(tmp_path, "null")
    ran = run_subprocess(["solve", TINY, "-q", "--json", char_device])
    assert ran.code == 0, ran.stderr
    _no_traceback(ran)
    st = os.lstat(char_device)
    assert stat.S_ISCHR(st.st_mode), "the device was replaced by a file"
    assert st.st_rdev == os.stat("/dev/null").st_rdev
    # a device is not a results folder: the solver log goes to the cache, not beside it
    assert sorted(p.name for p in char_device.parent.iterdir()) == [char_device.name]
    assert (cache / "eastwest" / "logs" / "tiny.solver.log").is_file()


def test_json_to_dev_stdout_goes_through(run_subprocess, tmp_path: Path) -> None:
    """stdout is a pipe here: the JSON comes out on it alone, as with ``--json -`` (the report
    goes to stderr), the same as written to a file."""
    ran = run_subprocess(["solve", TINY, "--json", "/dev/stdout"])
    assert ran.code == 0, ran.stderr
    on_stdout = _solution(ran.stdout)
    assert "optimal" in ran.stderr
    ran = run_subprocess(["solve", TINY, "-q", "--json", tmp_path / "file.json"])
    assert ran.code == 0, ran.stderr
    in_file = _solution((tmp_path / "file.json").read_text(encoding="utf-8"))
    assert on_stdout["objective"] == in_file["objective"]
    assert on_stdout["flows"] == in_file["flows"]


@pytest.mark.parametrize("option", ["--json", "--report"])
def test_dev_stdout_appended_to_a_file_keeps_what_was_there(option: str, eastwest_exe: Path,
                                                            tmp_path: Path, cache: Path) -> None:
    """``>> file``: /dev/stdout is a regular file, and the process's own stdout; the output is
    written on that stream (appended), the file is neither replaced nor truncated."""
    out = tmp_path / "out.txt"
    out.write_text("kept\n", encoding="utf-8")
    with open(out, "ab") as f:
        proc = subprocess.run([str(eastwest_exe), "solve", str(TINY), "-q", option,
                               "/dev/stdout"], stdout=f, stderr=subprocess.PIPE, cwd=tmp_path,
                              timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("kept\n")
    if option == "--json":
        _solution(text.removeprefix("kept\n"))
    else:
        assert text.removeprefix("kept\n").startswith("# ")


def test_json_to_a_full_device_is_a_worded_error(tmp_path: Path, run_subprocess) -> None:
    """/dev/full takes no byte: after the solve, exit 2 with the file and why, no errno."""
    full = _private_device(tmp_path, "full")
    ran = run_subprocess(["solve", TINY, "-q", "--json", full])
    assert ran.code == 2, ran.both
    _no_traceback(ran)
    assert f"cannot write {full}: no space left on device" in ran.stderr
    assert "Errno" not in ran.stderr
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_json_to_a_fifo_reaches_its_reader(tmp_path: Path, cache: Path,
                                           run_subprocess) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as f:  # blocks until the writer opens it
            got.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ran = run_subprocess(["solve", TINY, "-q", "--json", fifo])
    reader.join(timeout=60)
    assert ran.code == 0, ran.stderr
    _no_traceback(ran)
    assert not reader.is_alive(), "nothing opened the FIFO for writing"
    _solution(got[0].decode("utf-8"))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a file"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["cwd", "pipe"]


@pytest.mark.parametrize("option", ["--json", "--report"])
def test_a_symlink_is_followed_and_stays_a_link(option: str, tmp_path: Path,
                                                run_subprocess) -> None:
    """The target (in another folder) is replaced atomically; the link keeps pointing at it,
    and no temporary file is left in either folder."""
    target = tmp_path / "elsewhere" / "target.txt"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "here" / "out"
    link.parent.mkdir()
    link.symlink_to(target)
    ran = run_subprocess(["solve", TINY, "-q", option, link])
    assert ran.code == 0, ran.stderr
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    text = target.read_text(encoding="utf-8")
    assert text != "old\n"
    if option == "--json":
        _solution(text)
    else:
        assert text.startswith("#")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640, "the replaced file keeps its mode"
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_dangling_symlink_gets_its_target_created(tmp_path: Path, run_subprocess) -> None:
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "real.json")
    ran = run_subprocess(["solve", TINY, "-q", "--json", link])
    assert ran.code == 0, ran.stderr
    assert link.is_symlink()
    _solution((tmp_path / "real.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# refused before any work: exit 2, every problem at once, nothing solved, inputs unchanged
# ---------------------------------------------------------------------------------------------

def _refused(ran, cache: Path, *fragments: str) -> None:
    assert ran.code == 2, ran.both
    _no_traceback(ran)
    assert "Errno" not in ran.stderr
    for fragment in fragments:
        assert fragment in ran.stderr, (fragment, ran.stderr)
    assert "nothing was written" in ran.stderr
    assert "optimal" not in ran.both, "it solved before refusing"
    assert not cache.exists(), "a solver log was written: it solved before refusing"


@pytest.mark.parametrize(("args", "fragments"), [
    (["--json", ""], ["--json '': the path is empty"]),
    (["--json", "{dir}"], ["--json {dir}: is a folder, not a file"]),
    (["--json", "{inst}"], ["--json {inst}: is the instance file ({inst})"]),
    (["--json", "{indir}/../in/./tiny.yaml"], ["is the instance file ({inst})"]),
    (["--json", "{link}"], ["--json {link}: is the instance file ({inst})"]),
    (["--json", "{hard}"], ["--json {hard}: is the instance file ({inst})"]),
    (["--report", ""], ["--report '': the path is empty"]),
    (["--report", "{dir}"], ["--report {dir}: is a folder, not a file"]),
    (["--report", "{inst}"], ["--report {inst}: is the instance file"]),
    (["--csv", ""], ["--csv '': the path is empty"]),
    (["--csv", "{inst}"], ["--csv {inst}: is the instance file"]),
    (["--csv", "{dir}"], ["--csv {dir}: {dir}/flows.csv is a folder, not a file"]),
    (["--plots", ""], ["--plots '': the path is empty"]),
    (["--plots", "{inst}"], ["--plots {inst}: is the instance file"]),
    (["--json", "{dir}/same", "--report", "{dir}/./same"],
     ["--report {dir}/./same: is also written by --json"]),
    (["--json", "", "--report", "{dir}", "--csv", "{inst}"],
     ["--json ''", "--report {dir}", "--csv {inst}", "3 problems with the outputs"]),
], ids=["json-empty", "json-folder", "json-instance", "json-instance-spelled-otherwise",
        "json-symlink-to-instance", "json-hard-link-to-instance", "report-empty",
        "report-folder", "report-instance", "csv-empty", "csv-instance", "csv-file-is-a-folder",
        "plots-empty", "plots-instance", "two-outputs-one-file", "every-problem-at-once"])
def test_bad_outputs_are_refused_before_solving(args: list[str], fragments: list[str],
                                                instance: Path, tmp_path: Path, cache: Path,
                                                run_inprocess) -> None:
    folder = tmp_path / "a-folder"
    (folder / "flows.csv").mkdir(parents=True)
    link = tmp_path / "link.yaml"
    link.symlink_to(instance)
    hard = tmp_path / "hard.yaml"
    os.link(instance, hard)
    names = {"dir": str(folder), "inst": str(instance), "indir": str(instance.parent),
             "link": str(link), "hard": str(hard)}
    before = instance.read_bytes()
    ran = run_inprocess(["solve", instance, "-q", *(a.format(**names) for a in args)])
    _refused(ran, cache, *(f.format(**names) for f in fragments))
    assert instance.read_bytes() == before
    assert not (folder / "same").exists()


def test_an_output_through_a_missing_folder_is_created(tmp_path: Path, instance: Path,
                                                       run_inprocess) -> None:
    ran = run_inprocess(["solve", instance, "-q", "--json", tmp_path / "new" / "deep" / "s.json"])
    assert ran.code == 0, ran.both
    _solution((tmp_path / "new" / "deep" / "s.json").read_text(encoding="utf-8"))


def test_an_output_below_a_file_names_the_file(tmp_path: Path, instance: Path, cache: Path,
                                               run_inprocess) -> None:
    ran = run_inprocess(["solve", instance, "-q", "--json", instance / "s.json"])
    _refused(ran, cache, f"--json {instance}/s.json: {instance} is not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_an_output_in_a_read_only_folder_is_refused(tmp_path: Path, instance: Path,
                                                    cache: Path, run_inprocess) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        ran = run_inprocess(["solve", instance, "-q", "--json", locked / "s.json"])
    finally:
        locked.chmod(0o700)
    _refused(ran, cache, f"the folder {locked} is not writable")


def test_a_study_output_equal_to_the_study_file_is_refused(tmp_path: Path, instance: Path,
                                                           cache: Path, run_inprocess) -> None:
    """``--out`` the study file itself, or a folder where a study file is one of the files a
    study writes (``results.md``): both refused, the study file unchanged, no point solved."""
    study = instance.parent / "study.yaml"
    study.write_text("name: s\ninstance: tiny.yaml\nparameters:\n"
                     "  - {path: policy.carbon_price, values: [0, 100]}\n", encoding="utf-8")
    results = tmp_path / "results"
    results.mkdir()
    inside = results / "results.md"
    inside.write_bytes(study.read_bytes().replace(b"tiny.yaml", str(instance).encode()))
    for path, out, fragment in (
            (study, study, f"--out {study}: is the study file ({study})"),
            (inside, results, f"--out {results}: {inside} is the study file ({inside})")):
        before = path.read_bytes()
        ran = run_inprocess(["sweep", path, "--out", out, "-q", "--no-plots"])
        _refused(ran, cache, fragment)
        assert path.read_bytes() == before
        assert not (out.parent / "points").exists()
        assert not (results / "points").exists()


def test_a_pareto_output_equal_to_the_instance_is_refused(instance: Path, cache: Path,
                                                          run_inprocess) -> None:
    before = instance.read_bytes()
    ran = run_inprocess(["pareto", instance, "--out", instance, "--points", "1", "-q"])
    _refused(ran, cache, f"--out {instance}: is the instance file")
    assert instance.read_bytes() == before


def test_a_bench_output_equal_to_the_suite_is_refused(tmp_path: Path, instance: Path,
                                                      cache: Path, run_inprocess) -> None:
    suite = instance.parent / "suite.yaml"
    suite.write_text("name: tiny\ncases:\n  - {name: t, instance: tiny.yaml}\n",
                     encoding="utf-8")
    before = suite.read_bytes(), instance.read_bytes()
    ran = run_inprocess(["bench", suite, "--out", suite])
    _refused(ran, cache, f"--out {suite}: is the suite file")
    # the results would be <out>/tiny.json and tiny.md: a case's instance named so is kept
    shadow = instance.parent / "tiny.md"
    shadow.write_bytes(instance.read_bytes())
    suite.write_text("name: tiny\ncases:\n  - {name: t, instance: tiny.md}\n", encoding="utf-8")
    ran = run_inprocess(["bench", suite, "--out", instance.parent])
    _refused(ran, cache, f"{shadow} is a file of case t")
    assert shadow.read_bytes() == before[1]
    assert instance.read_bytes() == before[1]


@pytest.mark.parametrize(("out", "fragment"), [
    ("", "-o '': the path is empty"),
    ("{dir}", "-o {dir}: is a folder, not a file"),
    ("{file}", "-o {file}: is the benchmark file ({file})"),
], ids=["empty", "folder", "the-benchmark-file"])
def test_import_output_is_checked(out: str, fragment: str, tmp_path: Path, cache: Path,
                                  run_inprocess) -> None:
    source = tmp_path / "cap41.txt"
    source.write_bytes(ORLIB.read_bytes())
    names = {"dir": str(tmp_path), "file": str(source)}
    ran = run_inprocess(["import", "orlib-cap", source, "-o", out.format(**names)])
    _refused(ran, cache, fragment.format(**names))
    assert source.read_bytes() == ORLIB.read_bytes()


def test_import_writes_yaml_that_reads_back(tmp_path: Path, run_inprocess) -> None:
    """The instance is named after the output: ``1e5`` must stay a string (yamlio.dump_yaml;
    plain PyYAML writes it bare, and YAML 1.2 reads that as the number 100000.0)."""
    out = tmp_path / "1e5.yaml"
    ran = run_inprocess(["import", "orlib-cap", ORLIB, "-o", out])
    assert ran.code == 0, ran.both
    from optimizer.load import load

    assert load(out).instance.name == "1e5"


# ---------------------------------------------------------------------------------------------
# no output file asked for: nothing in the working directory
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("via", ["XDG_CACHE_HOME", "HOME"])
def test_a_plain_solve_leaves_the_working_directory_empty(via: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          run_subprocess) -> None:
    """The solver log and run.json go to the user cache ($XDG_CACHE_HOME/eastwest/logs, or
    ~/.cache/eastwest/logs without it), and -v says where."""
    if via == "HOME":
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        logs = tmp_path / "home" / ".cache" / "eastwest" / "logs"
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        logs = tmp_path / "xdg" / "eastwest" / "logs"
    cwd = tmp_path / "cwd"
    ran = run_subprocess(["solve", TINY, "-v"], cwd=cwd)
    assert ran.code == 0, ran.stderr
    _no_traceback(ran)
    assert list(cwd.iterdir()) == []
    assert sorted(p.name for p in logs.iterdir()) == ["tiny.run.json", "tiny.solver.log"]
    assert json.loads((logs / "tiny.run.json").read_text(encoding="utf-8"))["instance"] == str(
        TINY)
    assert f"solverlogandrun.json:{logs}" in "".join(ran.stderr.split())  # rich wraps lines


def test_json_on_stdout_writes_nothing_in_the_working_directory(
        cache: Path, run_subprocess, tmp_path: Path) -> None:
    ran = run_subprocess(["solve", TINY, "--json", "-"])
    assert ran.code == 0, ran.stderr
    _solution(ran.stdout)
    assert list((tmp_path / "cwd").iterdir()) == []
    assert (cache / "eastwest" / "logs" / "tiny.solver.log").is_file()


def test_an_unwritable_cache_only_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        run_subprocess) -> None:
    """No file was asked for, so a cache that cannot be written costs only the log."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    ran = run_subprocess(["solve", TINY])
    assert ran.code == 0, ran.both
    _no_traceback(ran)
    assert "optimal" in ran.stdout
    assert "no solver log in the user cache" in ran.stderr
    assert blocker.read_text(encoding="utf-8") == ""


def test_outputs_beside_the_results_keep_the_log_there(tmp_path: Path, cache: Path,
                                                       run_subprocess) -> None:
    ran = run_subprocess(["solve", TINY, "-q", "--json", tmp_path / "out" / "s.json"])
    assert ran.code == 0, ran.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "s.json", "tiny.run.json", "tiny.solver.log"]
    assert not cache.exists()
