import pytest

from ledger.model import AccountType
from ledger.reference import AccountSpec, add_accounts


@pytest.mark.parametrize("spec", [
    AccountSpec("9000", "Headcount", AccountType.STATISTICAL),
    AccountSpec("1000", "Cash", AccountType.ASSET, unit="USD"),
    AccountSpec("1000", "Cash", AccountType.ASSET, quantity_scale=2),
    AccountSpec("9000", "GB", AccountType.STATISTICAL, unit="GB", quantity_scale=9),
])
async def test_inconsistent_account_specs_are_refused(world, spec):
    async with world.db.session(world.acme) as session:
        with pytest.raises(ValueError):
            await add_accounts(session, [spec])
