"""Bootstrap tokens: one current token per NodePool whose machines join on their own, rotated before it expires.

A kubelet joins with a bootstrap token (user `system:bootstrap:<id>`, groups
`system:bootstrappers` and `system:bootstrappers:hcp:nodepool-<pool>`), asks
for its client certificate and from then on acts as itself. The token lives in
the hosted cluster as Secret `kube-system/bootstrap-token-<id>`, where the API
server's bootstrap-token authenticator reads it; each pool's current token is
also kept in the control-plane namespace on the management cluster, under the
pool's name in Secret `bootstrap-tokens`, from where a join command or ignition
service hands it out. One Secret with a key per pool, rather than one per pool,
because the operator may not delete Secrets on the management cluster: a
deleted pool's key is applied away instead.

Each token lives VALIDITY; a pool gets a new one once its newest has lived
RENEW_AT of its life, and older ones are left to expire, so a join that began
with them finishes. `plan_tokens` decides, from what exists at time `now`,
which tokens to create and delete: pure, so rotation is tested without
waiting a day.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hcp.controlplane.labels import MANAGED_BY, MANAGED_BY_LABEL, common_labels
from hcp.platforms.provider import NODE_POOL_LABEL

VALIDITY = timedelta(hours=24)
RENEW_AT = 2 / 3
"""Fraction of a token's life after which its pool gets a new one."""
MAX_LIVE_PER_POOL = 3
"""More unexpired tokens than this for one pool (which rotation never makes) are cut, oldest first."""
CLOCK_SKEW = timedelta(minutes=5)

TOKEN_NAMESPACE = "kube-system"
TOKEN_SECRET_PREFIX = "bootstrap-token-"
TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token"
BOOTSTRAPPERS_GROUP = "system:bootstrappers"
POOL_GROUP_PREFIX = "system:bootstrappers:hcp:nodepool-"

MANAGEMENT_SECRET = "bootstrap-tokens"
"""In the control-plane namespace: key <pool> -> the pool's current `<id>.<secret>` (a kubelet's bootstrap token)."""

_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH, SECRET_LENGTH = 6, 16
"""A bootstrap token is `[a-z0-9]{6}.[a-z0-9]{16}`."""
_TOKEN_SECRET = re.compile(f"[a-z0-9]{{{SECRET_LENGTH}}}")

TOKEN_LABELS = {MANAGED_BY_LABEL: MANAGED_BY}
"""With NODE_POOL_LABEL (any value): the labels of hcp's tokens, in both clusters."""


@dataclass(frozen=True)
class Token:
    """A bootstrap token hcp made for a pool, as its Secret in the hosted cluster says."""

    id: str
    pool: str
    expires: datetime | None
    """None when the Secret has no readable expiration: such a token is not trusted and goes."""


@dataclass(frozen=True)
class TokenPlan:
    create: tuple[str, ...] = ()
    """Pools that get a new token now; it becomes their current one."""
    delete: tuple[str, ...] = ()
    """Ids of tokens to delete: of pools that no longer need one, expired, unreadable or in excess."""
    current: Mapping[str, str] = field(default_factory=dict)
    """Pool -> id of its current token, for pools that keep theirs."""
    wake_at: datetime | None = None
    """When this plan next changes with nothing else changing (a renewal or an expiry)."""


