#!/usr/bin/env python3
"""Scores person names on the held-out KWDLC test documents, as mamori-detect-score does, with
the IREX OPTIONAL spans left out (a finding on one is neither right nor wrong).

    eval.py PROSE_DIR FINDINGS.jsonl  -> prints precision, recall, F1 for person_name
"""
import json, sys, unicodedata


def squash(s):
    s = unicodedata.normalize("NFKC", s)
    return "".join(c for c in s if not c.isspace() and c not in "-()\"〒")


def main():
    root, found_path = sys.argv[1:3]
    prefix = root.rstrip("/") + "/test/"
    labels, optional = {}, {}
    for name, dst in (("test-labels.jsonl", labels), ("test-optional.jsonl", optional)):
        for l in open(f"{root}/{name}", encoding="utf-8"):
            r = json.loads(l)
            dst.setdefault((r["path"], r["line"]), []).append([squash(r["value"]), False])
    tp = fp = 0
    for l in open(found_path, encoding="utf-8"):
        r = json.loads(l)
        if r.get("kind") != "person_name":
            continue
        path = r["path"][len(prefix):] if r["path"].startswith(prefix) else r["path"]
        v = squash(r.get("value") or "")
        key = (path, r["line"])
        match = lambda c: not c[1] and v and (c[0] in v or v in c[0])
        hit = next((c for c in labels.get(key, []) if match(c)), None)
        if hit:
            hit[1] = True
            tp += 1
        elif any(match(c) for c in optional.get(key, [])):
            pass
        else:
            fp += 1
    total = sum(len(v) for v in labels.values())
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / total if total else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    print(json.dumps({"tp": tp, "fp": fp, "fn": total - tp, "precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)}))


if __name__ == "__main__":
    main()
