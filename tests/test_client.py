"""SeenClient turns every answer SEEN can give, and every network failure, into a typed Answer.

Most answers come from the sandbox over real HTTP or from a scripted transport (no network); a
real socket only where the socket itself is the point: reused connections, a redirect, an answer
broken off mid-body, a timeout.
"""

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

from seen_core.errors import ConfigurationError
from seen_core.sandbox import DEFAULT_TOKEN, Sandbox
from seen_core.send.client import (
    Answer,
    AnswerKind,
    NoAnswer,
    Request,
    RequestsTransport,
    Response,
    Secret,
    SeenClient,
    campaign_problem,
)
from seen_core.send.targets import Campaign, Project, Workspace

CAMPAIGN = "spring-campaign"
WORKSPACE = Workspace("ws-1")


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[SeenClient]:
    with SeenClient(sandbox.url, DEFAULT_TOKEN, read_timeout=5) as seen:
        yield seen


# -- a scripted transport: answers without a network -----------------------------------------


@dataclass
class Scripted:
    """A transport that answers from a queue (a Response, or an exception to raise)."""

    answers: deque[Response | Exception] = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)

    def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append(
            Response(status, raw, {"Content-Type": "application/json"} | (headers or {}))
        )

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        answer = self.answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def scripted() -> Scripted:
    return Scripted()


def post_one(transport: Scripted, target: object = CAMPAIGN) -> Answer:
    with SeenClient("https://api.seen.io", DEFAULT_TOKEN, transport=transport) as seen:
        person = (
            {"first_name": "Kari"} if target == CAMPAIGN else {"id": "k1", "first_name": "Kari"}
        )
        return seen.post_receivers(target, [person])  # type: ignore[arg-type]


# -- a real socket, for what only a socket shows ------------------------------------------------


@dataclass
class Raw:
    """A loopback HTTP server answering from a queue of functions that write to the handler."""

    url: str = ""
    answers: deque[Callable[[BaseHTTPRequestHandler], None]] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)


