"""SeenClient turns every answer SEEN can give, and every network failure, into a typed Answer."""

from __future__ import annotations

import json
import logging
import pickle
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import urllib3.exceptions

from seen_core.client import Answer, AnswerKind, Secret, SeenClient, campaign_problem
from seen_core.sandbox import DEFAULT_TOKEN, Sandbox

CAMPAIGN = "spring-campaign"


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[SeenClient]:
    with SeenClient(sandbox.url, DEFAULT_TOKEN, read_timeout=5) as seen:
        yield seen


# -- a server with canned answers, for shapes the sandbox never gives ---------------------


@dataclass
class Canned:
    """Answers queued as (status, headers, body) or a function writing raw bytes."""

    url: str = ""
    answers: deque[tuple[int, dict[str, str], bytes] | Callable[[Any], None]] = field(
        default_factory=deque
    )
    requests: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append((status, {"Content-Type": "application/json"} | (headers or {}), raw))


@pytest.fixture
def canned() -> Iterator[Canned]:
    state = Canned()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                    "port": self.client_address[1],
                }
            )
            answer = state.answers.popleft()
            if callable(answer):
                answer(self)
                return
            status, headers, raw = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def post_one(url: str, **kwargs: Any) -> Answer:
    with SeenClient(url, DEFAULT_TOKEN, **kwargs) as seen:
        return seen.post_receivers(CAMPAIGN, [{"first_name": "Kari"}])


# -- answers from the sandbox -------------------------------------------------------------


def test_created_batch_is_stored_in_order(client: SeenClient, sandbox: Sandbox) -> None:
    answer = client.post_receivers(CAMPAIGN, [{"first_name": "Kari"}, {"first_name": "Ola"}])

    assert (answer.kind, answer.status, answer.errors) == (AnswerKind.CREATED, 201, None)
    assert not answer.maybe_stored
    assert [r["first_name"] for r in sandbox.received(CAMPAIGN)] == ["Kari", "Ola"]


def test_one_bad_receiver_rejects_the_whole_batch_with_one_entry_per_receiver(
    client: SeenClient, sandbox: Sandbox
) -> None:
    batch = [
        {"first_name": "Kari"},
        {"first_name": "Ola", "email": "ola@"},
        {"first_name": "Per", "extra_args": {"kjønn": "m"}},
    ]

    answer = client.post_receivers(CAMPAIGN, batch)

    assert answer.kind is AnswerKind.REJECTED
    assert answer.errors is not None
    assert answer.errors[0] == {}
    assert answer.errors[1] == {"email": ["Enter a valid email address."]}
    assert list(answer.errors[2]) == ["extra_args.kjønn"]  # nested DRF errors flattened
    assert "2 of 3" in answer.message
    assert sandbox.received(CAMPAIGN) == []


def test_duplicate_customer_id_comes_back_with_seens_message(client: SeenClient) -> None:
    client.post_receivers(CAMPAIGN, [{"first_name": "Kari", "customer_id": "k1"}])

    answer = client.post_receivers(CAMPAIGN, [{"first_name": "Kari", "customer_id": "k1"}])

    assert answer.kind is AnswerKind.REJECTED
    assert answer.errors == [{"customer_id": ["A receiver with this ID already exists."]}]


def test_wrong_token_is_refused(sandbox: Sandbox) -> None:
    with SeenClient(sandbox.url, "not-the-token") as seen:
        answer = seen.post_receivers(CAMPAIGN, [{"first_name": "Kari"}])

    assert (answer.kind, answer.status) == (AnswerKind.TOKEN_REFUSED, 401)
    assert "not-the-token" not in answer.message


def test_unknown_campaign_is_not_found(client: SeenClient) -> None:
    answer = client.post_receivers("autumn-campaign", [{"first_name": "Kari"}])

    assert (answer.kind, answer.status) == (AnswerKind.CAMPAIGN_NOT_FOUND, 404)


def test_too_many_receivers_is_too_large() -> None:
    with (
        Sandbox(campaigns={CAMPAIGN}, max_batch=1) as small,
        SeenClient(small.url, DEFAULT_TOKEN) as seen,
    ):
        answer = seen.post_receivers(CAMPAIGN, [{"first_name": "A"}, {"first_name": "B"}])

    assert (answer.kind, answer.status, answer.maybe_stored) == (AnswerKind.TOO_LARGE, 413, False)


