"""Simulated inference-API traffic: ordinary customers, distillers, and the benign
look-alikes that an extraction detector must leave alone.

What it writes (``generate_inference``):

``gateway.jsonl``
    the LLM-gateway layout of docs/interfaces.md, one request per line, plus the optional
    ``account_created_at`` extension (when the account was opened, as a provider's
    account database knows it).
``otel_genai.json`` / ``litellm_spendlogs.json``
    a few of the same kind of requests as an OTLP JSON trace export and as LiteLLM
    ``LiteLLM_SpendLogs`` rows, so the other two sources are exercised too.
``truth.json``
    which accounts belong to which planted attack or look-alike.

The population (every address is from ranges reserved for documentation and
benchmarking: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15):

* **ordinary customers** — long-tailed volume (log-normal; most send a handful of
  requests a day, a few hundreds), in a home time zone with a day/night rhythm,
  multi-turn conversations whose requests carry the history, prompts on the topics
  people actually bring (writing, code, travel, cooking, health, study, work…).
* **benign look-alikes** — ``batch_pipeline`` (an enterprise running one ticket
  classification template round the clock at high volume, temperature 0, small
  ``max_tokens``); ``benchmark`` (a team running a public benchmark — GSM8K-style
  maths with "think step by step" and HumanEval-style code — once, in one burst,
  on the new model the day it ships); ``startup_nat`` (a startup with many accounts
  behind one office NAT address sharing one billing id); ``coding_assistant`` (one
  developer driving an IDE assistant all day: thousands of long multi-turn
  requests with tools).
* **attacks** — ``distiller`` (one or two accounts harvesting chain-of-thought at the
  ``max_tokens`` cap round the clock with temperature sweeps and ``n`` > 1, on code,
  maths and agentic tasks, moving to the new model within hours of release) and
  ``hydra`` (a network of accounts opened within hours of each other on a handful of
  payment methods, each under its limits, each mixing distillation templates with
  ordinary chat, sharing a residential-proxy pool and a client, firing in
  synchronised windows).

``generate_inference_bulk`` writes the same layout at benchmark scale, in DuckDB
(``COPY … TO … (FORMAT json)``), from a small account table with planted
distillers and a hydra network so that the benchmark's detections have work to do.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
MODEL_OLD = "model-large-2026-02"
MODEL_SMALL = "model-small-2026-01"
MODEL_NEW = "model-large-2026-03"
MAX_TOKENS_CAP = {MODEL_OLD: 8192, MODEL_NEW: 16384, MODEL_SMALL: 4096}

BENIGN_UAS = (
    "python-httpx/0.27.0",
    "OpenAI/Python 1.54.3",
    "anthropic-typescript/0.32.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "langchain/0.3.7 python-requests/2.32.3",
    "node-fetch/3.3.2",
)
# Home time zones (UTC offset in hours) and how many customers live there.
ZONES = ((-8, 22), (-5, 25), (0, 12), (1, 14), (5.5, 10), (8, 10), (9, 7))

# --- prompt material -----------------------------------------------------------------

_NAMES = ("Priya", "Tom", "Ana", "Kenji", "Fatima", "Lukas", "Mei", "Diego", "Sara", "Omar")
_LANGS = ("Python", "TypeScript", "Go", "Rust", "Java", "SQL", "C++", "Bash")
_ERRORS = (
    "KeyError",
    "a null pointer exception",
    "TypeError: undefined is not a function",
    "a segfault",
    "a deadlock",
    "an off-by-one error",
    "ModuleNotFoundError",
)
_CODE_TASKS = (
    "parse a CSV with quoted fields",
    "retry an HTTP call with backoff",
    "read a large file line by line",
    "debounce a function",
    "paginate a REST API",
    "hash a password safely",
    "merge two sorted lists",
    "run tasks concurrently with a limit",
    "validate an email address",
    "write a unit test for a date helper",
    "connect to Postgres with a pool",
)
_CITIES = (
    "Lisbon",
    "Kyoto",
    "Mexico City",
    "Edinburgh",
    "Hanoi",
    "Cape Town",
    "Montreal",
    "Istanbul",
    "Seoul",
    "Buenos Aires",
    "Prague",
    "Nairobi",
)
_DISHES = (
    "a vegetarian lasagne",
    "pad thai",
    "sourdough bread",
    "a quick weeknight curry",
    "banana bread",
    "ramen broth",
    "a birthday cake for 12",
    "overnight oats",
)
_WRITING = (
    "a cover letter for a data analyst job",
    "a toast for my sister's wedding",
    "a short story about a lighthouse keeper",
    "a LinkedIn post about our launch",
    "a polite email asking my landlord to fix the heating",
    "a haiku about autumn",
    "product copy for handmade candles",
    "a speech for a retirement party",
)
_STUDY = (
    "photosynthesis",
    "the causes of the First World War",
    "supply and demand",
    "how vaccines work",
    "the French subjunctive",
    "Bayes' theorem",
    "plate tectonics",
    "the Krebs cycle",
    "how interest rates affect inflation",
)
_WORK = (
    "a project kickoff agenda",
    "OKRs for a support team",
    "a quarterly sales summary",
    "a job description for a backend engineer",
    "a customer churn analysis plan",
    "meeting notes into action items",
    "a budget for a team offsite",
)
_HEALTH = (
    "lower back pain from sitting",
    "getting better sleep",
    "a beginner 5k plan",
    "healthy snacks for work",
    "managing stress before exams",
)

_BENIGN_FORMS = {
    "writing": (
        "Can you help me write {w}?",
        "Write {w}. Keep it under 200 words.",
        "I need {w}, friendly tone please",
        "draft {w} for me",
    ),
    "code": (
        "How do I {c} in {l}?",
        "Why am I getting {e} in my {l} code?\n```\n{snip}\n```",
        "Can you review this {l} function and suggest improvements?\n```\n{snip}\n```",
        "what's the idiomatic way to {c} in {l}",
    ),
    "travel": (
        "Plan a 4 day trip to {city} on a mid budget",
        "What should I not miss in {city}?",
        "Is {city} good to visit in March? travelling with kids",
    ),
    "cooking": (
        "Give me a recipe for {dish}",
        "How do I make {dish} without an oven?",
        "what can I substitute for eggs in {dish}",
    ),
    "study": (
        "Explain {s} like I'm 15",
        "Can you summarise {s} in 5 bullet points?",
        "I have an exam on {s} tomorrow, quiz me",
    ),
    "work": (
        "Help me put together {k}",
        "Turn these into {k}: {notes}",
        "Can you make {k}? our team is {n} people",
    ),
    "health": ("Any tips for {h}?", "I've been struggling with {h}, what can I try?"),
    "translation": ("Translate into Spanish: {notes}", "How do you say '{notes}' in Japanese?"),
    "chat": (
        "what's a good name for a golden retriever puppy",
        "tell me a fun fact about octopuses",
        "I'm bored, suggest a board game for 4 people",
        "who would win, a bear or a gorilla?",
        "recommend a sci-fi book like {book}",
    ),
}
_BOOKS = ("The Martian", "Dune", "Project Hail Mary", "Hyperion", "The Three-Body Problem")
_NOTES = (
    "ship date moved to Friday",
    "need two more reviewers",
    "the meeting is at 3pm",
    "please bring the signed forms",
    "our office will be closed on Monday",
)
_FOLLOWUPS = (
    "Thanks! Can you make it shorter?",
    "Can you explain the second part again?",
    "ok and what if {x}?",
    "Great, now give me three alternatives",
    "that didn't work, I still get an error",
    "can you add comments to that?",
    "make it more formal",
    "perfect. what about {x}?",
)
_SNIPPETS = (
    "def load(path):\n    with open(path) as f:\n        return json.load(f)[0]",
    "for (let i = 0; i <= items.length; i++) { total += items[i].price }",
    "rows = db.query(sql)\nfor r in rows: print(r['id'])",
    "func main() {\n  ch := make(chan int)\n  ch <- 1\n}",
)

# Distillation templates: fixed scaffolding around a varying problem — what a
# data-generation script sends. Chain-of-thought elicitation is the point.
_DISTILL_FORMS = {
    "math": (
        "You are an expert mathematician. Solve the following problem. Think step by step and "
        "show your complete reasoning before giving the final answer.\n\nProblem: {p}",
        "{p}\n\nLet's think step by step. Write out your full chain of thought inside "
        "<thinking> tags, then state the final answer.",
    ),
    "code": (
        "Implement the following in {l}. Before writing any code, explain your reasoning step "
        "by step, then give the complete solution with unit tests.\n\nTask: {c} for {n} records",
        "Solve this programming problem in {l}. Show your full reasoning process, consider edge "
        "cases explicitly, then output the final code.\n\n{c}; input size up to {n}",
    ),
    "agentic": (
        "You are an autonomous agent with access to tools: web_search, python, bash. Plan a "
        "multi-step solution, reason about each tool call before making it, and show every "
        "step of your thinking.\n\nGoal: {g}",
    ),
    "rubric": (
        "Grade the following response against this rubric (correctness 1-10, reasoning 1-10, "
        "clarity 1-10). Explain your grading step by step, then output JSON scores.\n\n"
        "Question: {p}\n\nResponse: {r}",
        "Which of these two answers is better? Act as an expert judge, reason step by step "
        "about each, then give a preference score.\n\nQ: {p}\nA: {r}\nB: {r2}",
    ),
}
_GOALS = (
    "find the three cheapest flights from {city} next month and compare them",
    "set up a CI pipeline for a {l} repository and fix failing tests",
    "scrape the product catalogue and summarise price changes",
    "debug why the {l} service returns 500 under load and patch it",
    "book a meeting room and send invites to the team",
)


def _math_problem(rng: random.Random) -> str:
    a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 30)
    return rng.choice(
        (
            f"A train travels {a} km at {b} km/h and then {c} km at {a} km/h. What is its average speed?",
            f"Find all integers x such that x^2 - {a}x + {b} is divisible by {c}.",
            f"Prove that the sum of the first {a} odd numbers is a perfect square.",
            f"A bag has {a} red and {b} blue marbles. {c} are drawn without replacement. "
            f"What is the probability that exactly two are red?",
            f"Evaluate the integral of x^{c % 5 + 2} * e^x from 0 to {a % 7 + 1}.",
            f"Solve for x: {a}x + {b} = {c}x - {a + b}.",
        )
    )


def _fill(rng: random.Random, form: str) -> str:
    return form.format(
        w=rng.choice(_WRITING),
        c=rng.choice(_CODE_TASKS),
        l=rng.choice(_LANGS),
        e=rng.choice(_ERRORS),
        snip=rng.choice(_SNIPPETS),
        city=rng.choice(_CITIES),
        dish=rng.choice(_DISHES),
        s=rng.choice(_STUDY),
        k=rng.choice(_WORK),
        notes=rng.choice(_NOTES),
        n=rng.randint(3, 40),
        h=rng.choice(_HEALTH),
        book=rng.choice(_BOOKS),
        x=rng.choice(_CITIES + _LANGS + _DISHES),
        p=_math_problem(rng),
        r=_math_problem(rng),
        r2=_math_problem(rng),
        g=rng.choice(_GOALS).format(city=rng.choice(_CITIES), l=rng.choice(_LANGS)),
    )


def _reply(rng: random.Random, words: int) -> str:
    vocab = (
        "the",
        "you",
        "can",
        "this",
        "step",
        "result",
        "so",
        "then",
        "value",
        "here",
        "use",
        "file",
        "time",
        "make",
        "it",
        "a",
        "of",
        "to",
        "is",
        "and",
    )
    return " ".join(rng.choice(vocab) for _ in range(max(3, words)))


# --- the population --------------------------------------------------------------------


class _Ids:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def make(self, prefix: str, n: int = 12) -> str:
        while True:
            v = prefix + "".join(
                self.rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(n)
            )
            if v not in self.used:
                self.used.add(v)
                return v


class _Account:
    __slots__ = (
        "id",
        "keys",
        "org",
        "billing",
        "ips",
        "ua",
        "tz",
        "created",
        "kind",
        "rate",
        "tls",
    )

    def __init__(self, ids: _Ids, rng: random.Random, kind: str, created: datetime):
        self.id = ids.make("acct_")
        self.keys = [ids.make("key_") for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        self.org = ids.make("org_") if rng.random() < 0.7 else None
        self.billing = ids.make("pm_") if rng.random() < 0.9 else None
        self.ips = [_ip(rng) for _ in range(rng.choice((1, 1, 2, 3)))]
        self.ua = rng.choice(BENIGN_UAS)
        self.tz = 0.0
        self.created = created
        self.kind = kind
        self.rate = 10.0
        self.tls: str | None = None  # the client's JA4 when it is not its user agent's own


# Illustrative JA4 fingerprints of the client stacks the simulated users run (the
# format of FoxIO's JA4; the hashes are made up): a user agent's own stack, so that a
# client lying about itself shows up as a pair nobody else presents.
JA4 = {
    "chrome": "t13d1516h2_8daaf6152771_02713d6af862",
    "python": "t13d1812h1_85036bcba153_b0bc6f4b4d58",
    "node": "t13d1713h2_5b57614c22b0_748f4c70de1c",
    "go": "t13d1311h2_f57a46bbacb6_d6b8b1d0a5c4",
    "curl": "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6",
}


def tls_of(ua: str) -> str:
    u = ua.lower()
    if u.startswith("mozilla") or "cursor" in u:
        return JA4["chrome"]
    if "node" in u or "typescript" in u:
        return JA4["node"]
    if u.startswith("go-http"):
        return JA4["go"]
    if u.startswith("curl"):
        return JA4["curl"]
    return JA4["python"]


def asn_of(ip: str) -> int:
    """A made-up autonomous system per /19 of the simulated ranges (a residential
    ISP announces a few large prefixes; 64496–65534 are private-use ASNs)."""
    a, b, c, _ = (int(x) for x in ip.split("."))
    return 64512 + (a * 7 + b * 3) % 97 * 8 + c // 32


def _ip(rng: random.Random) -> str:
    block = rng.choice(("198.18", "198.19"))
    return f"{block}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _zone(rng: random.Random) -> float:
    total = sum(w for _, w in ZONES)
    x = rng.uniform(0, total)
    for off, w in ZONES:
        x -= w
        if x <= 0:
            return off
    return 0.0


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class _Writer:
    def __init__(self, fh, rng: random.Random, ids: _Ids, release: datetime):
        self.fh = fh
        self.rng = rng
        self.ids = ids
        self.release = release
        self.count = 0
        # the gateway extensions an adaptive run writes (TLS fingerprint, source ASN);
        # derived without drawing from rng, so the reference run's bytes do not move
        self.extended = False

    def request(
        self,
        acct: _Account,
        t: datetime,
        messages: list[dict],
        *,
        model: str,
        max_tokens=None,
        temperature=None,
        n=1,
        out_tokens: int,
        ip=None,
        key=None,
        status=200,
        tools=False,
    ) -> None:
        rec = {
            "timestamp": _ts(t),
            "request_id": "req_" + f"{self.rng.getrandbits(64):016x}",
            "account_id": acct.id,
            "api_key_id": key or self.rng.choice(acct.keys),
            "org_id": acct.org,
            "billing_id": acct.billing,
            "source_ip": ip or self.rng.choice(acct.ips),
            "user_agent": acct.ua,
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "n": n,
            "input_tokens": sum(len(m["content"]) for m in messages) // 4 + 8,
            "output_tokens": out_tokens if status == 200 else 0,
            "status": status,
            "account_created_at": _ts(acct.created),
        }
        if self.extended:
            rec["source_asn"] = asn_of(rec["source_ip"])
            rec["tls_fingerprint"] = acct.tls or tls_of(acct.ua)
        if tools:
            rec["tools"] = [
                {"type": "function", "function": {"name": "run_tests"}},
                {"type": "function", "function": {"name": "read_file"}},
            ]
        # Real logs omit what the client did not send.
        for k in ("org_id", "billing_id", "max_tokens", "temperature"):
            if rec[k] is None and self.rng.random() < 0.5:
                del rec[k]
        self.fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
        self.count += 1

    def model_for(self, t: datetime, adopt: float) -> str:
        """Ordinary customers move to a new model over days, not hours."""
        if t >= self.release:
            days = (t - self.release).total_seconds() / 86400
            if self.rng.random() < adopt * min(1.0, days / 3 + 0.05):
                return MODEL_NEW
        return MODEL_SMALL if self.rng.random() < 0.25 else MODEL_OLD


def _local_hour_weight(h: float) -> float:
    """Human activity by local hour: asleep at night, peaks mid-morning and evening."""
    if h < 7 or h >= 24:
        return 0.03
    return 0.6 + 0.4 * math.sin((h - 7) / 17 * math.pi)


def _human_times(rng: random.Random, acct: _Account, day0: datetime, days: int, per_day: float):
    """Session start times for a human: Poisson count, local daytime, bursty."""
    out = []
    for d in range(days):
        n = _poisson(rng, per_day)
        for _ in range(n):
            while True:
                h = rng.uniform(0, 24)
                if rng.random() < _local_hour_weight(h):
                    break
            t = day0 + timedelta(days=d, hours=h - acct.tz)
            out.append(t)
    return sorted(out)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam))))
    L, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= L:
            return k
        k += 1


def _conversation(
    w: _Writer,
    acct: _Account,
    t: datetime,
    topics: list[str],
    *,
    model: str | None = None,
    tools: bool = False,
    max_turns: int = 5,
    ip=None,
    system: str | None = None,
) -> datetime:
    """One human conversation: each request carries the history so far."""
    rng = w.rng
    topic = rng.choice(topics)
    msgs: list[dict] = []
    if system or rng.random() < 0.3:
        msgs.append({"role": "system", "content": system or "You are a helpful assistant."})
    turns = 1 + min(max_turns - 1, int(rng.expovariate(0.7)))
    model = model or w.model_for(t, 0.5)
    mt = rng.choice((None, None, None, 1024, 2048, 4096))
    temp = rng.choice((None, None, 0.7, 1.0, 0.5))
    for i in range(turns):
        content = (
            _fill(rng, rng.choice(_BENIGN_FORMS[topic]))
            if i == 0
            else _fill(rng, rng.choice(_FOLLOWUPS))
        )
        msgs.append({"role": "user", "content": content})
        out = max(12, int(rng.lognormvariate(5.3, 0.8)))
        if mt:
            out = min(out, mt)
        w.request(
            acct,
            t,
            list(msgs),
            model=model,
            max_tokens=mt,
            temperature=temp,
            out_tokens=out,
            ip=ip,
            tools=tools,
            status=200 if rng.random() > 0.01 else 429,
        )
        msgs.append({"role": "assistant", "content": _reply(rng, min(out, 120))})
        t += timedelta(seconds=rng.uniform(20, 240) + out / 40)
    return t


def _distill_prompt(rng: random.Random, kinds: tuple[str, ...]) -> tuple[str, str]:
    kind = rng.choice(kinds)
    return kind, _fill(rng, rng.choice(_DISTILL_FORMS[kind]))


def _distill_request(
    w: _Writer,
    acct: _Account,
    t: datetime,
    kinds,
    *,
    model: str,
    ip=None,
    sweep: bool = True,
    n_max: int = 4,
) -> None:
    rng = w.rng
    _, prompt = _distill_prompt(rng, kinds)
    cap = MAX_TOKENS_CAP[model]
    msgs = [
        {
            "role": "system",
            "content": "You are a world-class reasoning assistant. Always show "
            "your full internal reasoning.",
        },
        {"role": "user", "content": prompt},
    ]
    temps = (0.0, 0.3, 0.7, 1.0) if sweep else (rng.choice((0.6, 0.7, 0.8)),)
    repeats = rng.choice((1, 1, 2, len(temps))) if sweep else 1
    for temp in temps[:repeats]:
        w.request(
            acct,
            t,
            msgs,
            model=model,
            max_tokens=cap,
            temperature=temp,
            n=rng.choice((1, 1, n_max)) if n_max > 1 else 1,
            out_tokens=int(cap * rng.uniform(0.45, 1.0)),
            ip=ip,
        )
        t += timedelta(seconds=rng.uniform(0.5, 3))


@dataclass(frozen=True)
class AttackStyle:
    """How the planted attackers operate. The defaults are the reference style the
    detections were tuned on (seed 11); :meth:`draw` varies every knob an operator
    controls, for evaluations that should not meet the same attack every time."""

    distillers: int = 2
    distiller_kinds: tuple[tuple[str, ...], ...] = (
        ("math", "code", "agentic"),
        ("rubric", "code", "math"),
    )
    distiller_gap_s: tuple[float, float] = (40.0, 60.0)  # seconds between harvest requests
    distiller_cover: float = 0.0  # share of ordinary chat mixed in
    distiller_hours: float = 24.0  # hours a day it runs (from a random start hour)
    distiller_sweep: bool = True  # temperature sweeps and n > 1
    hydra_members: int = 24
    hydra_cards: int = 4
    hydra_born_spread_h: float = 2.5  # members opened within this many hours
    hydra_shifts: tuple[float, ...] = (1.0, 13.0)  # UTC start hours of the controller's shifts
    hydra_shift_h: float = 2.5
    hydra_harvest: float = 0.3  # share of each member's requests that harvest
    hydra_clients: tuple[str, ...] = ("python-httpx/0.27.2",)  # members pick one each

    @classmethod
    def draw(cls, r: random.Random) -> AttackStyle:
        kinds = ("math", "code", "agentic", "rubric")
        n = r.choice((1, 2, 3))
        start = r.uniform(0, 10)
        shifts = r.choice((1, 2, 3))
        return cls(
            distillers=n,
            distiller_kinds=tuple(tuple(r.sample(kinds, 3)) for _ in range(n)),
            distiller_gap_s=(lo := r.uniform(25, 120), lo * 1.5),
            distiller_cover=r.choice((0.0, 0.1, 0.25, 0.4)),
            distiller_hours=r.choice((24.0, 24.0, 16.0, 10.0)),
            distiller_sweep=r.random() < 0.6,
            hydra_members=r.randint(12, 40),
            hydra_cards=r.randint(2, 6),
            hydra_born_spread_h=r.choice((2.5, 8.0, 20.0)),
            hydra_shifts=tuple(round(start + k * 24 / shifts, 2) for k in range(shifts)),
            hydra_shift_h=r.uniform(1.5, 3.0),
            hydra_harvest=r.choice((0.15, 0.2, 0.3, 0.4)),
            hydra_clients=("python-httpx/0.27.2",)
            if r.random() < 0.5
            else tuple(r.sample(BENIGN_UAS, 3)),
        )

    def distiller_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k.startswith("distiller")}

    def hydra_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k.startswith("hydra")}


def _plant_distillers(
    w: _Writer, ids: _Ids, style: AttackStyle, release: datetime, end: datetime
) -> list[str]:
    """Single accounts harvesting reasoning at the cap, round the clock or in a
    daily window, moving to the new model within hours of its release."""
    rng = w.rng
    out = []
    for k in range(style.distillers):
        a = _Account(ids, rng, "distiller", START - timedelta(days=rng.uniform(3, 20)))
        a.keys = [ids.make("key_") for _ in range(4)]
        a.ua = "python-httpx/0.27.2"
        a.ips = [_ip(rng) for _ in range(3)]
        kinds = style.distiller_kinds[k % len(style.distiller_kinds)]
        t = START + timedelta(minutes=rng.uniform(0, 30))
        day_start = t
        while t < end:
            if style.distiller_hours < 24 and t - day_start >= timedelta(
                hours=style.distiller_hours
            ):
                day_start += timedelta(days=1)  # off until the same hour tomorrow
                t = max(t, day_start)
                continue
            model = MODEL_NEW if t > release + timedelta(hours=2) else MODEL_OLD
            if style.distiller_cover and rng.random() < style.distiller_cover:
                _conversation(w, a, t, list(_BENIGN_FORMS), model=model, max_turns=2)
            else:
                _distill_request(
                    w,
                    a,
                    t,
                    kinds,
                    model=model,
                    sweep=style.distiller_sweep,
                    n_max=4 if style.distiller_sweep else 1,
                )
            t += timedelta(seconds=rng.uniform(*style.distiller_gap_s))
        out.append(a.id)
    return out


def _plant_hydra(
    w: _Writer, ids: _Ids, style: AttackStyle, release: datetime, days: int, end: datetime
) -> tuple[list[str], list[str]]:
    """The hydra: accounts opened together on a few cards, a shared proxy pool,
    each mixing harvest with ordinary chat in the controller's synchronised shifts."""
    rng = w.rng
    proxies = [f"203.0.113.{i}" for i in range(100, 140)] + [_ip(rng) for _ in range(20)]
    cards = [ids.make("pm_") for _ in range(style.hydra_cards)]
    born = START - timedelta(days=2, hours=rng.uniform(0, 12))
    members = []
    for _ in range(style.hydra_members):
        a = _Account(
            ids,
            rng,
            "hydra",
            born + timedelta(minutes=rng.uniform(0, style.hydra_born_spread_h * 60)),
        )
        a.billing = rng.choice(cards)
        a.org = ids.make("org_")
        a.ua = (
            style.hydra_clients[0]
            if len(style.hydra_clients) == 1
            else rng.choice(style.hydra_clients)
        )
        a.keys = [ids.make("key_")]
        members.append(a)
    for d in range(days):
        for start_h in style.hydra_shifts:
            w0 = START + timedelta(days=d, hours=start_h)
            for a in members:
                t = w0 + timedelta(seconds=rng.uniform(0, 120))
                stop = w0 + timedelta(hours=style.hydra_shift_h)
                while t < min(stop, end):
                    model = MODEL_NEW if t > release + timedelta(hours=1) else MODEL_OLD
                    ip = rng.choice(proxies)
                    if rng.random() < style.hydra_harvest:
                        _distill_request(
                            w,
                            a,
                            t,
                            ("code", "agentic", "math"),
                            model=model,
                            ip=ip,
                            sweep=False,
                            n_max=1,
                        )
                    else:  # cover traffic: ordinary chat
                        _conversation(w, a, t, list(_BENIGN_FORMS), model=model, ip=ip, max_turns=2)
                    t += timedelta(seconds=rng.uniform(60, 180))
    return [a.id for a in members], cards


