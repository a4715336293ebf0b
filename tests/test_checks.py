"""The validation rules on the rows a user sees: codes, row numbers, severities, re-checks."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from builders import messy_workbook
from hypothesis import given, settings
from hypothesis import strategies as st

from seen_core.check.checks import (
    IMAGE_MAX_BYTES,
    CheckOptions,
    check_image_online,
    check_sheet,
    recheck,
)
from seen_core.check.contact import email_valid, phone_e164
from seen_core.check.mapping import Mapping, suggest
from seen_core.read.sheets import read_sheet


def _rows_codes(result) -> list[tuple[int | None, str]]:
    return [(p.row, p.code) for p in result.problems]


def _table(rows: dict[int, dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index", dtype=object)
    frame.index.name = "row"
    return frame


@pytest.fixture
def messy():
    sheet = read_sheet("kunder.xlsx", messy_workbook())
    return sheet.table.copy(), suggest(sheet.columns)


# --- every rule on the messy workbook, on the row the user sees in Excel -------------------------


def test_messy_workbook_problems_on_excel_rows(messy):
    table, mapping = messy
    result = check_sheet(table, mapping)
    assert _rows_codes(result) == [
        (6, "first_name_missing"),
        (7, "email_invalid"),
        (9, "customer_id_duplicate"),
        (10, "phone_invalid"),
        (11, "no_contact"),
        (12, "image_url_extension"),
    ]
    assert result.counts == {"rows": 7, "valid": 1, "invalid": 6, "warnings": 0}
    assert result.valid_rows == [5]


def test_problems_name_the_users_column_and_the_seen_field(messy):
    table, mapping = messy
    found = {p.code: p for p in check_sheet(table, mapping).problems}
    assert (found["email_invalid"].column, found["email_invalid"].field) == ("E-post", "email")
    assert (found["phone_invalid"].column, found["phone_invalid"].field) == ("Mobil", "phone")
    assert (found["image_url_extension"].column, found["image_url_extension"].field) == (
        "Bilde",
        "bilde",
    )
    assert "per@@example" in found["email_invalid"].message
    assert all(p.severity == "error" for p in found.values())


def test_duplicate_customer_id_names_the_earlier_row(messy):
    table, mapping = messy
    (duplicate,) = [p for p in check_sheet(table, mapping).problems if p.code.endswith("duplicate")]
    assert duplicate.row == 9
    assert "row 5" in duplicate.message
    assert "100" in duplicate.message


def test_no_contact_is_a_warning_when_seen_does_not_deliver(messy):
    table, mapping = messy
    result = check_sheet(table, mapping, CheckOptions(delivery=False))
    (no_contact,) = [p for p in result.problems if p.code == "no_contact"]
    assert (no_contact.row, no_contact.severity) == (11, "warning")
    assert 11 in result.valid_rows
    assert result.counts["warnings"] == 1


def test_customer_id_missing_is_a_sheet_warning_when_unmapped(messy):
    table, mapping = messy
    fields = {k: v for k, v in mapping.fields.items() if k != "customer_id"}
    result = check_sheet(table, Mapping(fields, mapping.extra_args))
    sheet_level = [(p.row, p.code, p.severity) for p in result.sheet_problems]
    assert sheet_level == [(None, "customer_id_missing", "warning")]
    assert (9, "customer_id_duplicate") not in _rows_codes(result)
    assert not result.blocked


def test_unmapped_first_name_blocks_every_row(messy):
    table, mapping = messy
    fields = {k: v for k, v in mapping.fields.items() if k != "first_name"}
    result = check_sheet(table, Mapping(fields, mapping.extra_args))
    assert (None, "first_name_unmapped") in _rows_codes(result)
    assert result.blocked
    assert result.valid_rows == []


def test_mapping_to_a_missing_column_is_reported_not_raised(messy):
    table, mapping = messy
    result = check_sheet(table, Mapping({**mapping.fields, "email": "Epost-adresse"}))
    assert (None, "column_not_found") in _rows_codes(result)
    assert result.valid_rows == []


def test_trimmed_values_pass(messy):
    table, mapping = messy
    assert 12 not in {
        p.row for p in check_sheet(table, mapping).problems if p.code != "image_url_extension"
    }


# --- phone numbers and regions -------------------------------------------------------------------


def test_swedish_number_is_valid_in_region_se_and_not_in_no():
    table = _table({2: {"Fornavn": "Sven", "Mobil": "0701234567"}})
    mapping = Mapping({"first_name": "Fornavn", "phone": "Mobil"})
    in_norway = check_sheet(table, mapping, CheckOptions(region="NO"))
    in_sweden = check_sheet(table, mapping, CheckOptions(region="SE"))
    assert (2, "phone_invalid") in _rows_codes(in_norway)
    assert "Norway (+47)" in next(
        p.message for p in in_norway.problems if p.code == "phone_invalid"
    )
    assert (2, "phone_invalid") not in _rows_codes(in_sweden)
    assert phone_e164("0701234567", "SE") == "+46701234567"


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("4745860321", "+4745860321"),
        ("45860321", "+4745860321"),
        ("+47 458 60 321", "+4745860321"),
        ("004745860321", "+4745860321"),
        ("12345", None),
        ("ring meg", None),
        ("", None),
    ],
)
def test_phone_e164_in_norway(text: str, e164: str | None):
    assert phone_e164(text, "NO") == e164


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("ola@example.no", True),
        ("øyvind@eksempel.no", True),
        ("per@@example", False),
        ("per@example", False),
        ("per example.no", False),
        ("@example.no", False),
    ],
)
def test_email_syntax(text: str, valid: bool):
    assert email_valid(text) is valid


# --- re-checking edited rows ---------------------------------------------------------------------


def test_recheck_of_a_fixed_cell_equals_a_full_check(messy):
    table, mapping = messy
    before = check_sheet(table, mapping)
    table.loc[7, "E-post"] = "per@example.no"
    table.loc[6, "Fornavn"] = "Kari"
    after = recheck(before, table, mapping, [7, 6])
    assert after.problems == check_sheet(table, mapping).problems
    assert (7, "email_invalid") not in _rows_codes(after)
    assert (6, "first_name_missing") not in _rows_codes(after)
    assert after.valid_rows == [5, 6, 7]


def test_recheck_finds_a_problem_introduced_by_an_edit(messy):
    table, mapping = messy
    before = check_sheet(table, mapping)
    table.loc[5, "Mobil"] = "123"
    after = recheck(before, table, mapping, [5])
    assert (5, "phone_invalid") in _rows_codes(after)
    assert after.problems == check_sheet(table, mapping).problems


def test_recheck_finds_a_duplicate_introduced_by_an_edit(messy):
    table, mapping = messy
    before = check_sheet(table, mapping)
    table.loc[12, "Kundenr"] = "101"
    after = recheck(before, table, mapping, [12])
    assert (12, "customer_id_duplicate") in _rows_codes(after)
    assert after.problems == check_sheet(table, mapping).problems


def test_fixing_the_first_of_two_duplicates_clears_the_other(messy):
    table, mapping = messy
    before = check_sheet(table, mapping)
    table.loc[5, "Kundenr"] = "99"
    after = recheck(before, table, mapping, [5])
    assert (9, "customer_id_duplicate") not in _rows_codes(after)
    assert 9 in after.valid_rows
    assert after.problems == check_sheet(table, mapping).problems


# --- image URLs, online, against a real server on 127.0.0.1 --------------------------------------

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/ok.png":
            self._answer(200, "image/png", PNG)
        elif self.path == "/moved.png":
            self.send_response(302)
            self.send_header("Location", "/ok.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/secret.png":
            self._answer(401, "text/plain", b"login first")
        elif self.path == "/page.png":
            self._answer(200, "text/html; charset=utf-8", b"<html>not an image</html>")
        elif self.path == "/big.png":
            self._answer(200, "image/png", PNG + bytes(IMAGE_MAX_BYTES))
        elif self.path == "/big-unsized.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(PNG + bytes(IMAGE_MAX_BYTES))
        else:
            self._answer(404, "text/plain", b"no such image")

    def _answer(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def image_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_online_image_rules_against_a_real_server(image_server: str):
    paths = {
        2: "/ok.png",
        3: "/moved.png",
        4: "/secret.png",
        5: "/page.png",
        6: "/big.png",
        7: "/big-unsized.png",
        8: "/gone.png",
    }
    table = _table(
        {
            row: {"Fornavn": "Ola", "E-post": "ola@example.no", "Bilde": image_server + path}
            for row, path in paths.items()
        }
    )
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {"bilde": "Bilde"})
    options = CheckOptions(check_images=True, image_allow_loopback=True)
    result = check_sheet(table, mapping, options)
    assert [(p.row, p.code) for p in result.problems if p.row is not None] == [
        (3, "image_url_redirect"),
        (4, "image_url_auth"),
        (5, "image_url_type"),
        (6, "image_url_too_large"),
        (7, "image_url_too_large"),
        (8, "image_url_unreachable"),
    ]
    assert all(p.field == "bilde" and p.column == "Bilde" for p in result.problems if p.row)
    assert 2 in result.valid_rows


def test_images_are_not_fetched_unless_asked(image_server: str):
    table = _table(
        {2: {"Fornavn": "Ola", "E-post": "o@example.no", "Bilde": image_server + "/secret.png"}}
    )
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {"bilde": "Bilde"})
    assert check_sheet(table, mapping).valid_rows == [2]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://x.example/a.jpg", False),
        ("https://x.example/a.jpeg?size=2", False),
        ("https://x.example/a.JPG", True),
        ("https://x.example/a.gif", True),
        ("https://x.example/photo", True),
    ],
)
def test_image_extension_rule_offline(url: str, problem: bool):
    table = _table({2: {"Fornavn": "Ola", "E-post": "o@example.no", "Bilde": url}})
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {"bilde": "Bilde"})
    assert ((2, "image_url_extension") in _rows_codes(check_sheet(table, mapping))) is problem


# --- image URLs that must not be fetched, proxies, one deadline -----------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket on 127.0.0.1 that accepts nothing: a connection to it would be left pending."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock
    finally:
        sock.close()


def _was_connected_to(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


def test_a_loopback_image_url_is_refused_without_being_fetched(listener: socket.socket):
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/ola.png"
    assert check_image_online(url) == (
        "image_url_unreachable",
        "The image URL leads to this server's own address (127.0.0.1); it is not fetched, "
        "and SEEN could not reach it either.",
    )
    table = _table({2: {"Fornavn": "Ola", "E-post": "o@example.no", "Bilde": url}})
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {"bilde": "Bilde"})
    result = check_sheet(table, mapping, CheckOptions(check_images=True))
    assert (2, "image_url_unreachable") in _rows_codes(result)
    assert not _was_connected_to(listener)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://localhost/a.png", "is an internal name"),
        ("http://metadata.google.internal/computeMetadata/v1/a.png", "is an internal name"),
        ("http://169.254.169.254/latest/meta-data/a.png", "a cloud server's metadata address"),
        ("http://[fd00:ec2::254]/a.png", "a cloud server's metadata address"),
        ("http://169.254.1.1/a.png", "a link-local address"),
        ("http://10.0.0.7/a.png", "a private network address"),
        ("http://192.168.1.1:8080/a.png", "a private network address"),
        ("http://[::1]/a.png", "this server's own address"),
        ("http://[::ffff:127.0.0.1]/a.png", "this server's own address (::ffff:127.0.0.1)"),
        ("http://2130706433/a.png", "this server's own address (127.0.0.1)"),  # 127.0.0.1
        ("http://0.0.0.0/a.png", "an unspecified address"),
        ("http://224.0.0.1/a.png", "a multicast address"),
        ("http://100.64.0.1/a.png", "an address outside the public internet"),
    ],
)
def test_internal_and_metadata_addresses_are_refused(url: str, reason: str):
    code, message = check_image_online(url)
    assert code == "image_url_unreachable"
    assert reason in message


def test_the_host_is_looked_up_once_and_the_checked_address_is_fetched(
    image_server: str, monkeypatch: pytest.MonkeyPatch
):
    # A host that answers a public look-up first and an internal one after (DNS rebinding)
    # must be fetched from the address that was checked.
    from seen_core.check import image_fetch

    port = int(image_server.rsplit(":", 1)[1])
    answers = iter(
        [
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))],
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))],
        ]
    )
    calls = []

    def look_up(host, *args, **kwargs):
        calls.append(host)
        return next(answers)

    monkeypatch.setattr(image_fetch.socket, "getaddrinfo", look_up)
    assert check_image_online(f"http://images.example:{port}/ok.png", allow_loopback=True) is None
    assert calls == ["images.example"]


def test_proxy_settings_in_the_environment_are_ignored(
    image_server: str, listener: socket.socket, monkeypatch: pytest.MonkeyPatch
):
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert check_image_online(image_server + "/ok.png", allow_loopback=True) is None
    assert check_image_online(image_server + "/page.png", allow_loopback=True)[0] == (
        "image_url_type"
    )
    assert not _was_connected_to(listener)


class _SlowHandler(BaseHTTPRequestHandler):
    """Answers one byte at a time, forever: each read is quick, the answer never ends."""

    def do_GET(self) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n")
        try:
            while not self.server.stopping.is_set():  # type: ignore[attr-defined]
                self.wfile.write(b"X")
                self.wfile.flush()
                self.server.stopping.wait(0.02)  # type: ignore[attr-defined]
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_slow_image_server_is_cut_at_the_deadline():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/slow.png"
        assert check_image_online(url, timeout=0.3, allow_loopback=True) == (
            "image_url_unreachable",
            "The image URL did not answer in full within 0.3 seconds.",
        )
    finally:
        server.stopping.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join()


# --- text_invalid: control characters in values to be sent --------------------------------------


def test_rows_by_code_counts_each_row_once_per_kind_of_problem():
    table = _table(
        {
            2: {"Fornavn": "", "Mobil": "12", "Bilde": "http://x.no/a.gif"},  # three kinds
            3: {"Fornavn": "Ola", "Mobil": "12"},
            4: {"Fornavn": "Kari", "Mobil": "45860321"},
            5: {"Fornavn": "Per\x00", "Mobil": "45860322", "Bilde": "http://x.no/b.GIF\x01"},
        }
    )
    mapping = Mapping({"first_name": "Fornavn", "phone": "Mobil"}, {"bilde": "Bilde"})
    result = check_sheet(table.fillna(""), mapping)
    assert result.rows_by_code == {
        "first_name_missing": 1,
        "phone_invalid": 2,
        "image_url_extension": 2,
        "text_invalid": 1,  # row 5 has it twice (two cells): one row
    }


def test_control_characters_in_values_to_be_sent_are_text_invalid():
    table = _table(
        {
            2: {"Fornavn": "Ola\x00", "E-post": "o@example.no", "Notat": "ok", "Intern": "\x07"},
            3: {"Fornavn": "Kari", "E-post": "k@example.no", "Notat": "pip\x07", "Intern": ""},
            4: {"Fornavn": "Per", "E-post": "p@example.no", "Notat": "a\tb\r\nc", "Intern": ""},
            5: {"Fornavn": "Eva\x1b[2J", "E-post": "e@example.no", "Notat": "\x85", "Intern": ""},
        }
    )
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {"notat": "Notat"})
    result = check_sheet(table, mapping)
    found = [(p.row, p.column, p.field, p.code, p.message) for p in result.problems if p.row]
    assert found == [
        (2, "Fornavn", "first_name", "text_invalid",
         "'Fornavn' holds a NUL character (U+0000), which SEEN refuses."),
        (3, "Notat", "notat", "text_invalid",
         "'Notat' holds an invisible control character (U+0007), which SEEN refuses."),
        (5, "Fornavn", "first_name", "text_invalid",
         "'Fornavn' holds an invisible control character (U+001B), which SEEN refuses."),
        (5, "Notat", "notat", "text_invalid",
         "'Notat' holds an invisible control character (U+0085), which SEEN refuses."),
    ]  # fmt: skip
    assert result.valid_rows == [4]  # tab, CR and LF are allowed; the unmapped column is not sent


def test_recheck_clears_text_invalid_once_the_cell_is_fixed():
    table = _table({2: {"Fornavn": "Ola\x00", "E-post": "o@example.no"}})
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {})
    result = check_sheet(table, mapping)
    assert (2, "text_invalid") in _rows_codes(result)
    table.loc[2, "Fornavn"] = "Ola"
    assert recheck(result, table, mapping, [2]).valid_rows == [2]


def test_the_phone_message_names_the_country_only_for_a_number_without_one():
    table = pd.DataFrame(
        {"Fornavn": ["A", "B"], "Mobil": ["12345", "+46 12"]},
        index=pd.Index([2, 3], name="row"),
        dtype=object,
    )
    mapping = Mapping({"first_name": "Fornavn", "phone": "Mobil"}, {})
    found = check_sheet(table, mapping, CheckOptions(region="NO"))
    messages = {p.row: p.message for p in found.problems if p.code == "phone_invalid"}
    assert "read as Norway (+47)" in messages[2]
    assert messages[3] == "'+46 12' is not a valid phone number."


# --- text_mojibake: text garbled by a wrong encoding ---------------------------------------------


def garbled(text: str) -> str:
    """Text as it reads when its UTF-8 bytes are taken for Windows-1252 (Latin-1 for the five
    bytes Windows-1252 leaves out), as a wrong import or a mixed file leaves it."""
    return "".join(
        bytes([byte]).decode("cp1252", "ignore") or chr(byte) for byte in text.encode("utf-8")
    )


def _garbled_problems(rows: dict[int, dict[str, str]], mapping: Mapping) -> list[tuple]:
    result = check_sheet(_table(rows).fillna(""), mapping)
    return [
        (p.row, p.column, p.field, p.severity, p.message)
        for p in result.problems
        if p.code == "text_mojibake"
    ]


def test_a_name_garbled_by_a_wrong_encoding_is_an_error_that_says_what_it_was():
    assert garbled("Bjørn") == "BjÃ¸rn"
    table = _table(
        {
            2: {"Fornavn": "Bjørn", "E-post": "b@example.no", "By": "Tromsø"},
            3: {"Fornavn": "BjÃ¸rn", "E-post": "b2@example.no", "By": "Tromsø"},
            4: {"Fornavn": "Kari", "E-post": "k@example.no", "By": "TromsÃ¸"},
        }
    )
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {"by": "By"})
    result = check_sheet(table, mapping)
    found = [(p.row, p.column, p.field, p.severity, p.message) for p in result.problems if p.row]
    assert found == [
        (3, "Fornavn", "first_name", "error",
         "'BjÃ¸rn' looks garbled by a wrong text encoding (probably 'Bjørn'): fix the file or "
         "the cell."),
        (4, "By", "by", "error",
         "'TromsÃ¸' looks garbled by a wrong text encoding (probably 'Tromsø'): fix the file or "
         "the cell."),
    ]  # fmt: skip
    assert result.valid_rows == [2]


@pytest.mark.parametrize(
    ("value", "meant"),
    [
        ("Ã¦rlig", "ærlig"),
        ("Ã…se", "Åse"),
        ("MÃ¼ller", "Müller"),
        ("CafÃ©", "Café"),
        ("O'Brien â€“ itâ€™s", "O'Brien – it’s"),
        ("BjÃƒÂ¸rn", "Bjørn"),  # garbled twice
        ("WaÅ‚Ä™sa", "Wałęsa"),
        ("Ã˜degÃ¥rd", "Ødegård"),
        ("Ð˜Ð²Ð°Ð½", "Иван"),
        ("à€€ í\u00a0€", None),  # bytes that make no letter in UTF-8
    ],
)
def test_garbled_values_are_told_apart_from_what_they_were(value: str, meant: str | None):
    from seen_core.check.checks import mojibake_repair

    assert mojibake_repair(value) == meant


@pytest.mark.parametrize(
    "value",
    [
        "Ødegård", "Åse", "Müller", "Ærø", "Café", "Sæther-Bø", "Zoë", "François", "Straße",
        "Jørgen Å. Øvrebø", "O’Brien", "«Østlandet» – 50 % på alt", "JOSÉ’S", "«Ø»",
        "Å\u00a0i Lofoten", "Ã", "Â", "São Paulo", "Þór", "5 °C", "© 2026", "ÆØÅ æøå",
    ],
)  # fmt: skip
def test_real_text_with_letters_beyond_ascii_is_not_called_garbled(value: str):
    from seen_core.check.checks import mojibake_repair

    assert mojibake_repair(value) is None
    assert _garbled_problems({2: {"Fornavn": value}}, Mapping({"first_name": "Fornavn"})) == []


_NORDIC_LOWER = "abcdefghijklmnopqrstuvwxyzæøåäöüé"
_NORDIC_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅÄÖÜÉ"
_NAME_PART = st.builds(
    str.__add__,
    st.sampled_from(_NORDIC_UPPER),
    st.text(alphabet=_NORDIC_LOWER, min_size=1, max_size=10),
)


def _name(parts: list[str], joiners: list[str], capitals: bool) -> str:
    name = "".join(part + joiner for part, joiner in zip(parts, joiners, strict=False))
    name = name.rstrip(" -'.")
    return name.upper() if capitals else name


_NAMES = st.builds(
    _name,
    st.lists(_NAME_PART, min_size=1, max_size=4),
    st.lists(st.sampled_from([" ", "-", "'", ". "]), min_size=4, max_size=4),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(_NAMES)
def test_no_nordic_name_is_called_garbled_and_every_garbled_one_is_told_back(name: str):
    from seen_core.check.checks import mojibake_repair

    assert mojibake_repair(name) is None
    if not name.isascii():
        assert mojibake_repair(garbled(name)) == name


def test_garbled_values_are_found_on_their_rows_in_a_long_column():
    """The column is searched whole; the rows it points at must be the right ones, however
    many lines the cells before them hold."""
    names = [f"Navn{i}" for i in range(2_000)]
    names[0] = "SÃ¸ren"
    names[5] = "to\nlinjer\n"
    names[6] = "Ã…se"
    names[1_998] = "first\nsecond ÃŸ"
    rows = {i + 2: {"Fornavn": name} for i, name in enumerate(names)}
    found = _garbled_problems(rows, Mapping({"first_name": "Fornavn"}))
    assert [(row, message.split(" looks")[0]) for row, _, _, _, message in found] == [
        (2, "'SÃ¸ren'"),
        (8, "'Ã…se'"),
        (2_000, "'first\nsecond ÃŸ'"),
    ]


def test_a_long_garbled_value_is_quoted_where_it_is_garbled():
    value = "Hilsen fra oss alle i butikken, vi sees snart igjen i MÃ¼nchen eller Oslo!"
    ((_, _, _, _, message),) = _garbled_problems(
        {2: {"Fornavn": "Ola", "Hilsen": value}},
        Mapping({"first_name": "Fornavn"}, {"hilsen": "Hilsen"}),
    )
    assert message == (
        "'…igjen i MÃ¼nchen eller Oslo!' looks garbled by a wrong text encoding "
        "(probably '…igjen i München eller Oslo!'): fix the file or the cell."
    )


def test_a_garbled_xlsx_cell_is_found_too(tmp_path):
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Ark1")
    sheet.write_row(0, 0, ["Fornavn", "E-post"])
    sheet.write_row(1, 0, ["BjÃ¸rn", "bjorn@example.no"])
    sheet.write_row(2, 0, ["Bjørn", "bjorn2@example.no"])
    book.close()
    read = read_sheet("kunder.xlsx", buffer.getvalue())
    result = check_sheet(read.text, suggest(read.columns))
    assert [(p.row, p.code) for p in result.problems if p.row] == [(2, "text_mojibake")]
    assert result.valid_rows == [3]


def test_recheck_clears_text_mojibake_once_the_cell_is_fixed():
    table = _table({2: {"Fornavn": "KÃ¥re", "E-post": "k@example.no"}})
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {})
    result = check_sheet(table, mapping)
    assert (2, "text_mojibake") in _rows_codes(result)
    table.loc[2, "Fornavn"] = "Kåre"
    assert recheck(result, table, mapping, [2]).valid_rows == [2]


# --- text_formula: a value that looks like a spreadsheet formula --------------------------------


def test_a_formula_where_a_name_should_be_is_a_warning_and_the_row_is_still_sent():
    table = _table(
        {
            2: {"Fornavn": '=HYPERLINK("http://x","win")', "Mobil": "+4745860321", "Antall": "-5"},
            3: {"Fornavn": "Kari", "Mobil": "+4745860322", "Antall": "=SUM(A1:A9)"},
            4: {"Fornavn": "Per", "Mobil": "45860323", "Antall": "12"},
        }
    )
    mapping = Mapping({"first_name": "Fornavn", "phone": "Mobil"}, {"antall": "Antall"})
    result = check_sheet(table, mapping)
    found = [(p.row, p.column, p.field, p.code, p.severity, p.message) for p in result.problems]
    assert found[1:] == [
        (2, "Fornavn", "first_name", "text_formula", "warning",
         "'=HYPERLINK(\"http://x\",\"win\")' looks like a spreadsheet formula: the film would show "
         "it as written."),
        (3, "Antall", "antall", "text_formula", "warning",
         "'=SUM(A1:A9)' looks like a spreadsheet formula: the film would show it as written."),
    ]  # fmt: skip
    assert [p.code for p in result.problems if p.row] == ["text_formula"] * 2  # phone and -5 pass
    assert result.valid_rows == [2, 3, 4]
    assert result.counts["warnings"] == 3  # and no customer ID column, for the whole sheet


@pytest.mark.parametrize(
    ("value", "formula"),
    [
        ('=HYPERLINK("http://x","win")', True),
        ("=SUM(A1)", True),
        ("=1+2", True),
        ("  =A1", True),  # sent trimmed
        ("@SUM(A1)", True),
        ("+SUM(A1)", True),
        ("-cmd|' /C calc'!A0", True),
        ("- 2+3+cmd|' /C notepad'!'B1'", True),
        ("+47 45860321 (mobil)", False),
        ("+1+2", False),
        ("+4712345678", False),
        ("+47 458 60 321", False),
        ("-5", False),
        ("-2,5", False),
        ("2026-01-15", False),
        ("ola.nordmann@example.no", False),
        ("@ola_nordmann", False),  # a handle, not a formula
        ("Anne-Marie", False),
        ("-", False),
        ("=", False),
        ("Ola (=1)", False),
        ("https://img.example.com/a.jpg?w=200", False),
    ],
)
def test_what_looks_like_a_formula(value: str, formula: bool):
    from seen_core.check.checks import looks_like_formula

    assert looks_like_formula(value) is formula
    table = _table({2: {"Fornavn": "Ola", "Notat": value}, 3: {"Fornavn": "Kari", "Notat": value}})
    result = check_sheet(table, Mapping({"first_name": "Fornavn"}, {"notat": "Notat"}))
    flagged = [p.row for p in result.problems if p.code == "text_formula"]
    assert flagged == ([2, 3] if formula else [])


def test_formulas_are_found_in_every_field_sent_and_on_the_right_rows():
    names = [f"Navn{i}" for i in range(1_000)]
    names[3] = "a\n=b"  # a later line of a cell: the cell does not start with it
    names[4] = "=SUM(1)"
    emails = [f"p{i}@example.no" for i in range(1_000)]
    emails[0] = '=HYPERLINK("mailto:x@example.no")'
    ids = [str(i) for i in range(1_000)]
    ids[999] = "+cmd|x"
    rows = {
        i + 2: {"Fornavn": n, "E-post": e, "Kundenr": c}
        for i, (n, e, c) in enumerate(zip(names, emails, ids, strict=True))
    }
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post", "customer_id": "Kundenr"}, {})
    result = check_sheet(_table(rows), mapping)
    flagged = sorted((p.row, p.field) for p in result.problems if p.code == "text_formula")
    assert flagged == [(2, "email"), (6, "first_name"), (1_001, "customer_id")]


def test_recheck_clears_text_formula_once_the_cell_is_fixed():
    table = _table({2: {"Fornavn": "=A1", "E-post": "o@example.no"}})
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {})
    result = check_sheet(table, mapping)
    assert _rows_codes(result) == [(None, "customer_id_missing"), (2, "text_formula")]
    table.loc[2, "Fornavn"] = "Ola"
    assert _rows_codes(recheck(result, table, mapping, [2])) == [(None, "customer_id_missing")]
