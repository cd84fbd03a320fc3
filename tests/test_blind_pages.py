"""Blind marking stays blind: nothing on a judge's pages, in their addresses, ids or htmx
answers leads from a blind code to a person (DOMAIN.md, "Blind marking on a live board").

The demo is loaded and every demo judge signs in; every page a judge can reach is read (home,
each sheet, the entry page of several blind codes, a row, a save's answer, a conflict's
answer, the count) and scanned: no entry's database id, bib, draw order or station in any
address or id, no contestant's name or delegation anywhere, no station on a blind page, and
a non-blind sheet names its rows by station and a random key, never by blind code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import func, select

from scoring import demo
from scoring.extensions import db
from scoring.models import Criterion, Entry, Event, Mark, MarkRevision

from .judging_helpers import csrf_token
from .test_cli import run

URL_ATTRIBUTES = ("href", "hx-get", "hx-post", "action", "src")
# Attributes that name things on the page: an entry's id, bib or order has no place in them.
NAME_ATTRIBUTES = ("id", "for", "name", "aria-describedby", "aria-labelledby",
                   "aria-controls", "hx-target")
JUDGES = [account for account in demo.ACCOUNTS if account.role == "judge"]


class Scan(HTMLParser):
    """Every element's attributes, the text, and the rows of a mark sheet (their label's
    text and their save address)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.labels: list[str] = []  # the text of each row's label, in order
        self.saves: list[tuple[str, str, str]] = []  # (save URL, version, data-saved)
        self._label: list[str] | None = None
        self._form: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.elements.append((tag, values))
        classes = values.get("class", "").split()
        if tag == "label" and "row-label" in classes:
            self._label = []
        if tag == "form" and "mark-form" in classes:
            self._form = [values["hx-post"], "", ""]
        if self._form is not None and tag == "input":
            if values.get("name") == "version":
                self._form[1] = values.get("value", "")
            if values.get("name") == "value":
                self._form[2] = values.get("data-saved", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label is not None:
            self.labels.append(" ".join("".join(self._label).split()))
            self._label = None
        if tag == "form" and self._form is not None:
            self.saves.append((self._form[0], self._form[1], self._form[2]))
            self._form = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._label is not None:
            self._label.append(data)


def scan(html: str) -> Scan:
    parser = Scan()
    parser.feed(html)
    parser.close()
    return parser


@dataclass
class Seen:
    """What a judge's pages showed, by the address they came from."""

    pages: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, html: str) -> Scan:
        self.pages[where] = html
        return scan(html)


def url_parts(url: str) -> list[str]:
    """The path segments and query values of an address, and those of an address given as
    a query value (the language switch's `next`)."""
    split = urlsplit(url)
    parts = [unquote(segment) for segment in split.path.split("/") if segment]
    for _name, value in parse_qsl(split.query, keep_blank_values=True):
        parts += url_parts(value) if value.startswith("/") else [value]
    return parts


@pytest.fixture
def weld(runner: FlaskCliRunner) -> Event:
    run(runner, "demo")
    return db.session.scalar(select(Event).where(Event.code == "WELD"))


def entries_of(event: Event) -> list[Entry]:
    return list(db.session.scalars(select(Entry).where(Entry.event_id == event.id)
                                   .order_by(Entry.id)))


def criterion(event: Event, code: str) -> Criterion:
    return next(c for c in event.criteria if c.code == code)


def sign_in_as(client: FlaskClient, username: str, password: str) -> str:
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return csrf_token(client, response.headers["Location"])


def post(client: FlaskClient, csrf: str, url: str, **form: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"view": "sheet", **form},
                       headers={"HX-Request": "true", "X-CSRFToken": csrf})


