"""Orders, unique by ``client_order_id`` so a retried submission can never double-trade."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quantdesk.domain.errors import InvalidInputError, StorageError
from quantdesk.domain.trading import Order, OrderType, Side, TimeInForce
from quantdesk.store.errors import DuplicateRecordError, MissingReferenceError
from quantdesk.store.integrity_errors import Violation, classify_integrity_error
from quantdesk.store.records import StoredOrder
from quantdesk.store.tables import ORDER_STATUSES, OrderRow
from quantdesk.store.time_window import check_limit, within_window


def check_status(status: str) -> str:
    if status not in ORDER_STATUSES:
        raise InvalidInputError(f"order status {status!r} is not one of {ORDER_STATUSES}")
    return status


def insert_order(session: Session, order: Order, status: str) -> StoredOrder:
    """Insert one order; a taken ``client_order_id`` raises and writes nothing."""
    if not isinstance(order, Order):
        raise InvalidInputError("add_order expects a quantdesk.domain.Order")
    session.add(_to_row(order, check_status(status)))
    try:
        session.flush()
    except IntegrityError as exc:
        violation = classify_integrity_error(exc)
        if violation is Violation.UNIQUE:
            raise DuplicateRecordError(
                f"client_order_id {order.client_order_id!r} is already used; nothing was written"
            ) from exc
        if violation is Violation.FOREIGN_KEY:
            raise MissingReferenceError(
                f"order {order.client_order_id!r} refers to decision {order.decision_id!r}, "
                "which is not recorded"
            ) from exc
        raise StorageError(f"order refused by the database: {exc.orig}") from exc
    return StoredOrder(order=order, status=status)


def select_orders(
    session: Session,
    *,
    symbol: str | None,
    status: str | None,
    decision_id: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[StoredOrder]:
    query = within_window(select(OrderRow), OrderRow.created_at, start, end)
    if symbol is not None:
        query = query.where(OrderRow.symbol == symbol)
    if status is not None:
        query = query.where(OrderRow.status == check_status(status))
    if decision_id is not None:
        query = query.where(OrderRow.decision_id == decision_id)
    query = query.order_by(OrderRow.created_at, OrderRow.id).limit(check_limit(limit))
    return [_to_stored_order(row) for row in session.scalars(query)]


def _to_row(order: Order, status: str) -> OrderRow:
    return OrderRow(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side.value,
        quantity=order.quantity,
        order_type=order.order_type.value,
        limit_price=order.limit_price,
        time_in_force=order.time_in_force.value,
        decision_id=order.decision_id,
        status=status,
        created_at=order.created_at,
    )


def _to_stored_order(row: OrderRow) -> StoredOrder:
    order = Order(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        created_at=row.created_at,
        order_type=OrderType(row.order_type),
        limit_price=row.limit_price,
        time_in_force=TimeInForce(row.time_in_force),
        decision_id=row.decision_id,
    )
    return StoredOrder(order=order, status=row.status)