def _raw_server() -> Iterator[Raw]:
    state = Raw()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _any(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(
                {"path": self.path, "headers": dict(self.headers), "port": self.client_address[1]}
            )
            state.answers.popleft()(self)

        do_POST = do_GET = _any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


raw = pytest.fixture(_raw_server)
elsewhere = pytest.fixture(_raw_server)


def plain(status: int, headers: dict[str, str] | None = None) -> Callable[[Any], None]:
    def write(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return write


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


def test_read_timeout_is_no_answer_that_may_be_stored() -> None:  # a real socket: a timeout
    with Sandbox(campaigns={CAMPAIGN}, hang_seconds=5) as hanging:
        hanging.inject("timeout_after")
        with SeenClient(hanging.url, DEFAULT_TOKEN, read_timeout=0.2) as seen:
            answer = seen.post_receivers(CAMPAIGN, [{"first_name": "Kari"}])

        assert (answer.kind, answer.status) == (AnswerKind.NO_ANSWER, None)
        assert answer.maybe_stored
        assert len(hanging.received(CAMPAIGN)) == 1


def test_refused_connection_is_no_answer_that_stored_nothing() -> None:
    # A port bound but not listening refuses connections, and stays ours during the test.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

        with SeenClient(f"http://127.0.0.1:{port}", DEFAULT_TOKEN, connect_timeout=1) as seen:
            answer = seen.post_receivers(CAMPAIGN, [{"first_name": "Kari"}])

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


# -- SEEN API 2.0 against the sandbox ----------------------------------------------------------


def test_a_person_is_created_as_one_flat_object_and_can_be_retrieved_and_listed(
    client: SeenClient, sandbox: Sandbox
) -> None:
    person = {"id": "k1", "first_name": "Kari", "phone": "+4791234567", "kjonn": "K"}

    created = client.post_receivers(WORKSPACE, [person])
    found = client.retrieve(WORKSPACE, "k1")
    listed = client.list(WORKSPACE, query="phone:+4791234567", limit=10)

    assert (created.kind, created.status) == (AnswerKind.CREATED, 201)
    assert sandbox.people("workspace/ws-1") == [
        {"id": "k1", "values": {"first_name": "Kari", "phone": "+4791234567", "kjonn": "K"}}
    ]
    assert (found.kind, found.data["id"]) == (AnswerKind.FOUND, "k1")
    assert found.data["journeyOutputs"][0]["players"][0]["link"].startswith(sandbox.url)
    assert listed.kind is AnswerKind.FOUND
    assert [item["id"] for item in listed.data["data"]] == ["k1"]


def test_retrieve_of_someone_never_sent_is_absent(client: SeenClient) -> None:
    assert client.retrieve(WORKSPACE, "nobody").kind is AnswerKind.ABSENT


def test_an_id_with_a_slash_or_spaces_is_looked_up_as_that_id(client: SeenClient) -> None:
    client.post_receivers(WORKSPACE, [{"id": "K 12/3", "first_name": "Kari"}])

    assert client.retrieve(WORKSPACE, "K 12/3").data["id"] == "K 12/3"
    assert client.retrieve(WORKSPACE, "K 12").kind is AnswerKind.ABSENT


def test_2_0_wrong_token_is_refused_and_an_unknown_workspace_is_not_found() -> None:
    with Sandbox(workspaces={"ws-1"}) as known:
        with SeenClient(known.url, "not-the-token") as wrong:
            refused = wrong.post_receivers(WORKSPACE, [{"id": "k1", "first_name": "A"}])
        with SeenClient(known.url, DEFAULT_TOKEN) as seen:
            missing = seen.post_receivers(Workspace("ws-9"), [{"id": "k1", "first_name": "A"}])

    assert (refused.kind, refused.status) == (AnswerKind.TOKEN_REFUSED, 401)
    assert "not-the-token" not in refused.message
    assert (missing.kind, missing.message) == (
        AnswerKind.TARGET_NOT_FOUND,
        "Workspace 'ws-9' was not found.",
    )


@pytest.mark.parametrize(
    ("target", "path", "scheme"),
    [
        (Campaign(CAMPAIGN), f"/v1/campaigns/{CAMPAIGN}/receivers/", "Token"),
        (Workspace("ws-1"), "/v1/workspaces/ws-1/data", "Bearer"),
        (Project("p-7"), "/v1/projects/p-7/data", "Bearer"),
    ],
)
def test_each_target_gets_its_path_auth_scheme_and_body_shape(
    scripted: Scripted, target: object, path: str, scheme: str
) -> None:
    scripted.answer(201, {})
    with SeenClient("https://seen.example", DEFAULT_TOKEN, transport=scripted) as seen:
        seen.post_receivers(target, [{"id": "k1", "first_name": "Bjørn"}])  # type: ignore[arg-type]

    sent = scripted.requests[0]
    assert sent.url == f"https://seen.example{path}"
    assert sent.headers["Authorization"] == f"{scheme} {DEFAULT_TOKEN}"
    body = json.loads(sent.body.decode("utf-8"))
    # v1 takes an array of receivers; 2.0 one object per request.
    assert body == ({"id": "k1", "first_name": "Bjørn"} if scheme == "Bearer" else [body[0]])


@pytest.mark.parametrize(
    ("status", "kind", "maybe_stored"),
    [
        (201, AnswerKind.CREATED, False),
        (401, AnswerKind.TOKEN_REFUSED, False),
        (403, AnswerKind.TOKEN_REFUSED, False),
        (404, AnswerKind.TARGET_NOT_FOUND, False),
        (429, AnswerKind.THROTTLED, False),
        (400, AnswerKind.REJECTED, False),
        (413, AnswerKind.REJECTED, False),
        (422, AnswerKind.REJECTED, False),
        (500, AnswerKind.SERVER_ERROR, True),
        (503, AnswerKind.SERVER_ERROR, False),
        (200, AnswerKind.UNEXPECTED, True),  # a success other than 201: Retrieve will tell
        (301, AnswerKind.UNEXPECTED, False),
    ],
)
def test_2_0_create_answers_map_to_their_kind(
    scripted: Scripted, status: int, kind: AnswerKind, maybe_stored: bool
) -> None:
    scripted.answer(status, {"message": "Something."})

    answer = post_one(scripted, WORKSPACE)

    assert (answer.kind, answer.status, answer.maybe_stored) == (kind, status, maybe_stored)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"message": "Property 'email' is invalid."}, "Property 'email' is invalid."),
        ({"errors": [{"field": "email"}]}, '{"errors": [{"field": "email"}]}'),
        (b"<h1>Bad\n  Request</h1>", "<h1>Bad Request</h1>"),
        (b"", "no reason given."),
    ],
)
def test_2_0_rejection_shows_seens_answer_as_text_whatever_its_shape(
    scripted: Scripted, body: object, shown: str
) -> None:
    scripted.answer(400, body)

    answer = post_one(scripted, WORKSPACE)

    assert answer.kind is AnswerKind.REJECTED
    assert answer.message == f"SEEN refused this person (HTTP 400): {shown}"


