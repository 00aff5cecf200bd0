"""Adaptive distillers — attackers who have read how distillation is caught — and the
benign crowds they hide among (``generate_inference(..., adaptive=True)``).

None of the three campaigns sends a single-account harvest signal: no
chain-of-thought or rubric elicitation, no ``max_tokens`` at the cap, ``n`` = 1, default
temperature. What they cannot help is what they are for.

* **coverage swarm** — about a thousand accounts opened over two months, each active
  a few days with a few dozen plain single-turn prompts from a residential address and
  a common SDK, mostly on their own card. Together they walk one capability task list
  (code, maths, agent plans) with almost no prompt sent twice. The list came out of one
  generator, so most prompts carry one of the operator's few scaffolds (a fixed
  instruction at the end) — how many scaffolds and how often is drawn per seed.
* **insider key** — one API key of a 30-person enterprise tenant (one org, one billing
  id, two office egress addresses) that, from one day on, sends thousands of
  benchmark-style prompts a day, weekends included, from the usual egress.
* **camouflaged hydra** — about a hundred accounts opened over weeks, each on its own
  card, mostly ordinary multi-turn chat at human hours in its claimed time zone. What
  they share: exits in a few residential /24s, a rare SDK version string presented
  over a TLS stack that is not that SDK's, and one prompt-template family that
  carries the harvest.

And the look-alikes each of those must not be confused with:

* **newcomers** — people who open an account during the window and try it for a few
  days; some are developers whose scripts send single-turn prompts, one in a few
  hundred runs a small evaluation of its own (unique coding tasks, its own scaffold);
* **university class** — a course's students sign up the same week and work one
  homework set (the same questions, "Show your work.") from the campus NAT and home;
* **QA suite** — a team re-running its fixed regression suite every night at three
  temperatures, on the new model within hours of its release;
* **enterprise tenant** — the insider's 29 colleagues, chatting at office hours;
* a few ordinary customers on the same old SDK version as the hydra (with that SDK's
  own TLS stack).

Every address is from the ranges reserved for documentation and benchmarking.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the writer and account types live with the reference simulator
    from crownwatch.simulate.inference import _Account, _Ids, _Writer

# SDK versions old enough that few customers still run them.
OLD_SDKS = (
    "OpenAI/Python 1.3.7",
    "OpenAI/Python 1.12.0",
    "anthropic-python/0.18.1",
    "openai-node/4.20.1",
)
SWARM_UAS = ("OpenAI/Python 1.54.3", "python-httpx/0.27.0", "anthropic-typescript/0.32.1")

# -- the capability task list a swarm walks (large, so no task needs sending twice) --

_ALGOS = (
    "an LRU cache",
    "a trie with prefix search",
    "Dijkstra's shortest path",
    "a rate limiter with a token bucket",
    "a JSON parser",
    "an interval tree",
    "topological sort with cycle detection",
    "a bloom filter",
    "a consistent-hashing ring",
    "a thread-safe bounded queue",
    "run-length encoding",
    "a union-find with path compression",
    "a min-heap",
    "matrix multiplication with blocking",
    "a markdown-to-HTML converter",
    "an expression evaluator with precedence",
    "a skip list",
    "A* search on a grid",
    "a retrying HTTP client",
    "a diff of two text files",
    "a sudoku solver",
    "a B-tree insert",
    "a cron expression parser",
    "a sliding-window median",
)
_CONSTRAINTS = (
    "in O(n log n)",
    "without recursion",
    "using only the standard library",
    "with property-based tests",
    "that handles unicode input",
    "in constant extra memory",
    "with full type annotations",
    "that is safe under concurrent use",
)
_LANG = ("Python", "Rust", "Go", "TypeScript", "Java", "C++", "Kotlin", "Haskell")
_AGENT = (
    "migrate a monolith's user service to its own database",
    "triage 200 open bug reports by component",
    "reconcile two CSV exports of invoices",
    "upgrade a web app from Python 3.8 to 3.12",
    "find which commit made the nightly build slower",
    "collect the prices of 50 products from three shops",
    "rotate every expiring TLS certificate in a cluster",
)
_TOOLS = ("a shell", "a browser", "a SQL console", "a code search", "an issue tracker")


_DOMAINS = (
    "a logistics company's routing service",
    "a hospital's appointment system",
    "an online bookshop's checkout",
    "a chess engine",
    "a weather station's data logger",
    "a bank's fraud rules",
    "a multiplayer game server",
    "a compiler's optimiser",
    "a newsroom's publishing pipeline",
    "a farm's irrigation controller",
    "a ride-sharing dispatcher",
    "a genome assembler",
    "a library's catalogue search",
    "a payroll export",
    "an airline's seat map",
    "a smart thermostat",
)
_INPUTS = (
    "The input arrives as newline-separated records",
    "Inputs are streamed from a socket",
    "Assume up to ten million elements",
    "Keys are arbitrary byte strings",
    "The data may contain duplicates and empty entries",
    "Timestamps are in mixed time zones",
)


def task(rng: random.Random, i: int) -> str:
    """Task ``i`` of a capability list: plain wording, no reasoning asked for, varied
    enough that two tasks are never near-duplicates."""
    kind = i % 3
    if kind == 0:
        return (
            f"Implement {rng.choice(_ALGOS)} in {rng.choice(_LANG)} for "
            f"{rng.choice(_DOMAINS)}, {rng.choice(_CONSTRAINTS)}. {rng.choice(_INPUTS)}; "
            f"stay under {rng.randint(2, 512)} MB."
        )
    if kind == 1:
        a, b, c = rng.randint(3, 997), rng.randint(3, 997), rng.randint(2, 60)
        d = rng.choice(_DOMAINS)
        return rng.choice(
            (
                f"In {d}, count the integers n below {a * 10} such that n^2 + {b} is divisible by {c}.",
                f"A sequence modelling {d} has a_1 = {a} and a_(k+1) = a_k + {b}k mod {c * 7}. Compute a_{c + 20}.",
                f"Evaluate the definite integral of x^{c % 6 + 1} sin({b}x) from 0 to {a}/{c}; it sizes a buffer in {d}.",
                f"How many lattice paths from (0,0) to ({c % 9 + 3},{b % 7 + 3}) avoid ({a % 3 + 1},{a % 2 + 1}) on the grid of {d}? Give the count modulo {a * b}.",
                f"Solve the system {a}x + {b}y = {c}, {b}x - {a}y = {c + 5} over the rationals, as it arises in {d}.",
            )
        )
    return (
        f"Plan how an agent with {rng.choice(_TOOLS)} and {rng.choice(_TOOLS)} should "
        f"{rng.choice(_AGENT)} for {rng.choice(_DOMAINS)} within {rng.randint(2, 96)} hours "
        f"and ${rng.randint(50, 9000)}. {rng.choice(_INPUTS)}."
    )


# The tails a prompt generator bolts on: one operator uses a few of these.
SCAFFOLDS = (
    "Return only the final solution, with no commentary before or after it.",
    "Answer in a single fenced block; keep any explanation to one line after it.",
    "Respond with the result only. Format: ANSWER: <result>",
    "Be complete and precise. Output nothing except the deliverable.",
    "Reply in JSON with the keys solution and notes.",
)


# The camouflaged hydra's one template: a fixed preamble longer than the masked head.
HYDRA_PREAMBLES = (
    "You are helping build a study guide. Provide a complete, correct and self-contained answer.",
    "For our internal knowledge base: answer the item below thoroughly and accurately.",
    "Please handle the following item as an expert would, covering every requirement.",
)


@dataclass(frozen=True)
class AdaptiveStyle:
    """What the adaptive attackers vary. The defaults are the reference style the
    detections were tuned on (seed 11); :meth:`draw` varies every knob."""

    swarm_total: int = 1000  # accounts opened over the two months
    swarm_span_days: int = 60
    swarm_active_days: tuple[int, int] = (1, 4)
    swarm_prompts: tuple[int, int] = (15, 60)
    swarm_scaffolds: int = 2
    swarm_scaffold_share: float = 0.8
    swarm_billing: float = 0.8  # share on a card of their own (the rest on none)
    insider_day: int = 6  # the day, counted from the window's start, the key turns
    insider_per_day: tuple[int, int] = (2000, 4000)
    hydra_members: int = 100
    hydra_prefixes: int = 3
    hydra_template_share: float = 0.2
    hydra_ua: str = "OpenAI/Python 1.12.0"
    hydra_tls: str = "go"

    @classmethod
    def draw(cls, r: random.Random) -> AdaptiveStyle:
        return cls(
            swarm_total=r.randint(700, 1300),
            swarm_span_days=r.choice((45, 60, 75)),
            swarm_active_days=(1, r.choice((3, 4, 5))),
            swarm_prompts=(r.choice((10, 15, 20)), r.choice((40, 60, 80))),
            swarm_scaffolds=r.randint(1, 4),
            swarm_scaffold_share=r.choice((0.5, 0.7, 0.9)),
            swarm_billing=r.choice((0.6, 0.8, 0.95)),
            insider_day=r.randint(5, 8),
            insider_per_day=(lo := r.choice((1000, 2000, 3000)), lo * 2),
            hydra_members=r.randint(60, 140),
            hydra_prefixes=r.randint(2, 5),
            hydra_template_share=r.choice((0.1, 0.15, 0.25)),
            hydra_ua=r.choice(OLD_SDKS),
            hydra_tls=r.choice(("go", "node", "curl")),
        )


class _Ctx:
    """What every planter needs from the reference simulator."""

    def __init__(self, w: _Writer, ids: _Ids, start: datetime, days: int, scale: float):
        from crownwatch.simulate import inference as sim

        self.sim, self.w, self.ids, self.rng = sim, w, ids, w.rng
        self.start, self.days, self.scale = start, days, scale
        self.end = start + timedelta(days=days)

    def account(self, kind: str, created: datetime) -> _Account:
        return self.sim._Account(self.ids, self.rng, kind, created)

    def human_day(self, a: _Account, day: int, sessions: float, topics: list[str], **kw):
        """One day of a person's ordinary conversations at their local hours."""
        for t in self.sim._human_times(self.rng, a, self.start + timedelta(days=day), 1, sessions):
            if t < self.end:
                self.sim._conversation(self.w, a, t, topics, **kw)

    def single(self, a: _Account, t: datetime, prompt: str, **kw) -> None:
        """A plain single-turn request with the SDK's defaults."""
        self.w.request(
            a,
            t,
            [{"role": "user", "content": prompt}],
            model=kw.pop("model", None) or self.w.model_for(t, 0.5),
            out_tokens=kw.pop("out_tokens", None)
            or max(40, int(self.rng.lognormvariate(5.6, 0.6))),
            **kw,
        )


