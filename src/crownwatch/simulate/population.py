"""The simulated organisation: people, offices, networks and the internet around them.

Every address is drawn from ranges reserved for documentation and testing
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 — RFC 5737; 198.18.0.0/15 —
RFC 2544; 2001:db8::/32 — RFC 3849) so nothing here points at a real host. The
autonomous systems attached to them are real, plausible ones (residential ISPs
for homes, transit carriers for offices, hosting providers and residential proxy
pools for attackers), and each address keeps one ASN and one place for the
whole run, as it would in a GeoIP database. Benign and hostile traffic share the
ranges, so the range alone tells a detector nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

COUNTRY_NAMES = {
    "US": "United States",
    "GB": "United Kingdom",
    "SG": "Singapore",
    "JP": "Japan",
    "DE": "Germany",
    "NL": "Netherlands",
    "FR": "France",
    "HK": "Hong Kong",
    "KR": "South Korea",
    "BR": "Brazil",
    "RU": "Russia",
    "VN": "Vietnam",
    "IN": "India",
    "CA": "Canada",
    "RO": "Romania",
    "ID": "Indonesia",
    "TW": "Taiwan",
}

# city, region, country, lat, lon, tz
PLACES = {
    "sf": ("San Francisco", "California", "US", 37.7749, -122.4194, "America/Los_Angeles"),
    "oakland": ("Oakland", "California", "US", 37.8044, -122.2712, "America/Los_Angeles"),
    "sanjose": ("San Jose", "California", "US", 37.3382, -121.8863, "America/Los_Angeles"),
    "nyc": ("New York", "New York", "US", 40.7128, -74.0060, "America/New_York"),
    "brooklyn": ("Brooklyn", "New York", "US", 40.6782, -73.9442, "America/New_York"),
    "jersey": ("Jersey City", "New Jersey", "US", 40.7178, -74.0431, "America/New_York"),
    "london": ("London", "England", "GB", 51.5072, -0.1276, "Europe/London"),
    "cambridge": ("Cambridge", "England", "GB", 52.2053, 0.1218, "Europe/London"),
    "singapore": ("Singapore", "Singapore", "SG", 1.3521, 103.8198, "Asia/Singapore"),
    "tokyo": ("Tokyo", "Tokyo", "JP", 35.6762, 139.6503, "Asia/Tokyo"),
    "frankfurt": ("Frankfurt am Main", "Hesse", "DE", 50.1109, 8.6821, "Europe/Berlin"),
    "amsterdam": ("Amsterdam", "North Holland", "NL", 52.3676, 4.9041, "Europe/Amsterdam"),
    "paris": ("Paris", "Ile-de-France", "FR", 48.8566, 2.3522, "Europe/Paris"),
    "hongkong": ("Hong Kong", "Central and Western", "HK", 22.2793, 114.1628, "Asia/Hong_Kong"),
    "seoul": ("Seoul", "Seoul", "KR", 37.5665, 126.9780, "Asia/Seoul"),
    "saopaulo": ("Sao Paulo", "Sao Paulo", "BR", -23.5505, -46.6333, "America/Sao_Paulo"),
    "moscow": ("Moscow", "Moscow", "RU", 55.7558, 37.6173, "Europe/Moscow"),
    "hanoi": ("Hanoi", "Hanoi", "VN", 21.0278, 105.8342, "Asia/Bangkok"),
    "mumbai": ("Mumbai", "Maharashtra", "IN", 19.0760, 72.8777, "Asia/Kolkata"),
    "toronto": ("Toronto", "Ontario", "CA", 43.6532, -79.3832, "America/Toronto"),
    "bucharest": ("Bucharest", "Bucharest", "RO", 44.4268, 26.1025, "Europe/Bucharest"),
    "jakarta": ("Jakarta", "Jakarta", "ID", -6.2088, 106.8456, "Asia/Jakarta"),
    "ashburn": ("Ashburn", "Virginia", "US", 39.0438, -77.4874, "America/New_York"),
    "taipei": ("Taipei", "Taipei City", "TW", 25.0330, 121.5654, "Asia/Taipei"),
}

# asn -> (organisation, isp domain, kind)
ASNS = {
    # residential and mobile
    7922: ("Comcast Cable Communications, LLC", "comcast.net", "residential"),
    7018: ("AT&T Services, Inc.", "att.net", "residential"),
    701: ("Verizon Business", "verizon.net", "residential"),
    22773: ("Cox Communications Inc.", "cox.net", "residential"),
    20115: ("Charter Communications", "spectrum.com", "residential"),
    21928: ("T-Mobile USA, Inc.", "t-mobile.com", "mobile"),
    5089: ("Virgin Media Limited", "virginmedia.com", "residential"),
    2856: ("British Telecommunications PLC", "bt.com", "residential"),
    9506: ("Singtel Fibre Broadband", "singnet.com.sg", "residential"),
    55430: ("Starhub Ltd", "starhub.com", "residential"),
    4713: ("NTT Communications Corporation", "ocn.ad.jp", "residential"),
    # office transit
    174: ("Cogent Communications", "cogentco.com", "transit"),
    6461: ("Zayo Bandwidth", "zayo.com", "transit"),
    3356: ("Level 3 Parent, LLC", "lumen.com", "transit"),
    # hosting and cloud
    16509: ("Amazon.com, Inc.", "amazon.com", "hosting"),
    14061: ("DigitalOcean, LLC", "digitalocean.com", "hosting"),
    20473: ("The Constant Company, LLC", "vultr.com", "hosting"),
    24940: ("Hetzner Online GmbH", "hetzner.com", "hosting"),
    16276: ("OVH SAS", "ovh.net", "hosting"),
    63949: ("Akamai Connected Cloud", "linode.com", "hosting"),
    9009: ("M247 Europe SRL", "m247.com", "hosting"),
    51167: ("Contabo GmbH", "contabo.de", "hosting"),
    45102: ("Alibaba (US) Technology Co., Ltd.", "alibaba-inc.com", "hosting"),
    135377: ("UCLOUD INFORMATION TECHNOLOGY (HK) LIMITED", "ucloud.cn", "hosting"),
    138915: ("Kaopu Cloud HK Limited", "kaopuyun.com", "hosting"),
    132203: ("Tencent Building, Kejizhongyi Avenue", "tencent.com", "hosting"),
    36352: ("ColoCrossing", "colocrossing.com", "hosting"),
    212238: ("Datacamp Limited", "datacamp.co.uk", "hosting"),
}


@dataclass(frozen=True, slots=True)
class Net:
    """What a GeoIP/ASN database says about one address."""

    ip: str
    asn: int
    as_org: str
    isp_domain: str
    kind: str  # residential | mobile | transit | hosting | internal
    country: str
    region: str
    city: str
    lat: float
    lon: float
    is_proxy: bool = False


class AddressBook:
    """Hands out documentation/test addresses, each bound to one ASN and place."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.by_ip: dict[str, Net] = {}
        self._free = {
            "doc1": [f"192.0.2.{i}" for i in range(2, 255)],
            "doc2": [f"198.51.100.{i}" for i in range(2, 255)],
            "doc3": [f"203.0.113.{i}" for i in range(2, 255)],
            "bench": [
                f"198.{18 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}" for i in range(256, 131000, 97)
            ],
        }
        for pool in self._free.values():
            rng.shuffle(pool)
        self._v6 = 0
        self._overflow = 0

    def take(self, pool: str, asn: int, place: str, *, is_proxy: bool = False) -> Net:
        if pool == "v6":
            self._v6 += 1
            ip = f"2001:db8:{0x1000 + self._v6 * 7:x}:{self.rng.randrange(1, 0xFFFF):x}::{self.rng.randrange(1, 0xFFFF):x}"
        elif self._free[pool]:
            ip = self._free[pool].pop()
        elif pool == "bench":
            # Organisations of benchmark size (tens of thousands of users) outgrow
            # the shuffled pool; carry on through the rest of 198.18.0.0/15 in order,
            # so small organisations keep exactly the addresses they always had.
            i = self._overflow
            while (i & 255) in (0, 255) or (256 <= i < 131000 and (i - 256) % 97 == 0):
                i += 1  # skip network/broadcast-looking octets and the pool's own addresses
            if i >= 1 << 17:
                raise ValueError("198.18.0.0/15 is exhausted")
            self._overflow = i + 1
            ip = f"198.{18 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"
        else:
            raise ValueError(f"address pool {pool!r} is exhausted")
        return self.bind(ip, asn, place, is_proxy=is_proxy)

    def bind(self, ip: str, asn: int, place: str, *, is_proxy: bool = False, kind: str = "") -> Net:
        org, dom, akind = ASNS.get(asn, ("", "", "internal"))
        city, region, country, lat, lon, _tz = PLACES[place]
        jitter = self.rng.uniform(-0.05, 0.05)
        net = Net(
            ip,
            asn,
            org,
            dom,
            kind or akind,
            country,
            region,
            city,
            round(lat + jitter, 4),
            round(lon + jitter, 4),
            is_proxy,
        )
        self.by_ip[ip] = net
        return net


