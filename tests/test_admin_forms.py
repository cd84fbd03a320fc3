"""The console's forms (scoring/web/admin/forms.py), one by one: a bad post shows its message
beside the field it is about and writes nothing; a good post does its work. Some in both
languages."""

from __future__ import annotations

import html
import io
import re

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import Assignment, AuditEvent, Competition, Entry, Event, EventStaff, User

from .judging_helpers import PASSWORD, publish_steps, sign_in, step
from .test_admin import people_xlsx, scheme_form
from .test_cli import EXAMPLE_B, load_example_b, run, snapshot

BIDI = "\u202e"  # right-to-left override: "‮gnp.exe" shows as "exe.png"
ZERO_WIDTH = "\u200b"


@pytest.fixture
def organiser(client: FlaskClient, runner: FlaskCliRunner) -> str:
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    run(runner, "user", "create", "judge1", "--role", "judge", "--password", PASSWORD)
    run(runner, "user", "create", "cj", "--role", "chief", "--password", PASSWORD,
        "--display-name", "王裁判长")
    return sign_in(client, "boss")


@pytest.fixture
def ex_b(runner: FlaskCliRunner) -> Event:
    """EX-B with its contestants, no marks yet."""
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    return db.session.scalar(select(Event))


def english(client: FlaskClient) -> None:
    client.get("/lang/en")


def written() -> tuple[int, ...]:
    return (*snapshot(), db.session.scalar(select(func.count(Competition.id))))


def beside(page: str, name: str, message: str, id: str = "") -> None:
    """The control named `name` (the one with this id, if given) is marked invalid, and
    `message` is in the problem that it points to (aria-describedby), right after it."""
    ids = re.escape(id) if id else '[^"]*'
    control = re.search(rf'<(?:input|select)\b[^>]*\bid="{ids}" name="{re.escape(name)}"[^>]*>',
                        page)
    assert control, f"no control named {name}"
    described = re.search(r'aria-describedby="([^"]+)"', control.group(0))
    assert 'aria-invalid="true"' in control.group(0) and described, control.group(0)
    problem = re.search(rf'<p class="error field-error" id="{described.group(1)}">(.*?)</p>',
                        page[control.end():], re.S)
    assert problem, f"no problem beside {name}"
    assert message in html.unescape(problem.group(1)), (message, problem.group(1))


def unmarked(page: str) -> None:
    assert 'aria-invalid="true"' not in page


def follow(client: FlaskClient, response) -> str:  # type: ignore[no-untyped-def]
    """The page a refused post of a small form was sent back to."""
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


# --- competitions --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "message"), [
    ("", "竞赛需要名称"), ("第七届" + BIDI + "大赛", "不可见字符"), ("赛" * 201, "超过 200 个字符")])
def test_the_competition_form(client: FlaskClient, organiser: str, name: str,
                              message: str) -> None:
    before = written()
    page = follow(client, client.post("/admin/competitions",
                                      data={"csrf_token": organiser, "name": name}))
    beside(page, "name", message)
    assert written() == before
    response = client.post("/admin/competitions", data={"csrf_token": organiser,
                                                        "name": " 第七届大赛 "})
    assert response.status_code == 302
    assert db.session.scalar(select(Competition.name)) == "第七届大赛"
    unmarked(client.get(response.headers["Location"]).get_data(as_text=True))


# --- the scheme editor ---------------------------------------------------------------------

def test_the_scheme_form_marks_every_field_and_table_at_once(client: FlaskClient,
                                                             organiser: str) -> None:
    before = written()
    response = client.post("/admin/events/new", data={**scheme_form(**{
        "criterion-0-max": "abc", "criterion-0-judges": "2.5", "tie_break-0": "speed",
        "award-0-share": "0.7", "award-1-name": "二等奖", "award-1-share": "0.6",
        "new_competition": "届" + ZERO_WIDTH}), "csrf_token": organiser})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    beside(page, "criterion-0-max", "“abc”不是数字")
    beside(page, "criterion-0-judges", "整数")
    beside(page, "tie_break-0", "speed")
    beside(page, "new_competition", "不可见字符")
    assert "超过了 100%" in page and "请修改下面标出的字段" in page
    assert written() == before


