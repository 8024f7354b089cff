#!/usr/bin/env python3
"""Regenerate crates/mamori-detect/data/names.txt from Debian's mecab-ipadic seed CSVs.

    apt-get install mecab-ipadic
    python3 crates/mamori-detect/scripts/detect/gen-names.py > crates/mamori-detect/data/names.txt

The output is one entry per line, `TAG<TAB>word`, sorted, UTF-8:

    S   surname in kanji (人名,姓)          SR  surname reading in katakana
    G   given name in kanji (人名,名)       GR  given-name reading in katakana
    V   veto: an ordinary IPADIC word (general noun, organisation, place, adverb …) that
        happens to split into a dictionary surname + given name, so it is never reported
        as a person on its own (for example a place name written like 大倉谷地).

IPADIC is distributed under the licence in data/IPADIC-NOTICE, which must travel with the file.
"""
import os
import sys

DIC = os.environ.get("IPADIC_DIR", "/usr/share/mecab/dic/ipadic")


def rows(name):
    with open(os.path.join(DIC, name), encoding="euc_jp", errors="replace") as f:
        for line in f:
            cols = line.rstrip("\n").split(",")
            if len(cols) >= 12:
                yield cols


def is_kanji(ch):
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or ch in "々〆ヶ"


def is_katakana(word):
    return all(0x30A1 <= ord(c) <= 0x30FA or c == "ー" for c in word)


surnames, given, sr, gr = set(), set(), set(), set()
for c in rows("Noun.name.csv"):
    word, kind, reading = c[0], c[7], c[11]
    if kind == "姓":
        target, rtarget = surnames, sr
    elif kind == "名":
        target, rtarget = given, gr
    else:
        continue
    if word and all(is_kanji(ch) for ch in word):
        target.add(word)
    if reading and reading != "*" and is_katakana(reading) and len(reading) >= 2:
        rtarget.add(reading)


def splits(word):
    """True when word is surname + given name under the engine's length rules."""
    n = len(word)
    for i in range(1, n):
        s, g = word[:i], word[i:]
        if s in surnames and g in given and (len(s) >= 2 or len(g) >= 2):
            return True
    return False


veto = set()
others = [
    "Noun.csv", "Noun.org.csv", "Noun.place.csv", "Noun.proper.csv", "Noun.adverbal.csv",
    "Noun.verbal.csv", "Noun.adjv.csv", "Noun.others.csv", "Noun.nai.csv", "Noun.number.csv",
    "Adverb.csv", "Noun.demonst.csv", "Suffix.csv", "Prefix.csv", "Adnominal.csv",
]
for name in others:
    for c in rows(name):
        word = c[0]
        if 2 <= len(word) <= 8 and all(is_kanji(ch) for ch in word) and splits(word):
            veto.add(word)
        # A surname alone that is also an ordinary word (e.g. 中山 the place) stays a surname:
        # surnames alone are only reported with an honorific or in a name column.

out = []
out += [f"S\t{w}" for w in surnames]
out += [f"G\t{w}" for w in given]
out += [f"SR\t{w}" for w in sr]
out += [f"GR\t{w}" for w in gr]
out += [f"V\t{w}" for w in veto]
out.sort()
sys.stdout.write("# Derived from IPADIC (mecab-ipadic) Noun.name.csv and other seed CSVs by\n")
sys.stdout.write("# scripts/detect/gen-names.py. Licence: data/IPADIC-NOTICE. Do not edit by hand.\n")
for line in out:
    sys.stdout.write(line + "\n")
