#!/usr/bin/env python3
"""Sorts and formats the catalogues (header first), in place."""
import json, os, sys
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static", "i18n")
for name in ("en.json", "cy.json"):
    path = os.path.join(here, name)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    meta = data.pop("@meta")
    out = {"@meta": meta}
    out.update(sorted(data.items()))
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    os.replace(tmp, path)
