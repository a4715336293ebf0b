"""The sandbox answers like SEEN's v1 receivers endpoint and SEEN API 2.0, over real HTTP."""

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
        ({"first_name": "A\x00B"}, "first_name", "Null characters are not allowed."),
        ({"first_name": "A", "extra_args": None}, "extra_args", "This field may not be null."),
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


def test_an_international_email_domain_passes(sandbox: Sandbox) -> None:
    assert post(sandbox, [{"first_name": "A", "email": "kari@blåbær.no"}])[0] == 201


def test_an_item_that_is_not_an_object_is_refused_in_its_place(sandbox: Sandbox) -> None:
    status, errors = post(sandbox, [{"first_name": "A"}, "Kari"])

    assert status == 400
    assert errors == [
        {},
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
    ]
    assert sandbox.received(CAMPAIGN) == []


# -- refusing whole requests --------------------------------------------------------------


def test_missing_token_and_wrong_token_get_401(sandbox: Sandbox) -> None:
    status, payload, response = request(sandbox, "POST", RECEIVERS, [{"first_name": "A"}], JSON)
    assert (status, payload) == (401, {"detail": "Authentication credentials were not provided."})
    assert response.getheader("WWW-Authenticate") == "Token"

    wrong = {"Authorization": "Token nope"} | JSON
    status, payload, _ = request(sandbox, "POST", RECEIVERS, [{"first_name": "A"}], wrong)
    assert (status, payload) == (401, {"detail": "Invalid token."})
    assert sandbox.received(CAMPAIGN) == []


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token", "Invalid token header. No credentials provided."),
        (
            f"Token {DEFAULT_TOKEN} x",
            "Invalid token header. Token string should not contain spaces.",
        ),
    ],
)
def test_a_malformed_token_header_gets_drfs_401(sandbox: Sandbox, header: str, detail: str) -> None:
    headers = {"Authorization": header} | JSON
    status, payload, _ = request(sandbox, "POST", RECEIVERS, [{"first_name": "A"}], headers)

    assert (status, payload) == (401, {"detail": detail})


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


def raw(sandbox: Sandbox, method: str, path: str, headers: dict[str, str], body: bytes = b""):
    """A request with exactly these headers (no Content-Length added); the answer, read."""
    parts = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read()), response.will_close
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({"Transfer-Encoding": "chunked"}, 411, "A Content-Length header is required."),
        ({"Content-Length": "-1"}, 400, "Invalid Content-Length header."),
        ({"Content-Length": "eleven"}, 400, "Invalid Content-Length header."),
        # Far over the limit: answered before the body is read, then the connection closes.
        ({"Content-Length": str(100 * 1024 * 1024)}, 413, "Request entity too large."),
    ],
)
def test_a_body_it_cannot_or_will_not_read_is_refused_and_the_connection_closed(
    sandbox: Sandbox, headers: dict[str, str], status: int, detail: str
) -> None:
    answer = raw(sandbox, "POST", RECEIVERS, AUTH | JSON | headers)

    assert answer == (status, {"detail": detail}, True)
    assert sandbox.received(CAMPAIGN) == []


def test_get_on_the_receivers_path_is_405_and_an_unknown_path_404(sandbox: Sandbox) -> None:
    status, payload, response = request(sandbox, "GET", RECEIVERS, headers=AUTH)
    assert (status, payload) == (405, {"detail": 'Method "GET" not allowed.'})
    assert response.getheader("Allow") == "POST, OPTIONS"

    assert request(sandbox, "GET", "/v1/nothing/", headers=AUTH)[:2] == (
        404,
        {"detail": "Not found."},
    )
    status, payload, _ = request(
        sandbox, "POST", "/v1/nothing/", [{"first_name": "A"}], AUTH | JSON
    )
    assert (status, payload) == (404, {"detail": "Not found."})
    assert sandbox.requests_log == [("", 1, 404)]


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


# -- SEEN API 2.0: Create, List, Retrieve ---------------------------------------------------------

DATA = "/v1/workspaces/ws-1/data"
BEARER = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def create(sandbox: Sandbox, person: Any, path: str = DATA) -> tuple[int, Any]:
    status, payload, _ = request(sandbox, "POST", path, person, BEARER | JSON)
    return status, payload


def look(sandbox: Sandbox, path: str) -> tuple[int, Any]:
    status, payload, _ = request(sandbox, "GET", path, headers=BEARER)
    return status, payload


