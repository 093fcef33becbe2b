"""report.html in headless Chromium (Debian's package), from file:// with the network off."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium); .ci/run installs it")
def test_report_in_headless_chromium(tmp_path, write_study, stub_stages):
    from rdface_hf.bench.config import BenchmarkConfig
    from rdface_hf.bench.run import run_benchmark

    stages, _ = stub_stages()
    out = tmp_path / "O"
    config = BenchmarkConfig(study=str(write_study()), output_dir=str(out), bootstrap=200)
    run_benchmark(config, stages, log=lambda m: None)
    url = (out / "report.html").resolve().as_uri()
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
              "--proxy-bypass-list=<-loopback>", f"--user-data-dir={tmp_path / 'profile'}",
              "--enable-logging=stderr", "--v=0"]  # fmt: skip
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for element in ('id="summary"', 'id="paired"', 'id="bars"', 'id="scaling"', 'id="low_data"'):
        assert element in dom.stdout, element
    assert "http://" not in dom.stdout and "https://" not in dom.stdout  # nothing refers outside the file
    assert "CONSOLE" not in dom.stderr.upper().replace("CONSOLE(0)", "")  # no console message logged
    assert "net::ERR" not in dom.stderr  # no request tried to leave the file
    shot = tmp_path / "shot.png"
    proc = subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,1600", url], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    pixels = Image.open(shot).convert("L")
    low, high = pixels.getextrema()
    assert high - low > 100  # not blank