def test_sections_and_tie_breaks_are_chosen_by_name(client: FlaskClient, organiser: str,
                                                   ex_b: Event) -> None:
    """An Excel user never types `section:practical`: the criterion's section and the
    tie-break keys are selects offering the sections and criteria by their titles, and the
    event's own choices are selected."""
    page = client.get("/admin/events/EX-B/scheme").get_data(as_text=True)
    section = re.search(
        r'<select id="f-criterion-0-section" name="criterion-0-section".*?</select>', page, re.S)
    assert section and re.search(r'<option value="theory" selected>[^<(]+ \(theory\)</option>',
                                 section.group(0))
    assert "<option value=\"practical\">" in section.group(0)
    chosen = [re.search(rf'<select id="f-tie_break-{index}".*?</select>', page, re.S).group(0)
              for index in range(3)]
    assert '<option value="time" selected>用时（少者在前）</option>' in chosen[0]
    assert re.search(r'<option value="section:practical" selected>模块：[^<]+</option>', chosen[1])
    assert '<option value="section:theory" selected>模块：理论知识</option>' in chosen[2]
    assert '<option value="criterion:P">评分项：P 实操总分</option>' in chosen[2]
    assert 'name="tie_break"' not in page and "section:practical, " not in page


def test_a_problem_without_a_field_is_said_in_words(app) -> None:  # type: ignore[no-untyped-def]
    """Above the form, a problem's place is said as people read it, never as the scheme
    file's path ("criteria[1] (A).max")."""
    from flask_babel import force_locale

    from scoring.problems import field_words
    with app.test_request_context(), force_locale("zh_CN"):
        assert field_words("criteria[2] (P1).max") == "第 2 个评分项（P1），满分"
        assert field_words("awards[1].share") == "第 1 个奖项，比例"
        assert field_words("sections[3]") == "第 3 个模块"
        assert field_words("criteria[1] (J1).bands[2].min") == "第 1 个评分项（J1），bands[2].min"
    with app.test_request_context(), force_locale("en"):
        assert field_words("criteria[2] (P1).max") == "criterion 2 (P1), Max"
        assert field_words("tie_break") == "Tie-break keys"


def test_a_scheme_problem_goes_to_its_row(client: FlaskClient, organiser: str) -> None:
    """check_scheme counts filled rows ("criteria[2]"): with an empty row before it, the
    second criterion is the form's third row."""
    form = scheme_form(**{"criterion-1-code": "", "criterion-2-code": "W",
                          "criterion-2-max": "10", "criterion-2-step": "20"})
    page = client.post("/admin/events/new", data={**form, "csrf_token": organiser}
                       ).get_data(as_text=True)
    beside(page, "criterion-2-step", "不得大于")
    assert 'name="criterion-1-step" value=""' in page


def test_the_scheme_form_keeps_a_blank_row_and_its_cap(client: FlaskClient,
                                                       organiser: str) -> None:
    page = client.get("/admin/events/new").get_data(as_text=True)
    assert 'name="criterion-10-code"' in page and 'name="criterion-11-code"' not in page
    assert 'name="section-4-code"' in page and 'name="award-4-name"' in page
    before = written()
    hostile = {**scheme_form(), "criterion-59-code": "Z", "criterion-75-code": "Y",
               "criterion-²-code": "X", "criterion-" + "9" * 5000 + "-code": "X",
               "criterion-59-max": "abc", "csrf_token": organiser}
    response = client.post("/admin/events/new", data=hostile)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and written() == before
    # The rows posted (0 and 59) are renumbered, the others are not rows.
    assert 'name="criterion-1-code" value="Z"' in page
    beside(page, "criterion-1-max", "“abc”不是数字")
    assert len(re.findall(r'name="criterion-\d+-code"', page)) == 11


def test_the_scheme_form_creates_the_event(client: FlaskClient, organiser: str) -> None:
    response = client.post("/admin/events/new", data={**scheme_form(), "csrf_token": organiser})
    assert response.headers["Location"] == "/admin/events/W1"
    event = db.session.scalar(select(Event))
    assert [(tier.name, tier.share) for tier in event.awards] == [("一等奖", "0.1")]
    response = client.post("/admin/events/new", data={**scheme_form(), "csrf_token": organiser})
    beside(response.get_data(as_text=True), "code", "已有使用此代码的赛项")
    assert response.status_code == 422


