#!/usr/bin/env python3
"""Builds the "Write a story about NAME." fine-tuning data from TinyStories.

Each story's hero (its most frequent capitalised given name) is renamed to
NAME everywhere, several times per story with different names, so that the
name can only come from the instruction. Names come from a large pool: common
given names and generated ones, which the 2,048-token tokenizer cuts into
several pieces (so copying them takes more than recalling one token).

Writes, into OUT_DIR (outside the repository, e.g. ~/.cache/gptlens/instruct):
  train.jsonl     {"prompt": "Write a story about NAME.", "response": story} pairs
  valid.jsonl     held-out pairs: validation stories renamed to held-out names
  names.json      {"pool": [...], "heldout_common": [...], "heldout_rare": [...]}:
                  training-pool names to measure on, and names that never occur
                  in train.jsonl (not as the requested name, not in any story)
  summary.json    counts and the settings used

Deterministic: the same corpus and options give byte-identical files.
Standard library only.

Usage: python3 scripts/finetune_data.py OUT_DIR [--corpus DIR] [--pairs-per-story K]
           [--max-chars N] [--stories N] [--valid-stories N] [--seed S]
"""
import argparse
import collections
import json
import os
import random
import re
import sys

PROMPT = "Write a story about {}."

# Capitalised words that are not given names (titles, family words, words that
# start quoted speech or lists).
NOT_NAMES = set(
    """
    Mom Dad Mommy Daddy Mama Papa Mum Mummy Momma Grandma Grandpa Granny Nana Nanny
    Grandmother Grandfather Aunt Auntie Uncle Mr Mrs Miss Ms Sir Madam Mister Dr Doctor
    God End The Little Big True Blue Red Green Pink Cat Bear Dog Bunny Baby Tiny Star
    Zoom Hop Buzz Bloom Tweet Santa Christmas Halloween Easter Earth Sun Moon Mars
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March
    April May June July August September October November December English King Queen
    Princess Prince Captain Teacher Officer Chief Once One Two Then But And They She He
    It Yes No Oh Wow Hello Hi Hey Please Thank Thanks Okay Ok Let What Why How When
    Where Who Look Come Go Stop Help Sorry Good Bye Goodbye Today Park Mister Lord
    Happy Birthday Mister Boss Fairy Dragon Monster Giant Bird Fish Duck Frog Mouse
    Owl Lion Bee Bug Rabbit Puppy Kitty Ducky Teddy Robot Ball Tree Flower Sky Sea
    America China France Africa Jesus Professor Nurse Coach Farmer Sheriff Pirate
    """.split()
)

# Common given names for the training pool (more are taken from the corpus).
COMMON = """
    Lily Tim Tom Ben Max Sam Sue Mia Lucy Jack Bob Anna Sara Jane Sarah Joe John Sally
    Daisy Molly Amy Lila Jill Tommy Billy Mary Jen Emma Jake Leo Andy Benny Jenny Bella
    Bobby Jimmy Grace Ella Jim Lisa Polly Alex Sandy Susie Pete Luna Fred Jerry Lulu
    Sammy Rosie Emily Bill James Henry Ann Lola Peter Rex Kate Dave Gary Cindy Frank
    Sophie Julie Toby Joy Danny Mark Penny Mimi George Tilly Lee Charlie Joey Rose
    Ollie Oliver Rachel Alice Milly Tina Chloe Ted Abby Harry Liz Isabel Ruby Rob
    Adam Aiden Amelia Ava Ben Caleb Carlos Chen Daniel David Diego Dylan Elena Eli
    Ethan Eva Felix Fiona Hannah Hugo Ian Ivy Jacob Jade Jasmine Jonas Kai Kevin Leah
    Liam Lucas Maria Mason Maya Mila Nathan Noah Olivia Omar Paul Quinn Ravi Rita Ryan
    Sofia Tara Theo Uma Victor Wendy Will Zara Zoe Ali Anton Bruno Clara Dora Edgar
    Erik Gina Hector Ingrid Jonah Karl Lena Marco Nadia Nina Oscar Pablo Rosa Simon
    Tessa Ursula Vera Walter Yuri Amir Beth Cora Dean Elsa Finn Gus Hazel Iris Jules
    Kim Lars Mei Ned Opal Pia Rudy Sid Tess Vic Wes Yara Zack Ada Bea Cal Dot Eve Gil
    Hal Ike Jo Kit Lou Meg Ned Pat Roy Sal Ty Val Wade
    """.split()

# Held-out common names: none may occur in the training stories (the script
# drops any that does); the first 30 that pass are kept.
HELDOUT_COMMON = """
    Nora Oskar Priya Mateo Kwame Ingrid Beatrix Esther Felipe Greta Hamid Imogen Jasper
    Keiko Lorenzo Magnus Naomi Octavia Pedro Rahul Saoirse Tobias Ulla Vivian Wanda
    Xavier Yusuf Zelda Agnes Bernard Camila Dmitri Elif Farah Gideon Helga Ines Joaquin
    Kasimir Leilani Marisol Nikolai Orla Petra Rosalind Sven Thea Umar Wilhelmina
    """.split()

ONSETS = "b d f g h j k l m n p r s t v w z b d k l m n r s t br dr gr kr tr st sh ch th".split()
VOWELS = "a e i o u a e i o u a e i o ai ea ou y".split()
CODAS = "n r l s m k x nd rk st".split()


def generated_name(rng):
    """A made-up name of 2 or 3 syllables, e.g. Talven or Morizak: the
    tokenizer cuts these into several pieces."""
    syllables = 2 if rng.random() < 0.7 else 3
    name = ""
    for i in range(syllables):
        name += rng.choice(ONSETS) + rng.choice(VOWELS)
        if rng.random() < (0.25 if i + 1 < syllables else 0.5):
            name += rng.choice(CODAS)
    return name[0].upper() + name[1:]