@dataclass(frozen=True, slots=True)
class Office:
    key: str
    name: str
    place: str
    tz: str
    nat: Net
    subnet: str  # internal /16 prefix, "10.10"
    dc: str  # domain controller that serves this site


@dataclass(slots=True)
class User:
    login: str  # first.last
    first: str
    last: str
    office: Office
    role: str  # research | engineering | infra | business | security
    okta_id: str
    entra_id: str
    sid: str
    home: Net
    mobile: Net
    ua_desktop: str
    ua_mobile: str
    workstation: str
    ip_internal: str
    remote_days: float  # share of workdays worked from home
    has_linux: bool
    has_aws: bool
    mfa_push: bool = True
    tags: set = field(default_factory=set)

    @property
    def display(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def sam(self) -> str:
        return (self.first[0] + self.last).lower()[:20]


FIRST = [
    "Aarav",
    "Abigail",
    "Adrian",
    "Aiko",
    "Alejandro",
    "Alice",
    "Amara",
    "Amir",
    "Ana",
    "Andrei",
    "Anika",
    "Ben",
    "Bianca",
    "Carlos",
    "Chen",
    "Chloe",
    "Daniel",
    "Daria",
    "Dev",
    "Diego",
    "Elena",
    "Eli",
    "Emma",
    "Ethan",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hannah",
    "Hiro",
    "Ian",
    "Isabel",
    "Ivan",
    "Jack",
    "James",
    "Jia",
    "Jonas",
    "Julia",
    "Kai",
    "Karan",
    "Kenji",
    "Laila",
    "Lars",
    "Leo",
    "Lina",
    "Lucas",
    "Maya",
    "Mei",
    "Mia",
    "Min",
    "Nadia",
    "Naomi",
    "Nikhil",
    "Noah",
    "Nora",
    "Olivia",
    "Omar",
    "Oscar",
    "Priya",
    "Rafael",
    "Ravi",
    "Rhea",
    "Rohan",
    "Rosa",
    "Ryan",
    "Sara",
    "Sean",
    "Sofia",
    "Sven",
    "Tara",
    "Theo",
    "Tomas",
    "Uma",
    "Victor",
    "Wei",
    "Xin",
    "Yara",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Adams",
    "Ahmed",
    "Alvarez",
    "Anand",
    "Bauer",
    "Becker",
    "Bianchi",
    "Brooks",
    "Campbell",
    "Chan",
    "Chen",
    "Cho",
    "Costa",
    "Cruz",
    "Das",
    "Dubois",
    "Edwards",
    "Evans",
    "Fischer",
    "Fong",
    "Garcia",
    "Gupta",
    "Haddad",
    "Hall",
    "Hansen",
    "Hoffman",
    "Huang",
    "Ito",
    "Iyer",
    "Jensen",
    "Johnson",
    "Kahn",
    "Kim",
    "Kowalski",
    "Kumar",
    "Larsen",
    "Lee",
    "Lin",
    "Lopez",
    "Martin",
    "Mehta",
    "Meyer",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Park",
    "Patel",
    "Perez",
    "Petrov",
    "Quinn",
    "Rao",
    "Reyes",
    "Rossi",
    "Sato",
    "Schmidt",
    "Shah",
    "Silva",
    "Singh",
    "Smith",
    "Sorensen",
    "Suzuki",
    "Tan",
    "Taylor",
    "Tran",
    "Vargas",
    "Wang",
    "Weber",
    "Wong",
    "Wu",
    "Yamamoto",
    "Yang",
    "Zhang",
    "Zhao",
]

UA_DESKTOP = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
)
UA_MOBILE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Mobile Safari/537.36",
    "Okta Verify/9.38.0 (iOS 18.3; iPhone15,3)",
)

