#!/usr/bin/env python3
"""Turns the public annotated corpora into what the name model and the scorer read.

    corpora.py KWDLC_DIR HIRONSAN_IOB OUT_DIR

KWDLC_DIR is a checkout of ku-nlp/KWDLC (its knp/ and id/ folders); HIRONSAN_IOB is
hironsan/corpus/iob_sents.txt from the PyPI package `hironsancorpus`. Writes:

  OUT_DIR/train.jsonl   sentences for training: {"text", "spans": [[start, end]...], "optional"}
                        (character offsets; spans are PERSON names) — KWDLC's train.id documents
                        that are not in dev, and all of hironsancorpus
  OUT_DIR/dev.jsonl     KWDLC documents set aside for tuning (every 8th train.id document)
  OUT_DIR/test/         KWDLC's test.id documents, never tuned on: one DOC.txt per document (one
                        sentence per line)
  OUT_DIR/test-labels.jsonl    their names, in mamori-detect-score's format
  OUT_DIR/test-optional.jsonl  IREX OPTIONAL spans: a finding there is neither right nor wrong
"""
import json, os, re, sys

NE = re.compile(r"<NE:([A-Z]+):([^>]*)>")


def knp_sentences(path):
    """Yields (text, [(kind, start, end)]) per sentence of a KNP file."""
    morphs, phrases, tags = [], [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#"):
            morphs, phrases, tags = [], [], []
        elif line == "EOS":
            yield resolve(morphs, phrases, tags, path)
        elif line.startswith("+ "):
            phrases.append(len(morphs))
            for kind, surface in NE.findall(line):
                tags.append((kind, surface, len(phrases) - 1))
        elif line.startswith("* "):
            pass
        elif line:
            morphs.append(line.split(" ")[0])


def resolve(morphs, phrases, tags, path):
    text = "".join(morphs)
    ends, pos = [], 0
    for m in morphs:
        pos += len(m)
        ends.append(pos)
    spans = []
    for kind, surface, p in tags:
        lo_m = phrases[p]
        hi_m = phrases[p + 1] if p + 1 < len(phrases) else len(morphs)
        lo = ends[lo_m - 1] if lo_m > 0 else 0
        hi = ends[hi_m - 1] if hi_m > 0 else 0
        found = None
        for e in ends:
            if lo < e <= hi and e >= len(surface) and text[e - len(surface):e] == surface:
                found = (e - len(surface), e)
        if found is None:
            i = text.find(surface)
            if i >= 0:
                found = (i, i + len(surface))
        if found is None:
            print(f"{path}: cannot place {kind} {surface!r}", file=sys.stderr)
            continue
        spans.append((kind, found[0], found[1]))
    return text, spans


def doc_ids(path):
    return [l.strip() for l in open(path, encoding="utf-8") if l.strip()]


def kwdlc_docs(root):
    files = {}
    for d, _, fs in os.walk(os.path.join(root, "knp")):
        for f in fs:
            if f.endswith(".knp"):
                files[f[:-4]] = os.path.join(d, f)
    return files


def record(text, spans):
    return {
        "text": text,
        "spans": [[s, e] for k, s, e in spans if k == "PERSON"],
        "optional": [[s, e] for k, s, e in spans if k == "OPTIONAL"],
    }


def hironsan(path):
    toks, labels = [], []
    for line in list(open(path, encoding="utf-8")) + [""]:
        cols = line.rstrip("\n").split("\t")
        if len(cols) < 2:
            if toks:
                text, spans, pos, cur = "", [], 0, None
                for t, l in zip(toks, labels):
                    if cur is not None and not (l.startswith("I-") and l[2:] in ("PSN", "PER")):
                        spans.append(("PERSON", cur, pos))
                        cur = None
                    if l in ("B-PSN", "B-PER"):
                        cur = pos
                    text += t
                    pos += len(t)
                if cur is not None:
                    spans.append(("PERSON", cur, pos))
                yield text, spans
            toks, labels = [], []
            continue
        toks.append(cols[0])
        labels.append(cols[-1])


def main():
    kw, hiron, out = sys.argv[1:4]
    os.makedirs(os.path.join(out, "test"), exist_ok=True)
    files = kwdlc_docs(kw)
    train_ids = doc_ids(os.path.join(kw, "id", "train.id"))
    test_ids = doc_ids(os.path.join(kw, "id", "test.id"))
    dev_ids = set(train_ids[::8])
    counts = {"train": 0, "dev": 0, "test": 0}
    with open(os.path.join(out, "train.jsonl"), "w", encoding="utf-8") as tr, open(
        os.path.join(out, "dev.jsonl"), "w", encoding="utf-8"
    ) as dv:
        for i in train_ids:
            if i not in files:
                continue
            dst = dv if i in dev_ids else tr
            for text, spans in knp_sentences(files[i]):
                r = record(text, spans)
                r["doc"] = i
                dst.write(json.dumps(r, ensure_ascii=False) + "\n")
                counts["dev" if i in dev_ids else "train"] += len(r["spans"])
        for text, spans in hironsan(hiron):
            r = record(text, spans)
            r["doc"] = "hironsan"
            tr.write(json.dumps(r, ensure_ascii=False) + "\n")
            counts["train"] += len(r["spans"])
    with open(os.path.join(out, "test-labels.jsonl"), "w", encoding="utf-8") as lab, open(
        os.path.join(out, "test-optional.jsonl"), "w", encoding="utf-8"
    ) as opt:
        for i in test_ids:
            if i not in files:
                continue
            lines = []
            for n, (text, spans) in enumerate(knp_sentences(files[i]), 1):
                lines.append(text)
                for k, s, e in spans:
                    row = {"path": f"{i}.txt", "line": n, "kind": "person_name", "value": text[s:e]}
                    if k == "PERSON":
                        lab.write(json.dumps(row, ensure_ascii=False) + "\n")
                        counts["test"] += 1
                    elif k == "OPTIONAL":
                        opt.write(json.dumps(row, ensure_ascii=False) + "\n")
            with open(os.path.join(out, "test", f"{i}.txt"), "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
    print(json.dumps({"person_names": counts}), file=sys.stderr)


if __name__ == "__main__":
    main()
