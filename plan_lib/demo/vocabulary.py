"""The generator's fixed vocabularies: industries, name parts, topics, activity types.

Industry parameters carry the assumptions behind the firmographics (all
currency figures are per year): a log-median employee count, a revenue per
employee, and the industry's additive effect on the logit of the hidden
propensity (see ``plan_lib.demo.propensity``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Industry:
    name: str
    weight: float  # share of accounts
    log_median_employees: float  # log of the median head count (lognormal body)
    revenue_per_employee: float  # currency per employee per year
    propensity_effect: float  # added to the hidden propensity's logit
    name_words: tuple[str, ...]
    suffixes: tuple[str, ...] = ("Inc", "LLC", "Corp", "Co", "Group", "Holdings", "Inc", "LLC")


INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "Software",
        0.12,
        3.3,
        260_000,
        0.55,
        ("Analytics", "Software", "Systems", "Labs", "Data", "Cloud", "Logic", "Digital"),
    ),
    Industry(
        "Financial Services",
        0.09,
        3.4,
        420_000,
        0.30,
        (
            "Capital",
            "Financial",
            "Bancorp",
            "Advisors",
            "Insurance",
            "Investments",
            "Trust",
            "Lending",
        ),
    ),
    Industry(
        "Healthcare",
        0.11,
        3.6,
        150_000,
        0.10,
        ("Health", "Medical", "Clinic", "Care", "Pharma", "Diagnostics", "Biotech", "Dental"),
    ),
    Industry(
        "Manufacturing",
        0.12,
        3.8,
        240_000,
        0.00,
        (
            "Manufacturing",
            "Industries",
            "Fabrication",
            "Machine Works",
            "Components",
            "Plastics",
            "Steel",
            "Tooling",
        ),
    ),
    Industry(
        "Retail",
        0.11,
        3.3,
        190_000,
        -0.20,
        ("Retail", "Outfitters", "Market", "Stores", "Supply", "Goods", "Brands", "Home"),
    ),
    Industry(
        "Education",
        0.05,
        3.9,
        100_000,
        -0.45,
        ("Academy", "College", "Learning", "Schools", "Institute", "Education", "Tutoring", "Prep"),
        ("", "", "Inc", "Foundation"),
    ),
    Industry(
        "Media",
        0.05,
        3.0,
        250_000,
        0.20,
        (
            "Media",
            "Studios",
            "Publishing",
            "Broadcasting",
            "Entertainment",
            "Creative",
            "Press",
            "Productions",
        ),
    ),
    Industry(
        "Telecommunications",
        0.03,
        3.7,
        480_000,
        0.10,
        (
            "Telecom",
            "Networks",
            "Wireless",
            "Communications",
            "Broadband",
            "Fiber",
            "Connect",
            "Mobile",
        ),
    ),
    Industry(
        "Energy",
        0.03,
        3.6,
        750_000,
        -0.30,
        ("Energy", "Power", "Solar", "Utilities", "Petroleum", "Renewables", "Gas", "Electric"),
    ),
    Industry(
        "Transportation",
        0.06,
        3.4,
        230_000,
        -0.20,
        ("Logistics", "Freight", "Transport", "Shipping", "Trucking", "Aviation", "Rail", "Fleet"),
    ),
    Industry(
        "Professional Services",
        0.16,
        2.9,
        160_000,
        0.20,
        (
            "Consulting",
            "Associates",
            "Partners",
            "Legal",
            "Accounting",
            "Staffing",
            "Engineering",
            "Advisory",
        ),
    ),
    Industry(
        "Public Sector",
        0.07,
        4.2,
        120_000,
        -0.65,
        (
            "County Services",
            "Authority",
            "Department",
            "District",
            "Agency",
            "Commission",
            "Municipal Services",
            "Transit Authority",
        ),
        ("",),
    ),
)
INDUSTRY_NAMES: tuple[str, ...] = tuple(i.name for i in INDUSTRIES)

# fmt: off
NAME_PREFIXES: tuple[str, ...] = (
    "Harbor", "Summit", "Blue", "Cedar", "Granite", "North", "Pioneer", "Atlas", "Beacon", "Bright",
    "Cascade", "Clear", "Coastal", "Copper", "Crest", "Crown", "Delta", "Eagle", "Evergreen",
    "Falcon", "First", "Frontier", "Golden", "Great Lakes", "Green", "Heritage", "Highland",
    "Horizon", "Iron", "Keystone", "Lakeside", "Liberty", "Lincoln", "Maple", "Meridian", "Metro",
    "Midland", "Mountain", "Nexus", "Noble", "Northstar", "Oak", "Ocean", "Orion", "Pacific",
    "Park", "Peak", "Pine", "Pinnacle", "Prairie", "Prime", "Quantum", "Redwood", "Ridge", "River",
    "Rock", "Sage", "Silver", "Sky", "Sterling", "Stone", "Sun", "Tidewater", "Titan", "Trinity",
    "United", "Valley", "Vanguard", "Vista", "West", "Willow", "Apex", "Arrow", "Bay", "Bison",
    "Canyon", "Capital", "Central", "Citadel", "Clearwater", "Compass", "Continental",
    "Cornerstone", "Cypress", "Eastern", "Elm", "Empire", "Fairview", "Forge", "Fox", "Gateway",
    "Harvest", "Hudson", "Ivy", "Juniper", "Lantern", "Legacy", "Magnolia", "Mesa", "Monarch",
)
CHILD_SUFFIXES: tuple[str, ...] = ("LLC", "Inc", "Division", "Branch")

FIRST_NAMES: tuple[str, ...] = (
    "Aaron", "Abigail", "Adam", "Aisha", "Alex", "Alicia", "Amir", "Ana", "Andre", "Angela", "Ben",
    "Bianca", "Brandon", "Brooke", "Caleb", "Carla", "Carlos", "Chloe", "Chris", "Claire", "Dana",
    "Daniel", "Deepa", "Derek", "Diego", "Elena", "Eli", "Emily", "Eric", "Erin", "Ethan", "Fatima",
    "Felix", "Fiona", "Gabriel", "Grace", "Hannah", "Hector", "Ian", "Imani", "Isaac", "Ivy",
    "Jack", "Jada", "James", "Jasmine", "Jason", "Jenna", "Joel", "Jordan", "Julia", "Kai", "Karen",
    "Kevin", "Kim", "Laura", "Leah", "Leo", "Liam", "Lina", "Logan", "Lucia", "Luis", "Maya",
    "Megan", "Mia", "Miguel", "Nadia", "Nathan", "Nina", "Noah", "Olivia", "Omar", "Owen", "Paige",
    "Paul", "Priya", "Quinn", "Rachel", "Raj", "Ravi", "Rebecca", "Ryan", "Sam", "Sara", "Sean",
    "Sofia", "Stephen", "Tara", "Theo", "Tom", "Tyler", "Uma", "Victor", "Wei", "Will", "Xavier",
    "Yara", "Yusuf", "Zoe", "Marcus", "Naomi", "Oscar", "Pedro", "Rosa", "Simone", "Trevor",
    "Vanessa", "Wendy", "Yuki", "Adrian", "Beth", "Colin", "Dmitri", "Esther", "Frank", "Gwen",
    "Hugo", "Irene", "Jonah",
)
LAST_NAMES: tuple[str, ...] = (
    "Adams", "Alvarez", "Anderson", "Baker", "Bennett", "Brooks", "Brown", "Campbell", "Carter",
    "Chen", "Clark", "Collins", "Cooper", "Cruz", "Davis", "Diaz", "Edwards", "Evans", "Fisher",
    "Flores", "Foster", "Garcia", "Gomez", "Gonzalez", "Gray", "Green", "Hall", "Harris", "Hayes",
    "Hernandez", "Hill", "Hughes", "Jackson", "James", "Jenkins", "Johnson", "Jones", "Kelly",
    "Khan", "Kim", "King", "Lee", "Lewis", "Lopez", "Martin", "Martinez", "Mehta", "Miller",
    "Mitchell", "Moore", "Morgan", "Morris", "Murphy", "Nguyen", "Nelson", "Ortiz", "Park",
    "Parker", "Patel", "Perez", "Peterson", "Phillips", "Powell", "Price", "Ramirez", "Reed",
    "Reyes", "Richardson", "Rivera", "Roberts", "Robinson", "Rodriguez", "Rogers", "Ross",
    "Russell", "Sanchez", "Sanders", "Scott", "Shah", "Singh", "Smith", "Stewart", "Sullivan",
    "Taylor", "Thomas", "Thompson", "Torres", "Turner", "Walker", "Ward", "Watson", "White",
    "Whitfield", "Williams", "Wilson", "Wong", "Wood", "Wright", "Yang", "Young", "Okafor", "Novak",
    "Lindqvist", "Haddad", "Kowalski", "Tanaka", "Moreau", "Rossi", "Schmidt", "Ivanova", "Mensah",
    "Silva", "Dubois", "Larsen", "Ali", "Cohen", "Byrne", "Fischer", "Kaur", "Santos",
)
# fmt: on

INTENT_TOPICS: tuple[str, ...] = (
    "data integration",
    "sales analytics",
    "crm software",
    "workflow automation",
    "cloud security",
    "customer data platform",
    "ai assistants",
    "revenue operations",
)
ACTIVITY_TYPES: tuple[str, ...] = ("email", "call", "meeting", "demo")
ACTIVITY_TYPE_SHARES: tuple[float, ...] = (0.45, 0.30, 0.17, 0.08)