def generate_inference(
    out_dir: Path,
    *,
    seed: int = 11,
    accounts: int = 300,
    days: int = 3,
    attacks: bool = True,
    vary_attacks: bool = False,
    adaptive: bool = False,
) -> dict:
    """Write a realistic inference-API scenario under ``out_dir``; returns the truth.

    ``adaptive`` adds the attackers who carry no single-account signal and the crowds
    they hide among (:mod:`crownwatch.simulate.inference_adaptive`; a window of ten
    days or more holds the insider key's baseline), and writes the gateway's
    ``tls_fingerprint`` and ``source_asn`` extensions.

    ``vary_attacks`` draws the attackers' tradecraft from the seed (see
    :class:`AttackStyle`) instead of the reference style the detections were tuned
    on; the benign population is the same either way."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids = _Ids(rng)
    release = START + timedelta(days=min(1, days - 1), hours=14)
    end = START + timedelta(days=days)
    truth: dict = {
        "seed": seed,
        "days": days,
        "start": _ts(START),
        "release": {"model": MODEL_NEW, "first_seen_after": _ts(release)},
        "attacks": {},
        "benign_lookalikes": {},
        "benign": [],
    }

    def old_created() -> datetime:
        return START - timedelta(days=rng.uniform(20, 700), hours=rng.uniform(0, 24))

    with open(out_dir / "gateway.jsonl", "w") as fh:
        w = _Writer(fh, rng, ids, release)
        w.extended = adaptive

        # -- ordinary customers ----------------------------------------------------
        n_benign = max(10, accounts - (60 if attacks else 35))
        for _ in range(n_benign):
            a = _Account(ids, rng, "benign", old_created())
            a.tz = _zone(rng)
            per_day = min(60.0, rng.lognormvariate(0.6, 1.1))  # sessions/day, long tail
            fav = rng.sample(list(_BENIGN_FORMS), rng.randint(2, 5))
            for t in _human_times(rng, a, START, days, per_day):
                if t < end:
                    _conversation(w, a, t, fav)
            truth["benign"].append(a.id)

        # -- benign look-alikes ------------------------------------------------------
        la = truth["benign_lookalikes"]
        batch = _Account(ids, rng, "batch_pipeline", old_created())
        batch.ua = "acme-ticket-router/2.3 python-requests/2.31.0"
        batch.ips = ["203.0.113.40", "203.0.113.41"]
        t = START
        while t < end:  # a queue worker: steady, round the clock
            ticket = _fill(rng, "Customer {n} wrote: '{notes}'. Also: {w}")
            w.request(
                batch,
                t,
                [
                    {"role": "system", "content": "You route support tickets for Acme Corp."},
                    {
                        "role": "user",
                        "content": "Classify the following support ticket into exactly one "
                        "of: billing, shipping, returns, technical, other. Answer with the label only.\n\n"
                        f"Ticket: {ticket}",
                    },
                ],
                model=MODEL_SMALL,
                max_tokens=16,
                temperature=0.0,
                out_tokens=rng.randint(1, 3),
            )
            t += timedelta(seconds=rng.uniform(20, 40))
        la["batch_pipeline"] = [batch.id]

        bench = _Account(ids, rng, "benchmark", old_created())
        bench.ua = "lm-eval-harness/0.4.5 python-httpx/0.27.0"
        t = release + timedelta(hours=3)  # eval day: the new model, once
        for i in range(900):
            if i % 2 == 0:
                prompt = f"Question: {_math_problem(rng)}\nLet's think step by step."
                mt = 512
            else:
                prompt = (
                    f"Complete the following {rng.choice(_LANGS)} function so that it passes "
                    f'the tests.\n\ndef task_{i}(xs):\n    """{rng.choice(_CODE_TASKS)}"""\n'
                )
                mt = 512
            w.request(
                bench,
                t,
                [{"role": "user", "content": prompt}],
                model=MODEL_NEW,
                max_tokens=mt,
                temperature=0.0,
                out_tokens=rng.randint(60, 400),
            )
            t += timedelta(seconds=rng.uniform(1.5, 4.0))
        la["benchmark"] = [bench.id]

        startup_ip, startup_bill, startup_org = "192.0.2.77", ids.make("pm_"), ids.make("org_")
        startup = []
        for _ in range(18):
            a = _Account(ids, rng, "startup_nat", START - timedelta(days=rng.uniform(5, 90)))
            a.ips, a.billing, a.org, a.tz = [startup_ip], startup_bill, startup_org, -5
            a.ua = "python-httpx/0.27.0"
            fav = rng.sample(("code", "work", "writing", "study", "chat"), 3)
            for t in _human_times(rng, a, START, days, rng.uniform(2, 8)):
                if t < end:
                    _conversation(w, a, t, fav)
            startup.append(a.id)
        la["startup_nat"] = startup

        dev = _Account(ids, rng, "coding_assistant", old_created())
        dev.tz, dev.ua = 1, "cursor/0.44.11 (darwin arm64)"
        for d in range(days):
            t = START + timedelta(days=d, hours=8.5 - dev.tz + rng.uniform(-0.5, 0.5))
            stop = t + timedelta(hours=rng.uniform(9, 11))
            while t < min(stop, end):
                t = _conversation(
                    w,
                    dev,
                    t,
                    ["code"],
                    model=MODEL_OLD if t < release else MODEL_NEW,
                    tools=True,
                    max_turns=12,
                    system="You are an AI pair programmer in the user's IDE.",
                )
                t += timedelta(seconds=rng.expovariate(1 / 90))
        la["coding_assistant"] = [dev.id]

        # -- attacks -----------------------------------------------------------------
        if attacks:
            style = (
                AttackStyle.draw(random.Random(seed * 7919 + 1)) if vary_attacks else AttackStyle()
            )
            truth["attacks"]["distiller"] = {
                "accounts": _plant_distillers(w, ids, style, release, end),
                "attack": ["AML.T0024.002", "AML.T0005"],
                "style": style.distiller_dict(),
            }
            hydra, cards = _plant_hydra(w, ids, style, release, days, end)
            truth["attacks"]["hydra"] = {
                "accounts": hydra,
                "billing": cards,
                "attack": ["AML.T0024.002", "AML.T0005"],
                "style": style.hydra_dict(),
            }
        if adaptive:
            from crownwatch.simulate.inference_adaptive import plant

            more = plant(w, ids, START, days, accounts, seed, vary_attacks)
            truth["attacks"].update(more["attacks"])
            truth["benign_lookalikes"].update(more["benign_lookalikes"])
            truth["adaptive_style"] = more["style"]
        n_requests = w.count

    _write_otel(out_dir / "otel_genai.json", rng)
    _write_litellm(out_dir / "litellm_spendlogs.json", rng)
    truth["requests"] = n_requests
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2))
    return truth


# --- the other two formats (small: they exist to exercise those sources) ----------------


def _otel_attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # OTLP JSON: int64 as string
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _write_otel(path: Path, rng: random.Random) -> None:
    """An OTLP/JSON trace export (``ExportTraceServiceRequest``) with GenAI client spans,
    as the OpenTelemetry Collector's file exporter writes it: one JSON object per line."""
    lines = []
    for batch in range(2):
        spans = []
        for i in range(5):
            t0 = int((START + timedelta(hours=batch * 3, minutes=i)).timestamp() * 1e9)
            prompt = _fill(rng, rng.choice(_BENIGN_FORMS["code"]))
            if i == 4:
                prompt = _fill(rng, _DISTILL_FORMS["math"][0])
            msgs = [{"role": "user", "parts": [{"type": "text", "content": prompt}]}]
            spans.append(
                {
                    "traceId": f"{rng.getrandbits(128):032x}",
                    "spanId": f"{rng.getrandbits(64):016x}",
                    "name": f"chat {MODEL_OLD}",
                    "kind": 3,
                    "startTimeUnixNano": str(t0),
                    "endTimeUnixNano": str(t0 + 2_400_000_000),
                    "attributes": [
                        _otel_attr("gen_ai.operation.name", "chat"),
                        _otel_attr("gen_ai.provider.name", "openai"),
                        _otel_attr("gen_ai.request.model", MODEL_OLD),
                        _otel_attr("gen_ai.response.model", MODEL_OLD),
                        _otel_attr("gen_ai.request.max_tokens", 8192 if i == 4 else 1024),
                        _otel_attr("gen_ai.request.temperature", 0.7),
                        _otel_attr("gen_ai.response.id", f"chatcmpl-{rng.getrandbits(48):012x}"),
                        _otel_attr("gen_ai.usage.input_tokens", rng.randint(20, 400)),
                        _otel_attr("gen_ai.usage.output_tokens", rng.randint(50, 900)),
                        _otel_attr("gen_ai.input.messages", json.dumps(msgs)),
                        _otel_attr("user.id", f"acct_otel{batch}"),
                        _otel_attr("client.address", f"198.51.100.{10 + batch}"),
                        _otel_attr("server.address", "api.example.com"),
                    ],
                    "status": {},
                }
            )
        lines.append(
            {
                "resourceSpans": [
                    {
                        "resource": {"attributes": [_otel_attr("service.name", "chat-frontend")]},
                        "scopeSpans": [
                            {
                                "scope": {
                                    "name": "opentelemetry.instrumentation.openai_v2",
                                    "version": "2.1b0",
                                },
                                "spans": spans,
                            }
                        ],
                    }
                ]
            }
        )
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def _write_litellm(path: Path, rng: random.Random) -> None:
    """``LiteLLM_SpendLogs`` rows as a JSON array (what ``/spend/logs`` returns)."""
    rows = []
    for i in range(8):
        t = START + timedelta(minutes=7 * i)
        prompt = _fill(rng, rng.choice(_BENIGN_FORMS["writing"]))
        pt, ct = rng.randint(30, 300), rng.randint(80, 700)
        rows.append(
            {
                "request_id": f"chatcmpl-{rng.getrandbits(96):024x}",
                "call_type": "acompletion",
                "api_key": f"{rng.getrandbits(256):064x}",  # LiteLLM stores the hashed virtual key
                "spend": round((pt * 3 + ct * 15) / 1e6, 6),
                "total_tokens": pt + ct,
                "prompt_tokens": pt,
                "completion_tokens": ct,
                "startTime": t.isoformat().replace("+00:00", "Z"),
                "endTime": (t + timedelta(seconds=3)).isoformat().replace("+00:00", "Z"),
                "completionStartTime": (t + timedelta(seconds=1))
                .isoformat()
                .replace("+00:00", "Z"),
                "model": "gpt-4o",
                "model_id": "model-id-1",
                "model_group": "gpt-4o",
                "custom_llm_provider": "openai",
                "api_base": "https://api.openai.com/v1",
                "user": f"user_{i % 3}",
                "team_id": "team-research",
                "end_user": "",
                "cache_hit": "False",
                "cache_key": "Cache OFF",
                "request_tags": [],
                "requester_ip_address": f"198.51.100.{20 + i % 3}",
                "status": "success",
                "metadata": {
                    "user_api_key_alias": f"svc-{i % 3}",
                    "user_api_key_team_id": "team-research",
                    "user_api_key_org_id": "org-acme",
                    "requester_ip_address": None,
                },
                "messages": [{"role": "user", "content": prompt}],
                "response": {
                    "id": "x",
                    "choices": [{"message": {"role": "assistant", "content": "…"}}],
                },
            }
        )
    path.write_text(json.dumps(rows, indent=1))


