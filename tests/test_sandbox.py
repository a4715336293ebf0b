"""The sandbox answers like SEEN's v1 receivers endpoint, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from seen_core.sandbox import DEFAULT_TOKEN, Sandbox

CAMPAIGN = "spring-campaign"
RECEIVERS = f"/v1/campaigns/{CAMPAIGN}/receivers/"
AUTH = {"Authorization": f"Token {DEFAULT_TOKEN}"}
JSON = {"Content-Type": "application/json; charset=utf-8"}


def request(
    sandbox: Sandbox,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    timeout: float = 5.0,
) -> tuple[int, Any, http.client.HTTPResponse]:
    """One request on a fresh connection; the answer's status and JSON body."""
    parts = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        connection.request(method, path, body=raw, headers=headers or {})
        response = connection.getresponse()
        payload = json.loads(response.read())
        return response.status, payload, response
    finally:
        connection.close()


def post(sandbox: Sandbox, receivers: Any, campaign: str = CAMPAIGN) -> tuple[int, Any]:
    status, payload, _ = request(
        sandbox, "POST", f"/v1/campaigns/{campaign}/receivers/", receivers, AUTH | JSON
    )
    return status, payload


# -- storing ------------------------------------------------------------------------------


def test_created_receivers_are_stored_in_order_with_ids(sandbox: Sandbox) -> None:
    batch = [
        {"first_name": "Kari", "email": "kari@example.no", "customer_id": "k1"},
        {"first_name": "Ola", "phone": "+4791234567", "extra_args": {"kjonn": "m", "age": 40}},
    ]
    status, created = post(sandbox, batch)

    assert status == 201
    assert [r["first_name"] for r in created] == ["Kari", "Ola"]
    assert created[0]["id"] != created[1]["id"]
    assert sandbox.received(CAMPAIGN) == created
    assert sandbox.received(CAMPAIGN)[1]["extra_args"] == {"kjonn": "m", "age": 40}


def test_text_is_trimmed_numbers_become_text_and_unknown_fields_are_ignored(
    sandbox: Sandbox,
) -> None:
    status, created = post(sandbox, [{"first_name": "  Kari ", "customer_id": 17, "shoe": 42}])

    assert status == 201
    assert created[0]["first_name"] == "Kari"
    assert created[0]["customer_id"] == "17"
    assert "shoe" not in created[0]


def test_one_bad_receiver_rejects_the_whole_batch_and_stores_nothing(sandbox: Sandbox) -> None:
    batch = [{"first_name": "Kari"}, {"last_name": "Nordmann"}, {"first_name": "Ola"}]

    status, errors = post(sandbox, batch)

    assert status == 400
    assert errors == [{}, {"first_name": ["This field is required."]}, {}]
    assert sandbox.received(CAMPAIGN) == []


def test_customer_id_already_stored_or_repeated_in_the_batch_is_a_duplicate(
    sandbox: Sandbox,
) -> None:
    assert post(sandbox, [{"first_name": "Kari", "customer_id": "k1"}])[0] == 201

    status, errors = post(
        sandbox,
        [
            {"first_name": "Kari", "customer_id": "k1"},
            {"first_name": "Ola", "customer_id": "o1"},
            {"first_name": "Ola again", "customer_id": "o1"},
        ],
    )

    duplicate = {"customer_id": ["A receiver with this ID already exists."]}
    assert status == 400
    assert errors == [duplicate, {}, duplicate]
    assert [r["customer_id"] for r in sandbox.received(CAMPAIGN)] == ["k1"]


def test_a_customer_id_rejected_with_its_batch_can_be_sent_again(sandbox: Sandbox) -> None:
    assert post(sandbox, [{"first_name": "Ola", "customer_id": "o1"}, {"first_name": ""}])[0] == 400

    assert post(sandbox, [{"first_name": "Ola", "customer_id": "o1"}])[0] == 201


@pytest.mark.parametrize(
    ("receiver", "field", "message"),
    [
        ({"first_name": None}, "first_name", "This field may not be null."),
        ({"first_name": "   "}, "first_name", "This field may not be blank."),
        ({"first_name": "A", "last_name": ""}, "last_name", "This field may not be blank."),
        ({"first_name": "A", "customer_id": None}, "customer_id", "This field may not be null."),
        ({"first_name": "A", "email": "kari@"}, "email", "Enter a valid email address."),
        ({"first_name": "A", "email": "kari@example"}, "email", "Enter a valid email address."),
        ({"first_name": "A", "phone": "91234567"}, "phone", "Enter a valid phone number."),
        ({"first_name": "A", "phone": "+0471234567"}, "phone", "Enter a valid phone number."),
        ({"first_name": True}, "first_name", "Not a valid string."),
        (
            {"first_name": "A", "extra_args": ["x"]},
            "extra_args",
            'Expected a dictionary of items but got type "list".',
        ),
    ],
)
def test_each_field_rule_answers_with_drf_messages(
    sandbox: Sandbox, receiver: dict, field: str, message: str
) -> None:
    status, errors = post(sandbox, [receiver])

    assert status == 400
    assert errors == [{field: [message]}]


