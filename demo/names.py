"""Word lists for the demo firm (``demo``): people, businesses, notes.

Kept apart from the builder so the builder stays readable; everything here is
plain data. Names are invented combinations, phone numbers use the NANPA
555-01xx block reserved for fiction, and email domains are RFC 2606 ``.example``
names, so demo data can never reach a real person.
"""

from __future__ import annotations

# fmt: off
FIRST_NAMES = (
    "Aaliyah", "Aaron", "Adriana", "Aiden", "Alejandro", "Alicia", "Amara", "Andre", "Anika",
    "Arjun", "Beatriz", "Benjamin", "Bianca", "Brandon", "Caleb", "Camila", "Carmen", "Chloe",
    "Colin", "Daniel", "Daniela", "Darius", "David", "Deepa", "Derek", "Diana", "Dmitri",
    "Elena", "Elijah", "Emily", "Emma", "Ethan", "Fatima", "Felix", "Fiona", "Gabriel", "Grace",
    "Hannah", "Hector", "Imani", "Isaac", "Isabel", "Jamal", "James", "Jasmine", "Javier",
    "Jenna", "Jordan", "Julia", "Julian", "Kaito", "Karen", "Keisha", "Kevin", "Laila",
    "Lauren", "Leah", "Leon", "Lucas", "Lucia", "Malik", "Marcus", "Maria", "Mariana", "Mateo",
    "Maya", "Megan", "Mei", "Michael", "Mohammed", "Monica", "Nadia", "Naomi", "Nathan", "Nia",
    "Noah", "Nora", "Olivia", "Omar", "Owen", "Priya", "Rachel", "Rafael", "Rebecca", "Ravi",
    "Rosa", "Ryan", "Samantha", "Samuel", "Sara", "Sean", "Sofia", "Sophie", "Tariq", "Teresa",
    "Thomas", "Tom", "Valentina", "Victor", "Vivian", "Wei", "William", "Yara", "Zoe",
)

LAST_NAMES = (
    "Abernathy", "Adeyemi", "Alvarez", "Anand", "Baker", "Barros", "Bennett", "Bishop",
    "Brennan", "Caldwell", "Castillo", "Chen", "Choi", "Coleman", "Costa", "Crawford", "Dalton",
    "Delgado", "Dubois", "Ellison", "Erikson", "Farrell", "Fischer", "Fitzgerald", "Fleming",
    "Fuentes", "Garcia", "Gallagher", "Goldberg", "Gupta", "Hale", "Hansen", "Harrington",
    "Hayes", "Hernandez", "Hoffman", "Huang", "Ibrahim", "Jensen", "Kaplan", "Kaur", "Keller",
    "Kim", "Kowalski", "Lambert", "Larsen", "Le", "Lindqvist", "Lopez", "Lowell", "Mahoney",
    "Marsh", "Martinez", "McAllister", "Mendoza", "Mitchell", "Moreau", "Morrison", "Nakamura",
    "Novak", "Nguyen", "Oakley", "Okafor", "Olsen", "Ortega", "Osei", "Park", "Patel",
    "Pereira", "Petrov", "Quinn", "Ramirez", "Reyes", "Rhodes", "Rivera", "Rossi", "Russo",
    "Saunders", "Schmidt", "Shah", "Sheridan", "Silva", "Singh", "Sorensen", "Stein",
    "Sullivan", "Suzuki", "Tanaka", "Thornton", "Torres", "Tran", "Vance", "Vargas", "Walsh",
    "Whitaker", "Whitfield", "Wong", "Yamamoto", "Young", "Zhang",
)

# Two halves of a place-like business name: "Harbor" + "Point".
PLACE_FIRST = (
    "Harbor", "Cedar", "Blue", "Stone", "Maple", "Oak", "Pine", "Willow", "Iron", "Copper",
    "Silver", "Red", "Bay", "Fox", "Meadow", "High", "East", "West", "North", "South", "Bridge",
    "Clear", "Golden", "Hill", "Brook", "Sun", "Granite", "Mill", "Beacon", "King", "Crescent",
    "Lake", "Sand", "Juniper", "Prairie", "Thorn", "Falcon", "Elm", "Aspen", "Birch",
)

PLACE_SECOND = (
    "Point", "Ridge", "Creek", "Grove", "Hollow", "Gate", "View", "Field", "Crest", "Haven",
    "Wood", "Rock", "Bend", "Park", "Valley", "Run", "Landing", "Shore", "Harbor", "Springs",
)

