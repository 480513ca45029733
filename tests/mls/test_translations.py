"""The German catalog is complete and every template speaks through it (issue 21, item 5).

The guard every later change lives with: (a) each msgid of locale/de has a German msgstr, none fuzzy; (b) the
catalog holds every msgid the code marks (makemessages run on a copy of the tree, the repository untouched);
(c) no template prints English outside {% translate %}/{% blocktranslate %}; (d) the director's dashboard reads
German under LANGUAGE_CODE=de; (e) an API 400 answers in the caller's Accept-Language.
"""

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from mls import services as services_mls
from mls.enums import Role
from slas import services
from slas.periods import Period
from tests.factories import api_token
from tests.factories.slas import sla_engagement
from tests.reporting.pdf_tools import pdf_text
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.integration

ROOT = Path(settings.BASE_DIR)
CATALOG = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"
TEMPLATES = ROOT / "templates"

# Words that read the same in every language MLS speaks: the brand (and its mark "M"), contract and metric
# acronyms, formats and units.
UNTRANSLATED_WORDS = frozenset(
    {"M", "MLS", "SoW", "QBR", "SLA", "SHA-256", "ZIP", "PDF", "CSV", "csv", "HTTP", "URL", "API", "CR"}
)


# --- the catalog -------------------------------------------------------------------------------------------------


@dataclass
class Entry:
    context: str
    msgid: str
    msgid_plural: str
    msgstrs: list[str]
    fuzzy: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.context, self.msgid)


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(line: str) -> str:
    """A quoted PO string's text: `"a \\"b\\"\\n"` → `a "b"` and a newline."""
    return re.sub(r"\\(.)", lambda match: ESCAPES.get(match.group(1), match.group(0)), line[1:-1])


