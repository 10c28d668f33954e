"""services/templating.py: finding, parsing and rendering templates in the sandbox, German
filters, and one clear error for each way a template can go wrong."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crmcli.errors import Invalid, NotFound
from crmcli.services import templating
from crmcli.services.templating import (
    format_date_de,
    format_iban,
    format_money_de,
    format_number_de,
    format_percent_de,
    list_templates,
    load_template,
    parse_template,
    render,
    render_string,
    render_value,
)

LETTER = """\
---
title: Ein Brief
subject: "Ihr Angebot {{ deal.title }}"
purpose: offers
# a comment line
---
Hallo {{ contact.name }},
am {{ today|date }}
--- html ---
<p>Hallo {{ contact.name }}</p>
"""


@pytest.fixture
def user_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "config" / "templates"
    folder.mkdir(parents=True)
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path / "config"))
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_template_file_splits_into_front_matter_and_parts(user_dir):
    write(user_dir, "brief.jinja", LETTER)
    template = load_template("brief")
    assert template.front_matter == {
        "title": "Ein Brief",
        "subject": "Ihr Angebot {{ deal.title }}",
        "purpose": "offers",
    }
    assert template.title == "Ein Brief"
    assert template.text == "Hallo {{ contact.name }},\nam {{ today|date }}\n"
    assert template.html == "<p>Hallo {{ contact.name }}</p>\n"
    assert template.first_line == {"text": 7, "html": 10}
    assert not template.builtin


def test_text_parts_are_not_escaped_html_parts_are(user_dir):
    write(user_dir, "brief.jinja", LETTER)
    template = load_template("brief")
    data = {"contact": {"name": "Müller & <Söhne>"}, "today": date(2026, 12, 24)}
    assert render(template, data) == "Hallo Müller & <Söhne>,\nam 24.12.2026\n"
    assert render(template, data, "html") == "<p>Hallo Müller &amp; &lt;Söhne&gt;</p>\n"
    assert render_value(template, "subject", {"deal": {"title": "Fenster"}}) == (
        "Ihr Angebot Fenster"
    )
    assert render_value(template, "missing", {}, "fallback") == "fallback"


def test_single_part_files_by_suffix_and_the_user_shadowing_a_builtin(
    user_dir, tmp_path, monkeypatch
):
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    monkeypatch.setattr(templating, "BUILTIN_DIR", builtin)
    write(builtin, "letter.jinja", "---\ntitle: Built-in letter\n---\nbuilt in\n")
    write(builtin, "offer.md", "---\ntitle: Angebot\n---\nAngebot\n")
    write(builtin, "_layout.html", "<main>{{ body }}</main>")
    write(user_dir, "letter.md", "---\ntitle: My letter\n---\nmine\n")
    write(user_dir, "mail.html", "<p>{{ x }}</p>")
    write(user_dir, "notes.pdf", "not a template")

    listed = {t.name: t for t in list_templates()}
    assert sorted(listed) == ["letter", "mail", "offer"]
    assert (listed["letter"].title, listed["letter"].builtin) == ("My letter", False)
    assert (listed["offer"].title, listed["offer"].builtin) == ("Angebot", True)
    assert listed["mail"].parts == ("html",)
    assert listed["mail"].title == "mail"
    assert "_layout" in {t.name for t in list_templates(include_hidden=True)}

    assert render(load_template("letter"), {}) == "mine\n"
    assert load_template("mail").text is None
    assert render(load_template("mail"), {"x": "<b>"}, "html") == "<p>&lt;b&gt;</p>"
    assert load_template("_layout").html == "<main>{{ body }}</main>"


def test_a_text_file_and_an_html_file_make_one_template_of_a_kind(user_dir):
    (user_dir / "mail").mkdir()
    write(
        user_dir / "mail",
        "news.txt",
        "---\nsubject: Neu\npurpose: newsletter\n---\nHallo {{ n }}\n",
    )
    write(user_dir / "mail", "news.html", "---\ntitle: Newsletter\n---\n<p>{{ n }}\n{{ x }</p>")
    template = load_template("news", "mail")
    assert template.front_matter == {
        "subject": "Neu",
        "purpose": "newsletter",
        "title": "Newsletter",
    }
    assert render(template, {"n": "<1>"}) == "Hallo <1>\n"
    with pytest.raises(Invalid, match="template news: line 5: "):
        render(template, {"n": 1}, "html")
    # (crm mail ships built-in mail templates: newsletter, task-digest)
    mine = [t for t in list_templates("mail") if not t.builtin]
    assert [t.name for t in mine] == ["news"]
    assert mine[0].parts == ("text", "html")
    with pytest.raises(NotFound):
        load_template("news")  # not a kind-less template
    write(user_dir / "mail", "news.html", "---\nsubject: Anders\n---\n<p></p>")
    with pytest.raises(Invalid, match="'subject' differs in news.txt and news.html"):
        load_template("news", "mail")


def test_includes_of_a_kind(user_dir):
    (user_dir / "mail").mkdir()
    write(user_dir / "mail", "_footer.txt", "-- \n{{ sender }}")
    write(user_dir / "mail", "note.txt", 'Hallo\n{% include "mail/_footer.text" %}')
    assert render(load_template("note", "mail"), {"sender": "Anna"}) == "Hallo\n-- \nAnna"


def test_the_config_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path))
    assert templating.config_dir() == tmp_path
    assert templating.user_template_dir("doc") == tmp_path / "templates" / "doc"
    monkeypatch.delenv("CRM_CONFIG_DIR")
    assert templating.config_dir().name == "crmcli"


def test_a_template_by_path(user_dir, tmp_path):
    path = write(tmp_path, "anywhere.jinja", "Hallo {{ n }}")
    template = load_template(str(path))
    assert template.name == "anywhere"
    assert render(template, {"n": 1}) == "Hallo 1"


@pytest.mark.parametrize("name", ["nope", "../etc/passwd", ".hidden", ""])
def test_an_unknown_template_is_not_found(user_dir, name):
    with pytest.raises(NotFound, match="no template"):
        load_template(name)


def test_a_part_the_template_lacks_is_one_error(user_dir):
    write(user_dir, "only.md", "text only")
    with pytest.raises(Invalid, match="template only: has no html part"):
        render(load_template("only"), {}, "html")


@pytest.mark.parametrize(
    ("front", "why"),
    [
        ("---\ntitle Ein Brief\n---\nbody", "line 2: front matter wants 'key: value'"),
        ("---\ntitle: a\ntitle: b\n---\nbody", "line 3: 'title' is set twice"),
        ("---\ntitle: a\nsubject: b\n", "front matter never ends"),
    ],
)
def test_broken_front_matter_says_where(user_dir, front, why):
    write(user_dir, "bad.jinja", front)
    with pytest.raises(Invalid, match=why):
        load_template("bad")


def test_front_matter_is_words_never_yaml_objects():
    template = parse_template(
        "---\ntitle: !!python/object/apply:os.system ['true']\nn: 3\n---\nx",
        name="t",
        path=Path("t.jinja"),
    )
    assert template.front_matter == {"title": "!!python/object/apply:os.system ['true']", "n": "3"}


# ---------------------------------------------------------------- errors, each one line


def test_a_syntax_error_names_the_line_of_the_file(user_dir):
    write(user_dir, "broken.jinja", "---\ntitle: x\n---\nline 4\nline 5 {% if %}\n")
    with pytest.raises(Invalid) as caught:
        render(load_template("broken"), {})
    assert str(caught.value).startswith("template broken: line 5: ")
    assert caught.value.facts["line"] == 5


def test_a_syntax_error_in_the_html_part_counts_lines_from_the_file_top(user_dir):
    write(user_dir, "broken.jinja", "---\na: b\n---\ntext\n--- html ---\n<p>\n{{ x }\n")
    with pytest.raises(Invalid, match="template broken: line 7: "):
        render(load_template("broken"), {"x": 1}, "html")


def test_a_missing_variable_is_one_error_naming_it(user_dir):
    write(user_dir, "brief.jinja", "---\ntitle: x\n---\nHallo\n{{ kunde.name }}\n")
    with pytest.raises(Invalid) as caught:
        render(load_template("brief"), {"contact": {}})
    assert str(caught.value) == "template brief: line 5: 'kunde' is undefined"
    with pytest.raises(Invalid, match="line 1: 'dict object' has no attribute 'nope'"):
        render_string("{{ contact.nope }}", {"contact": {}})


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ f.__globals__ }}",
        "{{ ''|attr('__class__') }}",
        "{{ '{0.__class__}'.format(1) }}",
        "{{ items.append(3) }}",
        "{% set _ = data.update({'a': 1}) %}",
        "{{ 'x' * 10**9 }}",
        "{{ 2 ** 100000 }}",
    ],
)
def test_the_sandbox_refuses_escapes_and_changes(source):
    data = {"f": format_iban, "items": [1, 2], "data": {}}
    with pytest.raises(Invalid, match=r"^template string: line 1: not allowed in a template: "):
        render_string(source, data)
    assert data == {"f": format_iban, "items": [1, 2], "data": {}}


def test_any_other_failure_while_rendering_is_one_error(user_dir):
    with pytest.raises(Invalid, match="line 2: ZeroDivisionError: division by zero"):
        render_string("a\n{{ 1 / 0 }}", {})
    with pytest.raises(Invalid, match="money wants a number, not 'abc'"):
        render_string("{{ 'abc'|money }}", {})
    with pytest.raises(Invalid, match="calls itself without end"):
        render_string("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", {})


def test_includes_find_other_templates_and_report_missing_ones(user_dir):
    write(user_dir, "footer.html", "<small>{{ name }}</small>")
    write(user_dir, "page.html", '<p>x</p>{% include "footer.html" %}')
    assert render(load_template("page"), {"name": "A&B"}, "html") == (
        "<p>x</p><small>A&amp;B</small>"
    )
    write(user_dir, "page2.html", '{% include "gone.html" %}')
    with pytest.raises(NotFound, match="no template 'gone.html' to include"):
        render(load_template("page2"), {}, "html")


def test_a_changed_file_is_read_again(user_dir):
    path = write(user_dir, "t.md", "one")
    assert render(load_template("t"), {}) == "one"
    path.write_text("two")
    assert render(load_template("t"), {}) == "two"


# ---------------------------------------------------------------- German filters


def test_german_dates():
    assert format_date_de(date(2026, 12, 24)) == "24.12.2026"
    assert format_date_de(date(2026, 12, 24), "long") == "24. Dezember 2026"
    assert format_date_de("2026-03-01", "long") == "1. März 2026"
    assert format_date_de(date(2026, 12, 24), "full") == "Donnerstag, 24. Dezember 2026"
    # a moment gives its date in local time (the tests run in Berlin): 23:30 UTC is the next day
    assert format_date_de(datetime(2026, 12, 23, 23, 30, tzinfo=UTC)) == "24.12.2026"
    assert format_date_de(None) == ""
    assert render_string("{{ d|longdate }}", {"d": date(2026, 5, 1)}) == "1. Mai 2026"


def test_german_money_percent_numbers_and_iban():
    assert format_money_de(Decimal("1234.5")) == "1.234,50 €"
    assert format_money_de(Decimal("0.005")) == "0,01 €"  # half up
    assert format_money_de(-12) == "-12,00 €"
    assert format_money_de(Decimal("1000000"), "USD") == "1.000.000,00 $"
    assert format_money_de(None) == ""
    assert format_percent_de(Decimal("0.19")) == "19 %"
    assert format_percent_de(Decimal("0.055")) == "5,5 %"
    assert format_percent_de(0.125, 1) == "12,5 %"
    assert format_number_de(Decimal("1234.5")) == "1.234,5"
    assert format_number_de(2, 2) == "2,00"
    assert format_iban("de89370400440532013000") == "DE89 3704 0044 0532 0130 00"
    assert render_string("{{ 1234.5|money }} {{ 0.07|percent }}", {}) == "1.234,50 € 7 %"
    assert render_string("{{ 123450|cents }}", {}) == "1.234,50 €"
    with pytest.raises(Invalid, match="cents wants whole cents"):
        render_string("{{ 12.5|cents }}", {})
    moment = datetime(2026, 12, 24, 13, 0, tzinfo=UTC)
    assert render_string("{{ m|datetime }}", {"m": moment}) == "24.12.2026 14:00"


def test_importing_the_module_loads_neither_jinja_nor_babel():
    probe = (
        "import sys, crmcli.services.templating\n"
        "print(sorted(m for m in ('jinja2', 'babel', 'markupsafe') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_paragraphs_keeps_single_line_breaks_and_escapes():
    from crmcli.services.templating import html_paragraphs

    assert str(html_paragraphs("a\r\nb & c\n \n\nd")) == "<p>a<br>\nb &amp; c</p>\n<p>d</p>"
    assert str(html_paragraphs(None)) == ""
