"""The demo companies' charts of accounts, journals and classes, and what posts where."""

from ledger.model import AccountType as AT
from ledger.model import Aggregation, DimensionKind
from ledger.reference import AccountSpec

DEPARTMENT = DimensionKind.DEPARTMENT.value
LOCATION = DimensionKind.LOCATION.value
PROJECT = DimensionKind.PROJECT.value
CUSTOMER = DimensionKind.CUSTOMER.value
VENDOR = DimensionKind.VENDOR.value
EMPLOYEE = DimensionKind.EMPLOYEE.value
ITEM = DimensionKind.ITEM.value
CLASS = DimensionKind.CLASS.value

STOCK = Aggregation.STOCK

JOURNALS = (
    ("GJ", "General journal"),
    ("SALES", "Sales journal"),
    ("AR", "Cash receipts"),
    ("AP", "Accounts payable"),
    ("PAYROLL", "Payroll"),
    ("POS", "Point of sale"),
    ("STAT", "Statistical journal"),
)

# -------------------------------------------------------------------- charts of accounts

SOFTWARE_CHART = (
    AccountSpec("1000", "Cash - operating", AT.ASSET),
    AccountSpec("1010", "Cash - payroll", AT.ASSET),
    AccountSpec("1100", "Accounts receivable", AT.ASSET),
    AccountSpec("1150", "Allowance for doubtful accounts", AT.ASSET),
    AccountSpec("1200", "Prepaid expenses", AT.ASSET),
    AccountSpec("1500", "Computer equipment", AT.ASSET),
    AccountSpec("1510", "Accumulated depreciation - equipment", AT.ASSET),
    AccountSpec("1600", "Capitalized software", AT.ASSET),
    AccountSpec("1610", "Accumulated amortization - software", AT.ASSET),
    AccountSpec("2000", "Accounts payable", AT.LIABILITY),
    AccountSpec("2100", "Accrued liabilities", AT.LIABILITY),
    AccountSpec("2200", "Payroll taxes payable", AT.LIABILITY),
    AccountSpec("2210", "Employee withholdings payable", AT.LIABILITY),
    AccountSpec("2300", "Sales tax payable", AT.LIABILITY),
    AccountSpec("2400", "Deferred revenue", AT.LIABILITY),
    AccountSpec("3000", "Common stock", AT.EQUITY),
    AccountSpec("3100", "Additional paid-in capital", AT.EQUITY),
    AccountSpec("3900", "Retained earnings", AT.EQUITY),
    AccountSpec("4000", "Subscription revenue", AT.REVENUE),
    AccountSpec("4100", "Usage revenue", AT.REVENUE),
    AccountSpec("4200", "Professional services revenue", AT.REVENUE),
    AccountSpec("4900", "Interest income", AT.REVENUE),
    AccountSpec("5000", "Hosting costs", AT.EXPENSE),
    AccountSpec("5100", "Third-party licences", AT.EXPENSE),
    AccountSpec("6000", "Salaries and wages", AT.EXPENSE),
    AccountSpec("6010", "Payroll taxes", AT.EXPENSE),
    AccountSpec("6020", "Employee benefits", AT.EXPENSE),
    AccountSpec("6100", "Rent", AT.EXPENSE),
    AccountSpec("6200", "Software subscriptions", AT.EXPENSE),
    AccountSpec("6300", "Travel and entertainment", AT.EXPENSE),
    AccountSpec("6400", "Marketing", AT.EXPENSE),
    AccountSpec("6500", "Legal and professional fees", AT.EXPENSE),
    AccountSpec("6600", "Office and supplies", AT.EXPENSE),
    AccountSpec("6700", "Depreciation and amortization", AT.EXPENSE),
    AccountSpec("6800", "Telecommunications", AT.EXPENSE),
    AccountSpec("9000", "Headcount", AT.STATISTICAL, unit="people", aggregation=STOCK),
    AccountSpec("9100", "Storage used", AT.STATISTICAL, unit="GB", quantity_scale=3),
)
HOTEL_CHART = (
    AccountSpec("1000", "Cash on hand", AT.ASSET),
    AccountSpec("1010", "Bank - operating", AT.ASSET),
    AccountSpec("1050", "Card clearing", AT.ASSET),
    AccountSpec("1100", "Accounts receivable - city ledger", AT.ASSET),
    AccountSpec("1200", "Food and beverage inventory", AT.ASSET),
    AccountSpec("1300", "Prepaid expenses", AT.ASSET),
    AccountSpec("1500", "Land and buildings", AT.ASSET),
    AccountSpec("1510", "Accumulated depreciation - buildings", AT.ASSET),
    AccountSpec("1520", "Furniture, fixtures and equipment", AT.ASSET),
    AccountSpec("1530", "Accumulated depreciation - FF&E", AT.ASSET),
    AccountSpec("2000", "Accounts payable", AT.LIABILITY),
    AccountSpec("2100", "Accrued liabilities", AT.LIABILITY),
    AccountSpec("2200", "Payroll taxes payable", AT.LIABILITY),
    AccountSpec("2210", "Employee withholdings payable", AT.LIABILITY),
    AccountSpec("2300", "VAT payable", AT.LIABILITY),
    AccountSpec("2400", "Guest deposits", AT.LIABILITY),
    AccountSpec("2500", "Bank loan", AT.LIABILITY),
    AccountSpec("3000", "Share capital", AT.EQUITY),
    AccountSpec("3900", "Retained earnings", AT.EQUITY),
    AccountSpec("4000", "Room revenue", AT.REVENUE),
    AccountSpec("4100", "Food revenue", AT.REVENUE),
    AccountSpec("4200", "Beverage revenue", AT.REVENUE),
    AccountSpec("4300", "Other operating revenue", AT.REVENUE),
    AccountSpec("5000", "Cost of food", AT.EXPENSE),
    AccountSpec("5100", "Cost of beverages", AT.EXPENSE),
    AccountSpec("6000", "Salaries and wages", AT.EXPENSE),
    AccountSpec("6010", "Payroll taxes", AT.EXPENSE),
    AccountSpec("6100", "Utilities", AT.EXPENSE),
    AccountSpec("6200", "Repairs and maintenance", AT.EXPENSE),
    AccountSpec("6300", "Laundry and linen", AT.EXPENSE),
    AccountSpec("6400", "Sales and OTA commissions", AT.EXPENSE),
    AccountSpec("6500", "Insurance", AT.EXPENSE),
    AccountSpec("6600", "Depreciation", AT.EXPENSE),
    AccountSpec("6700", "Interest expense", AT.EXPENSE),
    AccountSpec("9000", "Headcount", AT.STATISTICAL, unit="people", aggregation=STOCK),
    AccountSpec("9100", "Room-nights sold", AT.STATISTICAL, unit="rooms", quantity_scale=0),
    AccountSpec("9110", "Room-nights available", AT.STATISTICAL, unit="rooms", quantity_scale=0),
)