# Industry tag slug -> (business noun, the legal suffix such a business usually carries).
BUSINESS_NOUNS: dict[str, tuple[tuple[str, str], ...]] = {
    "healthcare": (
        ("Dental", "PLLC"),
        ("Family Medicine", "PLLC"),
        ("Physical Therapy", "LLC"),
        ("Orthodontics", "PC"),
        ("Veterinary Clinic", "PLLC"),
        ("Pediatrics", "PA"),
    ),
    "construction": (
        ("Builders", "Inc."),
        ("Roofing", "LLC"),
        ("Electric", "Inc."),
        ("Plumbing & Heating", "LLC"),
        ("Concrete", "Co."),
        ("Landscaping", "LLC"),
    ),
    "real_estate": (
        ("Properties", "LLC"),
        ("Realty Group", "LLC"),
        ("Property Management", "Inc."),
        ("Holdings", "LLC"),
        ("Development", "LLC"),
    ),
    "restaurants": (
        ("Bistro", "LLC"),
        ("Brewing Company", "LLC"),
        ("Coffee Roasters", "Inc."),
        ("Bakery", "LLC"),
        ("Taqueria", "LLC"),
        ("Catering", "Inc."),
    ),
    "technology": (
        ("Software", "Inc."),
        ("Analytics", "Inc."),
        ("Labs", "Inc."),
        ("Systems", "Corp."),
        ("Digital", "LLC"),
        ("Cloud Services", "Inc."),
    ),
    "manufacturing": (
        ("Machining", "Inc."),
        ("Fabrication", "Co."),
        ("Plastics", "Corp."),
        ("Tool & Die", "Inc."),
        ("Millwork", "LLC"),
        ("Packaging", "Corp."),
    ),
    "professional_services": (
        ("Law Group", "PLLC"),
        ("Consulting", "LLC"),
        ("Architects", "PC"),
        ("Engineering", "PC"),
        ("Insurance Agency", "Inc."),
        ("Marketing", "LLC"),
    ),
}

NONPROFIT_KINDS = (
    "Community Foundation",
    "Food Bank",
    "Arts Council",
    "Youth Soccer League",
    "Historical Society",
    "Animal Rescue",
    "Literacy Project",
    "Community Health Clinic",
    "Housing Alliance",
    "Music Festival",
    "Scholarship Fund",
    "Land Conservancy",
)

TRUST_FORMS = (
    "{last} Family Trust",
    "The {first} {last} Revocable Trust",
    "{last} Irrevocable Trust",
    "{last} Charitable Remainder Trust",
)

# Area codes whose 555-01xx numbers the phonenumbers library accepts as valid.
AREA_CODES = (
    "201", "202", "212", "215", "267", "312", "401", "412", "503", "508", "603", "617", "646",
    "704", "720", "781", "802", "857", "914", "978",
)

CLIENT_NOTES = (
    "Prefers calls after 3 pm; email for anything with numbers.",
    "Uses the client portal; do not send documents by email.",
    "Opened a second bank account in September: add the feed.",
    "Controller changed this year; confirm the new contact before sending requests.",
    "Sensitive about fee increases; partner to discuss any change.",
    "Referred by an existing client; first season with the firm.",
    "Slow to return organizers; start reminders early.",
    "Multi-state filer: check nexus every year.",
)

ENGAGEMENT_INSTRUCTIONS = (
    "Client sends documents in two batches; wait for the second before starting.",
    "Extension likely: confirm with the partner by March 1.",
    "Reconcile the new merchant account before closing the month.",
    "Prior-year adjustment booked late: tie out opening balances first.",
    "Client asked for a call to walk through the results.",
    "K-1s from two partnerships expected late.",
)

# What a close reviewer finds, and how it was cleared: (note, resolution), formatted with
# amount ("1,240.18"), month ("October") and vendor.
REVIEW_EXCEPTIONS = (
    (
        "Bank rec off by ${amount} — missing {month} deposit",
        "Client sent the deposit slip; booked in {month} and the bank rec ties.",
    ),
    (
        "Credit card statement not in the feed: ${amount} of {month} charges unbooked",
        "Client uploaded the statement; charges coded and the card reconciles.",
    ),
    (
        "AR aging doesn't tie to the GL by ${amount} — client to confirm a write-off",
        "Client approved the write-off; AR ties to the GL.",
    ),
    (
        "Payroll register is ${amount} over GL wages — off-cycle run not booked?",
        "Off-cycle bonus run booked from the register; wages tie.",
    ),
    (
        "Uncategorized ${amount} transfer to savings — owner draw or loan?",
        "Owner confirmed a draw; reclassed to equity.",
    ),
    (
        "AP aging lists a ${amount} bill from {vendor} that isn't in the books",
        "Client approved the {vendor} bill; entered and AP ties.",
    ),
    (
        "Sales tax payable off by ${amount} against the {month} return",
        "Client sent the filed {month} return; accrual corrected.",
    ),
)

VENDORS = (
    "Harbor Office Supply", "Summit Janitorial", "Copperline Telecom", "Blue Ridge Insurance",
    "Northgate Properties", "Pinecrest Logistics", "Granite IT Services", "Beacon Staffing",
)

# Job titles by (role, track); the track decides a person's skills.
TITLES = {
    ("partner", "audit"): "Audit Partner",
    ("partner", "tax"): "Tax Partner",
    ("manager", "audit"): "Audit Manager",
    ("manager", "tax"): "Tax Manager",
    ("manager", "advisory"): "Client Accounting Manager",
    ("senior", "audit"): "Audit Senior",
    ("senior", "tax"): "Senior Tax Accountant",
    ("senior", "bookkeeping"): "Senior Accountant",
    ("staff", "tax"): "Tax Associate",
    ("staff", "bookkeeping"): "Bookkeeping Associate",
    ("staff", "payroll"): "Staff Accountant",
}

# fmt: on
