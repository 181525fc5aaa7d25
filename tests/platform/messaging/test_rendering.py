"""The template sandbox on its own (docs/architecture.md §5.11): plain Python, no database."""

from __future__ import annotations

import pytest

from souk_platform.messaging import rendering
from souk_platform.messaging.mailer import build_email, plain_text


def test_email_bodies_escape_values_and_subjects_are_one_line():
    subject, body = rendering.render(
        subject="Hi\n{{ customer_name }}",
        body="<p>{{ customer_name }}</p>",
        values={"customer_name": "<script>x</script>\r\nBcc: a@b.c"},
        html=True,
    )
    assert "\n" not in subject and "\r" not in subject
    assert "&lt;script&gt;" in body and "<script>" not in body
    _, text = rendering.render(subject="", body="{{ customer_name }}", values={"customer_name": "<b>"}, html=False)
    assert text == "<b>"


@pytest.mark.parametrize(
    "body",
    [
        "{{ customer_name.__class__.__base__.__subclasses__() }}",
        "{{ customer_name.__init__.__globals__ }}",
        "{{ (customer_name|attr('__class__')) }}",
        "{{ [1] * 100000000 }}",
        "{{ 2 ** 100000 }}",
        "{% for a in range(1000) %}{% for b in range(1000) %}{{ 'x' * 100 }}{% endfor %}{% endfor %}",
    ],
)
def test_the_sandbox_and_the_limits_refuse(body):
    with pytest.raises(rendering.TemplateProblem):
        rendering.render(subject="", body=body, values={"customer_name": "A"}, html=False)


def test_a_rendered_email_has_an_html_and_a_text_part():
    email = build_email(
        message_id="mes_1",
        from_address="shop@example.com",
        from_name="小店",
        to="lei@example.com",
        subject="你好",
        body_html="<p>A &amp; B</p><p>next</p>",
        domain="example.com",
    )
    assert email.get_body(("html",)).get_content().strip() == "<p>A &amp; B</p><p>next</p>"
    assert plain_text("<p>A &amp; B</p><p>next</p>") == "A & B\nnext\n"
    assert email["X-Souk-Message-Id"] == "mes_1"