# (key, name, place, subnet, dc) — four offices in four time zones
OFFICES = (
    ("sf", "San Francisco HQ", "sf", 174, "10.10", "NW-DC01"),
    ("nyc", "New York", "nyc", 6461, "10.20", "NW-DC01"),
    ("ldn", "London", "london", 3356, "10.30", "NW-DC02"),
    ("sg", "Singapore", "singapore", 174, "10.40", "NW-DC02"),
)
OFFICE_WEIGHTS = (0.50, 0.20, 0.18, 0.12)

HOME_ISPS = {
    "US": ((7922, 0.35), (7018, 0.2), (701, 0.2), (22773, 0.1), (20115, 0.15)),
    "GB": ((5089, 0.5), (2856, 0.5)),
    "SG": ((9506, 0.6), (55430, 0.4)),
}
HOME_PLACES = {
    "sf": ("sf", "oakland", "sanjose"),
    "nyc": ("nyc", "brooklyn", "jersey"),
    "ldn": ("london", "cambridge"),
    "sg": ("singapore",),
}
MOBILE_ISP = {"US": 21928, "GB": 2856, "SG": 9506}

ROLES = (
    ("research", 0.35),
    ("engineering", 0.30),
    ("infra", 0.08),
    ("business", 0.22),
    ("security", 0.05),
)