def read_catalog(path: Path) -> list[Entry]:
    """The entries of a .po/.pot file (the header, msgid "", left out)."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    flags: set[str] = set()
    current = ""

    def close() -> None:
        if fields.get("msgid"):
            msgstrs = [fields[key] for key in sorted(fields) if key.startswith("msgstr")]
            entries.append(
                Entry(
                    fields.get("msgctxt", ""),
                    fields["msgid"],
                    fields.get("msgid_plural", ""),
                    msgstrs,
                    "fuzzy" in flags,
                )
            )
        fields.clear()
        flags.clear()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#~"):  # an obsolete entry: not part of the catalog
            continue
        if line.startswith("#,"):
            if "msgid" in fields:
                close()
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#") or not line:
            continue
        elif line.startswith('"'):
            fields[current] += _unquote(line)
        else:
            keyword, _, rest = line.partition(" ")
            if keyword in ("msgctxt", "msgid") and ("msgstr" in fields or "msgstr[0]" in fields):
                close()
            current = keyword
            fields[current] = _unquote(rest)
    close()
    return entries


def test_every_german_msgid_has_a_msgstr_and_none_is_fuzzy():
    entries = read_catalog(CATALOG)

    untranslated = [entry.msgid for entry in entries if not all(entry.msgstrs) or not entry.msgstrs]
    fuzzy = [entry.msgid for entry in entries if entry.fuzzy]

    assert entries, "the German catalog is empty"
    assert untranslated == [], "German msgstr missing for: " + "; ".join(untranslated)
    assert fuzzy == [], "fuzzy (unchecked) German msgstr for: " + "; ".join(fuzzy)


def test_placeholders_of_each_msgstr_are_those_of_its_msgid():
    placeholder = re.compile(r"%\((\w+)\)[sd]|\{\{ ?(\w+) ?\}\}")

    def names(text: str) -> set[str]:
        return {a or b for a, b in placeholder.findall(text)}

    wrong = [
        entry.msgid
        for entry in read_catalog(CATALOG)
        if any(names(msgstr) != names(entry.msgid) | names(entry.msgid_plural) for msgstr in entry.msgstrs)
        and not entry.msgid_plural
    ]

    assert wrong == [], "msgstr placeholders differ from the msgid's: " + "; ".join(wrong)


# Where makemessages looks, as a developer runs it (`--ignore=.venv`): sources and templates, no build output.
SOURCE_SUFFIXES = (".py", ".html", ".txt")
NOT_SOURCES = (".venv", "node_modules", "staticfiles", "media", "test-output", "locale", "__pycache__")


def _copy_sources(destination: Path) -> None:
    def ignored(directory: str, names: list[str]) -> set[str]:
        return {
            name
            for name in names
            if name.startswith(".")
            or name in NOT_SOURCES
            or (Path(directory, name).is_file() and not name.endswith(SOURCE_SUFFIXES))
        }

    shutil.copytree(ROOT, destination, ignore=ignored)


def test_the_catalog_holds_every_msgid_the_code_marks(tmp_path, monkeypatch):
    """makemessages on a copy of the tree (it writes next to the files it reads) into an empty catalog: every
    msgid it extracts must already be in locale/de/LC_MESSAGES/django.po."""
    tree = tmp_path / "tree"
    _copy_sources(tree)
    (tree / "locale" / "de" / "LC_MESSAGES").mkdir(parents=True)
    monkeypatch.chdir(tree)

    with override_settings(LOCALE_PATHS=[tree / "locale"]):
        call_command("makemessages", locale=["de"], no_location=True, keep_pot=True, verbosity=0)
    extracted = {entry.key: entry for entry in read_catalog(tree / "locale" / "django.pot")}
    known = {entry.key for entry in read_catalog(CATALOG)}

    missing = sorted(msgid for (context, msgid) in set(extracted) - known)
    assert len(extracted) > 100
    assert missing == [], (
        "Not in locale/de/LC_MESSAGES/django.po (run makemessages -l de --no-location --no-obsolete "
        "--ignore=.venv and translate them): " + " | ".join(missing)
    )


# --- the template lint -------------------------------------------------------------------------------------------

TRANSLATING_TAGS = {
    "translate": None,
    "trans": None,
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
}
SILENT_BLOCKS = {"comment": "endcomment", "verbatim": "endverbatim"}
# {% block %}s whose content is an attribute value (a CSS class), not words.
ATTRIBUTE_BLOCKS = frozenset({"main_class"})
# A placeholder for what a tag or variable prints: no letters, so only literal text is judged.
PRINTED = "\x00"
LITERAL_ATTRIBUTE = re.compile(r"""\b(title|placeholder|aria-label|alt)\s*=\s*(["'])([^"']*)\2""", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_][\w'\u2019.-]*")


def _template_text(source: str) -> str:
    """The template as its reader would see it with every tag and variable printed as PRINTED: text inside
    {% blocktranslate %} and {% comment %} is left out (it is translated, or never shown)."""
    parts: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        name = token.contents.split(maxsplit=1)[0] if token.token_type == TokenType.BLOCK and token.contents else ""
        if closing is not None:
            if name == closing:
                closing = None
            continue
        if token.token_type == TokenType.TEXT:
            parts.append(token.contents)
        elif token.token_type in (TokenType.VAR, TokenType.BLOCK):
            parts.append(PRINTED)
            closing = TRANSLATING_TAGS.get(name) or SILENT_BLOCKS.get(name)
            if name == "block" and token.split_contents()[1] in ATTRIBUTE_BLOCKS:
                closing = "endblock"
    return "".join(parts)


def untranslated_text(source: str) -> list[str]:
    """Literal words a reader would see that no {% translate %} covers: in text between tags, and in the
    title/placeholder/aria-label/alt attributes."""
    text = _template_text(source)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", text, flags=re.DOTALL | re.IGNORECASE)
    found = [value for *_, value in LITERAL_ATTRIBUTE.findall(text) if WORD.search(value.replace(PRINTED, " "))]
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&(#\d+|#x[0-9a-f]+|\w+);", " ", text, flags=re.IGNORECASE)
    for line in text.split(PRINTED):
        words = [word for word in WORD.findall(line) if word.strip(".-") not in UNTRANSLATED_WORDS]
        if words:
            found.append(" ".join(line.split()))
    return found


def linted_templates() -> list[Path]:
    return sorted(path for path in TEMPLATES.rglob("*") if path.suffix in (".html", ".txt"))


@pytest.mark.parametrize("path", linted_templates(), ids=lambda path: path.relative_to(TEMPLATES).as_posix())
def test_template_prints_no_text_outside_translate(path):
    assert untranslated_text(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('{% load i18n %}<h1>{% translate "Members" %}</h1>', []),
        ("<h1>Members</h1>", ["Members"]),
        ('<a title="Open it" href="{{ url }}">{{ name }}</a>', ["Open it"]),
        ("<a title=\"{% translate 'Open it' %}\">{{ name }}</a>", []),
        ("{% blocktranslate trimmed %}Hello <b>{{ name }}</b>{% endblocktranslate %}", []),
        ("{% comment %}Only for developers{% endcomment %}{# nor this #}<!-- nor this -->", []),
        ('<script nonce="{{ n }}">const label = "words";</script><style>p { color: red }</style>', []),
        ("<p>{{ count }} MLS · SoW &amp; QBR</p>", []),
        ("<td>{{ a }} of {{ b }}</td>", ["of"]),
    ],
)
def test_the_lint_finds_literal_words_and_nothing_else(source, found):
    assert untranslated_text(source) == found


# --- German pages and answers ------------------------------------------------------------------------------------

NOW = datetime(2026, 4, 30, 10, 0, tzinfo=UTC)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A request activates its language for the thread and nothing switches it back: later tests in this process
    would run their services in German."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def german():
    with override_settings(LANGUAGE_CODE="de"), translation.override("de"):
        yield


def test_the_directors_dashboard_reads_in_german(client, tenant_a, german, time_machine):
    time_machine.move_to(NOW, tick=False)
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1), monthly_fee="48250.00")
    with tenant_a.scope():
        deliver_month(engagement, date(2026, 3, 1))
        deliver_month(engagement, date(2026, 4, 1), breached=frozenset({"instructor_rating"}))
        services.finalize_due_periods(engagement=engagement, now=datetime(2026, 4, 7, tzinfo=UTC))
        services.compute_period(engagement=engagement, period=Period(date(2026, 4, 1), engagement.timezone), now=NOW)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    response = client.get(reverse("reporting:dashboard", kwargs={"organization_slug": tenant_a.organization.slug}))
    content = text_of(response)

    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in response.content.decode()
    assert "SLA-Ergebnisse in Q2 2026" in content  # a heading
    assert "Anstehende Termine (nächste 14 Tage)" in content
    assert "Gefährdet April 2026 (vorläufig): 3 erfüllt, 1 bisher verfehlt" in content  # the status tile
    # March's fee statement is the year's spend: 48,250.00 a month, no credit deducted (February had no period).
    assert "48.250,00 £ ausgegeben" in content
    assert "30. April 2026, Zeiten in Europe/London · Beträge in GBP" in content


