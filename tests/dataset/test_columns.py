"""What a build publishes: an allow-list of columns, names on request only, the card's
licence link. Nothing identifying reaches a published file unless asked for."""

from __future__ import annotations

import json

import pytest
from huggingface_hub import DatasetCard

from rdface_hf.dataset import load_rdface
from rdface_hf.dataset.columns import identifying_reason

IDENTIFYING = {
    "patient_name": lambda k: f"Jane Roe {k}",
    "dob": lambda k: f"2015-03-{k + 1:02d}",
    "MRN": lambda k: f"{7700 + k}",
    "home address": lambda k: f"{k} Elm Street",
}
HARMLESS = {"age": lambda k: str(2 + k), "Sex": lambda k: "F", "source": lambda k: f"PMID 3100000{k}"}
FREE_TEXT = {"contact": lambda k: f"parent{k}@example.org", "ward": lambda k: "north"}


def published_bytes(out) -> bytes:
    """Every file of a build folder that ``rdface publish`` uploads."""
    from rdface_hf.dataset.build_files import HUB_FILES

    paths = [p for pattern in HUB_FILES for p in out.glob(pattern) if p.is_file()]
    assert {p.name for p in paths} >= {"README.md", "build_config.json", "DATA_USE_AGREEMENT.md"}
    return b"".join(p.read_bytes() for p in paths)


def test_only_allowed_columns_are_published(noise_release, rdface_build, tmp_path):
    raw = noise_release(tmp_path / "raw", extra={**IDENTIFYING, **HARMLESS, **FREE_TEXT})
    code, _, err = rdface_build(raw, tmp_path / "out")
    assert code == 0
    assert len(err) == 1 and err[0].startswith("rdface build: note: not published: 6 column(s)"), err
    for column in ("patient_name", "dob", "MRN", "home address", "contact", "ward"):
        assert repr(column) in err[0]
    columns = load_rdface(tmp_path / "out")["train"].column_names
    assert {"age", "Sex", "source"} <= set(columns)
    assert not set(columns) & {*IDENTIFYING, *FREE_TEXT}
    data = published_bytes(tmp_path / "out")
    for value in (b"Jane Roe", b"2015-03-0", b"Elm Street", b"example.org", b"north"):
        assert value not in data, value
    saved = json.loads((tmp_path / "out" / "build_config.json").read_text())["provenance"]["columns"]
    assert saved["dropped"] == ["patient_name", "dob", "MRN", "home address", "contact", "ward"]
    assert saved["published"][-3:] == ["age", "Sex", "source"]
    assert set(saved["identifying"]) == {"patient_name", "dob", "MRN", "home address", "contact"}
    card = DatasetCard.load(tmp_path / "out" / "README.md").text
    assert (
        "Published columns: `image_name`, `disease_name`" in card and "`Sex`" in card and "`patient_name`" not in card
    )


def test_keep_columns_publishes_and_warns_about_identifying_ones(noise_release, rdface_build, tmp_path):
    raw = noise_release(tmp_path / "raw", extra={**IDENTIFYING, **FREE_TEXT})
    code, _, err = rdface_build(raw, tmp_path / "out", "--keep-columns", "ward, dob")
    assert code == 0
    assert len(err) == 2, err
    assert err[0].startswith("rdface build: note: not published: 4 column(s)")
    assert err[1].startswith("rdface build: warning: --keep-columns publishes columns that look identifying: 'dob'")
    assert "'ward'" not in err[1]
    columns = load_rdface(tmp_path / "out")["train"].column_names
    assert {"ward", "dob"} <= set(columns) and "patient_name" not in columns
    assert json.loads((tmp_path / "out" / "build_config.json").read_text())["keep_columns"] == "ward,dob"
    code, _, err = rdface_build(raw, tmp_path / "bad", "--keep-columns", "wrad")
    assert code == 2 and len(err) == 1 and "--keep-columns names ['wrad'], not columns of the CSV" in err[0]
    assert not (tmp_path / "bad").exists()


def test_a_simulated_identity_is_published_a_real_one_is_not(noise_release, rdface_build, tmp_path):
    extra = {"identity": lambda k: f"SIMP{k:05d}", "age": lambda k: str(3 + k)}
    real = noise_release(tmp_path / "real", extra=extra)
    assert rdface_build(real, tmp_path / "real_out")[0] == 0
    assert "identity" not in load_rdface(tmp_path / "real_out")["train"].column_names
    sim = noise_release(tmp_path / "sim", extra=extra)
    (sim / "phenotypes.json").write_text(json.dumps({"simulator": "rdface_hf.sim"}))
    code, _, err = rdface_build(sim, tmp_path / "sim_out")
    assert code == 0 and not err, "nothing dropped, nothing to warn about"
    assert {"identity", "age"} <= set(load_rdface(tmp_path / "sim_out")["train"].column_names)
    card = DatasetCard.load(tmp_path / "sim_out" / "README.md").text
    assert "simulated patient id (a made-up face, not a person)" in card