# Bill-line spend category → expense (or asset) account, per company kind.
SPEND_ACCOUNTS = {
    "software": {
        "HOSTING": "5000",
        "RENT": "6100",
        "SOFTWARE": "6200",
        "TELECOM": "6800",
        "TRAVEL": "6300",
        "MARKETING": "6400",
        "LEGAL": "6500",
        "OFFICE": "6600",
    },
    "hotel": {
        "FOOD_SUPPLIES": "5000",
        "BEVERAGE_SUPPLIES": "5100",
        "UTILITIES": "6100",
        "MAINTENANCE": "6200",
        "LAUNDRY": "6300",
        "MARKETING": "6400",
        "INSURANCE": "6500",
        "CAPEX": "1520",
    },
}
SALES_ACCOUNTS = {"subscription": "4000", "usage": "4100", "services": "4200"}
SALES_DEPARTMENTS = {"subscription": "SALES", "usage": "SALES", "services": "SUPPORT"}
POS_ACCOUNTS = {"room": "4000", "food": "4100", "beverage": "4200"}
POS_DEPARTMENTS = {"room": "ROOMS", "food": "FNB", "beverage": "FNB"}
POS_CLASSES = {"room": "LODGING", "food": "FNB", "beverage": "FNB"}
PAYMENT_ACCOUNTS = {"card": "1050", "cash": "1000"}
CLASSES = {
    "software": (
        ("SMB", "Small business"),
        ("MIDMARKET", "Mid-market"),
        ("ENTERPRISE", "Enterprise"),
    ),
    "hotel": (("LODGING", "Lodging"), ("FNB", "Food and beverage")),
}