def test_a_draft_qbr_downloaded_in_german_is_german_on_every_page(client, tenant_a, german, time_machine):
    time_machine.move_to(NOW, tick=False)
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1), monthly_fee="48250.00")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    response = client.get(
        reverse("reporting:qbr_draft", kwargs={"organization_slug": tenant_a.organization.slug, "pk": engagement.pk})
    )
    pages = [page for page in pdf_text(response.content).split("\f") if page.strip()]

    assert len(pages) > 1
    assert [number for number, page in enumerate(pages, 1) if "ENTWURF" not in page] == []
    assert [number for number, page in enumerate(pages, 1) if f"Seite {number} von {len(pages)}" not in page] == []
    assert "Zusammenfassung" in "".join(pages)  # the executive summary's heading


def test_a_members_chosen_language_wins_over_the_browsers(client, tenant_a):
    member = tenant_a.user(Role.VIEWER)
    client.force_login(member)
    dashboard = reverse("reporting:dashboard", kwargs={"organization_slug": tenant_a.organization.slug})

    chosen = client.post(reverse("set_language"), {"language": "de", "next": dashboard}, HTTP_ACCEPT_LANGUAGE="en")
    member.refresh_from_db()
    on_another_device = client.get(dashboard, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    client.logout()
    anonymous = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="de")

    assert (chosen.status_code, chosen["Location"], member.language) == (302, dashboard, "de")
    assert on_another_device["Content-Language"] == "de"
    assert "Anstehende Termine (nächste 14 Tage)" in text_of(on_another_device)
    assert anonymous["Content-Language"] == "de"


def test_an_unknown_language_is_not_stored(client, tenant_a):
    member = tenant_a.user(Role.VIEWER)
    client.force_login(member)

    client.post(reverse("set_language"), {"language": "xx"})
    member.refresh_from_db()

    assert member.language == ""


def test_an_invitation_email_speaks_the_inviting_members_language(
    tenant_a, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    owner = tenant_a.user(Role.OWNER)
    services_mls.set_member_language(user=owner, language="de")

    with tenant_a.scope(), django_capture_on_commit_callbacks(execute=True):
        invitation = services_mls.invite_member(
            organization=tenant_a.organization,
            invited_by=owner,
            email="neu@example.test",
            role=Role.VIEWER,
        )

    [email] = mail.outbox
    assert email.subject == f"Sie sind zu {tenant_a.organization.name} auf MLS eingeladen"
    assert email.body.splitlines()[:5] == [
        "Guten Tag,",
        "",
        f"{owner.email} hat Sie eingeladen, {tenant_a.organization.name} auf MLS als Lesender beizutreten.",
        "",
        "Nehmen Sie die Einladung an (gültig bis 16. März 2026):",  # 2 March + 14 days
    ]
    assert email.body.splitlines()[5] == services_mls.invitation_url(invitation)


def test_an_api_400_has_german_field_errors_for_accept_language_de(client, tenant_a):
    token = api_token(tenant_a)

    refused = client.post(
        "/api/v1/webhooks/",
        {"url": "kein Link", "events": ["everything"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert refused.status_code == 400
    assert refused["Content-Language"] == "de"
    assert refused.json() == {
        "url": ["Gib eine gültige URL ein."],  # DRF's own German catalog
        "events": [
            "Unbekannte Ereignisse: everything. Wählen Sie aus breach.created, credit.issued, credit.earned_back, "
            "escalation.created, qbr.ready, session.cancelled."
        ],
    }