def test_anonymize_names_keeps_file_names_out_of_every_published_file(
    noise_release, rdface_build, read_report, noise_image, tmp_path
):
    from PIL import Image

    raw = noise_release(tmp_path / "raw")
    secret = "Jane_Roe_2016_fig3"
    images = raw / "rd_images"
    for k, name in enumerate([f"{secret}.png", f"{secret}_stray.png"]):
        Image.fromarray(noise_image(50 + k)).save(images / "K0" / name)
    Image.fromarray(noise_image(100, 64)).save(images / "K1" / f"{secret}_dup.png")  # the pixels of K0/img0.png
    with open(raw / "disease_images.csv", "a", newline="") as fh:
        fh.write(f"{secret}.png,Condition K0,K0,test,GENE0,1000\n")
        fh.write(f"{secret}_missing.png,Condition K0,K0,test,GENE0,1000\n")
        fh.write(f"{secret}_dup.png,Condition K1,K1,test,GENE1,1001\n")
    code, _, err = rdface_build(raw, tmp_path / "out", "--anonymize-names")
    assert code == 0, err
    assert secret.encode() not in published_bytes(tmp_path / "out")
    assert b"img0.png" not in published_bytes(tmp_path / "out")
    rows = [r for split in load_rdface(tmp_path / "out").values() for r in split]
    assert all(r["image_name"] == r["image_id"] for r in rows)
    report = read_report(tmp_path / "out")
    assert [r["image_name"].startswith(("rdf-", "file-")) for r in report] == [True] * len(report)
    reasons = {r["row"]: r["reason"] for r in report}
    assert reasons["8"] == "file missing"
    assert reasons["9"].startswith("label conflict: same pixels filed under another condition (rdf-")
    card = DatasetCard.load(tmp_path / "out" / "README.md").text
    assert "`image_name` holds the `image_id`" in card
    code, _, _ = rdface_build(raw, tmp_path / "named")
    assert secret.encode() in (tmp_path / "named" / "validation_report.csv").read_bytes(), "names by default"


def test_the_card_links_its_licence_to_the_agreement_file(noise_release, rdface_build, tmp_path):
    raw = noise_release(tmp_path / "raw")
    assert rdface_build(raw, tmp_path / "out")[0] == 0
    card = DatasetCard.load(tmp_path / "out" / "README.md")
    data = card.data.to_dict()
    assert data["license"] == "other" and data["license_name"] == "rdface-data-use-agreement"
    assert data["license_link"] == "DATA_USE_AGREEMENT.md"
    agreement = (tmp_path / "out" / "DATA_USE_AGREEMENT.md").read_text()
    assert agreement.startswith("# RDFace: data-use agreement") and "re-identify" in agreement
    assert "[`DATA_USE_AGREEMENT.md`](DATA_USE_AGREEMENT.md)" in card.text


def test_publish_uploads_the_agreement_and_refuses_a_build_without_it(noise_release, rdface_build, tmp_path):
    from rdface_hf._errors import InputError
    from rdface_hf.dataset.hub import check_build_folder, publish

    raw = noise_release(tmp_path / "raw")
    out = tmp_path / "out"
    assert rdface_build(raw, out)[0] == 0
    uploaded = []

    class Hub:
        def create_repo(self, repo_id, **kw):
            return f"https://huggingface.co/datasets/{repo_id}"

        def update_repo_settings(self, repo_id, **kw):
            pass

        def upload_folder(self, *, folder_path, **kw):
            from pathlib import Path

            uploaded.extend(sorted(p.relative_to(folder_path).as_posix() for p in Path(folder_path).rglob("*.md")))

    publish(out, "lab/rdface", api=Hub())
    assert uploaded == ["DATA_USE_AGREEMENT.md", "README.md"]
    (out / "DATA_USE_AGREEMENT.md").unlink()
    with pytest.raises(InputError, match=r"links its licence to DATA_USE_AGREEMENT\.md, which is missing"):
        check_build_folder(out)


@pytest.mark.parametrize(
    "column, values, flagged",
    [
        ("age", ["3", "12 y", "2.5"], False),
        ("sex", ["F", "M"], False),
        ("source", ["PMID 31234567", "doi:10.1002/ajmg.a.61234", "Smith 2019, Fig. 3"], False),
        ("notes", ["seen 2019-04-03"], True),
        ("notes", ["call +44 20 7946 0958"], True),
        ("notes", ["mail x.y@clinic.org"], True),
        ("PatientID", ["17"], True),
        ("DateOfBirth", ["x"], True),
        ("first_name", ["x"], True),
        ("case_id", ["x"], True),
        ("MRN", ["x"], True),
    ],
)
def test_what_looks_identifying(column, values, flagged):
    assert (identifying_reason(column, values) is not None) == flagged