def test_2_0_retrieve_answers_map_to_their_kind(scripted: Scripted) -> None:
    scripted.answer(200, {"id": "k1", "journeyOutputs": []})
    scripted.answer(404, {"message": "Not found."})
    scripted.answer(403, {"message": "Forbidden."})
    scripted.answer(429, {}, {"Retry-After": "3"})
    scripted.answer(502, b"Bad gateway")
    scripted.answer(200, b"not json")
    scripted.answers.append(NoAnswer("The connection broke.", maybe_stored=True))
    with SeenClient("https://next.seen.io", DEFAULT_TOKEN, transport=scripted) as seen:
        answers = [seen.retrieve(WORKSPACE, "k1") for _ in range(7)]

    assert [a.kind for a in answers] == [
        AnswerKind.FOUND,
        AnswerKind.ABSENT,
        AnswerKind.TOKEN_REFUSED,
        AnswerKind.THROTTLED,
        AnswerKind.SERVER_ERROR,
        AnswerKind.UNEXPECTED,
        AnswerKind.NO_ANSWER,
    ]
    assert answers[0].data == {"id": "k1", "journeyOutputs": []}
    assert answers[3].retry_after == 3
    assert scripted.requests[0].method == "GET"
    assert scripted.requests[0].url == "https://next.seen.io/v1/workspaces/ws-1/data/k1"


# -- answers only a scripted transport gives -------------------------------------------------


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
    scripted: Scripted, status: int, kind: AnswerKind, maybe_stored: bool
) -> None:
    scripted.answer(status, {"detail": "Something."})

    answer = post_one(scripted)

    assert (answer.kind, answer.status, answer.maybe_stored) == (kind, status, maybe_stored)


def test_400_object_concerns_the_whole_request(scripted: Scripted) -> None:
    scripted.answer(400, {"non_field_errors": ['Expected a list of items but got type "dict".']})

    answer = post_one(scripted)

    assert (answer.kind, answer.errors) == (AnswerKind.BAD_REQUEST, None)
    assert "Expected a list of items" in answer.message


def test_400_that_is_not_json_or_has_the_wrong_count_is_unexpected(scripted: Scripted) -> None:
    scripted.answer(400, b"<h1>Bad Request</h1>", {"Content-Type": "text/html"})
    scripted.answer(400, [{}, {}])  # two entries for one receiver

    assert post_one(scripted).kind is AnswerKind.UNEXPECTED
    assert post_one(scripted).kind is AnswerKind.UNEXPECTED


def test_drf_error_shapes_are_normalised_to_lists_of_messages(scripted: Scripted) -> None:
    scripted.answer(
        400,
        [
            {
                "email": "Enter a valid email address.",
                "extra_args": {"bilde": ["Bad URL."], "navn": "Too long."},
                "tags": [{}, {"name": ["Required."]}],
            }
        ],
    )

    answer = post_one(scripted)

    assert answer.errors == [
        {
            "email": ["Enter a valid email address."],
            "extra_args.bilde": ["Bad URL."],
            "extra_args.navn": ["Too long."],
            "tags.1.name": ["Required."],
        }
    ]


def test_retry_after_as_an_http_date_is_read_as_seconds_from_now(scripted: Scripted) -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    scripted.answer(
        429, {"detail": "Slow down."}, {"retry-after": format_datetime(later, usegmt=True)}
    )
    scripted.answer(429, {"detail": "Slow down."}, {"Retry-After": "soon"})

    dated = post_one(scripted)
    garbled = post_one(scripted)

    assert dated.retry_after is not None
    assert 60 < dated.retry_after <= 120
    assert (garbled.kind, garbled.retry_after) == (AnswerKind.THROTTLED, None)


def test_a_transport_that_gets_no_answer_gives_a_no_answer(scripted: Scripted) -> None:
    scripted.answers.append(NoAnswer("Nothing came back.", maybe_stored=True))

    answer = post_one(scripted)

    assert (answer.kind, answer.status, answer.message) == (
        AnswerKind.NO_ANSWER,
        None,
        "Nothing came back.",
    )
    assert answer.maybe_stored


# -- what needs a real socket ------------------------------------------------------------------


def test_request_has_seens_path_headers_and_utf8_json_body(raw: Raw) -> None:
    raw.answers.append(plain(201))
    with SeenClient(raw.url + "/", DEFAULT_TOKEN) as seen:
        seen.post_receivers(CAMPAIGN, [{"first_name": "Bjørn"}])

    sent = raw.requests[0]
    assert sent["path"] == f"/v1/campaigns/{CAMPAIGN}/receivers/"
    assert sent["headers"]["Authorization"] == f"Token {DEFAULT_TOKEN}"
    assert sent["headers"]["Content-Type"] == "application/json; charset=utf-8"