def test_throttled_answer_carries_retry_after_in_seconds() -> None:
    with (
        Sandbox(campaigns={CAMPAIGN}, rate_limit=(1, 60.0)) as limited,
        SeenClient(limited.url, DEFAULT_TOKEN) as seen,
    ):
        first = seen.post_receivers(CAMPAIGN, [{"first_name": "A"}])
        second = seen.post_receivers(CAMPAIGN, [{"first_name": "B"}])

    assert first.kind is AnswerKind.CREATED
    assert (second.kind, second.status, second.maybe_stored) == (AnswerKind.THROTTLED, 429, False)
    assert second.retry_after is not None
    assert 1 <= second.retry_after <= 60


@pytest.mark.parametrize(
    ("fault", "kind", "maybe_stored", "stored"),
    [
        ("503", AnswerKind.SERVER_ERROR, False, 0),
        ("500", AnswerKind.SERVER_ERROR, True, 0),
        # From outside, a connection dropped before or after storing looks the same.
        ("drop_before", AnswerKind.NO_ANSWER, True, 0),
        ("drop_after", AnswerKind.NO_ANSWER, True, 1),
    ],
)
def test_injected_faults_map_to_kind_and_maybe_stored(
    client: SeenClient,
    sandbox: Sandbox,
    fault: str,
    kind: AnswerKind,
    maybe_stored: bool,
    stored: int,
) -> None:
    sandbox.inject(fault)

    answer = client.post_receivers(CAMPAIGN, [{"first_name": "Kari"}])

    assert (answer.kind, answer.maybe_stored) == (kind, maybe_stored)
    assert len(sandbox.received(CAMPAIGN)) == stored
    assert len(sandbox.requests_log) == 1  # no hidden retry: `sending` decides about those
    # The pool recovers: the next request on the same client goes through.
    assert client.post_receivers(CAMPAIGN, [{"first_name": "Ola"}]).kind is AnswerKind.CREATED


def test_read_timeout_is_no_answer_that_may_be_stored() -> None:
    with Sandbox(campaigns={CAMPAIGN}, hang_seconds=5) as hanging:
        hanging.inject("timeout_after")
        answer = post_one(hanging.url, read_timeout=0.2)

        assert (answer.kind, answer.status) == (AnswerKind.NO_ANSWER, None)
        assert answer.maybe_stored
        assert len(hanging.received(CAMPAIGN)) == 1


def test_refused_connection_is_no_answer_that_stored_nothing() -> None:
    # A port bound but not listening refuses connections, and stays ours during the test.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

        answer = post_one(f"http://127.0.0.1:{port}", connect_timeout=1)

    assert (answer.kind, answer.status, answer.maybe_stored) == (AnswerKind.NO_ANSWER, None, False)
    assert "refused" in answer.message


def test_several_threads_can_share_one_client(client: SeenClient, sandbox: Sandbox) -> None:
    answers: list[Answer] = []

    def send(thread: int) -> None:
        for i in range(5):
            receiver = {"first_name": "A", "customer_id": f"{thread}-{i}"}
            answers.append(client.post_receivers(CAMPAIGN, [receiver]))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.kind for a in answers] == [AnswerKind.CREATED] * 20
    assert len(sandbox.received(CAMPAIGN)) == 20


# -- answers only a canned server gives ---------------------------------------------------