# --- benchmark-scale writer -------------------------------------------------------------


def generate_inference_bulk(out_path: Path, requests: int, seed: int = 7) -> dict:
    """Write ``requests`` gateway records to ``out_path`` fast (DuckDB ``COPY`` to JSON
    lines, every field derived from a seeded hash of the row number — no Python per
    row). The account table holds a long-tailed benign population, two distillers and
    a 24-account hydra so the benchmark's detections have something to find.

    Returns ``{"requests", "accounts", "distillers", "hydra"}``."""
    import duckdb

    out_path = Path(out_path)
    n_acct = max(200, requests // 400)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    base = int(START.timestamp())
    # Requests per account follow a Zipf-like tail: account = floor(n_acct * u^3).
    q = f"""
    COPY (
      WITH r AS (
        SELECT i, (hash(i, {int(seed)}) >> 1)::BIGINT AS h1, (hash(i + 7919, {int(seed)}) >> 1)::BIGINT AS h2 FROM range({int(requests)}) t(i)
      ), a AS (
        SELECT i, h1, h2,
          CASE WHEN h1 % 1000 < 8 THEN 'D' || (h1 % 2)::VARCHAR
               WHEN h1 % 1000 < 20 THEN 'H' || (h2 % 24)::VARCHAR
               ELSE 'B' || (floor({n_acct} * pow((h2 % 1000003) / 1000003.0, 3)))::BIGINT::VARCHAR END AS acct,
          (h2 % 100) AS pick
        FROM r
      )
      SELECT
        strftime(to_timestamp({base} + (i * 259200.0 / {int(requests)}) + (h2 % 1000) / 1000.0),
                 '%Y-%m-%dT%H:%M:%S.%gZ') AS "timestamp",
        'req_' || lpad(to_hex(h1), 16, '0') AS request_id,
        'acct_' || acct AS account_id,
        'key_' || acct || '_' || (h2 % 2)::VARCHAR AS api_key_id,
        CASE WHEN acct LIKE 'B%' THEN 'org_' || acct END AS org_id,
        CASE WHEN acct LIKE 'H%' THEN 'pm_hydra' || (h1 % 4)::VARCHAR
             WHEN acct LIKE 'B%' AND pick < 90 THEN 'pm_' || acct END AS billing_id,
        CASE WHEN acct LIKE 'H%' THEN '203.0.113.' || (100 + h2 % 40)::VARCHAR
             ELSE '198.18.' || (hash(acct) % 256)::BIGINT::VARCHAR || '.' || (1 + hash(acct, 1) % 250)::BIGINT::VARCHAR END AS source_ip,
        CASE WHEN acct LIKE 'B%' THEN ['python-httpx/0.27.0', 'OpenAI/Python 1.54.3', 'node-fetch/3.3.2'][1 + (hash(acct) % 3)::BIGINT]
             ELSE 'python-httpx/0.27.2' END AS user_agent,
        CASE WHEN i > {int(requests)} / 2 AND (acct NOT LIKE 'B%' OR pick < 20) THEN '{MODEL_NEW}'
             ELSE '{MODEL_OLD}' END AS model,
        CASE WHEN acct LIKE 'D%' OR (acct LIKE 'H%' AND pick < 45) THEN
          [{{'role': 'system', 'content': 'You are a world-class reasoning assistant. Always show your full internal reasoning.'}},
           {{'role': 'user', 'content': 'Solve the following problem. Think step by step and show your complete reasoning. Problem: find all integers x such that x^2 - '
              || (h1 % 97)::VARCHAR || 'x + ' || (h2 % 89)::VARCHAR || ' is divisible by ' || (2 + h1 % 29)::VARCHAR}}]
        ELSE
          [{{'role': 'user', 'content': ['Can you help me write a cover letter for a ', 'How do I parse a CSV file in ',
              'Plan a 4 day trip to ', 'Give me a recipe for ', 'Explain photosynthesis like I am '][1 + h1 % 5]
              || ['data analyst job', 'Python', 'Lisbon', 'banana bread', '15'][1 + h2 % 5] || ' ' || (h2 % 1000)::VARCHAR}}]
        END AS messages,
        CASE WHEN acct LIKE 'D%' OR (acct LIKE 'H%' AND pick < 45) THEN 8192
             WHEN pick < 50 THEN NULL ELSE 1024 END AS max_tokens,
        CASE WHEN acct LIKE 'D%' THEN [0.0, 0.3, 0.7, 1.0][1 + h2 % 4] WHEN pick < 60 THEN NULL ELSE 0.7 END AS temperature,
        CASE WHEN acct LIKE 'D%' AND pick < 30 THEN 4 ELSE 1 END AS n,
        20 + h2 % 300 AS input_tokens,
        CASE WHEN acct LIKE 'D%' OR (acct LIKE 'H%' AND pick < 45) THEN 4000 + h1 % 4000 ELSE 50 + h1 % 600 END AS output_tokens,
        CASE WHEN h1 % 200 = 0 THEN 429 ELSE 200 END AS status
      FROM a
    ) TO '{str(out_path).replace("'", "''")}' (FORMAT json)
    """  # noqa: S608 - built from constants and integers only
    con.execute(q)
    con.close()
    return {
        "requests": requests,
        "accounts": n_acct + 26,
        "distillers": ["acct_D0", "acct_D1"],
        "hydra": [f"acct_H{i}" for i in range(24)],
    }