def test_2_0_same_id_is_the_same_person_updated_never_duplicated(sandbox: Sandbox) -> None:
    assert create(sandbox, {"id": "k1", "first_name": "Kari", "kjonn": "K"})[0] == 201
    status, item = create(sandbox, {"id": "k1", "first_name": "Kari", "email": "kari@example.no"})

    assert status == 201
    assert item["id"] == "k1"
    assert sandbox.people("workspace/ws-1") == [
        {"id": "k1", "values": {"first_name": "Kari", "kjonn": "K", "email": "kari@example.no"}}
    ]


def test_2_0_retrieve_shows_the_documented_shape_with_links_that_work(sandbox: Sandbox) -> None:
    create(sandbox, {"id": "k 1/2", "first_name": "Kari"})

    status, item = look(sandbox, f"{DATA}/k%201%2F2")

    assert status == 200
    assert (item["id"], item["values"]) == ("k 1/2", {"first_name": "Kari"})
    (output,) = item["journeyOutputs"]
    player, motion = output["players"][0]["link"], output["motions"][0]
    for url, kind in [
        (player, "text/html; charset=utf-8"),
        (motion["thumbnail"], "image/png"),
        (motion["emailThumbnail"], "image/png"),
    ]:
        assert url.startswith(sandbox.url)
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        connection.request("GET", parts.path)
        answer = connection.getresponse()
        assert (answer.status, answer.getheader("Content-Type")) == (200, kind)
        assert answer.read()
        connection.close()
    assert look(sandbox, f"{DATA}/nobody")[0] == 404
    made_up = "/_sandbox/players/" + "0" * 20
    assert request(sandbox, "GET", made_up)[0] == 404  # only links it gave out


def test_2_0_list_filters_by_a_field_and_pages(sandbox: Sandbox) -> None:
    for n, city in enumerate(["Oslo", "Bergen", "Oslo", "Oslo"]):
        create(sandbox, {"id": f"k{n}", "first_name": f"P{n}", "city": city})

    status, page = look(sandbox, f"{DATA}?q=city:Oslo&limit=2&offset=1")
    by_id = look(sandbox, f"{DATA}?q=id:k1")[1]

    assert status == 200
    assert page["count"] == 3
    assert [item["id"] for item in page["data"]] == ["k2", "k3"]
    assert [item["id"] for item in by_id["data"]] == ["k1"]
    assert look(sandbox, f"{DATA}?limit=x")[0] == 400


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([{"id": "k1", "first_name": "A"}], "Arrays are not supported"),
        ({"first_name": "A"}, "'id' is required"),
        ({"id": 7, "first_name": "A"}, "'id' is required"),
        ({"id": "k1", "email": "not-an-address"}, "'email' is not a valid"),
        ({"id": "k1", "phone": "45860321"}, "'phone' is not a valid"),
        ({"id": "k1", "kjønn": "K"}, "'kjønn' may only hold"),
        ({"id": "k1", "extra": {"nested": 1}}, "'extra' must be a string"),
    ],
)
def test_2_0_create_refuses_what_2_0_cannot_take(sandbox: Sandbox, body: Any, reason: str) -> None:
    status, payload = create(sandbox, body)

    assert status == 400
    assert reason in payload["message"]
    assert sandbox.people("workspace/ws-1") == []


def test_2_0_create_refuses_a_body_that_is_not_json_or_too_large() -> None:
    with Sandbox(max_body_bytes=200) as small:
        text = BEARER | {"Content-Type": "text/plain"}
        status, payload, _ = request(small, "POST", DATA, b'{"id": "k1"}', text)
        assert (status, payload) == (415, {"message": "Unsupported content type 'text/plain'."})

        status, payload, _ = request(small, "POST", DATA, b'{"id": ', BEARER | JSON)
        assert status == 400
        assert payload["message"].startswith("JSON parse error - ")

        assert create(small, {"id": "k1", "first_name": "A" * 300}) == (
            413,
            {"message": "Request entity too large."},
        )
        assert create(small, 7) == (400, {"message": "The body must be one JSON object."})
        assert create(small, {"id": "k1", "first_name": "A\x00"}) == (
            400,
            {"message": "The property 'first_name' holds a null character."},
        )
        assert small.people("workspace/ws-1") == []


