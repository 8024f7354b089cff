#!/usr/bin/env python3
"""Run Presidio (presidio-analyzer + the ja_ginza spaCy model) over text files, configured for
Japanese as a user would: the spaCy NLP engine with ja_ginza, the spaCy recognizer (PERSON,
LOCATION, DATE_TIME, and ginza's own phone/e-mail entities) and the pattern recognizers for e-mail, phone and credit card registered
for language "ja". Prints one JSON object per finding in the scorer's format (path, line, kind,
value) and, on stderr, bytes and seconds.

    python3 presidio_scan.py ROOT FILE... > presidio.jsonl
"""
import json
import sys
import time

import tldextract.tldextract as _tld

# No network here: use tldextract's bundled public-suffix snapshot instead of fetching it.
_tld.TLD_EXTRACTOR = _tld.TLDExtract(suffix_list_urls=())

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
)

MAP = {
    "PERSON": "person_name",
    "LOCATION": "address",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "CREDIT_CARD": "credit_card",
    "DATE_TIME": "birth_date",
}

# ja_ginza tags with the Extended Named Entity labels (Person, Province, City, Date, ...), which
# are mapped to Presidio's entity names here, as a user configuring Presidio for Japanese must.
provider = NlpEngineProvider(nlp_configuration={
    "nlp_engine_name": "spacy",
    "models": [{"lang_code": "ja", "model_name": "ja_ginza"}],
    "ner_model_configuration": {
        "model_to_presidio_entity_mapping": {
            "Person": "PERSON",
            "Province": "LOCATION",
            "City": "LOCATION",
            "County": "LOCATION",
            "GPE_Other": "LOCATION",
            "Location_Other": "LOCATION",
            "Postal_Address": "LOCATION",
            "Date": "DATE_TIME",
            "Phone_Number": "PHONE_NUMBER",
            "Email": "EMAIL_ADDRESS",
        },
        "low_confidence_score_multiplier": 1.0,
        "low_score_entity_names": [],
    },
})
registry = RecognizerRegistry(supported_languages=["ja"])
registry.add_recognizer(SpacyRecognizer(supported_language="ja", supported_entities=["PERSON", "LOCATION", "DATE_TIME", "PHONE_NUMBER", "EMAIL_ADDRESS"]))
registry.add_recognizer(EmailRecognizer(supported_language="ja"))
registry.add_recognizer(PhoneRecognizer(supported_language="ja", supported_regions=["JP"]))
registry.add_recognizer(CreditCardRecognizer(supported_language="ja"))
analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), registry=registry, supported_languages=["ja"])

root = sys.argv[1].rstrip("/") + "/"
total = 0
start = time.time()
for path in sys.argv[2:]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        for lineno, line in enumerate(f, 1):
            total += len(line.encode("utf-8"))
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            for r in analyzer.analyze(text=text, language="ja"):
                kind = MAP.get(r.entity_type)
                if kind:
                    rel = path[len(root):] if path.startswith(root) else path
                    print(json.dumps({"path": rel, "line": lineno, "kind": kind, "value": text[r.start:r.end]}, ensure_ascii=False))
print(f"presidio: {total} bytes in {time.time() - start:.2f} s", file=sys.stderr)
