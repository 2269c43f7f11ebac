"""The spam-SMS classifier (scikit-learn). No database.

Features are hashed character n-grams, so nothing in them is tied to English, to a vocabulary
or to word boundaries (Chinese has none): ``char_wb`` 2-5-grams of the lower-cased text with
every digit mapped to "0" (so "08452810075" and "09061701461" look alike: premium numbers,
prices and codes generalise), plus word 1-2-grams of the same text for whole-token evidence
("FREE", "claim") where there are spaces. Both go through a stateless HashingVectorizer
(``N_FEATURES`` buckets each, l2-normalised term counts, no IDF): an IDF or a vocabulary learned
on one language is what shifts scores on another, and hashing leaves the phone nothing to
download but the weights. The model is a linear SVM (LinearSVC, C=1).

The decision threshold is not the SVM's 0: it is calibrated on the training data by an inner
cross-validation so that at most ``target_fpr`` of the out-of-fold ham scores lie above it
(default 0.5%, the goal). :func:`heldout` measures the same threshold on messages of another
language that the model never saw.

Two ways to persist it, neither pickle: skops (the server's copy, ``canyu calls train-sms``) and
:class:`SmsWeights`, plain float16 weights in an ``.npz`` read with ``allow_pickle=False`` plus a
JSON header: what the phone downloads as a signed TUF target (``canyu calls publish-sms``) and
scores with the same stateless vectorizers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_DIGIT = re.compile(r"\d")
MAX_TEXT = 2_000


def normalise_text(text: str) -> str:
    return _DIGIT.sub("0", text.lower())


N_FEATURES = 2**18  # buckets per feature family: few collisions for SMS-sized corpora
FORMAT = "cysms-1"  # the plain-weights file's format name


def build_features() -> Any:
    """The stateless feature map shared by the server and the phone."""
    from sklearn.feature_extraction.text import HashingVectorizer  # type: ignore[import-untyped]
    from sklearn.pipeline import make_union  # type: ignore[import-untyped]

    def hashing(**options: Any) -> Any:
        return HashingVectorizer(
            n_features=N_FEATURES,
            alternate_sign=False,
            preprocessor=normalise_text,
            dtype=np.float32,
            **options,
        )

    return make_union(
        hashing(analyzer="char_wb", ngram_range=(2, 5)),
        hashing(
            analyzer="word",
            ngram_range=(1, 2),
            token_pattern=r"\S+",  # noqa: S106 (a regex, not a password)
        ),
    )


def build_pipeline() -> Any:
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

    return make_pipeline(build_features(), LinearSVC(C=1.0))


def baseline_pipeline() -> Any:
    """The floor from the issue: plain character n-gram logistic regression, threshold 0."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True),
        LogisticRegression(C=10, max_iter=2000),
    )


def read_dataset(path: Path) -> tuple[list[str], np.ndarray]:
    """``label<TAB>text`` lines, label ``spam`` or ``ham``. Raises ValueError naming the line."""
    texts: list[str] = []
    labels: list[int] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            label, sep, text = line.partition("\t")
            if not sep or label.strip().lower() not in ("spam", "ham"):
                raise ValueError(f"{path}:{number}: expected 'spam|ham<TAB>text'")
            texts.append(text)
            labels.append(1 if label.strip().lower() == "spam" else 0)
    if len(set(labels)) < 2:
        raise ValueError(f"{path}: needs both spam and ham lines")
    return texts, np.array(labels, dtype=np.int8)


def _threshold(scores: np.ndarray, labels: np.ndarray, target_fpr: float) -> float:
    """The lowest threshold at which at most ``target_fpr`` of ham scores lie above it."""
    ham = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(target_fpr * ham.size))
    return float(ham[allowed]) if allowed < ham.size else float(ham[-1])


@dataclass
class SmsClassifier:
    pipeline: Any
    threshold: float

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        clipped = [t[:MAX_TEXT] for t in texts]
        return np.asarray(self.pipeline.decision_function(clipped), dtype=float)

    def is_spam(self, text: str) -> tuple[bool, float]:
        score = float(self.scores([text])[0])
        return score > self.threshold, score

    def weights(self, *, language: str, version: int) -> SmsWeights:
        svm = self.pipeline[-1]
        return SmsWeights(
            language=language,
            version=version,
            threshold=self.threshold,
            intercept=float(svm.intercept_[0]),
            coef=np.asarray(svm.coef_[0], dtype=np.float16),
        )

    def save(self, path: Path) -> None:
        import skops.io as sio  # type: ignore[import-untyped]

        path.parent.mkdir(parents=True, exist_ok=True)
        sio.dump({"pipeline": self.pipeline, "threshold": self.threshold}, path)

    @classmethod
    def load(cls, path: Path) -> SmsClassifier:
        import skops.io as sio

        untrusted = sio.get_untrusted_types(file=path)
        allowed = [
            t
            for t in untrusted
            if t.startswith(("sklearn.", "numpy.", "scipy.", "builtins.", "canyu.calls.sms."))
            or t in ("re.Pattern",)
        ]
        refused = sorted(set(untrusted) - set(allowed))
        if refused:
            raise ValueError(f"{path} holds types that are not trusted: {', '.join(refused)}")
        state = sio.load(path, trusted=allowed)
        return cls(state["pipeline"], float(state["threshold"]))


class WeightsError(ValueError):
    """A plain-weights file that is not one, or not of this format."""


