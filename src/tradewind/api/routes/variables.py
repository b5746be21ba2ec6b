"""``/variables``: key/value settings tasks read, encrypted at rest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from tradewind.api.deps import DbDep, PageDep, requires
from tradewind.api.model_response import model_response
from tradewind.api.ordering import column_order
from tradewind.api.schemas.variable import COLUMNS, Variable, VariableBody, VariableCollection
from tradewind.api.update_mask import update_mask_param
from tradewind.errors import InvalidInput
from tradewind.security.permissions import CREATE, DELETE, EDIT, READ, VARIABLE
from tradewind.storage.repositories import variables

router = APIRouter(tags=["Variable"])


@router.get(
    "/variables",
    name="get_variables",
    dependencies=[requires(READ, VARIABLE)],
    response_model=VariableCollection,
)
def get_variables(db: DbDep, page: PageDep) -> Response:
    with db.read() as session:
        found = variables.list_variables(
            session,
            limit=page.limit,
            offset=page.offset,
            # Airflow's default order is by id: the order variables were created in.
            order_by=column_order(page.order_by, COLUMNS) or "id",
        )
        return model_response(VariableCollection.from_page(found))


@router.post("/variables", name="post_variables", dependencies=[requires(CREATE, VARIABLE)])
def post_variables(body: VariableBody, db: DbDep) -> Variable:
    """Create the variable, or overwrite its value: Airflow 2.10's ``Variable.set``."""
    body.require("key", "value")
    key, value = str(body.key), str(body.value)
    with db.write(variable_key=key) as session:
        row = variables.set_variable(session, key, value, description=body.description)
        return Variable.from_row(row)


@router.get(
    "/variables/{variable_key:path}",
    name="get_variable",
    dependencies=[requires(READ, VARIABLE)],
)
def get_variable(variable_key: str, db: DbDep) -> Variable:
    with db.read() as session:
        return Variable.from_row(variables.require_variable(session, variable_key))


@router.patch(
    "/variables/{variable_key:path}",
    name="patch_variable",
    dependencies=[requires(EDIT, VARIABLE)],
)
def patch_variable(
    variable_key: str,
    body: VariableBody,
    db: DbDep,
    update_mask: Annotated[list[str] | None, Depends(update_mask_param)],
) -> Variable:
    body.require("key")
    if body.key != variable_key:
        raise InvalidInput("key from request body doesn't match uri parameter")
    changes = body.changes(update_mask)
    with db.write(variable_key=variable_key, changes=sorted(changes)) as session:
        return Variable.from_row(variables.update_variable(session, variable_key, changes))


@router.delete(
    "/variables/{variable_key:path}",
    name="delete_variable",
    status_code=204,
    dependencies=[requires(DELETE, VARIABLE)],
)
def delete_variable(variable_key: str, db: DbDep) -> Response:
    with db.write(variable_key=variable_key) as session:
        variables.delete_variable(session, variable_key)
    return Response(status_code=204)