def test_a_marked_schemes_names_change_as_a_browser_posts_them(
        client: FlaskClient, organiser: str, runner: FlaskCliRunner) -> None:
    """The page shows what can no longer change disabled, and a browser does not post a
    disabled field: those keep the event's values (its tie-break, decimals, rules)."""
    load_example_b(runner)
    page = client.get("/admin/events/EX-B/scheme").get_data(as_text=True)
    posted = {name: value for name, value in re.findall(
        r'<input id="[^"]*" name="([^"]+)" value="([^"]*)"(?![^>]*disabled)', page)}
    assert "tie_break" not in posted and "criterion-0-code" in posted
    posted.update(csrf_token=organiser, **{"criterion-0-name": "理论（机考）",
                                           "section-1-name": "实操"})
    response = client.post("/admin/events/EX-B/scheme", data=posted)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    event = db.session.scalar(select(Event))
    assert (event.criteria[0].name, event.sections[1].name) == ("理论（机考）", "实操")
    assert event.tie_break == ["time", "section:practical", "section:theory"]
    before = written()
    response = client.post("/admin/events/EX-B/scheme", data={
        **posted, "criterion-1-max": "90"})
    assert response.status_code == 409 and written() == before
    assert "只能修改名称和最大分差" in response.get_data(as_text=True)


def test_the_scheme_file_form(client: FlaskClient, organiser: str) -> None:
    before = written()
    no_file = client.post("/admin/events/new", data={
        "csrf_token": organiser, "competition": "", "new_competition": "",
        "scheme_file": (io.BytesIO(b""), "")}, content_type="multipart/form-data")
    assert no_file.status_code == 422
    beside(no_file.get_data(as_text=True), "scheme_file", "请选择评分方案文件")
    scheme = (EXAMPLE_B / "scheme.toml").read_bytes()
    nameless = client.post("/admin/events/new", data={
        "csrf_token": organiser, "competition": "", "new_competition": "",
        "scheme_file": (io.BytesIO(scheme), "s.toml")}, content_type="multipart/form-data")
    assert nameless.status_code == 422
    beside(nameless.get_data(as_text=True), "competition", "请选择竞赛",
           id="upload-competition")
    broken = client.post("/admin/events/new", data={
        "csrf_token": organiser, "competition": "new", "new_competition": "赛事",
        "scheme_file": (io.BytesIO(scheme.replace(b"max = 100", b"max = -1", 1)), "s.toml")},
        content_type="multipart/form-data")
    beside(broken.get_data(as_text=True), "scheme_file", "s.toml")
    assert written() == before
    response = client.post("/admin/events/new", data={
        "csrf_token": organiser, "competition": "new", "new_competition": "赛事",
        "scheme_file": (io.BytesIO(scheme), "s.toml")}, content_type="multipart/form-data")
    assert response.headers["Location"] == "/admin/events/EX-B"
    assert db.session.scalar(select(Event)).competition.name == "赛事"


# --- the event page: the lifecycle and the public board -------------------------------------

@pytest.mark.parametrize(("language", "message"), [("zh", "不可见字符"),
                                                   ("en", "invisible character")])
def test_the_reopen_reason(client: FlaskClient, organiser: str, runner: FlaskCliRunner,
                           language: str, message: str) -> None:
    load_example_b(runner)
    publish_steps(client, organiser, "EX-B")
    if language == "en":
        english(client)
    before = written()
    for reason in ("申诉" + BIDI + "复核", "复核" + ZERO_WIDTH, "复核\x1b[0m"):
        response = client.post("/admin/events/EX-B/state", data={
            "csrf_token": organiser, "action": "reopen", "reason": reason})
        assert response.status_code == 422
        beside(response.get_data(as_text=True), "reason", message)
    assert written() == before and db.session.scalar(select(Event.state)) == "published"
    response = client.post("/admin/events/EX-B/state", data={
        "csrf_token": organiser, "action": "reopen", "reason": "申诉复核：\r\n第 3 号"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Event.state)) == "scoring"
    unmarked(client.get(response.headers["Location"]).get_data(as_text=True))


