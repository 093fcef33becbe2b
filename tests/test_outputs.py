"""The output-folder guard (``rdface_hf._outputs``), through its API: what OUT may be,
what is never replaced, one run at a time, whole outputs, no tracebacks.

The commands' own tests (build, simulate, demo) check the same rules end to end."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rdface_hf._errors import InputError, RDFaceError
from rdface_hf._outputs import (
    OutputWriteError,
    Owner,
    atomic_output_dir,
    check_output_dir,
    output_lock,
    resumable_output_dir,
)
from rdface_hf._owner import MANIFEST

OWNER = Owner("thing_config.json", ("thing", "ThingConfig"), files=("result.txt", "data", "data/*.bin"))


def made_by_us(folder: Path, stage: str = "thing") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "thing_config.json").write_text(json.dumps({"stage": stage}))
    (folder / "result.txt").write_text("old")
    return folder


def foreign(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "precious.txt").write_text("keep me")
    return folder


def snapshot(root: Path) -> list[tuple[str, str]]:
    out = []
    for p in sorted(root.rglob("*")):
        kind = "link" if p.is_symlink() else "dir" if p.is_dir() else p.read_text(errors="replace")
        out.append((p.relative_to(root).as_posix(), kind))
    return out


def write_all(out, **kw):
    with atomic_output_dir(out, owner=OWNER, **kw) as tmp:
        (tmp / "thing_config.json").write_text(json.dumps({"stage": "thing"}))
        (tmp / "result.txt").write_text("new")
    return out


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "name a new folder"),
        ("   ", "name a new folder"),
        (".", "name a new folder"),
        ("..", "name a new folder"),
        ("out/..", "name a new folder"),
        ("/", "name a new folder"),
        ("~", "did not expand"),
        ("~/results", "did not expand"),
        ("$OUT/results", "did not expand"),
        ("results ", "stray spaces"),
        ("results\n", "control characters"),
        ("res\x00ults", "NUL byte"),
    ],
)
def test_names_that_are_typos_or_unset_variables_are_refused(tmp_path, monkeypatch, raw, message):
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        write_all(raw, overwrite=True)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("folder", ["/etc", "/usr/lib/rdface-test", "/tmp", "/var", "/home", "/dev/shm/x", "/proc/1"])
def test_system_folders_are_refused(folder):
    with pytest.raises(InputError, match=r"system folder|home folder"):
        check_output_dir(folder, owner=OWNER, overwrite=True)


def test_root_home_and_their_ancestors_are_refused(tmp_path, monkeypatch):
    home = tmp_path / "users" / "me"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for out in (home, tmp_path / "users", Path("/")):
        with pytest.raises(InputError, match=r"home folder|filesystem root|name a new folder"):
            check_output_dir(out, owner=OWNER, overwrite=True)
    assert check_output_dir(home / "results", owner=OWNER) == home / "results"


def test_current_folder_and_its_ancestors_are_refused(tmp_path, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    for out in (work, tmp_path / "a", tmp_path, "../b", "../../a"):
        with pytest.raises(InputError, match="current folder"):
            write_all(out, overwrite=True)
    assert (tmp_path / "a" / "b").is_dir() and not list(work.iterdir())


@pytest.mark.parametrize("layout", ["out_is_input", "out_inside_input", "input_inside_out"])
def test_inputs_are_never_outputs(tmp_path, layout):
    source = foreign(tmp_path / "parent" / "input")
    out = {"out_is_input": source, "out_inside_input": source / "out", "input_inside_out": tmp_path / "parent"}[layout]
    before = snapshot(tmp_path)
    with pytest.raises(InputError, match="overlaps the input"):
        write_all(out, overwrite=True, inputs=(source,))
    assert snapshot(tmp_path) == before


def test_foreign_folders_are_never_replaced(tmp_path):
    out = foreign(tmp_path / "mine")
    (out / "thing_config.json").write_text(json.dumps({"stage": "other-command"}))  # another command's marker
    before = snapshot(tmp_path)
    for overwrite in (False, True):
        with pytest.raises(InputError, match="was not written by this command"):
            write_all(out, overwrite=overwrite)
    with pytest.raises(InputError, match="was not written by this command"):
        check_output_dir(out, owner=OWNER, resume=True)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("target", ["foreign", "empty", "ours", "dangling"])
def test_a_symlinked_out_is_refused_and_leaves_no_link_behind(tmp_path, target):
    real = tmp_path / ("nowhere" if target == "dangling" else "real")
    if target == "foreign":
        foreign(real)
    elif target == "ours":
        made_by_us(real)
    elif target == "empty":
        real.mkdir()
    link = tmp_path / "out"
    link.symlink_to(real)
    before = snapshot(tmp_path)
    with pytest.raises(InputError, match="symbolic link"):
        write_all(link, overwrite=True)
    assert snapshot(tmp_path) == before, "no .old-* link, no partial folder"


def test_a_symlinked_parent_is_followed_and_checked(tmp_path):
    real = tmp_path / "disk"
    real.mkdir()
    (tmp_path / "shortcut").symlink_to(real)
    assert check_output_dir(tmp_path / "shortcut" / "out", owner=OWNER) == real / "out"
    write_all(tmp_path / "shortcut" / "out")
    assert (real / "out" / "result.txt").read_text() == "new"
    (tmp_path / "to_etc").symlink_to("/etc")
    with pytest.raises(InputError, match="system folder"):
        check_output_dir(tmp_path / "to_etc" / "out", owner=OWNER)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(InputError):
        check_output_dir(loop / "out", owner=OWNER)


def test_our_own_output_is_replaced_only_with_overwrite(tmp_path):
    out = made_by_us(tmp_path / "out")
    with pytest.raises(InputError, match="pass --overwrite"):
        write_all(out)
    write_all(out, overwrite=True)
    assert (out / "result.txt").read_text() == "new"
    old_style = made_by_us(tmp_path / "old", stage="ThingConfig")  # configs of older versions named the class
    write_all(old_style, overwrite=True)
    assert (old_style / "result.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old", "out"], "no lock, partial or old folders left"


def test_files_a_person_added_to_our_output_are_never_deleted(tmp_path):
    out = made_by_us(tmp_path / "out")
    (out / "data").mkdir()
    (out / "data" / "a.bin").write_text("ours")
    (out / "data" / "notes.txt").write_text("a person's notes")
    (out / ".DS_Store").write_text("a file browser's")
    before = snapshot(tmp_path)
    with pytest.raises(InputError, match=r"holds files this command did not write \(data/notes.txt\)"):
        write_all(out, overwrite=True)
    assert snapshot(tmp_path) == before
    (out / "data" / "notes.txt").unlink()
    write_all(out, overwrite=True)


def test_failures_leave_nothing_and_say_one_line(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), atomic_output_dir(out, owner=OWNER) as tmp:
        (tmp / "result.txt").write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    for code in (errno.ENOSPC, errno.EIO, errno.EACCES):
        with pytest.raises(OutputWriteError) as exc, atomic_output_dir(out, owner=OWNER) as tmp:
            (tmp / "result.txt").write_text("half")
            raise OSError(code, os.strerror(code), str(tmp / "data" / "x.bin"))
        message = str(exc.value)
        assert "\n" not in message and errno.errorcode[code] in message and os.strerror(code) in message
        assert str(out / "data" / "x.bin") in message and ".partial-" not in message, "names the output, not tmp"
        assert isinstance(exc.value, RDFaceError)
        assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_replacing_keeps_the_earlier_output(tmp_path):
    out = made_by_us(tmp_path / "out")
    with pytest.raises(OutputWriteError, match="No space left"), atomic_output_dir(out, owner=OWNER, overwrite=True):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert (out / "result.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_one_run_at_a_time(tmp_path):
    out = tmp_path / "out"
    with atomic_output_dir(out, owner=OWNER) as tmp:
        (tmp / "result.txt").write_text("first")
        with pytest.raises(InputError, match="another rdface run is writing"):
            write_all(out)
        with pytest.raises(InputError, match="another rdface run is writing"), resumable_output_dir(out, owner=OWNER):
            pass
    assert (out / "result.txt").read_text() == "first"
    assert not (tmp_path / ".out.lock").exists(), "the lock file goes with the run"


def test_the_lock_holds_across_processes(tmp_path):
    out = tmp_path / "out"
    holder = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(tmp_path / '.out.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(30)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(InputError, match="another rdface run is writing"):
            write_all(out)
    finally:
        proc.kill()
        proc.wait()
    write_all(out)
    assert (out / "result.txt").read_text() == "new"


def test_output_that_appears_meanwhile_is_never_replaced(tmp_path):
    out = tmp_path / "out"
    with (
        pytest.raises(InputError, match=r"appeared while this run worked|changed while this run worked"),
        atomic_output_dir(out, owner=OWNER, overwrite=True),
    ):
        foreign(out)  # someone else's files, written while the run worked
    assert (out / "precious.txt").read_text() == "keep me"
    with (
        pytest.raises(InputError, match="became a symbolic link"),
        atomic_output_dir(tmp_path / "out2", owner=OWNER, overwrite=True),
    ):
        (tmp_path / "out2").symlink_to(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out2"], "no partial, old or lock files"


def test_leftovers_of_a_killed_run_are_cleaned_up_and_said(tmp_path, capsys):
    out = tmp_path / "out"
    (tmp_path / ".out.partial-abcd1234").mkdir()
    (tmp_path / ".out.partial-abcd1234" / "half.bin").write_text("x")
    (tmp_path / ".out.old-4242").symlink_to(tmp_path / "elsewhere")  # a link moved aside by an old version
    foreign(tmp_path / ".out.partial-notours")  # not a name this guard makes: left alone
    write_all(out)
    err = capsys.readouterr().err
    assert err.count("left behind by an interrupted run") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.partial-notours", "out"]


def test_an_output_moved_aside_by_a_killed_overwrite_is_put_back(tmp_path, capsys):
    made_by_us(tmp_path / ".out.old-4242")  # killed between moving OUT aside and renaming the new one
    with pytest.raises(InputError, match="pass --overwrite"):
        write_all(tmp_path / "out")
    assert "restored" in capsys.readouterr().err
    assert (tmp_path / "out" / "result.txt").read_text() == "old"


def test_resumable_runs(tmp_path):
    out = tmp_path / "run"
    with resumable_output_dir(out, owner=OWNER) as (folder, resumed):
        assert folder == out and not resumed
        (folder / "thing_config.json").write_text(json.dumps({"stage": "thing"}))
        (folder / "result.txt").write_text("step 1")
    with resumable_output_dir(out, owner=OWNER) as (folder, resumed):
        assert resumed and (folder / "result.txt").read_text() == "step 1"
    with (
        pytest.raises(OutputWriteError, match="rerun the same command to resume"),
        resumable_output_dir(out, owner=OWNER),
    ):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert (out / "result.txt").read_text() == "step 1", "what was written is kept"
    with resumable_output_dir(out, owner=OWNER, overwrite=True) as (folder, resumed):
        assert not resumed and [p.name for p in folder.iterdir()] == [MANIFEST]
        assert folder != out and (out / "result.txt").read_text() == "step 1", "the old output stays until the end"
        (folder / "thing_config.json").write_text(json.dumps({"stage": "thing"}))
    assert not (out / "result.txt").exists(), "swapped in at the end"
    foreign(tmp_path / "theirs")
    with (
        pytest.raises(InputError, match="was not written by this command"),
        resumable_output_dir(tmp_path / "theirs", owner=OWNER, overwrite=True),
    ):
        pass
    assert (tmp_path / "theirs" / "precious.txt").read_text() == "keep me"


def test_generate_output_dir_goes_through_the_guard(tmp_path, monkeypatch):
    """``rdface generate --output-dir``: a resumable run directory under the same rules."""
    from rdface_hf._config import open_run_dir
    from rdface_hf.generate.config import GenerateConfig

    config = GenerateConfig(generator="morph", output_dir=str(tmp_path / "g"), dataset="d")
    for bad in (foreign(tmp_path / "theirs"), tmp_path):
        with pytest.raises(InputError), open_run_dir(config, bad, overwrite=True):
            pass
    assert (tmp_path / "theirs" / "precious.txt").read_text() == "keep me"
    (tmp_path / "link").symlink_to(tmp_path / "theirs")
    with pytest.raises(InputError, match="symbolic link"), open_run_dir(config, tmp_path / "link", overwrite=True):
        pass
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="name a new folder"), open_run_dir(config, "", overwrite=True):
        pass
    with open_run_dir(config, tmp_path / "g") as (folder, resumed):
        assert not resumed and (folder / "generation_config.json").is_file()
    with open_run_dir(config, tmp_path / "g") as (folder, resumed):
        assert resumed


def test_the_lock_file_is_checked_after_locking(tmp_path, monkeypatch):
    """A run that opened the lock file just before its holder removed it must not
    think it holds the lock (it re-opens the file on disk)."""
    import fcntl

    import rdface_hf._outputs as outputs

    out = tmp_path / "out"
    calls = []
    real_flock = fcntl.flock

    def flock_after_swap(fd, op):
        if not calls:  # the holder finishes: removes the lock file; a new one appears
            os.unlink(tmp_path / ".out.lock")
            (tmp_path / ".out.lock").write_text("")
        calls.append(fd)
        return real_flock(fd, op)

    monkeypatch.setattr(outputs.fcntl, "flock", flock_after_swap)
    started = time.perf_counter()
    with output_lock(out):
        assert len(calls) == 2, "the stale descriptor was dropped and the file on disk locked"
    assert time.perf_counter() - started < 5


# --- every command that writes an output folder, end to end -------------------------------------


def command_line(command: str, raw: Path, out: str) -> list[str]:
    return {
        "build": ["build", str(raw), out, "--overwrite", "--no-progress", "--no-landmarks"],
        "simulate": ["simulate", out, "--overwrite", "--conditions", "2", "--workers", "1"],
        "demo": ["demo", "--output-dir", out, "--conditions", "2", "--workers", "1"],
    }[command]


@pytest.mark.parametrize("case", ["foreign", "symlink_to_foreign", "current", "ancestor", "empty", "system"])
@pytest.mark.parametrize("command", ["build", "simulate", "demo"])
def test_no_command_replaces_what_it_did_not_make(tmp_path, monkeypatch, capsys, command, case):
    from rdface_hf.cli import main

    raw = tmp_path / "project" / "raw"
    (raw / "rd_images").mkdir(parents=True)
    (raw / "disease_images.csv").write_text(
        "image_name,disease_name,disease_abbr,sub_category,gene_name,orphanet_code\na.png,A,A,s,g,1\n"
    )
    work = foreign(tmp_path / "project" / "work")
    monkeypatch.chdir(work)
    link = tmp_path / "project" / "link"
    link.symlink_to(work)
    out = {
        "foreign": str(work),
        "symlink_to_foreign": str(link),
        "current": ".",
        "ancestor": str(tmp_path / "project"),
        "empty": "",
        "system": "/etc",
    }[case]
    before = snapshot(tmp_path)
    code = main(command_line(command, raw, out))
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2
    assert len(err) == 1 and f"rdface {command}: error:" in err[0] and "Traceback" not in err[0], err
    assert snapshot(tmp_path) == before, "nothing written, nothing deleted"
