"""test_data.py — tests the zoo's data generators in tools/data/: shapes is
deterministic per seed and its labels agree with its masks; the Fashion-MNIST
loader returns the official shapes (skipped without dataset-fashion-mnist);
a tiny keyword set synthesises (skipped without espeak-ng and sox) with
disjoint train/test voice variants; the zoo registry finds shapes-resnet.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m unittest tests/tools/test_data.py
Fast (seconds); the keyword case writes only under build/data/keywords.
"""

import os
import sys
import unittest

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from data import fashion, keywords, shapes  # noqa: E402


class TestShapes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = shapes.make(300, seed=5)

    def test_deterministic(self):
        b = shapes.make(300, seed=5)
        for x, y in zip(self.a, b):
            np.testing.assert_array_equal(x, y)
        c = shapes.make(300, seed=6)
        self.assertFalse(np.array_equal(self.a[0], c[0]))

    def test_shapes_and_dtypes(self):
        im, lab, m = self.a
        self.assertEqual(im.shape, (300, 64, 64, 3))
        self.assertEqual(im.dtype, np.uint8)
        self.assertEqual(lab.shape, (300,))
        self.assertEqual(m.shape, (300, 64, 64))
        self.assertEqual(m.dtype, np.uint8)
        self.assertLessEqual(int(m.max()), len(shapes.CLASSES))
        im2, _, m2 = shapes.make(4, seed=1, size=96)
        self.assertEqual(im2.shape, (4, 96, 96, 3))
        self.assertEqual(m2.shape, (4, 96, 96))

    def test_label_is_largest_class_in_mask(self):
        _, lab, m = self.a
        for i in range(len(lab)):
            counts = np.bincount(m[i].ravel(), minlength=len(shapes.CLASSES) + 1)[1:]
            self.assertGreater(counts[lab[i]], 0, "label absent from mask %d" % i)
            self.assertEqual(counts[lab[i]], counts.max(), "label not largest in %d" % i)

    def test_every_class_and_background_occur(self):
        _, lab, m = self.a
        self.assertEqual(set(lab.tolist()), set(range(len(shapes.CLASSES))))
        bg = (m == 0).mean(axis=(1, 2))
        self.assertTrue((bg > 0.3).all(), "objects should not fill the image")

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            shapes.make(-1, 0)
        with self.assertRaises(ValueError):
            shapes.make(1, 0, size=4)


class TestFashion(unittest.TestCase):
    def test_load(self):
        if not fashion.available():
            self.skipTest("dataset-fashion-mnist is not installed")
        x, y = fashion.load("test")
        self.assertEqual(x.shape, (10000, 28, 28))
        self.assertEqual(x.dtype, np.uint8)
        self.assertEqual(y.shape, (10000,))
        self.assertEqual(np.bincount(y).tolist(), [1000] * 10)
        with self.assertRaises(ValueError):
            fashion.load("val")


class TestKeywords(unittest.TestCase):
    def test_variant_split_disjoint(self):
        tr, te = keywords.split_variants("train"), keywords.split_variants("test")
        self.assertFalse(set(tr) & set(te))
        self.assertEqual(len(tr) + len(te), len(keywords.VARIANTS))
        self.assertGreaterEqual(len(te), 10)

    def test_tiny_generation(self):
        if not keywords.available():
            self.skipTest("espeak-ng or sox is not installed")
        specs = [{"word": w, "label": i, "voice": v, "variant": var,
                  "speed": 160, "pitch": 50}
                 for i, w in enumerate(["yes", "no"])
                 for v, var in (("en-us", "f3"), ("en", "m3"))]
        clips = keywords.clean_clips(specs)
        self.assertEqual(len(clips), 4)
        for c in clips:
            self.assertEqual(c.dtype, np.float32)
            self.assertTrue(1600 < c.size < 16000, "clip of %d samples" % c.size)
        w1 = keywords.mix(clips, np.random.default_rng(3))
        w2 = keywords.mix(keywords.clean_clips(specs), np.random.default_rng(3))
        self.assertEqual(w1.shape, (4, 16000))
        np.testing.assert_array_equal(w1, w2)
        self.assertTrue(np.isfinite(w1).all())


class TestZooRegistry(unittest.TestCase):
    def test_names(self):
        import zoo
        self.assertIn("shapes-resnet", zoo.names())
        with self.assertRaises(KeyError):
            zoo.get("no-such-model")


if __name__ == "__main__":
    unittest.main()