def read_everything(client: FlaskClient, event: Event, username: str, password: str) -> Seen:
    """Every judge page this judge can reach, and the answers of a row, a save, a conflict
    and the count."""
    seen = Seen()
    token = sign_in_as(client, username, password)
    home = seen.add("/judge", client.get("/judge").get_data(as_text=True))
    sheets = [href for tag, attrs in home.elements if tag == "a"
              and (href := attrs.get("href", "")).startswith("/judge/WELD/")]
    assert sheets, home.text
    codes: list[str] = []
    for sheet in sheets:
        response = client.get(sheet)
        assert response.status_code == 200, sheet
        page = seen.add(sheet, response.get_data(as_text=True))
        code = sheet.rsplit("/", 1)[1]
        progress = client.get(f"{sheet}/progress").get_data(as_text=True)
        seen.add(f"{sheet}/progress", progress)
        done, expected = map(int, progress.split(" / "))
        # The count agrees with the sheet: every mark counted is on a row of it, and no
        # more marks are expected than the sheet has rows.
        assert done == sum(1 for _url, _version, saved in page.saves if saved), sheet
        assert expected <= len(page.labels), sheet
        if criterion(event, code).blind:
            codes += page.labels[:3]
        if not page.saves:
            continue
        url, version, _saved = page.saves[0]
        row = client.get(url + "?view=sheet")
        assert row.status_code == 200, url
        seen.add(f"GET {url}", row.get_data(as_text=True))
        # A save over a version the page never saw: the conflict's answer (with its "keep
        # the saved value" address) when there is a mark, else a plain save.
        answer = post(client, token, url, value="0", version="",
                      token=f"scan-{username}-{code}-1")
        assert answer.status_code == 200
        seen.add(f"POST {url}", answer.get_data(as_text=True))
        again = scan(answer.get_data(as_text=True))
        if again.saves:
            version = again.saves[0][1]
        answer = post(client, token, url, value="0", version=version,
                      token=f"scan-{username}-{code}-2")
        assert answer.status_code == 200
        seen.add(f"POST {url} (again)", answer.get_data(as_text=True))
    for code in dict.fromkeys(codes):
        response = client.get(f"/judge/WELD/code/{code}")
        assert response.status_code == 200, code
        page = seen.add(f"/judge/WELD/code/{code}", response.get_data(as_text=True))
        for url, _version, _saved in page.saves:
            answer = post(client, token, url, value="0", version="", view="entry",
                          token=f"scan-{username}-{url}")
            seen.add(f"POST {url} (entry page)", answer.get_data(as_text=True))
    found = client.get(f"/judge/WELD/code?code={codes[0].lower()}")
    assert found.status_code == 302
    seen.add("find", found.headers["Location"])
    return seen


def assert_blind(event: Event, seen: Seen, judge_delegation: str | None) -> None:
    entries = entries_of(event)
    blind = {c.code for c in event.criteria if c.blind}
    numbers = ({str(entry.id) for entry in entries} | {entry.bib for entry in entries}
               | {str(entry.draw_order) for entry in entries if entry.draw_order}
               | {str(entry.station) for entry in entries if entry.station})
    keys = {entry.blind_code for entry in entries} | {entry.sheet_key for entry in entries}
    people = ({entry.contestant.name for entry in entries}
              | {entry.delegation for entry in entries if entry.delegation})
    assert len(numbers) > len(entries) and people
    for where, html in seen.pages.items():
        page = scan(html)
        for _tag, attrs in page.elements:
            for name in URL_ATTRIBUTES:
                if name in attrs:
                    bad = set(url_parts(attrs[name])) & numbers
                    assert not bad, (where, name, attrs[name])
            for name in NAME_ATTRIBUTES:
                value = attrs.get(name, "")
                for key in keys:  # a random key may hold digits between its dashes
                    value = value.replace(key, "KEY")
                bad = set(re.split(r"[-_\s#]", value)) & numbers
                assert not bad, (where, name, attrs.get(name))
        if where == "find":  # the redirect of the find box: an address
            assert not set(url_parts(html)) & numbers
            continue
        for person in people - {judge_delegation}:
            assert person not in html, (where, person)
        sheet = re.fullmatch(r"(?:GET |POST )?/judge/WELD/([^/]+)(?:/.*)?", where)
        code = sheet.group(1) if sheet else None
        on_blind_page = code == "code" or code in blind
        if on_blind_page:
            assert 'class="station"' not in html and "工位" not in html, where
            for entry in entries:
                assert entry.sheet_key not in html, where
        if code in blind and "/" not in where.split(f"/{code}", 1)[1]:
            # A blind sheet: each row is its blind code alone, by blind code.
            assert page.labels == sorted(page.labels), where
            assert set(page.labels) <= {entry.blind_code for entry in entries}, where
            assert "本代表队" not in html, where  # no refusal says whose the entry is
        # No bib as a word of the text (bibs with a leading zero cannot be a count).
        words = set(re.split(r"[\s/·:：()（），,]+", " ".join(page.text)))
        assert not words & {entry.bib for entry in entries if entry.bib.startswith("0")}, where


@pytest.mark.parametrize("account", JUDGES, ids=[account.username for account in JUDGES])
def test_a_judges_pages_lead_to_nobody(client: FlaskClient, weld: Event, account) -> None:  # type: ignore[no-untyped-def]
    seen = read_everything(client, weld, account.username, account.password)
    assert_blind(weld, seen, account.delegation)


