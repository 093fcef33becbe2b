"""The demo: simulate -> build -> load -> baseline, end to end on a small release."""

from __future__ import annotations

from rdface_hf.cli import main


def test_demo_end_to_end(tmp_path, capsys, landmarker_model):
    out = tmp_path / "demo"
    code = main(["demo", "--output-dir", str(out), "--conditions", "12", "--seed", "3", "--difficulty", "0"])
    assert code == 0
    summary = capsys.readouterr().out
    assert "12 conditions" in summary and "0 rejected" in summary and "top-1" in summary
    assert (out / "raw" / "preview.png").is_file() and (out / "rdface" / "README.md").is_file()
    assert (out / "demo_config.json").is_file()
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(out / "rdface" / "README.md")
    assert "simulated" in card.data.tags and "**Simulated data.**" in card.text, "a simulated build says so"
    top1 = float(summary.split("top-1 ")[1].split(" %")[0])
    chance = float(summary.split("chance ")[1].split(" %")[0])
    assert top1 > chance, "the simulated phenotype is recoverable from landmarks"


def test_demo_bad_flag(capsys):
    assert main(["demo", "--conditions", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--conditions must be at least 1" in err[0]


def test_demo_never_replaces_a_folder_it_did_not_make(tmp_path, capsys):
    precious = tmp_path / "mine"
    (precious / "raw").mkdir(parents=True)
    (precious / "raw" / "data.txt").write_text("keep me")
    assert main(["demo", "--output-dir", str(precious), "--conditions", "2"]) == 2
    assert "holds no earlier demo" in capsys.readouterr().err
    assert (precious / "raw" / "data.txt").read_text() == "keep me"
    (tmp_path / "afile").write_text("x")
    assert main(["demo", "--output-dir", str(tmp_path / "afile")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["demo", "--output-dir", str(tmp_path / "new"), "--difficulty", "5"]) == 2
    assert not (tmp_path / "new").exists(), "a bad flag writes nothing"


def test_a_rerun_keeps_what_the_user_saved_in_its_sub_folders(tmp_path, capsys, landmarker_model):
    """Every sub-folder is checked before any work: a notebook in merged/ stops the rerun at once."""
    out = tmp_path / "demo"
    argv = ["demo", "--output-dir", str(out), "--conditions", "3", "--seed", "3", "--workers", "1"]
    assert main(argv) == 0
    for sub in ("raw", "merged"):
        (out / sub / "notes.ipynb").write_text("{}")
        stamp = (out / "rdface" / "README.md").stat().st_mtime_ns
        capsys.readouterr()
        assert main(argv) == 2
        err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
        assert len(err) == 1 and "notes.ipynb" in err[0], err
        assert (out / sub / "notes.ipynb").read_text() == "{}"
        assert (out / "rdface" / "README.md").stat().st_mtime_ns == stamp, "refused before any work"
        (out / sub / "notes.ipynb").unlink()