@dataclass
class SmsWeights:
    """The phone's model: the linear SVM's weights over :func:`build_features`, its intercept
    and the calibrated threshold, for one language or region, versioned."""

    language: str
    version: int
    threshold: float
    intercept: float
    coef: np.ndarray
    _analyzers: list[Any] = field(default_factory=list, repr=False)
    _weights: np.ndarray | None = field(default=None, repr=False)

    def score(self, text: str) -> float:
        """One message's score, computed as :func:`build_features` then the dot product would,
        without a sparse matrix per message: each family's n-grams are hashed
        (``murmurhash3_32``, as HashingVectorizer does), counted, l2-normalised and looked up in
        the weights. About ten times faster for one message; tests check both agree."""
        from collections import Counter

        from sklearn.utils import murmurhash3_32  # type: ignore[import-untyped]

        if self._weights is None:
            self._weights = self.coef.astype(np.float32)
            self._analyzers = [
                step.build_analyzer() for _, step in build_features().transformer_list
            ]
        total = self.intercept
        for block, analyzer in enumerate(self._analyzers):
            counts = Counter(
                abs(murmurhash3_32(gram, positive=False)) % N_FEATURES
                for gram in analyzer(text[:MAX_TEXT])
            )
            if not counts:
                continue
            index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            values = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            norm = float(np.sqrt(values @ values))
            total += float(values @ self._weights[index + block * N_FEATURES]) / norm
        return total

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.score(t) for t in texts], dtype=float)

    def is_spam(self, text: str) -> tuple[bool, float]:
        score = self.score(text)
        return score > self.threshold, score

    def to_bytes(self) -> bytes:
        import io
        import json

        header = {
            "format": FORMAT,
            "language": self.language,
            "version": self.version,
            "threshold": self.threshold,
            "intercept": self.intercept,
            "n_features": N_FEATURES,
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            coef=self.coef.astype(np.float16),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SmsWeights:
        """Read a weights file; never unpickles. Raises WeightsError for anything else."""
        import io
        import json
        import zipfile

        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                header = json.loads(bytes(arrays["header"]).decode())
                coef = np.asarray(arrays["coef"], dtype=np.float16)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise WeightsError(f"not an SMS weights file: {exc}") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise WeightsError(f"not an SMS weights file of format {FORMAT}")
        if coef.shape != (2 * int(header.get("n_features", 0)),) or coef.size != 2 * N_FEATURES:
            raise WeightsError("the weights do not match this feature map")
        try:
            return cls(
                language=str(header["language"]),
                version=int(header["version"]),
                threshold=float(header["threshold"]),
                intercept=float(header["intercept"]),
                coef=coef,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WeightsError(f"bad header: {exc}") from None


def heldout(model: SmsClassifier | SmsWeights, texts: Sequence[str], labels: np.ndarray) -> Metrics:
    """The model's threshold, unchanged, on messages it was not trained or tuned on (another
    language): does the ham false-positive rate still hold?"""
    return Metrics.of(model.scores(texts) > model.threshold, np.asarray(labels))


def train(
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    target_fpr: float = 0.005,
    folds: int = 5,
    seed: int = 0,
) -> SmsClassifier:
    """Fit on everything; the threshold comes from out-of-fold scores on the same data."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict  # type: ignore[import-untyped]

    labels = np.asarray(labels)
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    oof = cross_val_predict(
        build_pipeline(), list(texts), labels, cv=cv, method="decision_function"
    )
    threshold = _threshold(np.asarray(oof, dtype=float), labels, target_fpr)
    pipeline = build_pipeline().fit(list(texts), labels)
    return SmsClassifier(pipeline, threshold)


@dataclass(frozen=True)
class Metrics:
    precision: float
    recall: float
    f1: float
    ham_fpr: float
    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, predicted: np.ndarray, labels: np.ndarray) -> Metrics:
        tp = int(np.sum(predicted & (labels == 1)))
        fp = int(np.sum(predicted & (labels == 0)))
        fn = int(np.sum(~predicted & (labels == 1)))
        tn = int(np.sum(~predicted & (labels == 0)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, fp / (fp + tn) if fp + tn else 0.0, tp, fp, fn, tn)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "ham_fpr": self.ham_fpr,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
        }


def evaluate(
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    folds: int = 5,
    seed: int = 0,
    target_fpr: float = 0.005,
    baseline: bool = False,
) -> dict[str, Metrics]:
    """Stratified k-fold: each outer fold is classified by a model (threshold included) trained
    on the other folds only. Returns the pooled metrics of this classifier (``"model"``), of the
    same SVM at its default threshold 0 (``"svm_default"``) and, if asked, of the baseline."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    texts = list(texts)
    predicted = np.zeros(labels.size, dtype=bool)
    default = np.zeros(labels.size, dtype=bool)
    base = np.zeros(labels.size, dtype=bool)
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(
        texts, labels
    ):
        train_texts = [texts[i] for i in train_idx]
        test_texts = [texts[i] for i in test_idx]
        model = train(train_texts, labels[train_idx], target_fpr=target_fpr, seed=seed)
        scores = model.scores(test_texts)
        predicted[test_idx] = scores > model.threshold
        default[test_idx] = scores > 0
        if baseline:
            lr = baseline_pipeline().fit(train_texts, labels[train_idx])
            base[test_idx] = lr.decision_function(test_texts) > 0
    out = {"model": Metrics.of(predicted, labels), "svm_default": Metrics.of(default, labels)}
    if baseline:
        out["baseline"] = Metrics.of(base, labels)
    return out