def test_a_refused_state_change_is_said_above(client: FlaskClient, organiser: str,
                                              ex_b: Event) -> None:
    before = written()
    response = client.post("/admin/events/EX-B/state", data={
        "csrf_token": organiser, **step("open", from_state=ex_b.state)})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="error" role="alert">[^<]*抽签', page)
    unmarked(page)
    assert written() == before


def test_the_public_board_form(client: FlaskClient, organiser: str, ex_b: Event) -> None:
    before = written()
    page = follow(client, client.post("/admin/events/EX-B/visibility", data={
        "csrf_token": organiser, "visibility": "sideways"}))
    beside(page, "visibility", "hidden")
    assert written() == before
    assert client.post("/admin/events/EX-B/visibility", data={
        "csrf_token": organiser, "visibility": "live"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Event.visibility)) == "live"


# --- the draw ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", ["abc", "-1", "1.5", "٣", str(2**62)])
def test_the_draw_seed(client: FlaskClient, organiser: str, ex_b: Event, seed: str) -> None:
    before = written()
    response = client.post("/admin/events/EX-B/draw", data={"csrf_token": organiser,
                                                            "seed": seed})
    assert response.status_code == 422 and written() == before
    page = response.get_data(as_text=True)
    beside(page, "seed", "随机种子应为整数")
    assert f'value="{seed}"' in page  # as typed, to correct
    assert client.post("/admin/events/EX-B/draw", data={
        "csrf_token": organiser, "seed": " 7 ", "drawn": "0"}).status_code == 302
    assert db.session.scalar(select(Event.draw_seed)) == 7


# --- contestants ------------------------------------------------------------------------------

