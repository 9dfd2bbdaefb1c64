"""Batch machinery with a fake engine: outputs, cache, resume, bad files, record linking."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")
pytest.importorskip("PIL")

import contextlib  # noqa: E402

from lantai.ocr.batch import default_workers, run_batch  # noqa: E402
from lantai.ocr.model import OcrPage  # noqa: E402
from lantai.ocr.reader import iter_records, load_record_pages  # noqa: E402
from lantai.ocr.sources import find_archival_code, read_manifest  # noqa: E402
from lantai.ocr.testing import fake_engine  # noqa: E402

ENCRYPTED_PDF_OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>",
]


def write_encrypted_pdf(path: Path) -> None:
    """A PDF whose standard security handler rejects the empty password."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(ENCRYPTED_PDF_OBJECTS, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(ENCRYPTED_PDF_OBJECTS) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (
        b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff>"
        b" <00112233445566778899aabbccddeeff>] >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(ENCRYPTED_PDF_OBJECTS) + 1, xref)
    )
    path.write_bytes(bytes(out))


def page_image(seed: int, size: int = 64) -> object:
    """A small page with some 'ink' so it is not blank; content depends on ``seed``."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size), 255, np.uint8)
    for _ in range(6):
        y, x = rng.integers(4, size - 12, 2)
        img[y : y + 6, x : x + 10] = 0
    return img


def make_scans(folder: Path, n: int, prefix: str = "C038-001-014-003") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"{prefix}_{i:04d}.png"
        cv2.imwrite(str(path), page_image(i))
        paths.append(path)
    return paths


def journal_keys(out: Path) -> list[str]:
    keys = []
    for line in (out / "_state" / "journal.jsonl").read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            keys.append(json.loads(line)["key"])
    return keys


def test_outputs_layout_and_reader(tmp_path: Path) -> None:
    make_scans(tmp_path / "in", 3)
    out = tmp_path / "out"
    report = run_batch([tmp_path / "in"], out, engine=fake_engine, workers=1, progress=False)
    assert (report.pages_total, report.pages_done, report.pages_failed) == (3, 3, 0)
    folder = out / "C038-001-014-003"
    for stem in ("C038-001-014-003_0000", "C038-001-014-003_0001", "C038-001-014-003_0002"):
        for suffix in (".txt", ".alto.xml", ".json"):
            assert (folder / f"{stem}{suffix}").is_file()
        page = OcrPage.from_dict(json.loads((folder / f"{stem}.json").read_text("utf-8")))
        assert (folder / f"{stem}.txt").read_text("utf-8").strip() == page.text
        assert page.engine == "fake" and page.lines[0].text.startswith("页")
    pages = load_record_pages(out, "C038-001-014-003")
    assert [p.image for p in pages] == sorted(p.image for p in pages) and len(pages) == 3
    assert [rid for rid, _ in iter_records(out)] == ["C038-001-014-003"]
    assert load_record_pages(out, "X001-WS·1950-Y-0001") == []
    saved = json.loads((out / "report.json").read_text("utf-8"))
    assert saved["pages_done"] == 3 and saved["failures"] == []


def test_rerun_skips_finished_pages_and_redoes_changed_images(tmp_path: Path) -> None:
    scans = make_scans(tmp_path / "in", 4)
    out = tmp_path / "out"
    run_batch([tmp_path / "in"], out, engine=fake_engine, workers=1, progress=False)
    again = run_batch([tmp_path / "in"], out, engine=fake_engine, workers=1, progress=False)
    assert (again.pages_done, again.pages_cached) == (0, 4)
    cv2.imwrite(str(scans[1]), page_image(99))
    changed = run_batch([tmp_path / "in"], out, engine=fake_engine, workers=1, progress=False)
    assert (changed.pages_done, changed.pages_cached) == (1, 3)
    text = (out / "C038-001-014-003" / f"{scans[1].stem}.txt").read_text("utf-8")
    first = json.loads((out / "C038-001-014-003" / f"{scans[0].stem}.json").read_text("utf-8"))
    assert text.strip() != first["lines"][0]["text"]


def test_deleted_output_is_redone(tmp_path: Path) -> None:
    scans = make_scans(tmp_path / "in", 2)
    out = tmp_path / "out"
    run_batch([tmp_path / "in"], out, engine=fake_engine, workers=1, progress=False)
    (out / "C038-001-014-003" / f"{scans[0].stem}.alto.xml").unlink()
    again = run_batch([tmp_path / "in"], out, engine=fake_engine, workers=1, progress=False)
    assert (again.pages_done, again.pages_cached) == (1, 1)


def test_torn_journal_line_is_ignored_and_page_redone(tmp_path: Path) -> None:
    make_scans(tmp_path / "in", 3)
    out = tmp_path / "out"
    run_batch([tmp_path / "in"], out, engine=fake_engine, workers=1, progress=False)
    journal = out / "_state" / "journal.jsonl"
    lines = journal.read_text("utf-8").splitlines()
    # simulate kill -9 while the last entry was being appended
    journal.write_text("\n".join(lines[:2]) + "\n" + lines[2][:15], encoding="utf-8")
    again = run_batch([tmp_path / "in"], out, engine=fake_engine, workers=1, progress=False)
    assert (again.pages_done, again.pages_cached) == (1, 2)
    assert len(set(journal_keys(out))) == 3


def test_bad_files_are_reported_and_do_not_stop_the_batch(tmp_path: Path) -> None:
    pytest.importorskip("pypdfium2")
    folder = tmp_path / "in"
    make_scans(folder, 2)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    write_encrypted_pdf(folder / "secret.pdf")
    cv2.imwrite(str(folder / "blank.png"), np.full((80, 60), 250, np.uint8))
    out = tmp_path / "out"
    report = run_batch([folder], out, engine=fake_engine, workers=1, progress=False)
    reasons = {Path(f.item).name: (f.stage, f.reason) for f in report.failures}
    assert reasons["broken.jpg"][0] == "load" and "unreadable image" in reasons["broken.jpg"][1]
    assert reasons["secret.pdf"] == ("open", "encrypted PDF (password required)")
    assert reasons["blank.png"] == ("ocr", "blank page")
    assert report.pages_done == 3  # two scans and the (empty) blank page
    assert report.pages_failed == 2
    blank = json.loads((out / "blank" / "blank.json").read_text("utf-8"))
    assert blank["lines"] == []
    saved = json.loads((out / "report.json").read_text("utf-8"))
    assert {Path(f["item"]).name for f in saved["failures"]} == {
        "broken.jpg",
        "secret.pdf",
        "blank.png",
    }


def test_multipage_pdf_and_tiff(tmp_path: Path) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    from PIL import Image

    folder = tmp_path / "X012-WS·1956-D30-0003"
    folder.mkdir()
    frames = [Image.fromarray(page_image(i, 96)) for i in range(3)]
    frames[0].save(folder / "scan.tif", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "doc.pdf", save_all=True, append_images=frames[1:2], resolution=72)
    assert len(pdfium.PdfDocument(str(folder / "doc.pdf"))) == 2
    out = tmp_path / "out"
    report = run_batch([folder], out, engine=fake_engine, workers=1, progress=False, dpi=72)
    assert report.pages_done == 5, report.failures
    pages = load_record_pages(out, "X012-WS·1956-D30-0003")
    assert [(p.image, p.page_no) for p in pages] == [
        ("doc.pdf#1", 1),
        ("doc.pdf#2", 2),
        ("scan.tif#1", 1),
        ("scan.tif#2", 2),
        ("scan.tif#3", 3),
    ]


def test_record_linking_by_name_folder_and_manifest(tmp_path: Path) -> None:
    assert find_archival_code("C038-001-014-003_0002") == "C038-001-014-003"
    assert find_archival_code("X012-WS·1956-D30-0003 p1") == "X012-WS·1956-D30-0003"
    assert find_archival_code("scan_0001") is None
    folder = tmp_path / "in"
    (folder / "J017-002-003-004").mkdir(parents=True)
    cv2.imwrite(str(folder / "J017-002-003-004" / "p1.png"), page_image(1))
    cv2.imwrite(str(folder / "loose.png"), page_image(2))
    cv2.imwrite(str(folder / "mapped.png"), page_image(3))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("档号,文件\nX001-WS·1950-Y-0007,in/mapped.png\n", encoding="utf-8")
    out = tmp_path / "out"
    run_batch(
        [folder],
        out,
        engine=fake_engine,
        workers=1,
        progress=False,
        manifest=read_manifest(manifest),
    )
    assert (out / "J017-002-003-004" / "p1.json").is_file()
    assert (out / "loose" / "loose.json").is_file()
    assert (out / "X001-WS·1950-Y-0007" / "mapped.json").is_file()
    assert [r for r, _ in iter_records(out, include_unlinked=True)] == [
        "J017-002-003-004",
        "X001-WS·1950-Y-0007",
        "loose",
    ]


def test_bad_manifest_names_the_problem(tmp_path: Path) -> None:
    from lantai.errors import ImportFailed

    manifest = tmp_path / "m.csv"
    manifest.write_text("code,file\nA,b\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="档号,文件"):
        read_manifest(manifest)
    manifest.write_text("档号,文件\n,b.png\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="row 2"):
        read_manifest(manifest)


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    from lantai.errors import NotFound

    with pytest.raises(NotFound, match="does not exist"):
        run_batch([tmp_path / "nope"], tmp_path / "out", engine=fake_engine, progress=False)


def test_workers_sized_by_memory() -> None:
    gb = 1 << 30
    assert default_workers(memory=int(2.6 * gb), cpus=8) == 2
    assert default_workers(memory=64 * gb, cpus=4) == 4
    assert default_workers(memory=gb // 4, cpus=4) == 1


def test_process_pool_gives_same_output(tmp_path: Path) -> None:
    make_scans(tmp_path / "in", 4)
    one = run_batch(
        [tmp_path / "in"], tmp_path / "a", engine=fake_engine, workers=1, progress=False
    )
    two = run_batch(
        [tmp_path / "in"], tmp_path / "b", engine=fake_engine, workers=2, progress=False
    )
    assert one.pages_done == two.pages_done == 4
    texts = sorted((tmp_path / "a" / "C038-001-014-003").glob("*.txt"))
    assert len(texts) == 4
    for path in texts:
        assert path.read_text("utf-8") == (tmp_path / "b" / path.parent.name / path.name).read_text(
            "utf-8"
        )


def _kill_and_resume(tmp_path: Path, n: int) -> None:
    make_scans(tmp_path / "in", n)
    out = tmp_path / "out"
    script = (
        "import sys; from pathlib import Path; from lantai.ocr.batch import run_batch;"
        "from lantai.ocr.testing import slow_fake_engine;"
        "run_batch([Path(sys.argv[1])], Path(sys.argv[2]), engine=slow_fake_engine, workers=1,"
        " progress=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "in"), str(out)])
    journal = out / "_state" / "journal.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and len(journal.read_bytes().splitlines()) >= n // 2:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(journal_keys(out))
    assert 0 < before < n, "the batch should have been killed halfway"
    report = run_batch([tmp_path / "in"], out, engine=fake_engine, workers=1, progress=False)
    keys = journal_keys(out)
    assert len(keys) == len(set(keys)) == n  # every page done exactly once
    assert report.pages_cached + report.pages_done == n
    assert report.pages_done == n - report.pages_cached
    pages = sorted((out / "C038-001-014-003").glob("*.json"))
    assert len(pages) == n
    for path in pages:
        OcrPage.from_dict(json.loads(path.read_text("utf-8")))  # no torn file
    assert not list(out.rglob("*.tmp"))


def test_kill_9_halfway_then_resume(tmp_path: Path) -> None:
    _kill_and_resume(tmp_path, 40)


@pytest.mark.slow
def test_kill_9_halfway_then_resume_1000_pages(tmp_path: Path) -> None:
    _kill_and_resume(tmp_path, 1000)


@pytest.mark.slow
def test_dask_local_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    make_scans(tmp_path / "in", 6)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        report = run_batch(
            [tmp_path / "in"],
            tmp_path / "out",
            engine=fake_engine,
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    assert report.pages_done == 6 and report.failures == []
    local = run_batch(
        [tmp_path / "in"], tmp_path / "local", engine=fake_engine, workers=1, progress=False
    )
    assert local.pages_done == 6
    texts = sorted((tmp_path / "local" / "C038-001-014-003").glob("*.txt"))
    assert len(texts) == 6
    for path in texts:
        assert path.read_text("utf-8") == (
            tmp_path / "out" / path.parent.name / path.name
        ).read_text("utf-8")
