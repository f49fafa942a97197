"""The training data directory (docs/model.md, "Training data"): where it is found and the layout
the loader reads.

    /usr/bin/python3 -m unittest discover -s models/train/tests -t models/train
"""
import csv
import gzip
import math
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from foresight_tft.data import load_real
from foresight_tft.spec import METRICS

TRAIN_DIR = Path(__file__).resolve().parents[1]


def default_data(env_value):
    env = {k: v for k, v in os.environ.items() if k != "FORESIGHT_DATA"}
    if env_value is not None:
        env["FORESIGHT_DATA"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", "from foresight_tft.data import DEFAULT_DATA; print(DEFAULT_DATA)"],
        cwd=TRAIN_DIR, env=env, capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


class DataDirectoryTest(unittest.TestCase):
    def test_env_var_names_the_directory(self):
        self.assertEqual(default_data("/srv/traces"), "/srv/traces")

    def test_default_is_shared_data_beside_the_checkout(self):
        checkout = TRAIN_DIR.parents[1]
        self.assertEqual(default_data(None), str(checkout.parent / "shared" / "data"))


class LayoutTest(unittest.TestCase):
    """One folder per source holding <source>.csv.gz: timestamp,host,metric,value on a 300 s grid."""

    def test_documented_layout_is_read_into_foresight_metrics(self):
        rows = [
            ("1375308000", "bbrnd-1", "cpu_usage_pct", "112.5"),  # above 100: clipped
            ("1375308300", "bbrnd-1", "cpu_usage_pct", "40"),
            ("1375308900", "bbrnd-1", "cpu_usage_pct", "50"),  # 1375308600 missing: a gap
            ("1375308000", "bbrnd-1", "mem_usage_kb", "512"),
            ("1375308000", "bbrnd-1", "mem_capacity_kb", "2048"),
            ("1375308000", "bbrnd-1", "net_rx_kbps", "1"),
            ("1375308000", "bbrnd-1", "net_tx_kbps", "2"),
            ("1375308000", "bbrnd-1", "disk_read_kbps", "9"),  # not a Foresight metric: ignored
        ]
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d) / "bitbrains-rnd"
            folder.mkdir()
            with gzip.open(folder / "bitbrains-rnd.csv.gz", "wt", newline="") as f:
                w = csv.writer(f)
                w.writerow(["timestamp", "host", "metric", "value"])
                w.writerows(rows)
            (host,) = load_real(folder)
        self.assertEqual((host.name, host.source, host.start, host.length), ("bbrnd-1", "bitbrains-rnd", 1375308000, 4))
        cpu = host.values[:, METRICS.index("cpu")]
        self.assertEqual(cpu[0], 100.0)
        self.assertEqual(cpu[1], 40.0)
        self.assertTrue(math.isnan(cpu[2]))
        self.assertEqual(host.values[0, METRICS.index("memory")], 25.0)
        self.assertEqual(host.values[0, METRICS.index("network")], 3 * 1024.0)
        self.assertTrue(math.isnan(host.values[0, METRICS.index("disk")]))


if __name__ == "__main__":
    unittest.main()
