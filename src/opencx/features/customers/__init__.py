"""Customers, their identities, resolution of an identity to a customer, and merges.

Modules: ``schemas`` (API shapes), ``access`` (who sees which customer), ``service``
(profiles), ``identities`` (normalisation and identity rows), ``resolution`` (find or
create by identity, race-safe), ``merge`` (folding one customer into another),
``overview`` with ``overview_schemas`` (the 360 view).
"""

from opencx.features.customers.identities import (
    add_identity,
    confirm_identity,
    normalise_identity,
    normalise_phone,
    remove_identity,
)
from opencx.features.customers.merge import list_merges, merge_customers
from opencx.features.customers.overview import customer_overview
from opencx.features.customers.overview_schemas import CustomerOverview
from opencx.features.customers.resolution import resolve_customer, resolve_customer_for
from opencx.features.customers.schemas import (
    CustomerCreate,
    CustomerDetail,
    CustomerOut,
    CustomerUpdate,
    IdentityIn,
    IdentityOut,
    MergeIn,
    MergeOut,
    ResolveIn,
)
from opencx.features.customers.service import (
    create_customer,
    get_customer,
    list_customers,
    update_customer,
)

__all__ = [
    "CustomerCreate",
    "CustomerDetail",
    "CustomerOut",
    "CustomerOverview",
    "CustomerUpdate",
    "IdentityIn",
    "IdentityOut",
    "MergeIn",
    "MergeOut",
    "ResolveIn",
    "add_identity",
    "confirm_identity",
    "create_customer",
    "customer_overview",
    "get_customer",
    "list_customers",
    "list_merges",
    "merge_customers",
    "normalise_identity",
    "normalise_phone",
    "remove_identity",
    "resolve_customer",
    "resolve_customer_for",
    "update_customer",
]
