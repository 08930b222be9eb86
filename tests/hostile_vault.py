"""A vault of everything that goes wrong in real vaults, written by `make_hostile_vault(root)` for the tests.

What a demanding user expects of each file, and so what the tests hold vaultrag to:

Indexed, each findable by its own topic (`HostileVault.topics`):
- plain notes, and a note inside a folder named `x.md` (the folder is walked, never read as a note);
- a note at the bottom of 50 nested folders;
- notes named with emoji, Hebrew, Arabic, a right-to-left override character, and a 200-byte name;
- UTF-16 with a byte order mark (LE and BE): decoded, as Windows editors write them;
- Windows-1252 text, and UTF-8 with one corrupted byte: decoded, with a warning (`HostileVault.warnings`);
- invalid YAML frontmatter, unfilled template placeholders (`date: {{date}}`) and a YAML alias bomb ("billion
  laughs"): the body is indexed, the frontmatter kept as text, and a warning names the problem;
- empty list items in the frontmatter and the body;
- an unclosed code fence (a warning; the rest is read as text) and stray or mismatched fences;
- 50 levels of nesting: `#` x 50, 50 heading levels cycling through h1-h6, 50 nested quotes, callouts and list
  items, 50 nested frontmatter mappings;
- a 10,000-line paragraph with no spaces, and a 10,400-character line with none: the text after them is found.
Indexed without a topic to search for: a zero-byte note (findable by its title only).

Reported in `/api/status` `failed`, never indexed (`HostileVault.reported`: words the reason must hold):
- binary data named `.md` (a PNG, random bytes): skipped as binary; random bytes without a zero byte: failed,
  as text in no known encoding, naming the first byte that is not UTF-8 and its offset;
- a 20 MB note: skipped, over `vault.max_file_mb` (10 MB by default);
- a symlink to itself, two symlinks to each other, a dangling symlink, a symlink to /dev/zero, a named pipe,
  and a symlink to a folder (never followed: it could loop);
- a mode-000 note: "permission denied", except when the tests run as root, whom no mode stops: then it is
  indexed like any note (`HostileVault.locked_note` says which).

A file deleted between the scan and the read cannot be set up in a vault on disk; tests/ingest/test_hostile_vault.py
deletes one between the two steps of a sync.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

TWENTY_MB = 20_000_000
LONG_NAME = "é" * 98 + "x.md"  # 200 bytes in UTF-8
DEEP_FOLDERS = "/".join(f"Level {n}" for n in range(1, 51))
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class HostileVault:
    root: Path
    topics: dict[str, str] = field(default_factory=dict)  # note path -> a question only that note answers
    indexed: set[str] = field(default_factory=set)  # every note that must be in the index (topics' included)
    warnings: dict[str, str] = field(default_factory=dict)  # indexed note -> words its warning must hold
    reported: dict[str, tuple[str, ...]] = field(default_factory=dict)  # bad path -> words its reason must hold
    locked_note: str = "Broken/Locked.md"  # mode 000: reported unless the tests run as root


def _alias_bomb() -> bytes:
    """Frontmatter of nine lines whose YAML aliases expand to 9 ** 9 values (the "billion laughs")."""
    anchors = "".join(f"l{n + 1}: &l{n + 1} [{', '.join([f'*l{n}'] * 9)}]\n" for n in range(8))
    return f"---\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n{anchors}---\n".encode()


# (path, text, question): each note has one topic, asked about in other words than it is written in.
_GOOD = [
    ("Good/Sourdough.md", "# Sourdough\n\nLet the dough proof for twelve hours in the fridge before baking.\n",
     "how long should bread dough rise in the refrigerator"),
    ("Good/Network.md", "# Home network\n\nThe wifi router lives at 192.168.1.1 behind the bookshelf.\n",
     "what is the IP address of the wireless router"),
    ("x.md/Beekeeping.md", "Inspect the beehive every nine days during swarm season.\n",
     "how often to check the bees in swarming season"),
    (f"{DEEP_FOLDERS}/Bottom.md", "The submarine dives to three hundred metres on the test run.\n",
     "how deep does the submarine go"),
    ("Names/🍞 Bread & 🧀 cheese.md", "Aged cheddar pairs well with rye crackers and apple slices.\n",
     "what goes well with cheddar"),
    ("Names/שלום עולם.md", "The synagogue choir rehearses on Tuesday evenings.\n",
     "when does the choir practice"),
    ("Names/ملاحظات.md", "Camels can walk forty kilometres a day across the desert.\n",
     "how far can a camel travel daily"),
    ("Names/invoice\u202egpj.md", "The invoice for the roof repair is due at the end of June.\n",
     "when must the roof repair bill be paid"),
    (f"Names/{LONG_NAME}", "The violin needs new strings before the spring concert.\n",
     "what does the violin need before the concert"),
    ("Frontmatter/Empty items.md", "---\ntags:\n  -\n  - \n  - recipe\naliases:\n  -\n---\n- \n-\n* \n\n"
     "Let the pancake batter rest for thirty minutes before frying.\n",
     "how long should pancake batter rest"),
    ("Fences/Stray fences.md", "```\nls -la\n~~~\nstill code\n````\n```\n\nThe tram to the museum runs every "
     "eight minutes.\n~~~\n", "how often does the tram to the museum run"),
]


# (path, bytes, question, words the note's warning must hold)
_DECODED_WITH_WARNING = [
    ("Encoding/Windows-1252.md", "Café crème: descale the espresso machine every month – it costs 5 €.\n"
     .encode("cp1252"), "how often to descale the coffee machine", "cp1252"),
    ("Encoding/Corrupted byte.md", "Le château ouvre à 9 h. The castle tour starts at nine o’clock sharp.\n"
     .encode().replace(b"\xc3\xa0", b"\xe0"), "what time does the castle tour begin", "0xe0"),
    ("Frontmatter/Invalid YAML.md", "---\ntitle: [unclosed\ntags: [garden\n---\n"
     "Turn the compost heap every two weeks so it stays warm.\n".encode(),
     "how often should the compost be turned", "not valid YAML"),
    ("Frontmatter/Template.md", "---\ndate: {{date}}\ntitle: {{title}}\ntags: [daily]\n---\n# {{title}}\n\n"
     "The plumber comes to fix the leaking kitchen tap on Thursday.\n".encode(),
     "when is the plumber coming for the tap", "{{date}}"),
    ("Frontmatter/Billion laughs.md", _alias_bomb() + b"The fireworks over the harbour start at midnight.\n",
     "when do the harbour fireworks begin", "aliases expand"),
    ("Fences/Unclosed.md", "The ferry to the island leaves at 7:40 every morning.\n\n```python\n"
     "print('this fence is never closed')\n".encode(), "when does the island ferry depart", "unclosed code fence"),
]


def make_hostile_vault(root: Path) -> HostileVault:
    """Write the hostile vault into the folder `root` (created if missing) and say what should become of each file."""
    root.mkdir(parents=True, exist_ok=True)
    vault = HostileVault(root)
    for path, text, question in _GOOD:
        _write(root, path, text.encode())
        vault.topics[path] = question
    for path, data, question, warning in _DECODED_WITH_WARNING:
        _write(root, path, data)
        vault.topics[path] = question
        vault.warnings[path] = warning
    for path, data, question in _odd_but_fine():
        _write(root, path, data)
        vault.topics[path] = question
    _write(root, "Empty.md", b"")
    vault.indexed = {*vault.topics, "Empty.md"}
    _write_bad_files(root, vault)
    return vault


def _odd_but_fine() -> list[tuple[str, bytes, str]]:
    utf16 = "# Weekly review\r\nThe dentist appointment is on the fifth of May.\r\n"
    gardening = "The greenhouse thermostat is set to eighteen degrees at night."
    headings = "".join(f"{'#' * (level % 6 + 1)} Level {level}\nText at level {level}.\n" for level in range(50))
    quotes = "".join("> " * depth + f"Quoted {depth} deep\n" for depth in range(1, 51))
    callouts = "".join("> " * depth + f"> [!note] Callout {depth}\n" for depth in range(50))
    items = "".join("  " * depth + f"- item {depth}\n" for depth in range(50))
    mapping = "".join("  " * depth + f"level{depth}:\n" for depth in range(49)) + "  " * 49 + "level49: bottom\n"
    words = random.Random(10).choices(["red", "green", "blue", "cyan", "black", "white", "grey", "pink"], k=10_000)
    no_spaces = "".join(f"{word}\n" for word in words)  # one token a line, in no repeating order: no twin chunks
    one_line = "abcdefghijklmnopqrstuvwxyz" * 400
    return [
        ("Encoding/UTF-16 LE.md", b"\xff\xfe" + utf16.encode("utf-16-le"), "when is the dentist appointment"),
        ("Encoding/UTF-16 BE.md", b"\xfe\xff" + utf16.replace("dentist", "optician").encode("utf-16-be"),
         "when is the optician appointment"),
        ("Nesting/Headings.md", f"{'#' * 50} Fifty hashes\n{headings}\n{gardening}\n".encode(),
         "what temperature is the greenhouse at night"),
        ("Nesting/Quotes.md", f"{quotes}\n{callouts}\n{items}\nThe tortoise hibernates in a box of straw from "
         "November.\n".encode(), "where does the tortoise sleep over winter"),
        ("Nesting/Frontmatter.md", f"---\n{mapping}---\nThe kite festival is on the windy beach in August.\n"
         .encode(), "when is the kite festival"),
        ("Long/No spaces.md", f"# Log dump\n\n{no_spaces}\n## After the dump\n\nThe lighthouse keeper winds the "
         "clockwork lamp at dusk.\n".encode(), "when does the lighthouse keeper wind the lamp"),
        ("Long/One line.md", f"{one_line}\n\nThe glacier retreated two hundred metres in ten years.\n".encode(),
         "how far has the glacier retreated"),
    ]


def _write_bad_files(root: Path, vault: HostileVault) -> None:
    rng = random.Random(20)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(2000)
    bad_files = {
        "Broken/Photo.md": (png, ("binary", "PNG image")),
        "Broken/Random bytes.md": (rng.randbytes(4096), ("binary",)),
        "Broken/Noise.md": (b"\x9c" + bytes(byte for byte in rng.randbytes(4096) if byte),
                            ("not text in any known encoding", "byte 0x9c at offset 0")),
        "Broken/Huge.md": (b"All work and no play. " * (TWENTY_MB // 22 + 1),
                           ("larger than", "10 MB", "20 MB", "vault.max_file_mb")),
    }
    for path, (data, words) in bad_files.items():
        _write(root, path, data)
        vault.reported[path] = words
    links = {
        "Broken/Loop.md": ("Loop.md", ("symbolic link loop",)),
        "Broken/Ping.md": ("Pong.md", ("symbolic link loop",)),
        "Broken/Pong.md": ("Ping.md", ("symbolic link loop",)),
        "Broken/Dangling.md": ("Nowhere/missing.md", ("broken symbolic link",)),
        "Broken/Zeros.md": ("/dev/zero", ("not a regular file", "device")),
        "Broken/Up": ("..", ("link to a folder", "not followed")),
    }
    for path, (target, words) in links.items():
        os.symlink(target, root / path)
        vault.reported[path] = words
    os.mkfifo(root / "Broken/Pipe.md")
    vault.reported["Broken/Pipe.md"] = ("not a regular file", "named pipe")

    locked = root / vault.locked_note
    locked.write_text("The safe combination is written inside the piano lid.\n")
    locked.chmod(0)
    if AS_ROOT:  # no file mode stops root: the note is read like any other
        vault.topics[vault.locked_note] = "where is the safe combination kept"
        vault.indexed.add(vault.locked_note)
    else:
        vault.reported[vault.locked_note] = ("permission denied",)


def _write(root: Path, path: str, data: bytes) -> None:
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data)