def test_a_contestants_edit(client: FlaskClient, organiser: str, ex_b: Event) -> None:
    entry = db.session.scalar(select(Entry).where(Entry.bib == "03"))
    url = f"/admin/events/EX-B/entries/{entry.id}"
    form = {"csrf_token": organiser, "name": "王强", "gender": "X", "id_number": "110105194912310021",
            "unit": "沈阳" + BIDI + "机械厂", "delegation": "队" * 101, "phone": "123",
            "status": "dq", "status_reason": "", "time": "1:60"}
    before = written()
    response = client.post(url, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and written() == before
    for name, message in (("gender", "不是有效的性别"), ("id_number", "校验码"),
                          ("unit", "不可见字符"), ("delegation", "超过 100 个字符"),
                          ("phone", "11 位"), ("status_reason", "需要填写原因"),
                          ("time", "“1:60”")):
        beside(page, name, message)
    response = client.post(url, data={**form, "status": "late", "status_reason": "x",
                                      "gender": "", "id_number": "", "unit": "",
                                      "delegation": "", "phone": "", "time": ""})
    beside(response.get_data(as_text=True), "status", "请选择状态")
    response = client.post(url, data={**form, "status_reason": "作弊" + ZERO_WIDTH,
                                      "gender": "", "id_number": "", "unit": "",
                                      "delegation": "", "phone": "", "time": ""})
    beside(response.get_data(as_text=True), "status_reason", "不可见字符")
    assert written() == before
    response = client.post(url, data={**form, "gender": "男", "id_number": "", "unit": "",
                                      "delegation": "沈阳代表队", "phone": "138 0013 8000",
                                      "status_reason": "携带违禁物品\n（现场记录）",
                                      "time": "2:51:00"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (entry.status, entry.time_used, entry.contestant.gender, entry.contestant.phone) \
        == ("dq", 2 * 3600 + 51 * 60, "M", "13800138000")
    page = client.get(url).get_data(as_text=True)
    assert 'value="2:51:00"' in page and 'value="dq" selected' in page
    unmarked(page)


def test_the_contestants_upload(client: FlaskClient, organiser: str, ex_b: Event) -> None:
    before = written()
    response = client.post("/admin/events/EX-B/contestants/preview", data={
        "csrf_token": organiser, "file": (io.BytesIO(b""), "")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    beside(response.get_data(as_text=True), "file", "请选择 .xlsx 或 .csv 文件")
    response = client.post("/admin/events/EX-B/contestants/preview", data={
        "csrf_token": organiser, "file": (io.BytesIO(b"PK\x03\x04 not a zip"), "p.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    beside(response.get_data(as_text=True), "file", "p.xlsx")
    response = client.post("/admin/events/EX-B/contestants/import", data={
        "csrf_token": organiser, "payload": "forged"})
    assert response.status_code == 400
    beside(response.get_data(as_text=True), "file", "请重新上传文件")
    assert written() == before
    response = client.post("/admin/events/EX-B/contestants/preview", data={
        "csrf_token": organiser, "file": (people_xlsx([["88", "赵六", "", "丙队"]]), "p.xlsx")},
        content_type="multipart/form-data")
    payload = re.search(r'name="payload" value="([^"]+)"', response.get_data(as_text=True))
    response = client.post("/admin/events/EX-B/contestants/import", data={
        "csrf_token": organiser, "payload": payload.group(1)})
    assert response.status_code == 302
    assert db.session.scalar(select(Entry).where(Entry.bib == "88")).contestant.name == "赵六"


# --- accounts, judges' criteria, the chief judge --------------------------------------------

@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_account_form(client: FlaskClient, organiser: str, language: str) -> None:
    if language == "en":
        english(client)
    messages = {"zh": ("已存在", "不可见字符", "超过 100 个字符", "8 个字符", "角色",
                       "超过 200 个字符"),
                "en": ("already exists", "invisible character", "longer than 100",
                       "at least 8 characters", "role", "longer than 200")}[language]
    before = written()
    response = client.post("/admin/judges", data={
        "csrf_token": organiser, "username": "judge1", "display_name": "张" + BIDI + "三",
        "delegation": "队" * 101, "password": "short", "role": "admin"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for name, message in zip(("username", "display_name", "delegation", "password", "role"),
                             messages):
        beside(page, name, message)
    response = client.post("/admin/judges", data={
        "csrf_token": organiser, "username": "judge8", "display_name": "", "delegation": "",
        "password": "p" * 201, "role": "judge"})
    assert response.status_code == 422
    beside(response.get_data(as_text=True), "password", messages[5])
    assert written() == before
    response = client.post("/admin/judges", data={
        "csrf_token": organiser, "username": "judge9", "display_name": "赵裁判",
        "delegation": "", "password": "", "role": "judge"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "judge9" in page
    assert re.search(r'name="role">\s*<option value="judge" selected', page)  # a fresh form
    unmarked(page)
    assert db.session.scalar(select(User).where(User.username == "judge9")).role == "judge"


def test_disable_enable_and_reset(client: FlaskClient, organiser: str) -> None:
    boss = db.session.scalar(select(User).where(User.username == "boss"))
    judge = db.session.scalar(select(User).where(User.username == "judge1"))
    before = written()
    for user, active in ((boss, "0"), (judge, "maybe")):
        response = client.post(f"/admin/judges/{user.id}/active", data={
            "csrf_token": organiser, "active": active})
        assert response.status_code == 422
        assert re.search(r'<p class="error" role="alert">[^<]+</p>',
                         response.get_data(as_text=True))
    assert written() == before
    assert client.post(f"/admin/judges/{judge.id}/active", data={
        "csrf_token": organiser, "active": "0"}).status_code == 302
    db.session.expire_all()
    assert not judge.active
    page = client.post(f"/admin/judges/{judge.id}/reset", data={"csrf_token": organiser})
    assert page.status_code == 200 and "judge1" in page.get_data(as_text=True)
    assert client.post(f"/admin/judges/{judge.id}/revoke",
                       data={"csrf_token": organiser}).status_code == 302


def test_the_assignments_grid(client: FlaskClient, organiser: str, runner: FlaskCliRunner
                              ) -> None:
    load_example_b(runner)
    judge = db.session.scalar(select(User).where(User.username == "judge1"))
    url = "/admin/events/EX-B/judges"
    assign = [f"{judge.id}:T", f"{judge.id}:NOPE", "x:T", f"{judge.id}:T:P"]
    response = client.post(url, data={"csrf_token": organiser, "assign": assign})
    assert response.status_code == 302  # what is no judge's criterion is ignored
    assert [(a.user.username, a.criterion.code) for a in db.session.scalars(
        select(Assignment).where(Assignment.user_id == judge.id))] == [("judge1", "T")]
    publish_steps(client, organiser, "EX-B")
    before = written()
    response = client.post(url, data={"csrf_token": organiser, "assign": [f"{judge.id}:P"]})
    assert response.status_code == 409 and written() == before
    assert re.search(r'<p class="error" role="alert">[^<]+</p>', response.get_data(as_text=True))


def test_appoint_a_chief_judge(client: FlaskClient, organiser: str, ex_b: Event) -> None:
    before = written()
    for chief in ("nobody", "judge1", "c" + BIDI + "j"):
        page = follow(client, client.post("/admin/events/EX-B/chief", data={
            "csrf_token": organiser, "chief": chief}))
        beside(page, "chief", "裁判长")
    assert written() == before
    response = client.post("/admin/events/EX-B/chief", data={"csrf_token": organiser,
                                                             "chief": "cj"})
    assert response.status_code == 302
    assert db.session.scalar(select(EventStaff.role)) == "chief"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "王裁判长" in page and 'name="chief"' not in page  # appointed: no one else to offer


def test_the_audit_filters(client: FlaskClient, organiser: str, ex_b: Event) -> None:
    page = client.get("/admin/audit", query_string={"event": "EX-B", "user": "NOPE",
                                                    "action": "contestants.import"}
                      ).get_data(as_text=True)
    assert 'value="EX-B" selected' in page and "EX-B 示例（b）" in page
    assert db.session.scalar(select(func.count(AuditEvent.id)))
    assert "contestants.csv" not in page  # by NOPE: nothing found
    page = client.get("/admin/audit", query_string={"event": "EX-B",
                                                    "action": "contestants.import"}
                      ).get_data(as_text=True)
    assert "contestants.csv" in page


def test_every_console_page_in_both_languages(client: FlaskClient, organiser: str,
                                              runner: FlaskCliRunner) -> None:
    load_example_b(runner)
    entry = db.session.scalar(select(Entry))
    pages = ("/admin", "/admin/events/new", "/admin/events/EX-B", "/admin/events/EX-B/scheme",
             "/admin/events/EX-B/contestants", f"/admin/events/EX-B/entries/{entry.id}",
             "/admin/events/EX-B/draw", "/admin/judges", "/admin/events/EX-B/judges",
             "/admin/events/EX-B/progress", "/admin/audit")
    for language, word in (("zh", "赛项"), ("en", "Events")):
        if language == "en":
            english(client)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            assert word in response.get_data(as_text=True), (language, url)


def test_one_competition_is_chosen_already_and_weights_may_be_percent(
        client: FlaskClient, organiser: str) -> None:
    """An Excel user's event: the only competition is preselected, and a weight typed as a
    spreadsheet shows it ("30%") is taken exactly."""
    db.session.add(Competition(name="第六届全国职工职业技能大赛"))
    db.session.commit()
    only = db.session.scalar(select(Competition.id))
    page = client.get("/admin/events/new").get_data(as_text=True)
    assert re.search(rf'<option value="{only}" selected>', page)
    form = scheme_form()
    weights = {key: value for key, value in form.items() if key.endswith("-weight")}
    form.update({key: "50%" for key in weights})
    form.pop("new_competition", None)
    form["competition"] = str(only)
    response = client.post("/admin/events/new", data={**form, "csrf_token": organiser})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    from scoring.models import Criterion
    assert set(db.session.scalars(select(Criterion.weight))) == {"50%"}


def test_a_done_message_cannot_be_made_up_in_the_address(client: FlaskClient, organiser: str,
                                                          ex_b: Event) -> None:
    """The green ✓ after an import says what this server did: `?done=` is signed, so a link
    with a made-up message shows none."""
    spoof = "已删除全部选手，请重新导入。"
    page = client.get(f"/admin/events/EX-B/contestants?done={spoof}").get_data(as_text=True)
    assert spoof not in page
    page = client.get(f"/admin/events/EX-B/scores?done={spoof}").get_data(as_text=True)
    assert spoof not in page