def test_extra_args_keys_and_values_are_checked_one_by_one(sandbox: Sandbox) -> None:
    receiver = {"first_name": "A", "extra_args": {"kjønn": "m", "ok_1": "x", "list": [1]}}

    status, errors = post(sandbox, [receiver])

    assert status == 400
    assert set(errors[0]["extra_args"]) == {"kjønn", "list"}


def test_valid_contact_details_pass(sandbox: Sandbox) -> None:
    receiver = {
        "first_name": "A",
        "email": "kari.nordmann+x@bedrift.example.no",
        "phone": "+4791234567",
    }

    assert post(sandbox, [receiver])[0] == 201


# -- refusing whole requests --------------------------------------------------------------


def test_missing_token_and_wrong_token_get_401(sandbox: Sandbox) -> None:
    status, payload, response = request(sandbox, "POST", RECEIVERS, [{"first_name": "A"}], JSON)
    assert (status, payload) == (401, {"detail": "Authentication credentials were not provided."})
    assert response.getheader("WWW-Authenticate") == "Token"

    wrong = {"Authorization": "Token nope"} | JSON
    status, payload, _ = request(sandbox, "POST", RECEIVERS, [{"first_name": "A"}], wrong)
    assert (status, payload) == (401, {"detail": "Invalid token."})
    assert sandbox.received(CAMPAIGN) == []


def test_unknown_campaign_and_missing_trailing_slash_get_404(sandbox: Sandbox) -> None:
    assert post(sandbox, [{"first_name": "A"}], campaign="autumn") == (
        404,
        {"detail": "Not found."},
    )

    status, payload, _ = request(
        sandbox, "POST", RECEIVERS.rstrip("/"), [{"first_name": "A"}], AUTH | JSON
    )
    assert (status, payload) == (404, {"detail": "Not found."})


def test_without_a_campaign_list_every_slug_exists() -> None:
    with Sandbox() as open_sandbox:
        assert post(open_sandbox, [{"first_name": "A"}], campaign="any_slug-1")[0] == 201
        assert open_sandbox.campaigns() == {"any_slug-1": 1}


def test_body_that_is_not_json_gets_415(sandbox: Sandbox) -> None:
    headers = AUTH | {"Content-Type": "text/plain"}
    status, payload, _ = request(sandbox, "POST", RECEIVERS, b"Kari", headers)

    assert (status, payload) == (415, {"detail": 'Unsupported media type "text/plain" in request.'})


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        (b"[{", "detail", "JSON parse error - "),
        (b"[NaN]", "detail", "JSON parse error - "),
        (
            b'{"first_name": "A"}',
            "non_field_errors",
            'Expected a list of items but got type "dict".',
        ),
        (b"[]", "non_field_errors", "This list may not be empty."),
    ],
)
def test_a_request_that_is_not_a_list_of_receivers_gets_a_400_object(
    sandbox: Sandbox, body: bytes, key: str, expected: str
) -> None:
    status, payload, _ = request(sandbox, "POST", RECEIVERS, body, AUTH | JSON)

    assert status == 400
    message = payload[key] if key == "detail" else payload[key][0]
    assert message.startswith(expected)
    assert sandbox.received(CAMPAIGN) == []


def test_too_many_receivers_or_too_many_bytes_get_413_and_nothing_is_stored() -> None:
    with Sandbox(campaigns={CAMPAIGN}, max_batch=2, max_body_bytes=200) as small:
        assert post(small, [{"first_name": "A"}] * 3) == (
            413,
            {"detail": "Request entity too large."},
        )
        assert post(small, [{"first_name": "A" * 300}])[0] == 413
        assert post(small, [{"first_name": "A"}] * 2)[0] == 201  # the connection still works
        assert len(small.received(CAMPAIGN)) == 2


def test_rate_limit_answers_429_with_retry_after_in_whole_seconds() -> None:
    with Sandbox(campaigns={CAMPAIGN}, rate_limit=(2, 30.0)) as limited:
        assert post(limited, [{"first_name": "A"}])[0] == 201
        assert post(limited, [{"first_name": "B"}])[0] == 201
        status, payload, response = request(
            limited, "POST", RECEIVERS, [{"first_name": "C"}], AUTH | JSON
        )

        assert status == 429
        retry_after = int(response.getheader("Retry-After"))
        assert 1 <= retry_after <= 30
        assert f"Expected available in {retry_after} seconds." in payload["detail"]
        assert [r["first_name"] for r in limited.received(CAMPAIGN)] == ["A", "B"]


# -- injected faults ----------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "status"), [("503", 503), ("500", 500)])
def test_injected_server_errors_store_nothing(sandbox: Sandbox, fault: str, status: int) -> None:
    sandbox.inject(fault)

    assert post(sandbox, [{"first_name": "A"}])[0] == status
    assert sandbox.received(CAMPAIGN) == []
    assert post(sandbox, [{"first_name": "A"}])[0] == 201  # one fault, one request


