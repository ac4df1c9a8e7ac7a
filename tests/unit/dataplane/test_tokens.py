"""Bootstrap-token rotation decided at chosen instants: a day of a pool's tokens without waiting a day."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from hcp.dataplane.tokens import (
    MAX_LIVE_PER_POOL,
    VALIDITY,
    Token,
    TokenPlan,
    hosted_token_secret,
    management_tokens_secret,
    new_token,
    plan_tokens,
    token_of,
)

T0 = datetime(2030, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def issued(token_id: str, pool: str, at: datetime) -> Token:
    """A token as hcp would have made it at `at`."""
    return Token(token_id, pool, at + VALIDITY)


def decoded(secret: dict) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_a_pool_without_a_token_gets_one():
    assert plan_tokens(["workers"], [], T0) == TokenPlan(create=("workers",))


def test_a_fresh_token_is_kept_until_two_thirds_of_its_life():
    token = issued("aaaaaa", "workers", T0)
    plan = plan_tokens(["workers"], [token], T0 + HOUR)
    assert plan == TokenPlan(current={"workers": "aaaaaa"}, wake_at=T0 + 16 * HOUR)
    assert plan_tokens(["workers"], [token], T0 + 16 * HOUR - timedelta(seconds=1)).create == ()


def test_at_two_thirds_of_its_life_a_new_token_comes_and_the_old_one_is_left_to_expire():
    old = issued("aaaaaa", "workers", T0)
    renewal = plan_tokens(["workers"], [old], T0 + 16 * HOUR)
    assert renewal.create == ("workers",) and renewal.delete == ()
    new = issued("bbbbbb", "workers", T0 + 16 * HOUR)
    after = plan_tokens(["workers"], [old, new], T0 + 16 * HOUR + timedelta(seconds=1))
    assert after == TokenPlan(current={"workers": "bbbbbb"}, wake_at=old.expires), \
        "the old token stays (a join in progress finishes) and the next change is its expiry"
    assert plan_tokens(["workers"], [old, new], old.expires) == \
        TokenPlan(delete=("aaaaaa",), current={"workers": "bbbbbb"}, wake_at=T0 + 32 * HOUR)


def test_a_day_of_passes_every_ten_minutes_keeps_one_current_token_and_at_most_two():
    tokens: list[Token] = []
    currents = []
    now = T0
    for step in range(6 * 48):
        plan = plan_tokens(["workers"], tokens, now)
        tokens = [t for t in tokens if t.id not in plan.delete]
        for pool in plan.create:
            tokens.append(issued(f"t{step:05d}", pool, now))
        current = plan.current.get("workers") or tokens[-1].id
        currents.append(current)
        assert len(tokens) <= 2
        assert all(now < t.expires for t in tokens)
        current_token = next(t for t in tokens if t.id == current)
        assert current_token.expires - now > VALIDITY / 3 - timedelta(minutes=10), "a handed-out token has time left"
        now += timedelta(minutes=10)
    assert len(set(currents)) == 3, "48 hours of 24-hour tokens renewed at 16 hours: three tokens"


def test_tokens_of_pools_that_are_gone_are_deleted():
    tokens = [issued("aaaaaa", "workers", T0), issued("bbbbbb", "gone", T0), issued("cccccc", "gone", T0 - HOUR)]
    plan = plan_tokens(["workers"], tokens, T0 + HOUR)
    assert plan.delete == ("bbbbbb", "cccccc")
    assert plan.current == {"workers": "aaaaaa"}
    assert plan_tokens([], tokens, T0).delete == ("aaaaaa", "bbbbbb", "cccccc")


@pytest.mark.parametrize(
    "expires",
    [None, T0, T0 - HOUR, T0 + VALIDITY + HOUR],
    ids=["unreadable", "expiring-now", "expired", "longer-than-hcp-issues"],
)
def test_an_untrusted_token_is_deleted_and_replaced(expires):
    plan = plan_tokens(["workers"], [Token("aaaaaa", "workers", expires)], T0)
    assert plan.delete == ("aaaaaa",)
    assert plan.create == ("workers",)


def test_more_tokens_than_rotation_makes_are_cut_oldest_first():
    tokens = [issued(f"t{i}aaaa", "workers", T0 + i * HOUR) for i in range(5)]
    plan = plan_tokens(["workers"], tokens, T0 + 5 * HOUR)
    assert plan.current == {"workers": "t4aaaa"}
    assert plan.delete == ("t0aaaa", "t1aaaa")
    assert len(tokens) - len(plan.delete) == MAX_LIVE_PER_POOL


def test_pools_are_independent():
    tokens = [issued("aaaaaa", "a", T0), issued("bbbbbb", "b", T0 - 20 * HOUR)]
    plan = plan_tokens(["a", "b", "c"], tokens, T0)
    assert plan.create == ("b", "c")
    assert plan.current == {"a": "aaaaaa"}
    assert plan.wake_at == T0 - 20 * HOUR + VALIDITY, "b's old token expires first"


def test_new_tokens_are_well_formed_and_avoid_taken_ids():
    seen = set()
    for _ in range(200):
        token_id, secret = new_token(seen)
        assert len(token_id) == 6 and len(secret) == 16
        assert (token_id + secret).isalnum() and (token_id + secret) == (token_id + secret).lower()
        assert token_id not in seen
        seen.add(token_id)


def test_the_hosted_secret_is_what_the_bootstrap_token_authenticator_reads():
    secret = hosted_token_secret("workers", "abcdef", "0123456789abcdef", T0)
    assert secret["metadata"]["name"] == "bootstrap-token-abcdef"
    assert secret["metadata"]["namespace"] == "kube-system"
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    data = decoded(secret)
    assert data["token-id"] == "abcdef" and data["token-secret"] == "0123456789abcdef"
    assert data["expiration"] == "2030-01-01T00:00:00Z"
    assert data["usage-bootstrap-authentication"] == "true"
    assert "usage-bootstrap-signing" not in data
    assert data["auth-extra-groups"] == "system:bootstrappers:hcp:nodepool-workers"
    assert token_of(secret) == Token("abcdef", "workers", T0)


def test_a_secret_that_is_not_a_well_formed_hcp_token_is_not_trusted():
    secret = hosted_token_secret("workers", "abcdef", "0123456789abcdef", T0)
    unlabelled = {**secret, "metadata": {**secret["metadata"], "labels": {}}}
    assert token_of(unlabelled) is None, "someone else's token is not hcp's to manage"
    for key, value in (("token-secret", "short"), ("token-id", "zzzzzz"), ("expiration", "tomorrow")):
        tampered = {**secret, "data": {**secret["data"], key: base64.b64encode(value.encode()).decode()}}
        assert token_of(tampered) == Token("abcdef", "workers", None)


def test_the_management_copy_holds_each_pools_token_as_kubelet_takes_it():
    secret = management_tokens_secret("clusters-demo", {"workers": "abcdef.0123456789abcdef",
                                                         "infra": "ghijkl.0123456789abcdef"})
    assert secret["metadata"]["name"] == "bootstrap-tokens"
    assert secret["metadata"]["namespace"] == "clusters-demo"
    assert secret["type"] == "Opaque", "the management cluster never gets a token of its own"
    assert decoded(secret) == {"workers": "abcdef.0123456789abcdef", "infra": "ghijkl.0123456789abcdef"}
    assert management_tokens_secret("clusters-demo", {})["data"] == {}, "no pool, no token"
