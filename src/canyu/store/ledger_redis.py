"""The ledger at scale: Redis, one Lua script per decision, orders enqueued on a stream.

``RESERVE`` is the whole purchase decision in one atomic script: idempotency replay, start time,
queue admission, the buyer's limit, the stock check and decrement, and ``XADD`` of the order to
``<prefix>events``. ``canyu store worker`` reads that stream in a consumer group and acknowledges
an event only after the order is committed to the database (insert-or-ignore by order number),
so a ``kill -9`` of a server or a worker at any moment loses and duplicates nothing.

Per sale ``S`` (``P`` = the key prefix): ``P{S}:ledger`` (terms and counters), ``P{S}:held``
(units per buyer), ``P{S}:pos`` (queue positions), ``P{S}:pre`` (pre-queue entrants),
``P{S}:idem`` (idempotency keys), ``P{S}:fcodes`` (used F-codes), ``P{S}:released`` (order
numbers whose units came back; makes release idempotent).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis
import redis.asyncio as aioredis
from sqlalchemy.orm import Session

from canyu.errors import NotFound
from canyu.store import lottery
from canyu.store.ledger import (
    LedgerUnavailable,
    PurchaseRequest,
    Released,
    Reservation,
    SaleTerms,
    Snapshot,
    Spot,
    epoch_ms,
    refusal,
    replay_or_mismatch,
)
from canyu.store.models import Sale, SaleDraw

OPEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# KEYS: ledger, pos, pre.  ARGV: buyer, now_ms.
JOIN = """
local f = redis.call('HMGET', KEYS[1], 'opens_ms', 'starts_ms', 'pre_closed')
if not f[1] then return {'unknown'} end
local now = tonumber(ARGV[2])
if now < tonumber(f[1]) then return {'queue_not_open'} end
local pos = redis.call('HGET', KEYS[2], ARGV[1])
if pos then return {'queued', pos} end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return {'in_draw'} end
if now < tonumber(f[2]) and f[3] ~= '1' then
  redis.call('SADD', KEYS[3], ARGV[1])
  return {'in_draw'}
end
-- From the first arrival after the start the pre-queue is closed for good: positions of later
-- arrivals count on its size.
redis.call('HSET', KEYS[1], 'pre_closed', '1')
local seq = redis.call('HINCRBY', KEYS[1], 'queue_length', 1)
pos = redis.call('SCARD', KEYS[3]) + seq
redis.call('HSET', KEYS[2], ARGV[1], pos)
return {'queued', tostring(pos)}
"""

# KEYS: ledger, held, pos, pre, idem, fcodes, events.
# ARGV: buyer, quantity, idempotency key, request hash, now_ms, order number, fcode id or '',
#       referrer id or '', sale id.
RESERVE = """
local buyer, qty, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[5])
local idem = buyer .. ':' .. ARGV[3]
local prior = redis.call('HGET', KEYS[5], idem)
if prior then return {'replay', prior} end
local f = redis.call('HMGET', KEYS[1], 'starts_ms', 'limit', 'hold_ms', 'public_stock',
  'public_left', 'fcode_stock', 'fcode_left', 'released', 'drawn', 'price', 'currency')
if not f[1] then return {'unknown'} end
local starts, hold = tonumber(f[1]), tonumber(f[3])
if now < starts then return {'not_started'} end
local channel, left_field, left = 'queue', 'public_left', tonumber(f[5])
if ARGV[7] == '' then
  local pos = redis.call('HGET', KEYS[3], buyer)
  if not pos then
    if f[9] ~= '1' and redis.call('SISMEMBER', KEYS[4], buyer) == 1 then
      return {'draw_pending'}
    end
    return {'not_in_queue'}
  end
  local admitted = tonumber(f[4]) * (1 + math.floor((now - starts) / hold)) + tonumber(f[8])
  if tonumber(pos) > admitted then
    if left <= 0 then return {'sold_out', pos} end
    return {'not_your_turn', pos, tostring(admitted)}
  end
else
  if redis.call('HEXISTS', KEYS[6], ARGV[7]) == 1 then return {'fcode_used'} end
  channel, left_field, left = 'fcode', 'fcode_left', tonumber(f[7])