def test_request_has_seens_path_headers_and_utf8_json_body(canned: Canned) -> None:
    canned.answer(201, [{"id": 1}])
    with SeenClient(canned.url + "/", DEFAULT_TOKEN) as seen:
        seen.post_receivers(CAMPAIGN, [{"first_name": "Bjørn"}])

    sent = canned.requests[0]
    assert sent["path"] == f"/v1/campaigns/{CAMPAIGN}/receivers/"
    assert sent["headers"]["Authorization"] == f"Token {DEFAULT_TOKEN}"
    assert sent["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(sent["body"].decode("utf-8")) == [{"first_name": "Bjørn"}]


def test_connections_are_reused_between_requests(canned: Canned) -> None:
    canned.answer(201, [])
    canned.answer(201, [])
    with SeenClient(canned.url, DEFAULT_TOKEN) as seen:
        seen.post_receivers(CAMPAIGN, [{"first_name": "A"}])
        seen.post_receivers(CAMPAIGN, [{"first_name": "B"}])

    assert canned.requests[0]["port"] == canned.requests[1]["port"]


@pytest.mark.parametrize(
    ("status", "kind", "maybe_stored"),
    [
        (403, AnswerKind.TOKEN_REFUSED, False),
        (502, AnswerKind.SERVER_ERROR, True),
        (504, AnswerKind.SERVER_ERROR, True),
        (415, AnswerKind.UNEXPECTED, False),
        (200, AnswerKind.UNEXPECTED, True),  # a success other than 201: may be stored
    ],
)
def test_other_statuses_map_to_their_kind(
    canned: Canned, status: int, kind: AnswerKind, maybe_stored: bool
) -> None:
    canned.answer(status, {"detail": "Something."})

    answer = post_one(canned.url)

    assert (answer.kind, answer.status, answer.maybe_stored) == (kind, status, maybe_stored)


def test_400_object_concerns_the_whole_request(canned: Canned) -> None:
    canned.answer(400, {"non_field_errors": ['Expected a list of items but got type "dict".']})

    answer = post_one(canned.url)

    assert (answer.kind, answer.errors) == (AnswerKind.BAD_REQUEST, None)
    assert "Expected a list of items" in answer.message


def test_400_that_is_not_json_or_has_the_wrong_count_is_unexpected(canned: Canned) -> None:
    canned.answer(400, b"<h1>Bad Request</h1>", {"Content-Type": "text/html"})
    canned.answer(400, [{}, {}])  # two entries for one receiver

    assert post_one(canned.url).kind is AnswerKind.UNEXPECTED
    assert post_one(canned.url).kind is AnswerKind.UNEXPECTED


def test_drf_error_shapes_are_normalised_to_lists_of_messages(canned: Canned) -> None:
    canned.answer(
        400,
        [
            {
                "email": "Enter a valid email address.",
                "extra_args": {"bilde": ["Bad URL."], "navn": "Too long."},
                "tags": [{}, {"name": ["Required."]}],
            }
        ],
    )

    answer = post_one(canned.url)

    assert answer.errors == [
        {
            "email": ["Enter a valid email address."],
            "extra_args.bilde": ["Bad URL."],
            "extra_args.navn": ["Too long."],
            "tags.1.name": ["Required."],
        }
    ]


def test_retry_after_as_an_http_date_is_read_as_seconds_from_now(canned: Canned) -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    canned.answer(
        429, {"detail": "Slow down."}, {"Retry-After": format_datetime(later, usegmt=True)}
    )
    canned.answer(429, {"detail": "Slow down."}, {"Retry-After": "soon"})

    dated = post_one(canned.url)
    garbled = post_one(canned.url)

    assert dated.retry_after is not None
    assert 60 < dated.retry_after <= 120
    assert (garbled.kind, garbled.retry_after) == (AnswerKind.THROTTLED, None)


def test_redirect_is_not_followed(canned: Canned) -> None:
    canned.answer(301, b"", {"Location": "/elsewhere/"})

    answer = post_one(canned.url)

    assert (answer.kind, answer.status) == (AnswerKind.UNEXPECTED, 301)
    assert len(canned.requests) == 1


def test_answer_broken_off_mid_body_is_no_answer_that_may_be_stored(canned: Canned) -> None:
    def broken_chunks(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(201)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b'40\r\n[{"id": 1')  # promises 64 bytes, then hangs up
        handler.close_connection = True

    canned.answers.append(broken_chunks)

    answer = post_one(canned.url)

    assert (answer.kind, answer.maybe_stored) == (AnswerKind.NO_ANSWER, True)


# -- failures the loopback cannot stage ---------------------------------------------------


def test_connect_timeout_means_nothing_was_sent() -> None:
    client = SeenClient("http://127.0.0.1:9", DEFAULT_TOKEN)
    cause = urllib3.exceptions.MaxRetryError(
        None, "/", urllib3.exceptions.ConnectTimeoutError(None, "timed out")
    )

    answer = client._no_answer(requests.ConnectTimeout(cause))

    assert (answer.kind, answer.maybe_stored) == (AnswerKind.NO_ANSWER, False)


# -- the token stays secret ---------------------------------------------------------------


def test_token_never_shows_in_repr_str_or_pickles(sandbox: Sandbox) -> None:
    token = "s3cr3t-token-value"
    secret = Secret(token)
    client = SeenClient(sandbox.url, secret)

    shown = [repr(client), repr(secret), str(secret), f"{secret}", repr([secret])]
    assert all(token not in text for text in shown)
    assert str(secret) == "Secret('***')"
    assert repr(client) == f"SeenClient(base_url={sandbox.url!r})"
    assert secret.reveal() == token
    with pytest.raises(TypeError) as raised:
        pickle.dumps(client)
    assert token not in str(raised.value)


def test_token_never_shows_in_messages_or_log_lines(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.inject("500", "drop_after")
    caplog.set_level(logging.DEBUG)
    with SeenClient(sandbox.url, DEFAULT_TOKEN) as seen:
        answers = [
            seen.post_receivers(CAMPAIGN, [{"first_name": "A"}]),
            seen.post_receivers(CAMPAIGN, [{"first_name": "B"}]),
            seen.post_receivers(CAMPAIGN, [{"first_name": "C"}]),
            seen.post_receivers(CAMPAIGN, [{"first_name": ""}]),
            seen.post_receivers("autumn", [{"first_name": "D"}]),
        ]

    assert {a.kind for a in answers} >= {AnswerKind.SERVER_ERROR, AnswerKind.NO_ANSWER}
    assert all(DEFAULT_TOKEN not in a.message for a in answers)
    assert "seen_core.client" in {r.name for r in caplog.records}
    assert DEFAULT_TOKEN not in caplog.text


def test_token_echoed_by_the_server_is_scrubbed(canned: Canned) -> None:
    canned.answer(401, {"detail": f"Token {DEFAULT_TOKEN} is unknown."})
    canned.answer(400, [{"first_name": [f"Got {DEFAULT_TOKEN}."]}])

    refused = post_one(canned.url)
    rejected = post_one(canned.url)

    assert DEFAULT_TOKEN not in refused.message
    assert "***" in refused.message
    assert DEFAULT_TOKEN not in json.dumps(rejected.errors)


def test_malformed_token_is_refused_without_quoting_it() -> None:
    with pytest.raises(ValueError) as raised:
        SeenClient("http://127.0.0.1:9", "abc def")

    assert "abc def" not in str(raised.value)


def test_token_pasted_with_a_newline_still_works(sandbox: Sandbox) -> None:
    with SeenClient(sandbox.url, f" {DEFAULT_TOKEN}\n") as seen:
        answer = seen.post_receivers(CAMPAIGN, [{"first_name": "A"}])

    assert answer.kind is AnswerKind.CREATED


# -- refused before anything is sent ------------------------------------------------------


@pytest.mark.parametrize("campaign", ["", "spring campaign", "../admin", "vår", "x/y", "a\n"])
def test_bad_campaign_slug_is_refused_before_sending(
    client: SeenClient, sandbox: Sandbox, campaign: str
) -> None:
    with pytest.raises(ValueError, match="campaign"):
        client.post_receivers(campaign, [{"first_name": "A"}])

    assert sandbox.requests_log == []


def test_empty_batch_and_nan_are_refused_before_sending(
    client: SeenClient, sandbox: Sandbox
) -> None:
    with pytest.raises(ValueError):
        client.post_receivers(CAMPAIGN, [])
    with pytest.raises(ValueError, match="JSON"):
        client.post_receivers(CAMPAIGN, [{"first_name": "A", "extra_args": {"x": float("nan")}}])

    assert sandbox.requests_log == []


@pytest.mark.parametrize("base_url", ["api.seen.io", "ftp://api.seen.io", "https://"])
def test_base_url_must_be_http_or_https(base_url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        SeenClient(base_url, DEFAULT_TOKEN)


@pytest.mark.parametrize(
    ("slug", "problem"),
    [
        ("spring-campaign_2", None),
        ("", "Enter the campaign's slug"),
        ("vår kampanje", "is not a campaign slug"),
        ("a/b", "is not a campaign slug"),
    ],
)
def test_a_campaign_slug_is_letters_digits_dash_and_underscore(slug, problem):
    found = campaign_problem(slug)
    assert found is None if problem is None else problem in found
