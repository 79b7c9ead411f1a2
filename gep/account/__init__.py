"""GEP accounts: equivalent-factor ESV, function-value GEP, SEEA EA tables, roll-up (see docs/account.md)."""

from gep.account.equivalent import (
    SERVICES_COLUMNS,
    equivalent_factor_services,
    standard_value_net_profit,
    standard_value_one_seventh,
)
from gep.account.function_value import function_value_services
from gep.account.identities import AccountIdentityError
from gep.account.tables import (
    change_decomposition,
    extent_account,
    gep_totals,
    rollup_services,
    seea_supply_tables,
    to_constant_prices,
)

__all__ = [
    "SERVICES_COLUMNS",
    "AccountIdentityError",
    "change_decomposition",
    "equivalent_factor_services",
    "extent_account",
    "function_value_services",
    "gep_totals",
    "rollup_services",
    "seea_supply_tables",
    "standard_value_net_profit",
    "standard_value_one_seventh",
    "to_constant_prices",
]

# ``gep.account(...)`` is the Python API (gep.api.account); this package stays importable as before.
from gep._entry import make_callable  # noqa: E402

make_callable(__name__)