def test_2_0_needs_a_bearer_token_and_v1_keeps_its_own_scheme(sandbox: Sandbox) -> None:
    person = {"id": "k1", "first_name": "A"}
    assert request(sandbox, "POST", DATA, person, JSON)[0] == 401
    assert request(sandbox, "POST", DATA, person, AUTH | JSON)[0] == 401  # `Token`, not Bearer
    wrong = {"Authorization": "Bearer nope"} | JSON
    status, _payload, response = request(sandbox, "POST", DATA, person, wrong)
    assert (status, response.getheader("WWW-Authenticate")) == (401, "Bearer")
    assert look(sandbox, f"{DATA}/k1")[0] == 404  # nothing was stored
    assert request(sandbox, "GET", f"{DATA}/k1")[0] == 401
    # v1 is unchanged: a Bearer token is not its scheme.
    assert request(sandbox, "POST", RECEIVERS, [{"first_name": "A"}], BEARER | JSON)[0] == 401


def test_2_0_serves_only_the_workspaces_and_projects_it_is_given() -> None:
    person = {"id": "k1", "first_name": "A"}
    with Sandbox(workspaces={"ws-1"}, projects={"p-1"}) as strict:
        assert create(strict, person)[0] == 201
        assert create(strict, person, "/v1/projects/p-1/data")[0] == 201
        assert create(strict, person, "/v1/workspaces/ws-2/data") == (
            404,
            {"message": "Workspace not found."},
        )
        assert look(strict, "/v1/projects/p-2/data/k1")[0] == 404
        assert strict.data_targets() == {"project/p-1": 1, "workspace/ws-1": 1}
    with Sandbox() as open_sandbox:
        assert create(open_sandbox, person, "/v1/projects/any-1/data")[0] == 201
        _status, overview, _ = request(open_sandbox, "GET", "/_sandbox/")
        assert overview == {"campaigns": {}, "projects": {"any-1": 1}}


def test_2_0_video_can_be_not_ready_yet_for_the_first_look_or_for_a_share() -> None:
    def links(sandbox: Sandbox, person_id: str) -> list[str]:
        item = look(sandbox, f"{DATA}/{person_id}")[1]
        return [p["link"] for p in item["journeyOutputs"][0]["players"]]

    with Sandbox(video_wait=1) as waiting:
        create(waiting, {"id": "k1", "first_name": "A"})
        assert links(waiting, "k1") == []
        assert len(links(waiting, "k1")) == 1

    with Sandbox(videos_not_ready=1.0) as held:
        create(held, {"id": "k1", "first_name": "A"})
        assert links(held, "k1") == []
        assert links(held, "k1") == []
        held.finish_videos()
        assert len(links(held, "k1")) == 1


@pytest.mark.parametrize(("fault", "status", "stored"), [("500", 500, 0), ("429", 429, 0)])
def test_2_0_injected_faults_answer_and_store_nothing(
    sandbox: Sandbox, fault: str, status: int, stored: int
) -> None:
    sandbox.inject(fault)

    answered, _payload, response = request(sandbox, "POST", DATA, {"id": "k1"}, BEARER | JSON)

    assert answered == status
    if fault == "429":
        assert response.getheader("Retry-After") == "1"
    assert len(sandbox.people("workspace/ws-1")) == stored
    assert sandbox.requests_log == [("workspace/ws-1", 1, status)]


@pytest.mark.parametrize(("fault", "stored"), [("drop_before", 0), ("drop_after", 1)])
def test_2_0_dropped_connections_before_and_after_storing(
    sandbox: Sandbox, fault: str, stored: int
) -> None:
    sandbox.inject(fault)

    with pytest.raises(http.client.RemoteDisconnected):
        create(sandbox, {"id": "k1", "first_name": "A"})

    assert len(sandbox.people("workspace/ws-1")) == stored
    assert sandbox.requests_log == [("workspace/ws-1", 1, 0)]


def test_2_0_rate_limit_counts_creates_and_lookups() -> None:
    with Sandbox(rate_limit=(2, 30.0)) as limited:
        assert create(limited, {"id": "k1", "first_name": "A"})[0] == 201
        assert look(limited, f"{DATA}/k1")[0] == 200
        status, _payload, response = request(limited, "GET", f"{DATA}/k1", headers=BEARER)

        assert status == 429
        assert 1 <= int(response.getheader("Retry-After")) <= 30
        status, payload, response = request(limited, "POST", DATA, {"id": "k2"}, BEARER | JSON)
        assert (status, payload) == (429, {"message": "Too many requests."})
        assert 1 <= int(response.getheader("Retry-After")) <= 30
        assert limited.lookups_log == [("workspace/ws-1", 200), ("workspace/ws-1", 429)]
        assert [p["id"] for p in limited.people("workspace/ws-1")] == ["k1"]