def test_a_blind_sheet_leaves_out_the_judges_own_delegation(client: FlaskClient,
                                                             weld: Event) -> None:
    account = next(account for account in JUDGES if account.delegation)
    sign_in_as(client, account.username, account.password)
    page = scan(client.get("/judge/WELD/P1").get_data(as_text=True))
    entries = [entry for entry in entries_of(weld) if entry.blind_code]
    own = [entry for entry in entries if entry.delegation == account.delegation]
    assert own
    # Nor the absent (the public board says who is absent): only those competing.
    assert sorted(page.labels) == sorted(entry.blind_code for entry in entries
                                         if entry.delegation != account.delegation
                                         and entry.status == "ok")
    absent = next(entry for entry in entries if entry.status != "ok")
    assert absent.blind_code not in page.labels
    for url in (f"/judge/WELD/P1/{absent.blind_code}", f"/judge/WELD/code/{absent.blind_code}",
                f"/judge/WELD/P1/{own[0].blind_code}", f"/judge/WELD/code/{own[0].blind_code}"):
        assert client.get(url).status_code == 404, url  # as a code that does not exist
    done, expected = map(int, client.get("/judge/WELD/P1/progress").get_data(
        as_text=True).split(" / "))
    assert expected <= len(page.labels)
    # Its codes are not found, as a mistyped code.
    assert client.get(f"/judge/WELD/code/{own[0].blind_code}").status_code == 404


def test_a_non_blind_sheet_shows_stations_and_no_blind_code(client: FlaskClient,
                                                             weld: Event) -> None:
    assert not criterion(weld, "S1").blind and criterion(weld, "P1").blind
    sign_in_as(client, "judge1", "demo-judge1")
    html = client.get("/judge/WELD/S1").get_data(as_text=True)
    page = scan(html)
    entries = [entry for entry in entries_of(weld) if entry.blind_code]
    assert all("工位" in label for label in page.labels)  # 第 N 号工位
    stations = [int(re.fullmatch(r"\D*(\d+)\D*", label).group(1)) for label in page.labels]
    assert sorted(stations) == stations == sorted(entry.station for entry in entries)
    for entry in entries:
        assert entry.blind_code not in html
    by_key = {entry.sheet_key: entry for entry in entries}
    assert {url.rsplit("/", 1)[1] for url, _version, _saved in page.saves} <= set(by_key)
    # The entry page lists the judge's blind criteria only.
    entry_page = client.get(f"/judge/WELD/code/{entries[0].blind_code}").get_data(as_text=True)
    assert "P1" in entry_page and "S1" not in entry_page and entries[0].sheet_key not in entry_page


def test_old_and_crossed_addresses_answer_404(client: FlaskClient, weld: Event) -> None:
    token = sign_in_as(client, "judge1", "demo-judge1")
    before = db.session.scalar(select(func.count(MarkRevision.id)))
    for entry in entries_of(weld):
        for code in ("P1", "S1"):
            assert client.get(f"/judge/WELD/{code}/{entry.id}").status_code == 404
            assert post(client, token, f"/judge/WELD/{code}/{entry.id}", value="1",
                        token="old").status_code == 404
        if entry.blind_code:  # a blind sheet's key on the other kind, and the other way
            assert post(client, token, f"/judge/WELD/S1/{entry.blind_code}", value="0",
                        token="crossed").status_code == 404
            assert post(client, token, f"/judge/WELD/P1/{entry.sheet_key}", value="1",
                        token="crossed").status_code == 404
    for odd in ("%00", "a%20b", "x" * 60, "..%2F1"):  # never looked for
        assert client.get(f"/judge/WELD/P1/{odd}").status_code in (400, 404)
        assert client.get(f"/judge/WELD/code/{odd}").status_code in (400, 404)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(MarkRevision.id))) == before


@pytest.mark.parametrize("code", ["P1", "S1"])
def test_a_save_through_the_new_address(client: FlaskClient, weld: Event, code: str) -> None:
    token = sign_in_as(client, "judge1", "demo-judge1")
    the_criterion = criterion(weld, code)
    page = scan(client.get(f"/judge/WELD/{code}").get_data(as_text=True))
    url, version, _saved = next(save for save in page.saves if not save[1])  # not marked yet
    key = url.rsplit("/", 1)[1]
    entry = db.session.scalar(select(Entry).where(
        Entry.event_id == weld.id,
        (Entry.blind_code if the_criterion.blind else Entry.sheet_key) == key))
    assert entry is not None

    def revisions() -> int:
        db.session.expire_all()
        return db.session.scalar(select(func.count(MarkRevision.id)).where(
            MarkRevision.client_token == f"new-{code}")) or 0

    for _try in range(2):  # the same token again: no second revision
        response = post(client, token, url, value="1", version=version, token=f"new-{code}")
        assert response.status_code == 200 and "state-saved" in response.get_data(as_text=True)
        assert revisions() == 1
    mark = db.session.scalar(select(Mark).where(
        Mark.entry_id == entry.id, Mark.criterion_id == the_criterion.id,
        Mark.judge == "judge1"))
    assert mark is not None and str(mark.value) == "1" and mark.version == 1
    # The next edit carries the version the answer showed.
    answer = scan(response.get_data(as_text=True))
    assert answer.saves[0][0] == url and answer.saves[0][1] == "1"
    response = post(client, token, url, value="0", version="1", token=f"new-{code}-2")
    assert "state-saved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert str(db.session.get(Mark, mark.id).value) == "0"