def _weighted(rng: random.Random, pairs):
    x = rng.random() * sum(w for _, w in pairs)
    for item, w in pairs:
        x -= w
        if x <= 0:
            return item
    return pairs[-1][0]


def _okta_id(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "00u" + "".join(rng.choice(alphabet) for _ in range(17))


def rand_uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


@dataclass
class Org:
    name: str
    domain: str
    ad_domain: str
    ad_fqdn: str
    tenant_id: str
    aws_account: str
    okta_org: str
    domain_sid: str
    offices: list[Office]
    users: list[User]
    service_accounts: list[str]
    iam_users: list[str]
    vpn: Net
    book: AddressBook

    def office(self, key: str) -> Office:
        return next(o for o in self.offices if o.key == key)


def build_org(rng: random.Random, n_users: int) -> Org:
    book = AddressBook(rng)
    offices = []
    for key, name, place, asn, subnet, dc in OFFICES:
        nat = book.take("doc1", asn, place)
        offices.append(Office(key, name, place, PLACES[place][5], nat, subnet, dc))
    vpn = book.take("doc1", 16509, "ashburn")  # the corporate VPN egress, hosted
    domain_sid = "S-1-5-21-" + "-".join(str(rng.randrange(10**9, 4 * 10**9)) for _ in range(3))
    users: list[User] = []
    seen: set[str] = set()
    rid = 1104
    while len(users) < n_users:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        login = f"{first}.{last}".lower()
        if login in seen:
            if n_users <= len(FIRST) * len(LAST) // 2:
                continue
            # a large organisation numbers its namesakes, as directories do
            login = f"{login}{len(users)}"
        seen.add(login)
        office = offices[_weighted(rng, list(enumerate(OFFICE_WEIGHTS)))]
        country = PLACES[office.place][2]
        home_place = rng.choice(HOME_PLACES[office.key])
        home_asn = _weighted(rng, HOME_ISPS[country])
        home = book.take("v6" if rng.random() < 0.15 else "bench", home_asn, home_place)
        mobile = book.take("bench", MOBILE_ISP[country], home_place)
        role = _weighted(rng, ROLES)
        rid += 1
        users.append(
            User(
                login=login,
                first=first,
                last=last,
                office=office,
                role=role,
                okta_id=_okta_id(rng),
                entra_id=rand_uuid(rng),
                sid=f"{domain_sid}-{rid}",
                home=home,
                mobile=mobile,
                ua_desktop=rng.choice(UA_DESKTOP),
                ua_mobile=rng.choice(UA_MOBILE),
                workstation=f"NW-{office.key.upper()}-{rng.randrange(1000, 9999)}",
                ip_internal=f"{office.subnet}.{rng.randrange(16, 250)}.{rng.randrange(2, 254)}",
                remote_days=rng.choice((0.1, 0.2, 0.4, 0.4, 0.6, 0.9)),
                has_linux=role in ("research", "engineering", "infra", "security")
                and rng.random() < 0.85,
                has_aws=role in ("engineering", "infra", "security")
                or (role == "research" and rng.random() < 0.2),
            )
        )
    return Org(
        name="Northwind AI",
        domain="northwind-ai.com",
        ad_domain="NORTHWIND",
        ad_fqdn="corp.northwind-ai.com",
        tenant_id=rand_uuid(rng),
        aws_account=str(rng.randrange(10**11, 10**12)),
        okta_org="northwind-ai.okta.com",
        domain_sid=domain_sid,
        offices=offices,
        users=users,
        service_accounts=[
            "svc-backup",
            "svc-jenkins",
            "svc-airflow",
            "svc-ldapsync",
            "svc-mlflow",
            "svc-sql",
        ],
        iam_users=[
            "ml-platform-admin",
            "terraform-ci",
            "datasets-sync",
            "breakglass-admin",
            "eval-harness",
        ],
        vpn=vpn,
        book=book,
    )