end
local held = tonumber(redis.call('HGET', KEYS[2], buyer) or '0')
if held + qty > tonumber(f[2]) then return {'over_limit', tostring(held)} end
if left < qty then return {'sold_out'} end
redis.call('HINCRBY', KEYS[1], left_field, -qty)
redis.call('HINCRBY', KEYS[2], buyer, qty)
if channel == 'fcode' then redis.call('HSET', KEYS[6], ARGV[7], ARGV[6]) end
local sold_out, sold_units = '', ''
if channel == 'queue' and left == qty
    and redis.call('HSETNX', KEYS[1], 'sold_out_ms', ARGV[5]) == 1 then
  sold_out = ARGV[5]
  sold_units = tostring(tonumber(f[4]) + tonumber(f[6]) - tonumber(f[7]))
  redis.call('HSET', KEYS[1], 'sold_out_units', sold_units)
end
local expires = tostring(now + hold)
local record = ARGV[6] .. '|' .. qty .. '|' .. channel .. '|' .. expires
redis.call('HSET', KEYS[5], idem, ARGV[4] .. '|' .. record)
-- One field, its values in the order of EVENT_FIELDS: the cheapest event to add and to read.
redis.call('XADD', KEYS[7], '*', 'reserved', table.concat({ARGV[9], ARGV[6], buyer, qty,
  ARGV[7], ARGV[3], ARGV[4], ARGV[5], expires, ARGV[8], f[10], f[11], sold_out, sold_units}, '|'))
return {'ok', ARGV[4] .. '|' .. record}
"""

# KEYS: ledger, held, fcodes, released.  ARGV: number, buyer, quantity, channel, fcode id.
RELEASE = """
if redis.call('SADD', KEYS[4], ARGV[1]) == 0 then return 0 end
local qty = tonumber(ARGV[3])
if redis.call('HINCRBY', KEYS[2], ARGV[2], -qty) <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
if ARGV[4] == 'fcode' then
  redis.call('HINCRBY', KEYS[1], 'fcode_left', qty)
  if redis.call('HGET', KEYS[3], ARGV[5]) == ARGV[1] then redis.call('HDEL', KEYS[3], ARGV[5]) end
else
  redis.call('HINCRBY', KEYS[1], 'public_left', qty)
  redis.call('HINCRBY', KEYS[1], 'released', qty)