def plan_tokens(
    pools: Iterable[str],
    tokens: Iterable[Token],
    now: datetime,
    *,
    validity: timedelta = VALIDITY,
    renew_at: float = RENEW_AT,
) -> TokenPlan:
    """Which tokens to create and delete at `now` so that every pool in `pools` has a current token."""
    wanted = set(pools)
    renew_within = validity * (1 - renew_at)
    delete: list[str] = []
    live: dict[str, list[Token]] = {}
    for token in tokens:
        trusted = token.expires is not None and now < token.expires <= now + validity + CLOCK_SKEW
        if token.pool not in wanted or not trusted:
            delete.append(token.id)
        else:
            live.setdefault(token.pool, []).append(token)

    create: list[str] = []
    current: dict[str, str] = {}
    wake: list[datetime] = []
    for pool in sorted(wanted):
        kept = sorted(live.get(pool, ()), key=lambda t: (t.expires, t.id), reverse=True)  # newest first
        renewing = not kept or _renew(kept[0], now, renew_within)
        room = MAX_LIVE_PER_POOL - 1 if renewing else MAX_LIVE_PER_POOL
        delete += [t.id for t in kept[room:]]
        kept = kept[:room]
        if renewing:
            create.append(pool)
        else:
            current[pool] = kept[0].id
            wake.append(kept[0].expires - renew_within)
        wake += [t.expires for t in kept if t.id != current.get(pool)]
    return TokenPlan(tuple(create), tuple(sorted(delete)), current, min(wake) if wake else None)


def _renew(token: Token, now: datetime, renew_within: timedelta) -> bool:
    assert token.expires is not None
    return token.expires - now <= renew_within


# The Secrets.


def new_token(taken: Collection[str]) -> tuple[str, str]:
    """A fresh (id, secret) from the system's CSPRNG, with an id unlike those in `taken`."""
    while True:
        token_id = "".join(secrets.choice(_ALPHABET) for _ in range(ID_LENGTH))
        if token_id not in taken:
            return token_id, "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pool_group(pool: str) -> str:
    """The extra group a pool's token authenticates in (after system:bootstrappers)."""
    return f"{POOL_GROUP_PREFIX}{pool}"


def hosted_token_secret(pool: str, token_id: str, token_secret: str, expires: datetime) -> dict[str, Any]:
    """The token as the API server's bootstrap-token authenticator reads it, in the hosted kube-system."""
    data = {
        "description": f"hcp: joins machines of NodePool {pool}",
        "token-id": token_id,
        "token-secret": token_secret,
        "expiration": format_time(expires),
        "usage-bootstrap-authentication": "true",
        "auth-extra-groups": pool_group(pool),
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": f"{TOKEN_SECRET_PREFIX}{token_id}",
            "namespace": TOKEN_NAMESPACE,
            "labels": {**TOKEN_LABELS, NODE_POOL_LABEL: pool},
        },
        "type": TOKEN_SECRET_TYPE,
        "data": _encode(data),
    }


def token_of(secret: Any) -> Token | None:
    """The Token a hosted Secret holds (a lightkube Secret or a dict), None if it is not one of hcp's."""
    body = secret if isinstance(secret, Mapping) else secret.to_dict()
    metadata = body.get("metadata") or {}
    pool = (metadata.get("labels") or {}).get(NODE_POOL_LABEL)
    name = metadata.get("name") or ""
    if not pool or body.get("type") != TOKEN_SECRET_TYPE or not name.startswith(TOKEN_SECRET_PREFIX):
        return None
    token_id = name.removeprefix(TOKEN_SECRET_PREFIX)
    # One whose data is not a well-formed token of its name cannot be handed out: it is untrusted.
    well_formed = secret_value(body, "token-id") == token_id and _TOKEN_SECRET.fullmatch(
        secret_value(body, "token-secret")) is not None
    return Token(token_id, pool, _parse_time(secret_value(body, "expiration")) if well_formed else None)


def secret_value(secret: Mapping[str, Any], key: str) -> str:
    """A data value of a Secret dict, decoded; empty when absent or unreadable."""
    value = (secret.get("data") or {}).get(key)
    try:
        return base64.b64decode(value).decode() if value else ""
    except (ValueError, UnicodeDecodeError):
        return ""


def management_tokens_secret(namespace: str, tokens: Mapping[str, str]) -> dict[str, Any]:
    """Every pool's current token (pool -> `<id>.<secret>`) in its control-plane namespace.

    Opaque: a credential of the hosted cluster only, never of the management cluster.
    """
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": MANAGEMENT_SECRET, "namespace": namespace, "labels": common_labels(namespace)},
        "type": "Opaque",
        "data": _encode(tokens),
    }


def _encode(data: Mapping[str, str]) -> dict[str, str]:
    return {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
