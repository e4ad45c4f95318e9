"""The body schemas of the ledger's kinds (specs/accountability.md section
6): budget lines, allocations, expenditures, income, external grants,
declared surplus and payments to the solidarity treasury. The state they
make is protocol/ledger.py's.

Amounts are integers in the *minor units* of a named currency (centimos of
a sol: PEN 1250 is S/ 12.50), so sums are exact and every implementation
adds them the same way.
"""

from __future__ import annotations

from protocol.schema import MAX_AMOUNT, BodySchema, byte_string, currency, integer, lang_tag, text

_amount = integer(1, MAX_AMOUNT)
_id = byte_string(32, 32)
_document = byte_string(32, 32)  # SHA-256 of the invoice, contract, statement

BUDGET_SCHEMA = BodySchema(
    required={"line": text(1, 100), "currency": currency},
    optional={"lang": lang_tag, "note": text(1, 1000), "split_threshold": _amount},
)
ALLOCATE_SCHEMA = BodySchema(
    required={"line": _id, "amount": _amount, "ballot": _id, "option": integer(0, 15)}
)
SPEND_SCHEMA = BodySchema(
    required={
        "line": _id,
        "payee": text(1, 200),
        "amount": _amount,
        "purpose": text(1, 500),
        "currency": currency,
        "document": _document,
    },
    optional={"lang": lang_tag, "payee_key": byte_string(32, 32)},
)
INCOME_SCHEMA = BodySchema(
    required={
        "amount": _amount,
        "source": text(1, 200),
        "currency": currency,
        "document": _document,
    },
    optional={"lang": lang_tag},
)
GRANT_SCHEMA = BodySchema(
    required={
        "line": _id,
        "amount": _amount,
        "grantor": text(1, 200),
        "currency": currency,
        "document": _document,
    },
    optional={"lang": lang_tag},
)
SURPLUS_SCHEMA = BodySchema(
    required={
        "amount": _amount,
        "period": text(1, 50),
        "currency": currency,
        "document": _document,
    },
)
TREASURY_SCHEMA = BodySchema(
    required={"amount": _amount, "currency": currency, "document": _document},
)