@pytest.mark.parametrize(("fault", "stored"), [("drop_before", 0), ("drop_after", 1)])
def test_dropped_connections_answer_nothing(sandbox: Sandbox, fault: str, stored: int) -> None:
    sandbox.inject(fault)

    with pytest.raises(http.client.RemoteDisconnected):
        post(sandbox, [{"first_name": "A"}])

    assert len(sandbox.received(CAMPAIGN)) == stored
    assert sandbox.requests_log == [(CAMPAIGN, 1, 0)]


def test_timeout_after_stores_then_hangs_past_the_clients_patience() -> None:
    with Sandbox(campaigns={CAMPAIGN}, hang_seconds=5) as hanging:
        hanging.inject("timeout_after")

        with pytest.raises(TimeoutError):
            request(hanging, "POST", RECEIVERS, [{"first_name": "A"}], AUTH | JSON, timeout=0.2)

        assert len(hanging.received(CAMPAIGN)) == 1
        assert hanging.requests_log == [(CAMPAIGN, 1, 0)]


def test_stop_does_not_wait_for_a_hanging_request() -> None:
    hanging = Sandbox(campaigns={CAMPAIGN}, hang_seconds=60).start()
    hanging.inject("timeout_after")
    with pytest.raises(TimeoutError):
        request(hanging, "POST", RECEIVERS, [{"first_name": "A"}], AUTH | JSON, timeout=0.2)

    started = time.monotonic()
    hanging.stop()

    assert time.monotonic() - started < 10


def test_unknown_fault_is_refused_with_the_valid_names(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="drop_after"):
        sandbox.inject("explode")


def test_latency_delays_every_answer() -> None:
    with Sandbox(campaigns={CAMPAIGN}, latency=0.2) as slow:
        started = time.monotonic()
        post(slow, [{"first_name": "A"}])

        assert time.monotonic() - started >= 0.2


# -- connections, inspection, lifecycle ---------------------------------------------------


def test_keep_alive_serves_several_requests_on_one_connection(sandbox: Sandbox) -> None:
    parts = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        for name in ("Kari", "Ola", "Per"):
            body = json.dumps([{"first_name": name}])
            connection.request("POST", RECEIVERS, body=body, headers=AUTH | JSON)
            response = connection.getresponse()
            response.read()
            assert response.status == 201
            assert not response.will_close
    finally:
        connection.close()
    assert len(sandbox.received(CAMPAIGN)) == 3


def test_http_inspection_shows_what_was_stored(sandbox: Sandbox) -> None:
    post(sandbox, [{"first_name": "Kari"}, {"first_name": "Ola"}])

    status, overview, _ = request(sandbox, "GET", "/_sandbox/")
    assert (status, overview) == (200, {"campaigns": {CAMPAIGN: 2}})

    path = f"/_sandbox/campaigns/{CAMPAIGN}/receivers/"
    status, stored, _ = request(sandbox, "GET", path, headers=AUTH)
    assert status == 200
    assert [r["first_name"] for r in stored] == ["Kari", "Ola"]

    assert request(sandbox, "GET", path)[0] == 401
    assert request(sandbox, "GET", "/_sandbox/campaigns/autumn/receivers/", headers=AUTH)[0] == 404


def test_requests_log_and_reset(sandbox: Sandbox) -> None:
    post(sandbox, [{"first_name": "A"}, {"first_name": "B"}])
    post(sandbox, [{"first_name": ""}])

    assert sandbox.requests_log == [(CAMPAIGN, 2, 201), (CAMPAIGN, 1, 400)]

    sandbox.inject("503")
    sandbox.reset()

    assert sandbox.requests_log == []
    assert sandbox.campaigns() == {CAMPAIGN: 0}
    assert post(sandbox, [{"first_name": "A"}])[0] == 201  # the queued fault went too


def test_received_returns_copies(sandbox: Sandbox) -> None:
    post(sandbox, [{"first_name": "A"}])

    sandbox.received(CAMPAIGN)[0]["first_name"] = "changed"

    assert sandbox.received(CAMPAIGN)[0]["first_name"] == "A"


def test_concurrent_batches_are_each_stored_whole(sandbox: Sandbox) -> None:
    def send(thread: int) -> None:
        post(
            sandbox,
            [{"first_name": f"{thread}-{i}", "customer_id": f"{thread}-{i}"} for i in range(5)],
        )

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stored = [r["customer_id"] for r in sandbox.received(CAMPAIGN)]
    assert len(stored) == 20
    for n in range(4):  # each batch lands contiguously and in its own order
        start = stored.index(f"{n}-0")
        assert stored[start : start + 5] == [f"{n}-{i}" for i in range(5)]


def test_sandbox_listens_on_loopback_only_and_frees_its_port() -> None:
    running = Sandbox().start()
    port = urlsplit(running.url).port
    assert running.url == f"http://127.0.0.1:{port}"
    running.stop()

    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
