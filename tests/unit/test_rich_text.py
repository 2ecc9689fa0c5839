"""Formatted e-mail answers (``core.rich_text``): the light markup agents write, made
into HTML and plain text, and the allow-list that rebuilds HTML a client sends."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.rich_text import markup_html, markup_text, safe_link, sanitize_html

MARKUP = (
    "Hello **Ada**,\n"
    "your *parcel* left.\n\n"
    "- tracked [here](https://track.example.com/1?a=1&b=2)\n"
    "* insured\n\n"
    "1. open it\n"
    "2. check <it>"
)


def test_markup_becomes_paragraphs_lists_emphasis_and_links() -> None:
    assert markup_html(MARKUP) == (
        "<p>Hello <strong>Ada</strong>,<br>\nyour <em>parcel</em> left.</p>\n"
        '<ul><li>tracked <a href="https://track.example.com/1?a=1&amp;b=2">here</a></li>'
        "<li>insured</li></ul>\n"
        "<ol><li>open it</li><li>check &lt;it&gt;</li></ol>"
    )


def test_the_text_part_reads_as_written_without_the_markers() -> None:
    assert markup_text(MARKUP) == (
        "Hello Ada,\nyour parcel left.\n\n"
        "- tracked here (https://track.example.com/1?a=1&b=2)\n- insured\n\n"
        "1. open it\n2. check <it>"
    )


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "data:text/html,x", "vbscript:x", "//evil.example", "x y"]
)
def test_a_link_elsewhere_than_the_web_or_an_address_stays_text(href: str) -> None:
    written = f"see [this]({href})"
    assert "<a" not in markup_html(written)
    assert safe_link(href) is None


def test_a_link_to_its_own_address_is_written_once_in_the_text() -> None:
    assert markup_text("[https://a.example](https://a.example)") == "https://a.example"
    assert markup_text("[ada@example.com](mailto:ada@example.com)") == "ada@example.com"
    assert markup_html("[mail](mailto:ada@example.com)") == (
        '<p><a href="mailto:ada@example.com">mail</a></p>'
    )


def test_stars_inside_words_are_no_emphasis() -> None:
    assert markup_html("2*3*4 and snake_case") == "<p>2*3*4 and snake_case</p>"


class _Tags(HTMLParser):
    """The tags and attributes of a piece of HTML, and whether they nest properly."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.balanced = True
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))
        if tag not in ("br", "hr", "img"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False


def tags_of(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


SAFE_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "b", "i", "img", "div", "span"}


@given(st.text(alphabet=st.sampled_from(list("ab *-_[]()1.\n<>&\"':/htps")), max_size=80))
def test_markup_html_is_within_the_allow_list_and_survives_it_unchanged(markup: str) -> None:
    html = markup_html(markup)
    assert sanitize_html(html) == html
    parsed = tags_of(html)
    assert parsed.balanced
    assert not parsed.stack
    assert {tag for tag, _ in parsed.seen} <= SAFE_TAGS


PIECES = st.sampled_from(
    [
        "<p>", "</p>", "<script>", "</script>", "<style>", "<b>", "</b>", "<a ",
        'href="javascript:alert(1)"', 'href="https://ok.example"', "onclick=x", ">", "<img ",
        'src="cid:a-1"', 'src="http://t.example/p.gif"', "/>", "<iframe>", "</iframe>", "text",
        "&lt;", "&amp;", "<!-- c -->", "<svg><script>", "</svg>", "<li>", "<ul>", '"', "'", " ",
    ]
)  # fmt: skip


@given(st.lists(PIECES, max_size=25).map("".join))
def test_sanitized_html_keeps_no_script_handler_or_foreign_link(html: str) -> None:
    clean = sanitize_html(html)
    parsed = tags_of(clean)
    assert parsed.balanced
    assert not parsed.stack
    for tag, attrs in parsed.seen:
        assert tag not in {"script", "style", "iframe", "svg"}
        for name, value in attrs:
            assert name in {"href", "src", "alt", "title"}
            if name == "href":
                assert re.match(r"^(https?://|mailto:)", value or "")
            if name == "src":
                assert (value or "").startswith("cid:")
    assert sanitize_html(clean) == clean


def test_sanitizing_keeps_formatting_and_drops_the_rest() -> None:
    html = (
        '<div style="x"><p onclick="steal()">Hi <b>you</b> <a href="javascript:x">a</a>'
        '<a href="https://e.example" target="_blank">b</a></p>'
        '<script>alert(1)</script><style>p{}</style><img src="cid:attachment-3" alt="logo">'
        '<img src="https://tracker.example/p.gif"><table><tr><td>cell</td></tr></table>'
        "<ul><li>one<li>two</ul>"
    )
    assert sanitize_html(html) == (
        '<div><p>Hi <b>you</b> <a>a</a><a href="https://e.example">b</a></p>'
        '<img src="cid:attachment-3" alt="logo">cell'
        "<ul><li>one</li><li>two</li></ul></div>"
    )
