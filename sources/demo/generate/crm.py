"""The CRM's reference data: the product catalogue, customers, opportunities and projects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from ..records import DEMO_YEAR, Customer, Opportunity, Product, Project
from .companies import HOTELCO, SOFTCO
from .draws import seeded, weighted
from .names import company_name
from .volume import Volume
from .year import YEAR_START

USAGE_PRODUCT = "USAGE-GB"
SERVICES_PRODUCT = "SVC-IMPL"
USAGE_PRICE = Decimal("0.085")
PLANS = (
    ("PLAN-ENTERPRISE", "Enterprise plan", Decimal("99.00")),
    ("PLAN-STARTER", "Starter plan", Decimal("29.00")),
    ("PLAN-TEAM", "Team plan", Decimal("59.00")),
)
SEGMENTS = (("SMB", 55), ("MIDMARKET", 30), ("ENTERPRISE", 15))
SEATS = {"SMB": (3, 25), "MIDMARKET": (20, 120), "ENTERPRISE": (100, 600)}
PLAN_OF = {"SMB": "PLAN-STARTER", "MIDMARKET": "PLAN-TEAM", "ENTERPRISE": "PLAN-ENTERPRISE"}


def products() -> tuple[Product, ...]:
    usd = SOFTCO.currency
    plans = tuple(
        Product(code, SOFTCO.code, name, "subscription", "seat-month", price, usd)
        for code, name, price in PLANS
    )
    return plans + (
        Product(
            SERVICES_PRODUCT,
            SOFTCO.code,
            "Implementation services",
            "services",
            "project",
            None,
            usd,
        ),
        Product(USAGE_PRODUCT, SOFTCO.code, "Metered storage", "usage", "GB", USAGE_PRICE, usd),
    )


def customers(seed: int, volume: Volume) -> tuple[Customer, ...]:
    found = []
    for i in range(volume.customers):
        rng = seeded(seed, "customer", i)
        segment = weighted(rng, SEGMENTS)
        seats = rng.randint(*SEATS[segment])
        if i % 5 == 4:  # one in five is won during the demo year
            since = dt.date(DEMO_YEAR, 1, 12) + dt.timedelta(days=rng.randint(0, 320))
        else:
            since = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 2500))
        found.append(
            Customer(
                id=f"CUST-{i + 1:04d}",
                company=SOFTCO.code,
                name=f"{company_name(rng)} {rng.choice(('Inc.', 'LLC', 'Corp.', 'Ltd.'))}",
                segment=segment,
                country=rng.choice(("US", "US", "US", "CA", "GB", "DE")),
                since=since,
                plan_id=PLAN_OF[segment],
                seats=seats,
                metered=i == 0 or rng.randrange(100) < 60,
                payment_terms_days=45 if segment == "ENTERPRISE" else 30,
            )
        )
    for j in range(volume.corporate_accounts):
        rng = seeded(seed, "corporate-account", j)
        found.append(
            Customer(
                id=f"CUST-{volume.customers + j + 1:04d}",
                company=HOTELCO.code,
                name=f"{company_name(rng)} {rng.choice(('GmbH', 'AG', 'SE', 'B.V.'))}",
                segment="CORPORATE",
                country=rng.choice(("DE", "DE", "AT", "NL", "FR")),
                since=dt.date(2018, 1, 1) + dt.timedelta(days=rng.randint(0, 2400)),
                plan_id=None,
                seats=0,
                metered=False,
                payment_terms_days=30,
            )
        )
    return tuple(found)


def opportunities(
    seed: int, volume: Volume, customers: Sequence[Customer]
) -> tuple[tuple[Opportunity, ...], tuple[Project, ...]]:
    software = [c for c in customers if c.company == SOFTCO.code]
    plans = {p.id: p for p in products()}
    drafts = []  # (created_on, customer_id, kind, fields)
    for c in software:
        if c.since >= YEAR_START:
            rng = seeded(seed, "new-business", c.id)
            annual = int(plans[c.plan_id].unit_price * 100) * c.seats * 12
            drafts.append(
                (
                    c.since - dt.timedelta(days=rng.randint(20, 90)),
                    c.id,
                    "new_business",
                    dict(
                        stage="won",
                        amount_minor=annual,
                        close_date=c.since,
                        name=f"{c.name}: {plans[c.plan_id].name}",
                    ),
                )
            )
    for j in range(volume.services_opportunities):
        rng = seeded(seed, "services", j)
        created = dt.date(DEMO_YEAR, 1, 5) + dt.timedelta(days=rng.randint(0, 300))
        eligible = [c for c in software if c.since <= created] or software[:1]
        customer = rng.choice(eligible)
        created = max(created, customer.since)
        close = min(created + dt.timedelta(days=rng.randint(14, 60)), dt.date(DEMO_YEAR, 12, 15))
        roll = rng.randrange(100)
        stage = "won" if j == 0 or roll < 60 else ("lost" if roll < 85 else "open")
        drafts.append(
            (
                created,
                customer.id,
                "services",
                dict(
                    stage=stage,
                    amount_minor=rng.randint(10, 160) * 50_000,
                    close_date=close,
                    name=f"{customer.name}: implementation",
                ),
            )
        )
    drafts.sort(key=lambda d: (d[0], d[1], d[2]))
    opportunities, projects = [], []
    for n, (created, customer_id, kind, fields) in enumerate(drafts, start=1):
        project_id = None
        if kind == "services" and fields["stage"] == "won":
            project_id = f"PRJ-{len(projects) + 1:04d}"
            projects.append(
                Project(
                    project_id,
                    SOFTCO.code,
                    f"Implementation: {fields['name'].split(':')[0]}",
                    customer_id=customer_id,
                )
            )
        opportunities.append(
            Opportunity(
                id=f"OPP-{n:06d}",
                company=SOFTCO.code,
                customer_id=customer_id,
                kind=kind,
                currency=SOFTCO.currency,
                created_on=created,
                project_id=project_id,
                **fields,
            )
        )
    return tuple(opportunities), tuple(projects)
