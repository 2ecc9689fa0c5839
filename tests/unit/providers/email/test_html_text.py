"""An HTML body reads as a person would read it in a browser, as plain text."""

from __future__ import annotations

import pytest

from opencx.providers.email import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<div>One</div><div>Two</div>", "One\nTwo"),
        ('<div dir="ltr">Hi,<div><br></div><div>Bye</div></div>', "Hi,\n\nBye"),
        ("One<br>Two<br><br>Three", "One\nTwo\n\nThree"),
        ("<h1>Title</h1>Body", "Title\n\nBody"),
        ("  lots   of\n\n  space  ", "lots of space"),
        ("<p>caf&eacute; &amp; th&#233; &#x2014; 5&nbsp;%</p>", "café & thé — 5 %"),
        ("<p>Hello <b>big</b> <i>world</i></p>", "Hello big world"),
        ("<pre>  keep\n    this</pre>", "  keep\n    this"),
        ("<table><tr><td>A</td><td>B</td></tr><tr><th>C</th><td>D</td></tr></table>", "A B\nC D"),
        ("", ""),
    ],
)
def test_blocks_breaks_and_entities(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_lists_read_as_dashes_and_numbers_nested_lists_indented() -> None:
    html = (
        "<p>Steps:</p><ol><li>Unplug</li><li>Wait<ul><li>ten seconds</li><li>or more</li>"
        '</ul></li><li>Plug in</li></ol><ol start="7"><li>seven</li></ol>'
    )

    assert html_to_text(html) == (
        "Steps:\n\n1. Unplug\n2. Wait\n  - ten seconds\n  - or more\n3. Plug in\n\n7. seven"
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (
            '<a href="https://example.com/track">Track it</a>',
            "Track it (https://example.com/track)",
        ),
        ('<a href="https://example.com">https://example.com</a>', "https://example.com"),
        (
            '<a href="mailto:help@example.com?subject=hi">write us</a>',
            "write us (help@example.com)",
        ),
        ('<a href="mailto:help@example.com">help@example.com</a>', "help@example.com"),
        ('<a href="#top">Back to top</a>', "Back to top"),
        ('<a href="javascript:void(0)">Click</a>', "Click"),
        ('<a href="https://example.com/x"><img src="cid:logo"></a>', ""),
    ],
)
def test_links_show_their_target_when_it_tells_something(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_nothing_hidden_is_shown() -> None:
    html = (
        "<html><head><title>Newsletter</title><style>p { color: red }</style></head><body>"
        '<span style="display: none !important">preheader junk</span>'
        "<!--[if mso]><p>Outlook only</p><![endif]-->"
        "<script>alert('x')</script><noscript>enable js</noscript>"
        "<div hidden>secret</div><template><p>later</p></template>"
        '<p>Visible</p><ul style="display:none"><li>hidden item</li></ul>after</body></html>'
    )

    assert html_to_text(html) == "Visible\n\nafter"


def test_quoted_html_reads_as_quoted_lines() -> None:
    html = "Yes.<blockquote>Does it work?<br><br>Support</blockquote>"

    assert html_to_text(html) == "Yes.\n\n> Does it work?\n>\n> Support"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>unclosed <b>bold<p>next", "unclosed bold\n\nnext"),
        ("</div></p>stray ends<br/>", "stray ends"),
        ("<div><span>a</div>b", "a\nb"),
        ("<![if !supportLists]>1.<![endif]> Word list", "1. Word list"),
        ("<![bogus section> text", "text"),
        ("<p>a < b and c > d</p>", "a < b and c > d"),
        ("<p>cut in the mid", "cut in the mid"),
    ],
)
def test_malformed_html_is_read_leniently(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.timeout(10)  # quadratic work on unclosed tags would take minutes
def test_unclosed_and_stray_tags_stay_linear() -> None:
    html = "<div>" * 40_000 + "text" + "</span>" * 40_000 + "<ol>" * 10_000 + "<li>x" * 10_000

    assert html_to_text(html).startswith("text")