def read_stories(path, limit):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    stories = [s.strip("\n") for s in text.split("<|endoftext|>")]
    stories = [s for s in stories if s.strip()]
    return stories[:limit] if limit else stories


CAP = re.compile(r"\b[A-Z][a-z]+\b")
MID = re.compile(r"(?<=[a-z,;] )([A-Z][a-z]+)\b")
NAMED = re.compile(r"\b(?:named|called) ([A-Z][a-z]+)\b")


def hero(story):
    """The story's most frequent capitalised given name: a capitalised word,
    not a title or family word, seen at least twice, at least once in the
    middle of a sentence or after "named"/"called"; ties go to the first seen."""
    counts = collections.Counter(CAP.findall(story))
    given = set(MID.findall(story)) | set(NAMED.findall(story))
    best = None
    for w in CAP.findall(story):
        if w in NOT_NAMES or w not in given or counts[w] < 2:
            continue
        if best is None or counts[w] > counts[best]:
            best = w
    return best


def rename(story, old, new):
    return re.sub(r"\b%s\b" % re.escape(old), new, story)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="output folder (created; outside the repository)")
    ap.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "corpus"),
                    help="folder holding tinystories_train.txt and tinystories_valid.txt")
    ap.add_argument("--pairs-per-story", type=int, default=6)
    ap.add_argument("--max-chars", type=int, default=1000,
                    help="leave out stories longer than this (they would not fit the 256-token context)")
    ap.add_argument("--stories", type=int, default=0, help="use only the first N training stories (0: all)")
    ap.add_argument("--valid-stories", type=int, default=200, help="validation stories for the held-out pairs")
    ap.add_argument("--common-share", type=float, default=0.4,
                    help="share of training pairs named from the common pool (the rest: generated names)")
    ap.add_argument("--seed", type=int, default=1337)
    a = ap.parse_args()
    if a.pairs_per_story < 1:
        sys.exit("--pairs-per-story must be at least 1")
    corpus = a.corpus
    if not os.path.isdir(corpus):
        sys.exit(f"{corpus} is not a folder; pass --corpus DIR holding tinystories_train.txt")
    train_stories = read_stories(os.path.join(corpus, "tinystories_train.txt"), a.stories)
    valid_stories = read_stories(os.path.join(corpus, "tinystories_valid.txt"), 0)
    train_words = set()
    for s in train_stories:
        train_words.update(re.findall(r"[A-Za-z]+", s))
    rng = random.Random(a.seed)

    # Held-out names first, so training can avoid them.
    heldout_common = [n for n in HELDOUT_COMMON if n not in train_words][:30]
    heldout_rare = []
    taken = set(heldout_common) | set(COMMON) | train_words
    while len(heldout_rare) < 30:
        n = generated_name(rng)
        if len(n) >= 5 and n not in taken:
            heldout_rare.append(n)
            taken.add(n)
    heldout = set(heldout_common) | set(heldout_rare)

    common = []
    for n in COMMON:
        if n not in heldout and n not in common:
            common.append(n)

    def pick_name(avoid):
        while True:
            if rng.random() < a.common_share:
                n = rng.choice(common)
            else:
                n = generated_name(rng)
            if n not in heldout and n not in avoid:
                return n

    train, used = [], collections.Counter()
    skipped = collections.Counter()
    for s in train_stories:
        if len(s) > a.max_chars:
            skipped["too long"] += 1
            continue
        h = hero(s)
        if h is None:
            skipped["no hero"] += 1
            continue
        avoid = set(CAP.findall(s))
        names = set()
        while len(names) < a.pairs_per_story:
            names.add(pick_name(avoid | names))
        for n in sorted(names):
            train.append({"prompt": PROMPT.format(n), "response": rename(s, h, n)})
            used[n] += 1
    rng.shuffle(train)

    # Held-out pairs: validation stories, named alternately from the two held-out lists.
    valid = []
    for s in valid_stories:
        if len(valid) >= a.valid_stories:
            break
        if len(s) > a.max_chars:
            continue
        h = hero(s)
        if h is None:
            continue
        names = heldout_common if len(valid) % 2 == 0 else heldout_rare
        avoid = set(CAP.findall(s))
        choices = [n for n in names if n not in avoid]
        n = choices[(len(valid) // 2) % len(choices)]
        valid.append({"prompt": PROMPT.format(n), "response": rename(s, h, n)})

    # Training-pool names to measure on: the most used common-pool names.
    pool = [n for n, _ in sorted(((n, c) for n, c in used.items() if n in common), key=lambda x: (-x[1], x[0]))][:30]

    os.makedirs(a.out, exist_ok=True)

    def write_jsonl(name, rows):
        with open(os.path.join(a.out, name), "w", encoding="utf-8", newline="\n") as f:
            for r in rows:
                f.write(json.dumps(r, sort_keys=True) + "\n")

    write_jsonl("train.jsonl", train)
    write_jsonl("valid.jsonl", valid)
    names = {"pool": pool, "heldout_common": heldout_common, "heldout_rare": heldout_rare}
    with open(os.path.join(a.out, "names.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(names, f, indent=1, sort_keys=True)
        f.write("\n")
    summary = {
        "stories": len(train_stories),
        "stories_used": len(train) // a.pairs_per_story,
        "stories_skipped": dict(sorted(skipped.items())),
        "train_pairs": len(train),
        "valid_pairs": len(valid),
        "distinct_names": len(used),
        "settings": {k: v for k, v in sorted(vars(a).items()) if k not in ("out", "corpus")},
    }
    with open(os.path.join(a.out, "summary.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
