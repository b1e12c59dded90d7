#!/usr/bin/env python3
"""Measures instruction following of one or more models with gptlens itself.

For each model: the response loss on the held-out pairs (`gptlens finetune
--eval --json`), and for each name list in names.json (pool, heldout_common,
heldout_rare, written by scripts/finetune_data.py) the greedy reply to
"Write a story about NAME." in the Q:/A: template (`gptlens generate
--temperature 0 --max-tokens 60`, i.e. the reply's first 60 tokens, or fewer
when it ends): the share of replies that contain NAME as a word, and the share
that collapse into repetition (a word three times in a row, or fewer than 40%
distinct words). The base model has no chat template, so every model gets the
prompt written out exactly as the template renders it (`--chat` gives the same
tokens; tests/finetune.rs checks that).

Usage: python3 scripts/finetune_measure.py --data DIR --model A [--model B ...]
           [--gptlens target/release/gptlens] [--json OUT.json] [--examples 3]
Standard library only.
"""
import argparse
import json
import os
import re
import subprocess
import sys

PROMPT = "Q: Write a story about {}.\nA:"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


def collapsed(reply):
    words = re.findall(r"[A-Za-z']+", reply)
    if len(words) < 5:
        return False
    if any(words[i] == words[i + 1] == words[i + 2] for i in range(len(words) - 2)):
        return True
    return len(set(words)) / len(words) < 0.4


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="the folder scripts/finetune_data.py wrote")
    ap.add_argument("--model", action="append", required=True, help="model folder (repeatable)")
    ap.add_argument("--gptlens", default="target/release/gptlens")
    ap.add_argument("--json", help="also write the numbers and every reply here")
    ap.add_argument("--examples", type=int, default=3, help="replies to print per list and model")
    a = ap.parse_args()
    names = json.load(open(os.path.join(a.data, "names.json")))
    valid = os.path.join(a.data, "valid.jsonl")
    g = a.gptlens
    pieces = {}
    for kind, lst in names.items():
        n = []
        for name in lst:
            doc = json.loads(run([g, "--model", a.model[0], "trace", "--json", "--fields", "top", "--prompt", " " + name]))
            n.append(len(doc["tokens"]))
        pieces[kind] = sum(n) / len(n)
    report = {"pieces_per_name": pieces, "models": {}}
    for m in a.model:
        ev = json.loads(run([g, "--model", m, "finetune", "--data", valid, "--eval", "--json"]))
        res = {"valid_response_loss": ev["loss"], "valid_tokens": ev["tokens"], "lists": {}}
        for kind, lst in names.items():
            replies = []
            for name in lst:
                p = PROMPT.format(name)
                out = run([g, "--model", m, "generate", "--prompt", p, "--temperature", "0", "--max-tokens", "60"])
                reply = out[len(p):].strip() if out.startswith(p) else out.strip()
                replies.append({"name": name, "reply": reply,
                                "follows": bool(re.search(r"\b%s\b" % re.escape(name), reply)),
                                "collapsed": collapsed(reply)})
            res["lists"][kind] = {
                "names": len(lst),
                "follow_rate": sum(r["follows"] for r in replies) / len(lst),
                "collapse_rate": sum(r["collapsed"] for r in replies) / len(lst),
                "replies": replies,
            }
        report["models"][m] = res
    print("| model | held-out response loss | " + " | ".join(
        f"{k} follows (collapses)" for k in names) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in names) + " |")
    for m, r in report["models"].items():
        cells = [f"{100 * r['lists'][k]['follow_rate']:.0f}% ({100 * r['lists'][k]['collapse_rate']:.0f}%)" for k in names]
        print(f"| {m} | {r['valid_response_loss']:.4f} | " + " | ".join(cells) + " |")
    print()
    print("names: " + ", ".join(f"{k} {len(v)} names, {pieces[k]:.1f} tokens each on average" for k, v in names.items()))
    for m, r in report["models"].items():
        for k in names:
            print(f"\n{m}, {k}:")
            for rep in r["lists"][k]["replies"][: a.examples]:
                mark = "follows" if rep["follows"] else "misses"
                print(f"  [{mark}] {rep['name']}: {rep['reply'][:160]!r}")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