end
return 1
"""

EVENT_FIELDS = (
    "sale",
    "number",
    "buyer",
    "qty",
    "fcode",
    "key",
    "hash",
    "at",
    "expires",
    "referrer",
    "price",
    "currency",
    "sold_out",
    "sold_units",
)
POSITIONS_CHUNK = 10_000
ScriptArg = str | int
DRAW_LOCK_MS = 120_000


@dataclass(frozen=True)
class SaleKeys:
    ledger: str
    held: str
    pos: str
    pre: str
    idem: str
    fcodes: str
    released: str
    draw_lock: str

    @classmethod
    def of(cls, prefix: str, sale_id: int) -> SaleKeys:
        base = f"{prefix}{{{sale_id}}}:"
        return cls(*(base + name for name in cls.__dataclass_fields__))


def _ms_to_datetime(ms: str | int) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


def _terms_fields(terms: SaleTerms) -> list[str]:
    fields: dict[str, object] = {
        "opens_ms": epoch_ms(terms.queue_opens_at),
        "starts_ms": epoch_ms(terms.starts_at),
        "limit": terms.buyer_limit,
        "hold_ms": terms.hold_seconds * 1000,
        "public_stock": terms.public_stock,
        "public_left": terms.public_stock,
        "fcode_stock": terms.fcode_stock,
        "fcode_left": terms.fcode_stock,
        "released": 0,
        "queue_length": 0,
        "drawn": 0,
        "price": str(terms.unit_price),
        "currency": terms.currency,
    }
    return [str(item) for pair in fields.items() for item in pair]


class RedisLedger:
    """Redis ledger for one Redis URL; sync calls for services, ``areserve`` for the hot path."""

    def __init__(self, url: str, *, prefix: str = "canyu:store:") -> None:
        self.url = url
        self.prefix = prefix
        self.events = f"{prefix}events"
        self.client: redis.Redis = redis.Redis.from_url(url, decode_responses=True)
        self._open = self.client.register_script(OPEN)
        self._join = self.client.register_script(JOIN)
        self._reserve = self.client.register_script(RESERVE)
        self._release = self.client.register_script(RELEASE)
        self._batcher: ScriptBatcher | None = None
        self._keys: dict[int, SaleKeys] = {}

    def keys(self, sale_id: int) -> SaleKeys:
        keys = self._keys.get(sale_id)
        if keys is None:
            keys = self._keys[sale_id] = SaleKeys.of(self.prefix, sale_id)
        return keys

    # --- setting up -------------------------------------------------------------------------

    def open_sale(self, session: Session, terms: SaleTerms) -> None:
        self.load_terms(terms)

    def load_terms(self, terms: SaleTerms) -> None:
        """Copy a sale's terms and full stock into Redis unless it is there already."""
        self._open(keys=[self.keys(terms.sale_id).ledger], args=_terms_fields(terms))

    def _reopen(self, terms: SaleTerms, *, now: datetime) -> None:
        """Load a sale that is not in Redis yet (made while Redis was not configured).
        Never after its start: a ledger lost mid-sale must not be rebuilt with full stock."""
        if now >= terms.starts_at:
            raise LedgerUnavailable(
                "This sale's stock ledger is not in Redis; the team has to restore it."
            )
        self.load_terms(terms)

    def forget(self, sale_id: int) -> None:
        """Delete a sale's keys (benchmarks and simulations clean up after themselves)."""
        self.client.delete(
            *(getattr(self.keys(sale_id), name) for name in SaleKeys.__dataclass_fields__)
        )

    # --- the queue --------------------------------------------------------------------------

    def join(self, session: Session, terms: SaleTerms, *, buyer_id: int, now: datetime) -> Spot:
        k = self.keys(terms.sale_id)
        for _attempt in range(2):
            reply = self._join(keys=[k.ledger, k.pos, k.pre], args=[buyer_id, epoch_ms(now)])
            if reply[0] != "unknown":
                break
            self._reopen(terms, now=now)
        if reply[0] == "queue_not_open":
            raise refusal("queue_not_open", terms)
        if reply[0] == "in_draw":
            return Spot(joined=True, in_draw=True, position=None)
        return Spot(joined=True, in_draw=False, position=int(reply[1]))

    def join_many(self, terms: SaleTerms, joins: Sequence[tuple[int, datetime]]) -> list[str]:
        """Many (buyer, time) joins in one pipeline (bulk loading, simulations)."""
        k = self.keys(terms.sale_id)
        pipe = self.client.pipeline(transaction=False)
        for buyer_id, at in joins:
            self._join(keys=[k.ledger, k.pos, k.pre], args=[buyer_id, epoch_ms(at)], client=pipe)
        return [reply[0] for reply in pipe.execute()]

    def spot(self, session: Session, terms: SaleTerms, *, buyer_id: int) -> Spot:
        k = self.keys(terms.sale_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.hget(k.pos, str(buyer_id))
        pipe.sismember(k.pre, str(buyer_id))
        position, in_pre = pipe.execute()
        if position is not None:
            return Spot(joined=True, in_draw=bool(in_pre), position=int(position))
        return Spot(joined=bool(in_pre), in_draw=bool(in_pre), position=None)

    def draw(self, session: Session, sale: Sale, *, now: datetime) -> None:
        """Close the pre-queue, shuffle it with the committed seed, publish, then admit.

        Safe to repeat after a crash: the entrants are frozen once closed and the shuffle is
        deterministic, so a second drawer writes the same positions."""
        k = self.keys(sale.id)
        if now < sale.starts_at or self.client.hget(k.ledger, "drawn") == "1":
            return
        if not self.client.exists(k.ledger):
            self._reopen(SaleTerms.of(sale), now=now)
        if not self.client.set(k.draw_lock, "1", nx=True, px=DRAW_LOCK_MS):
            raise refusal("draw_pending", SaleTerms.of(sale))
        try:
            entrants, order = self.place_entrants(sale.id, sale.seed)
            if session.get(SaleDraw, sale.id) is None:
                session.add(
                    SaleDraw(
                        sale_id=sale.id,
                        drawn_at=now,
                        entrants=_json_ints(entrants),
                        drawn_order=_json_ints(order),
                    )
                )
            sale.drawn_at = sale.drawn_at or now
            sale.entrants = len(entrants)
            # Published before anyone is admitted: the record exists for every admission.
            session.commit()
            self.admit(sale.id)
        finally:
            self.client.delete(k.draw_lock)

    def place_entrants(self, sale_id: int, seed: bytes) -> tuple[list[int], list[int]]:
        """Close the pre-queue and give its entrants their drawn positions; returns
        (entrants ascending, drawn order)."""
        k = self.keys(sale_id)
        self.client.hset(k.ledger, "pre_closed", "1")
        entrants = sorted(int(x) for x in cast(set[str], self.client.smembers(k.pre)))
        order = lottery.draw_order(seed, entrants)
        pipe = self.client.pipeline(transaction=False)
        for start in range(0, len(order), POSITIONS_CHUNK):
            chunk = order[start : start + POSITIONS_CHUNK]
            pipe.hset(k.pos, mapping={uid: start + i + 1 for i, uid in enumerate(chunk)})
        pipe.execute()
        return entrants, order

    def admit(self, sale_id: int) -> None:
        """From now on the drawn positions may buy."""
        self.client.hset(self.keys(sale_id).ledger, "drawn", "1")

    # --- reserving --------------------------------------------------------------------------

    def _reserve_call(
        self, terms: SaleTerms, request: PurchaseRequest, now: datetime
    ) -> tuple[list[str], list[ScriptArg]]:
        k = self.keys(terms.sale_id)
        keys = [k.ledger, k.held, k.pos, k.pre, k.idem, k.fcodes, self.events]
        args: list[ScriptArg] = [
            request.buyer_id,
            request.quantity,
            request.idempotency_key,
            request.request_hash,
            epoch_ms(now),
            request.number,
            "" if request.fcode_id is None else request.fcode_id,
            "" if request.referrer_id is None else request.referrer_id,
            terms.sale_id,
        ]
        return keys, args

    def _outcome(self, terms: SaleTerms, request: PurchaseRequest, reply: list[str]) -> Reservation:
        code = reply[0]
        if code in ("ok", "replay"):
            stored_hash, number, quantity, channel, expires = reply[1].split("|")
            reservation = Reservation(
                number=number,
                sale_id=terms.sale_id,
                buyer_id=request.buyer_id,
                quantity=int(quantity),
                channel=channel,
                expires_at=_ms_to_datetime(expires),
                replayed=code == "replay",
            )
            return replay_or_mismatch(request, stored_hash=stored_hash, reservation=reservation)
        if code == "not_your_turn":
            raise refusal(code, terms, position=int(reply[1]), admitted=int(reply[2]))
        if code == "sold_out" and len(reply) > 1:
            raise refusal(code, terms, position=int(reply[1]))
        if code == "over_limit":
            raise refusal(code, terms, held=int(reply[1]))
        raise refusal(code, terms)

    def reserve(
        self, session: Session, terms: SaleTerms, request: PurchaseRequest, *, now: datetime
    ) -> Reservation:
        keys, args = self._reserve_call(terms, request, now)
        reply = self._reserve(keys=keys, args=args)
        if reply[0] == "unknown":
            self._reopen(terms, now=now)
            reply = self._reserve(keys=keys, args=args)
        if reply[0] == "draw_pending":
            sale = session.get(Sale, terms.sale_id)
            if sale is None:
                raise NotFound(f"No sale {terms.sale_id}.")
            self.draw(session, sale, now=now)
            reply = self._reserve(keys=keys, args=args)
        return self._outcome(terms, request, reply)

    async def areserve(
        self, terms: SaleTerms, request: PurchaseRequest, *, now: datetime
    ) -> Reservation:
        """The purchase hot path: one EVALSHA, no database. Refusals the async path cannot
        settle alone (the draw not made yet, the sale not in Redis) raise ``DrawPending`` or
        ``LedgerUnavailable``; the caller then takes the synchronous path."""
        loop = asyncio.get_running_loop()
        if self._batcher is None or self._batcher.loop is not loop:
            self._batcher = ScriptBatcher(aioredis.Redis.from_url(self.url), RESERVE, loop)
        keys, args = self._reserve_call(terms, request, now)
        reply = await self._batcher.call(keys, args)
        if reply[0] == "unknown":
            raise LedgerUnavailable("The sale is not in the Redis ledger yet.")
        return self._outcome(terms, request, reply)

    def reserve_many(
        self, terms: SaleTerms, requests: Sequence[tuple[PurchaseRequest, datetime]]
    ) -> list[str]:
        """Outcome codes of many (request, time) reservations in one pipeline of EVALSHA
        (benchmarks, simulations)."""
        pipe = self.client.pipeline(transaction=False)
        for request, at in requests:
            keys, args = self._reserve_call(terms, request, at)
            self._reserve(keys=keys, args=args, client=pipe)
        return [reply[0] for reply in pipe.execute()]

    # --- giving units back --------------------------------------------------------------------

    def release(self, session: Session, terms: SaleTerms, released: Sequence[Released]) -> None:
        """Units of expired reservations back to the sale, once per order number whatever
        the number of calls: the caller runs it after committing, and again when reconciling."""
        k = self.keys(terms.sale_id)
        pipe = self.client.pipeline(transaction=False)
        for item in released:
            self._release(
                keys=[k.ledger, k.held, k.fcodes, k.released],
                args=[
                    item.number,
                    item.buyer_id,
                    item.quantity,
                    item.channel,
                    "" if item.fcode_id is None else item.fcode_id,
                ],
                client=pipe,
            )
        pipe.execute()

    # --- reading ------------------------------------------------------------------------------

    def snapshot(self, session: Session, terms: SaleTerms) -> Snapshot:
        k = self.keys(terms.sale_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(k.ledger)
        pipe.scard(k.pre)
        fields, entrants = pipe.execute()
        if not fields:
            return Snapshot(
                public_left=terms.public_stock,
                fcode_left=terms.fcode_stock,
                released=0,
                entrants=0,
                queue_length=0,
                drawn=False,
                sold_out_at=None,
                sold_out_units=None,
            )
        sold_out_ms = fields.get("sold_out_ms")
        return Snapshot(
            public_left=int(fields["public_left"]),
            fcode_left=int(fields["fcode_left"]),
            released=int(fields["released"]),
            entrants=int(entrants),
            queue_length=int(fields["queue_length"]),
            drawn=fields.get("drawn") == "1",
            sold_out_at=_ms_to_datetime(sold_out_ms) if sold_out_ms else None,
            sold_out_units=int(fields["sold_out_units"]) if sold_out_ms else None,
        )

    def held(self, sale_id: int) -> dict[int, int]:
        held = cast(dict[str, str], self.client.hgetall(self.keys(sale_id).held))
        return {int(buyer): int(units) for buyer, units in held.items()}

    def close(self) -> None:
        self.client.close()


class ScriptBatcher:
    """Runs one Lua script for many concurrent requests of an event loop, sending whatever
    has queued up meanwhile as a single pipeline: one round trip for a whole batch. Idle, a
    batch is one call; under a crowd, tens (redis-py has no auto-pipelining of its own)."""

    def __init__(self, client: aioredis.Redis, script: str, loop: asyncio.AbstractEventLoop):
        self.client = client
        self.script = script
        self.sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts so
        self.loop = loop
        self._queue: list[tuple[list[str], list[ScriptArg], asyncio.Future[list[str]]]] = []
        self._sending = False
        self._task: asyncio.Task[None] | None = None

    async def call(self, keys: list[str], args: list[ScriptArg]) -> list[str]:
        future: asyncio.Future[list[str]] = self.loop.create_future()
        self._queue.append((keys, args, future))
        if not self._sending:
            self._sending = True
            self._task = self.loop.create_task(self._send())
        return await future

    async def _send(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    replies = await self._run(batch)
                except Exception as exc:  # the connection failed: every caller hears it
                    for _keys, _args, future in batch:
                        future.set_exception(exc)
                    continue
                for (_keys, _args, future), reply in zip(batch, replies, strict=True):
                    if isinstance(reply, Exception):
                        future.set_exception(reply)
                    else:
                        future.set_result(_decoded(reply))
        finally:
            self._sending = False

    async def _run(
        self, batch: list[tuple[list[str], list[ScriptArg], asyncio.Future[list[str]]]]
    ) -> list[Any]:
        for _attempt in range(2):
            pipe = self.client.pipeline(transaction=False)
            for keys, args, _future in batch:
                pipe.evalsha(self.sha, len(keys), *keys, *args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
            if not any(isinstance(r, redis.exceptions.NoScriptError) for r in replies):
                return replies
            await self.client.script_load(self.script)  # Redis restarted: teach it again
        return replies


def _decoded(reply: list[Any]) -> list[str]:
    return [item.decode() if isinstance(item, bytes) else str(item) for item in reply]


def reserved_event(fields: dict[str, str]) -> dict[str, str] | None:
    """The named values of a ``reserved`` event of the stream, or None for another kind."""
    packed = fields.get("reserved")
    if packed is None:
        return None
    return dict(zip(EVENT_FIELDS, packed.split("|"), strict=True))


def _json_ints(values: Sequence[int]) -> str:
    return "[" + ",".join(map(str, values)) + "]"
