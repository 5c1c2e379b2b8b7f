#!/usr/bin/env python3
"""Independent oracle for mpm.metrics: random and heavily tied inputs with scikit-learn's values.

    python3 tools/metrics_oracle.py OUT.json [--seed 7]

lua/tests/metrics.lua runs this, then checks every mpm.metrics function against OUT.json to 1e-6
relative. Scores are float32 values (what an mpmlua tensor holds), written exactly; class
labels are written counting from 1 (the Lua convention); binary labels are 0/1. SIC and
rejection come from a direct NumPy implementation of the MPMv2 reference's formula on
sklearn's roc_curve(drop_intermediate=False): SIC = tpr / sqrt(fpr + 1e-12) at the first point
whose fpr is closest to the target; rejection = 1 / fpr at the first point whose tpr is closest
to the signal efficiency (inf when fpr = 0). JSON infinities are written as Infinity.
"""
import argparse
import json
import warnings

import numpy as np
from sklearn.metrics import (adjusted_rand_score, balanced_accuracy_score, confusion_matrix,
                             roc_auc_score, roc_curve)

SIC_TARGETS = [0.001, 0.01, 0.1, 0.3]
EFFICIENCIES = [0.1, 0.3, 0.5, 0.9]


def binary_case(name, scores, labels):
    scores = np.asarray(scores, dtype=np.float32).astype(np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    fpr, tpr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    def point(rates, target, value):
        i = int(np.argmin(np.abs(rates - target)))  # the first closest point
        return {"target": target, "value": value(tpr[i], fpr[i]), "tpr": float(tpr[i]), "fpr": float(fpr[i])}
    sic = [point(fpr, t, lambda tp, fp: float(tp / np.sqrt(fp + 1e-12))) for t in SIC_TARGETS]
    rejection = [point(tpr, e, lambda tp, fp: float(1 / fp) if fp > 0 else float("inf")) for e in EFFICIENCIES]
    return {"name": name, "scores": scores.tolist(), "labels": labels.tolist(),
            "auc": float(roc_auc_score(labels, scores)), "fpr": fpr.tolist(), "tpr": tpr.tolist(),
            "thresholds": thresholds.tolist(), "sic": sic, "rejection": rejection}


def class_case(name, scores, labels):
    """scores [N, C]; labels 0-based. Written 1-based."""
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    pred = np.argmax(scores, axis=1)  # the first maximum on ties
    classes = max(int(pred.max()), int(labels.max()), scores.shape[1] - 1) + 1
    return {"name": name, "scores": scores.astype(np.float64).tolist(), "pred": (pred + 1).tolist(),
            "labels": (labels + 1).tolist(), "accuracy": float(np.mean(pred == labels)),
            "balanced_accuracy": float(balanced_accuracy_score(labels, pred)),
            "confusion_matrix": confusion_matrix(labels, pred, labels=list(range(classes))).tolist()}


def cluster_case(name, truth, pred):
    truth, pred = np.asarray(truth, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    return {"name": name, "truth": truth.tolist(), "pred": pred.tolist(),
            "ari": float(adjusted_rand_score(truth, pred))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # "y_pred contains classes not in y_true" is a case on purpose
    rng = np.random.default_rng(args.seed)

    binary = []
    y = rng.random(3000) < 0.3
    binary.append(binary_case("continuous, imbalanced", rng.normal(size=3000) + 1.2 * y, y))
    y = rng.random(4000) < 0.5
    binary.append(binary_case("integer-rounded (heavy ties)", np.round(2 * rng.normal(size=4000) + 2 * y), y))
    y = rng.random(600) < 0.2
    binary.append(binary_case("three distinct scores", rng.integers(0, 3, 600) + y * rng.integers(0, 2, 600), y))
    y = rng.random(2000) < 0.05
    binary.append(binary_case("rare signal, scores between 0 and 1", rng.beta(2, 5, 2000) * (1 - 0.5 * y) + 0.5 * y, y))
    binary.append(binary_case("tiny", [0.3, 0.3, 0.9, 0.1, 0.5], [1, 0, 1, 0, 0]))

    classes = []
    n, c = 3000, 4
    labels = rng.integers(0, c, n)
    logits = rng.normal(size=(n, c)) + 1.5 * np.eye(c)[labels]
    classes.append(class_case("4 classes, continuous scores", logits, labels))
    classes.append(class_case("4 classes, integer scores (argmax ties)", np.round(logits), labels))
    n, c = 1500, 6
    labels = rng.integers(0, c - 2, n)  # classes 5 and 6 are only ever predicted
    classes.append(class_case("6 score columns, 4 true classes", np.round(rng.normal(size=(n, c)) + np.eye(c)[labels]), labels))
    labels = rng.choice([0, 1, 2, 3, 4], size=800, p=[0.6, 0.25, 0.1, 0.04, 0.01])
    classes.append(class_case("5 imbalanced classes", rng.normal(size=(800, 5)) + 0.8 * np.eye(5)[labels], labels))

    clusters = []
    truth = rng.integers(0, 3, 2000)
    clusters.append(cluster_case("few clusters, independent", truth, rng.integers(0, 4, 2000)))
    noisy = np.where(rng.random(2000) < 0.7, truth, rng.integers(0, 3, 2000))
    clusters.append(cluster_case("few clusters, 70% agreement", truth, noisy))
    truth = rng.integers(0, 400, 3000)
    clusters.append(cluster_case("many clusters, independent", truth, rng.integers(0, 500, 3000)))
    noisy = np.where(rng.random(3000) < 0.8, truth, rng.integers(0, 400, 3000))
    clusters.append(cluster_case("many clusters, 80% agreement", truth, noisy))
    truth = rng.integers(0, 4, 50)
    clusters.append(cluster_case("non-consecutive, negative labels", truth * 17 - 30,
                                 np.where(rng.random(50) < 0.6, truth, 9) * -5 + 1000))
    clusters.append(cluster_case("one cluster vs all singletons", [4] * 30, list(range(30))))
    clusters.append(cluster_case("singletons vs pairs", list(range(40)), [i // 2 for i in range(40)]))

    with open(args.out, "w") as f:
        json.dump({"binary": binary, "classes": classes, "clusters": clusters}, f)


if __name__ == "__main__":
    main()
