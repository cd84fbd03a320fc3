"""Issue 13 item 8: judges' accounts made from a list pasted from a spreadsheet (one form,
not one form per account), all or none, each problem naming its line."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import AuditEvent, User

from .judging_helpers import sign_in
from .test_admin_forms import organiser  # noqa: F401  (a fixture)

# Six judges as cells copied from Excel: account, name, delegation, tab-separated, CRLF.
PASTED = ("j1\t张建国\t山东代表队\r\nj2\t李明\t江苏代表队\r\n\r\nj3\t王芳\r\n"
          "j4，赵强，浙江代表队\r\nj5,孙丽\r\nj6\r\n")


def accounts() -> int:
    return db.session.scalar(select(func.count(User.id)))


def post(client: FlaskClient, token: str, text: str, role: str = "judge") -> tuple[int, str]:
    response = client.post("/admin/judges/several",
                           data={"csrf_token": token, "accounts": text, "role": role})
    return response.status_code, response.get_data(as_text=True)


def test_six_judges_in_one_paste(client: FlaskClient, organiser: str) -> None:  # noqa: F811
    status, page = post(client, organiser, PASTED)
    assert status == 200 and "已创建 6 个账号" in page
    made = {user.username: user for user in db.session.scalars(
        select(User).where(User.username.in_([f"j{n}" for n in range(1, 7)])))}
    assert sorted(made) == ["j1", "j2", "j3", "j4", "j5", "j6"]
    assert (made["j1"].display_name, made["j1"].delegation, made["j1"].role) == (
        "张建国", "山东代表队", "judge")
    assert (made["j4"].display_name, made["j4"].delegation) == ("赵强", "浙江代表队")
    assert (made["j6"].display_name, made["j6"].delegation) == ("j6", None)
    # Each password is shown once, beside its account, and signs that account in.
    passwords = dict(re.findall(r"<tr><td>(j\d)</td>.*?<td class=\"password\">([^<]+)</td>",
                                page))
    assert sorted(passwords) == sorted(made)
    assert len(set(passwords.values())) == 6
    client.post("/logout", data={"csrf_token": organiser})
    response = client.post("/login", data={
        "csrf_token": sign_in_token(client), "username": "j4", "password": passwords["j4"]})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "user.create")) >= 6
    # Shown once: the page after that has no password.
    client.post("/logout", data={"csrf_token": sign_in(client, "boss")})


def sign_in_token(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


@pytest.mark.parametrize(("text", "messages"), [
    ("j1\t张建国\nj 2\t李明\n", ["第 2 行"]),
    ("j1\nj1\n", ["第 2 行", "已存在"]),
    ("j1\njudge1\n", ["第 2 行", "已存在"]),
    ("j1\t张\t山东\t多余\n", ["第 1 行", "最多三列"]),
    ("j1\t张\u202e三\n", ["第 1 行", "不可见字符"]),
    ("\n  \n", ["每行粘贴一个账号"]),
    ("\n".join(f"x{n}" for n in range(101)), ["一次最多 100 个账号"]),
])
def test_a_bad_line_is_named_and_nothing_is_made(
        client: FlaskClient, organiser: str, text: str, messages: list[str]) -> None:  # noqa: F811
    before = accounts()
    status, page = post(client, organiser, text)
    assert status == 422
    problem = re.search(r'<p class="error field-error" id="e-f-several-accounts">(.*?)</p>',
                        page, re.S)
    assert problem, "the problem is beside the pasted list"
    for message in messages:
        assert message in problem.group(1)
    assert accounts() == before
    assert html_textarea(page) == text.replace("\r\n", "\n") or "x100" in text or text.strip() == ""


def html_textarea(page: str) -> str:
    import html
    found = re.search(r'<textarea id="f-several-accounts"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    return html.unescape(found.group(1))


def test_only_organisers_make_accounts(client: FlaskClient, runner: FlaskCliRunner,
                                       organiser: str) -> None:  # noqa: F811
    before = accounts()
    token = sign_in(client, "judge1")
    status, _page = post(client, token, "x1\nx2\n")
    assert status == 403
    token = sign_in(client, "cj")
    status, _page = post(client, token, "x1\nx2\n", role="organiser")
    assert status == 403
    client.post("/logout", data={"csrf_token": token})
    response = client.post("/admin/judges/several", data={"accounts": "x1"})
    assert response.status_code in (302, 400)
    status, _page = post(client, sign_in(client, "boss"), "x1\n", role="admin")
    assert status == 422 and accounts() == before


def test_the_same_paste_twice_at_once_makes_each_account_once(
        app, client: FlaskClient, organiser: str) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    """A double click on 创建 posts the list twice: one post makes the accounts, the other
    is refused (they exist), never two of each."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///:memory:"):
        pytest.skip("needs a database shared by two connections")
    cookie = client.get_cookie("session") or client.get_cookie("scoring_session")

    def one(_: int) -> int:
        with app.test_client() as other:
            if cookie is not None:
                other.set_cookie(cookie.key, cookie.value)
            return other.post("/admin/judges/several", data={
                "csrf_token": organiser, "accounts": "p1\np2\np3\n", "role": "judge"}
            ).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(one, range(2)))
    db.session.expire_all()
    assert db.session.scalar(select(func.count(User.id)).where(
        User.username.in_(["p1", "p2", "p3"]))) == 3
    assert statuses[0] == 200 and statuses[1] in (200, 422)


@pytest.mark.browser
def test_pasting_six_judges_from_a_sheet_in_the_browser(
        browser, live_server: str, organiser: str) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    """What took about 35 actions (a form per account) is three: paste, choose, create. The
    list is pasted as Excel copies cells (tabs); the passwords are shown once."""
    from .test_confirmations import browser_sign_in, shot

    for language, created in (("zh", "已创建 6 个账号"), ("en", "6 accounts created")):
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        browser_sign_in(page, live_server, "boss")
        if language == "en":
            page.goto(live_server + "/lang/en")
        page.goto(live_server + "/admin/judges")
        names = PASTED if language == "zh" else PASTED.replace("j", "e")
        page.fill("#f-several-accounts", names)
        shot(page, f"console-several-accounts-{language}")
        page.locator("form.several-accounts button[type=submit]").click()
        page.wait_for_load_state()
        page.wait_for_timeout(500)
        assert created in page.locator(".made-accounts").inner_text()
        assert page.locator(".made-accounts td.password").count() == 6
        db.session.expire_all()
        shot(page, f"console-several-accounts-made-{language}")
        prefix = "j" if language == "zh" else "e"
        assert db.session.scalar(select(func.count(User.id)).where(
            User.username.in_([f"{prefix}{n}" for n in range(1, 7)]))) == 6
        page.goto(live_server + "/admin/judges")
        assert page.locator(".made-accounts").count() == 0  # passwords shown once only
        context.close()