def _residential(rng: random.Random, prefix: str | None = None) -> str:
    if prefix:
        return f"{prefix}.{rng.randint(2, 254)}"
    return f"{rng.choice(('198.18', '198.19'))}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


# -- attacks ---------------------------------------------------------------------------


def _coverage_swarm(c: _Ctx, st: AdaptiveStyle) -> dict:
    rng = c.rng
    total = max(60, int(st.swarm_total * c.scale))
    scaffolds = rng.sample(SCAFFOLDS, st.swarm_scaffolds)
    next_task = iter(range(10**9))
    members = []
    for _ in range(total):
        opened = c.end - timedelta(days=rng.uniform(0, st.swarm_span_days))
        active = rng.randint(*st.swarm_active_days)
        first = opened + timedelta(hours=rng.uniform(0.2, 20))
        if first >= c.end or first + timedelta(days=active) < c.start:
            continue  # its few days fall outside the log window
        a = c.account("coverage_swarm", opened)
        a.ua = rng.choice(SWARM_UAS)
        a.ips = [_residential(rng)]
        a.org = None
        a.billing = c.ids.make("pm_") if rng.random() < st.swarm_billing else None
        a.keys = [c.ids.make("key_")]
        n = rng.randint(*st.swarm_prompts)
        per_day = max(1, n // active)
        wrote = 0
        for d in range(active):
            t = first + timedelta(days=d, hours=rng.uniform(0, 6))
            for _ in range(per_day):
                t += timedelta(seconds=rng.uniform(20, 400))
                if c.start <= t < c.end:
                    p = task(rng, next(next_task))
                    if rng.random() < st.swarm_scaffold_share:
                        p = f"{p}\n\n{rng.choice(scaffolds)}"
                    c.single(a, t, p)
                    wrote += 1
        if wrote:
            members.append(a.id)
    return {"accounts": members, "scaffolds": scaffolds, "opened_total": total}


def _enterprise_tenant(c: _Ctx, st: AdaptiveStyle) -> tuple[dict, list[str]]:
    """Thirty colleagues at office hours; one key turns into a harvest."""
    rng = c.rng
    org, bill = c.ids.make("org_"), c.ids.make("pm_")
    egress = ["192.0.2.60", "192.0.2.61"]
    people = []
    for _ in range(30):
        a = c.account("enterprise_tenant", c.start - timedelta(days=rng.uniform(60, 400)))
        a.org, a.billing, a.ips, a.tz = org, bill, egress, 1.0
        a.ua, a.keys = "OpenAI/Python 1.54.3", [c.ids.make("key_")]
        people.append(a)
    insider = people[0]
    lo, hi = st.insider_per_day
    for day in range(c.days):
        weekday = (c.start + timedelta(days=day)).weekday() < 5
        for a in people:
            if a is insider and day >= st.insider_day:
                t = c.start + timedelta(days=day, hours=rng.uniform(0, 2))
                for i in range(rng.randint(lo, hi)):
                    t += timedelta(seconds=rng.uniform(5, 30))
                    if t >= c.end:
                        break
                    c.single(a, t, task(rng, 7 * 10**8 + day * 10**5 + i), key=a.keys[0])
            elif weekday:
                c.human_day(a, day, rng.uniform(3, 8), ["code", "work", "writing"], max_turns=4)
    return (
        {"accounts": [insider.id], "api_keys": [insider.keys[0]], "org": org},
        [a.id for a in people[1:]],
    )


def _camouflaged_hydra(c: _Ctx, st: AdaptiveStyle) -> dict:
    rng = c.rng
    sim = c.sim
    n = max(15, int(st.hydra_members * c.scale))
    prefixes = [
        f"198.{rng.choice((18, 19))}.{rng.randint(0, 255)}" for _ in range(st.hydra_prefixes)
    ]
    preamble = rng.choice(HYDRA_PREAMBLES)
    members = []
    k = 0
    for _ in range(n):
        a = c.account("camouflaged_hydra", c.start - timedelta(days=rng.uniform(5, 60)))
        a.tz = sim._zone(rng)
        a.ua, a.tls = st.hydra_ua, sim.JA4[st.hydra_tls]
        a.ips = [_residential(rng, rng.choice(prefixes)) for _ in range(rng.choice((1, 2, 3)))]
        a.org = None
        a.billing = c.ids.make("pm_")
        a.keys = [c.ids.make("key_")]
        fav = rng.sample(list(sim._BENIGN_FORMS), rng.randint(2, 5))
        for day in range(c.days):
            for t in sim._human_times(rng, a, c.start + timedelta(days=day), 1, rng.uniform(2, 6)):
                if t >= c.end:
                    continue
                if rng.random() < st.hydra_template_share * 2:  # about half the requests are turns
                    for _ in range(rng.randint(1, 3)):
                        k += 1
                        c.single(a, t, f"{preamble}\n\nItem {k}: {task(rng, 9 * 10**8 + k)}")
                        t += timedelta(seconds=rng.uniform(30, 200))
                else:
                    sim._conversation(c.w, a, t, fav)
        members.append(a.id)
    return {"accounts": members, "prefixes": prefixes, "user_agent": st.hydra_ua}


# -- look-alikes -----------------------------------------------------------------------


def _newcomers(c: _Ctx, accounts: int) -> tuple[list[str], list[str]]:
    """Accounts opened during the window: people trying the API for a few days, some
    by script; one in a few hundred runs a small evaluation of its own."""
    rng = c.rng
    sim = c.sim
    out, evals = [], []
    for i in range(max(6, accounts // 15)):
        opened = c.start + timedelta(days=rng.uniform(0, c.days - 0.5))
        a = c.account("newcomer", opened)
        a.tz = sim._zone(rng)
        active = rng.randint(1, 5)
        d0 = (opened - c.start).days
        if i % 60 == 7:  # its own small eval set: unique coding tasks, its own scaffold
            own = f"Answer as module {c.ids.make('', 4)} would: code only, tests included."
            t = opened + timedelta(hours=rng.uniform(1, 6))
            for j in range(rng.randint(20, 60)):
                t += timedelta(seconds=rng.uniform(3, 20))
                if t < c.end:
                    algo, lang = rng.choice(_ALGOS), rng.choice(_LANG)
                    c.single(a, t, f"[{j}] {lang}: {algo}, {rng.choice(_CONSTRAINTS)}. {own}")
            evals.append(a.id)
            continue
        scripted = rng.random() < 0.3
        for day in range(d0, min(c.days, d0 + active)):
            if scripted:  # an app being wired up: a test prompt, then its own template
                t = c.start + timedelta(days=day, hours=rng.uniform(8, 20) - a.tz)
                for j in range(rng.randint(3, 25)):
                    t += timedelta(seconds=rng.uniform(5, 120))
                    if opened < t < c.end:
                        p = (
                            "Say hello"
                            if j == 0
                            else sim._fill(rng, "Summarise in one sentence: {notes}. Also {w}")
                        )
                        c.single(a, t, p, max_tokens=rng.choice((None, 256)))
            else:
                c.human_day(a, day, rng.uniform(1, 6), rng.sample(list(sim._BENIGN_FORMS), 3))
        out.append(a.id)
    return out, evals


def _university_class(c: _Ctx) -> list[str]:
    rng = c.rng
    size = rng.randint(120, 300)
    campus = "192.0.2.200"
    questions = [c.sim._math_problem(rng) if q % 2 else task(rng, 6 * 10**8 + q) for q in range(15)]
    signup = c.start + timedelta(days=rng.uniform(0, max(0.5, c.days - 4)))
    out = []
    for _ in range(size):
        a = c.account("university_class", signup + timedelta(hours=rng.uniform(0, 36)))
        a.ips = [campus] + ([_residential(rng)] if rng.random() < 0.6 else [])
        a.ua = rng.choice(c.sim.BENIGN_UAS[3:5])  # the course's web notebook, in a browser
        a.billing = None
        a.org = None
        a.tz = -5
        t = a.created + timedelta(hours=rng.uniform(2, 48))
        for q in rng.sample(questions, rng.randint(6, 15)):
            t += timedelta(seconds=rng.uniform(60, 1500))
            if t >= c.end:
                break
            ask = q if rng.random() < 0.7 else f"can you help with this question: {q}"
            c.single(a, t, f"{ask}\nShow your work.", ip=rng.choice(a.ips))
        out.append(a.id)
    return out


def _qa_suite(c: _Ctx) -> list[str]:
    """A fixed suite every night at three temperatures, on the new model within hours."""
    rng = c.rng
    sim = c.sim
    a = c.account("qa_suite", c.start - timedelta(days=200))
    a.ua, a.ips, a.org = "pytest-llm-regression/1.4 python-httpx/0.27.0", ["203.0.113.90"], None
    suite = [
        f"{task(rng, 5 * 10**8 + i)} Think step by step." if i % 3 else task(rng, 5 * 10**8 + i)
        for i in range(rng.randint(150, 300))
    ]
    runs = [c.start + timedelta(days=day, hours=2) for day in range(c.days)]
    runs.append(c.w.release + timedelta(hours=2))  # the release: the suite on the new model
    for t in sorted(runs):
        model = sim.MODEL_NEW if t > c.w.release + timedelta(hours=1) else sim.MODEL_OLD
        for p in suite:
            for temp in (0.0, 0.7, 1.0):
                t += timedelta(seconds=rng.uniform(0.5, 2.5))
                if t < c.end:
                    c.single(a, t, p, model=model, temperature=temp, max_tokens=2048)
    return [a.id]


def _old_sdk_customers(c: _Ctx, st: AdaptiveStyle) -> list[str]:
    """Ordinary customers still on the hydra's SDK version, over its real TLS stack."""
    rng = c.rng
    out = []
    for _ in range(rng.randint(2, 5)):
        a = c.account("old_sdk", c.start - timedelta(days=rng.uniform(100, 600)))
        a.ua, a.tz = st.hydra_ua, c.sim._zone(rng)
        for day in range(c.days):
            c.human_day(a, day, rng.uniform(1, 5), ["code", "work", "writing"])
        out.append(a.id)
    return out


def plant(
    w: _Writer, ids: _Ids, start: datetime, days: int, accounts: int, seed: int, vary: bool
) -> dict:
    """Write the adaptive campaigns and their look-alikes; returns their truth."""
    st = AdaptiveStyle.draw(random.Random(seed * 104729 + 3)) if vary else AdaptiveStyle()
    c = _Ctx(w, ids, start, days, scale=min(1.0, accounts / 1000))
    newcomers, evals = _newcomers(c, accounts)
    lookalikes = {
        "newcomers": newcomers,
        "eval_trial": evals,
        "university_class": _university_class(c),
        "qa_suite": _qa_suite(c),
        "old_sdk": _old_sdk_customers(c, st),
    }
    insider, colleagues = _enterprise_tenant(c, st)
    lookalikes["enterprise_tenant"] = colleagues
    attacks = {
        "coverage_swarm": {**_coverage_swarm(c, st), "attack": ["AML.T0024.002"]},
        "camouflaged_hydra": {**_camouflaged_hydra(c, st), "attack": ["AML.T0024.002"]},
    }
    if days > st.insider_day + 1:
        attacks["insider_key"] = {**insider, "attack": ["AML.T0024.002"]}
    else:  # too short a window for a baseline: the insider is an ordinary colleague
        lookalikes["enterprise_tenant"].extend(insider["accounts"])
    return {"attacks": attacks, "benign_lookalikes": lookalikes, "style": asdict(st)}
