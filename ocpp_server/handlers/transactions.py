"""Transactions: StartTransaction, StopTransaction and MeterValues."""
from __future__ import annotations

from core.clock import utcnow
from ocpp_server.handlers.registry import handles
from services.ocpp import transactions as tx_svc
from services.ocpp.common import parse_ts
from services.ocpp.meter import parse_meter_values


@handles("StartTransaction")
async def start_transaction(conn, payload: dict) -> dict:
    result = await conn.db(tx_svc.start_transaction, charger_id=conn.charger.id,
                           connector_id=payload["connectorId"], id_tag=payload["idTag"],
                           meter_start=payload["meterStart"], timestamp=parse_ts(payload["timestamp"]),
                           reservation_id=payload.get("reservationId"), now=utcnow())
    return {"transactionId": result.transaction_id, "idTagInfo": result.id_tag_info}


@handles("StopTransaction")
async def stop_transaction(conn, payload: dict) -> dict:
    now = utcnow()
    timestamp = parse_ts(payload["timestamp"])
    result = await conn.db(tx_svc.stop_transaction, charger_id=conn.charger.id,
                           transaction_id=payload["transactionId"], meter_stop=payload["meterStop"],
                           timestamp=timestamp, reason=payload.get("reason"), id_tag=payload.get("idTag"),
                           transaction_data=payload.get("transactionData"), now=now)
    return {"idTagInfo": result.id_tag_info} if result.id_tag_info else {}


@handles("MeterValues")
async def meter_values(conn, payload: dict) -> dict:
    # Parsed (and rejected when malformed), then committed with the other chargers' samples of the moment;
    # the answer goes out only once they are durable (a lost database answers InternalError: the charger retries).
    rows = parse_meter_values(charger_id=conn.charger.id, connector_id=payload["connectorId"],
                              transaction_id=payload.get("transactionId"), meter_value=payload["meterValue"],
                              now=utcnow())
    await conn.server.meters.submit(rows)
    return {}