def test_connections_are_reused_between_requests(raw: Raw) -> None:
    raw.answers.extend([plain(201), plain(201)])
    with SeenClient(raw.url, DEFAULT_TOKEN) as seen:
        seen.post_receivers(CAMPAIGN, [{"first_name": "A"}])
        seen.post_receivers(CAMPAIGN, [{"first_name": "B"}])

    assert raw.requests[0]["port"] == raw.requests[1]["port"]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(
    raw: Raw, elsewhere: Raw, status: int
) -> None:
    raw.answers.append(plain(status, {"Location": f"{elsewhere.url}/steal/"}))
    raw.answers.append(plain(status, {"Location": f"{elsewhere.url}/steal/"}))
    with SeenClient(raw.url, DEFAULT_TOKEN) as seen:
        created = seen.post_receivers(CAMPAIGN, [{"first_name": "A"}])
        looked_up = seen.retrieve(WORKSPACE, "k1")

    assert (created.kind, created.status) == (AnswerKind.UNEXPECTED, status)
    assert (looked_up.kind, looked_up.status) == (AnswerKind.UNEXPECTED, status)
    assert len(raw.requests) == 2
    assert elsewhere.requests == []


def test_answer_broken_off_mid_body_is_no_answer_that_may_be_stored(raw: Raw) -> None:
    def broken_chunks(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(201)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b'40\r\n[{"id": 1')  # promises 64 bytes, then hangs up
        handler.close_connection = True

    raw.answers.append(broken_chunks)

    with SeenClient(raw.url, DEFAULT_TOKEN) as seen:
        answer = seen.post_receivers(CAMPAIGN, [{"first_name": "A"}])

    assert (answer.kind, answer.maybe_stored) == (AnswerKind.NO_ANSWER, True)


# -- failures the loopback cannot stage ---------------------------------------------------


def test_connect_timeout_means_nothing_was_sent() -> None:
    transport = RequestsTransport("http://127.0.0.1:9")
    cause = urllib3.exceptions.MaxRetryError(
        None, "/", urllib3.exceptions.ConnectTimeoutError(None, "timed out")
    )

    failure = transport.no_answer(requests.ConnectTimeout(cause))

    assert not failure.maybe_stored
    assert "timed out" in str(failure)


# -- where the token may go ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url",
    ["http://api.seen.io", "http://10.0.0.5:8765", "http://seen.example.com/"],
)
def test_plain_http_is_refused_for_any_address_but_this_machine(base_url: str) -> None:
    with pytest.raises(ConfigurationError, match="https://"):
        SeenClient(base_url, DEFAULT_TOKEN)


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:8765", "http://localhost:8765", "http://127.0.0.2", "http://[::1]:8765",
     "https://api.seen.io", "https://next.seen.io"],
)  # fmt: skip
def test_https_anywhere_and_plain_http_on_this_machine_are_accepted(base_url: str) -> None:
    assert SeenClient(base_url, DEFAULT_TOKEN).base_url == base_url


def test_a_request_handed_to_a_transport_does_not_show_its_token() -> None:
    request = Request("POST", "https://x", {"Authorization": f"Bearer {DEFAULT_TOKEN}"}, b"{}")

    assert DEFAULT_TOKEN not in repr(request)
    assert DEFAULT_TOKEN not in str(request)


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
            seen.post_receivers(WORKSPACE, [{"id": "k1", "first_name": "E"}]),
            seen.retrieve(WORKSPACE, "k1"),
            seen.list(WORKSPACE, query="id:k1"),
        ]

    assert {a.kind for a in answers} >= {AnswerKind.SERVER_ERROR, AnswerKind.NO_ANSWER}
    assert all(DEFAULT_TOKEN not in a.message for a in answers)
    assert "seen_core.send.client" in {r.name for r in caplog.records}
    assert DEFAULT_TOKEN not in caplog.text


def test_token_echoed_by_the_server_is_scrubbed(scripted: Scripted) -> None:
    scripted.answer(401, {"detail": f"Token {DEFAULT_TOKEN} is unknown."})
    scripted.answer(400, [{"first_name": [f"Got {DEFAULT_TOKEN}."]}])
    scripted.answer(400, {"message": f"Bearer {DEFAULT_TOKEN} may not create."})
    scripted.answer(200, {"id": "k1", "values": {"note": f"echo {DEFAULT_TOKEN}"}})

    refused = post_one(scripted)
    rejected = post_one(scripted)
    rejected_2_0 = post_one(scripted, WORKSPACE)
    with SeenClient("https://next.seen.io", DEFAULT_TOKEN, transport=scripted) as seen:
        found = seen.retrieve(WORKSPACE, "k1")

    assert DEFAULT_TOKEN not in refused.message
    assert "***" in refused.message
    assert DEFAULT_TOKEN not in json.dumps(rejected.errors)
    assert DEFAULT_TOKEN not in rejected_2_0.message
    assert found.data == {"id": "k1", "values": {"note": "echo ***"}}


def test_malformed_token_is_refused_without_quoting_it() -> None:
    with pytest.raises(ConfigurationError) as raised:
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
    with pytest.raises(ConfigurationError, match="http"):
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
