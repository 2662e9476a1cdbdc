"""The holding's two companies as the source systems know them."""

from ..records import AP, CRM, HR, POS, USAGE, CompanyProfile

SOFTCO = CompanyProfile(
    code="SOFTCO",
    name="Northwind Software Inc.",
    currency="USD",
    kind="software",
    systems=(CRM, USAGE, HR, AP),
)
HOTELCO = CompanyProfile(
    code="HOTELCO",
    name="Lindenhof Hotels GmbH",
    currency="EUR",
    kind="hotel",
    systems=(POS, CRM, HR, AP),
)
COMPANIES = (SOFTCO, HOTELCO)
