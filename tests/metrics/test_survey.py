"""M12's survey: asked in the web UI of each active user once a quarter, 0–10, dismissable; each
answer audited with the person's teams."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from metrics.models import SurveyAnswer
from metrics.periods import quarter_of
from metrics.services import PlatformInvalid, survey_answer, survey_dismiss, survey_due

pytestmark = pytest.mark.django_db

QUESTION = "How likely are you to recommend SSOps to a colleague?"


def test_an_active_user_is_asked_on_every_page_until_they_answer(client, bob):
    client.force_login(bob)
    for path in ("/catalog/", "/requests/", "/platform-metrics/"):
        assert QUESTION in client.get(path).content.decode()
    response = client.post("/survey/", {"score": "9", "next": "/requests/"})
    assert response.status_code == 302 and response["Location"] == "/requests/"
    page = client.get("/requests/").content.decode()
    assert QUESTION not in page and "Thank you for answering." in page
    answer = SurveyAnswer.objects.get(user=bob)
    assert (answer.score, answer.quarter) == (9, quarter_of(timezone.now()))
    assert [t.slug for t in answer.teams.all()] == ["payments"]
    event = AuditEvent.objects.get(action="survey.answered")
    assert json.loads(event.body)["payload"]["teams"] == ["payments"]


def test_dismissing_it_stops_the_question_until_next_quarter(client, bob):
    client.force_login(bob)
    client.post("/survey/", {"dismiss": "1", "next": "/catalog/"})
    assert QUESTION not in client.get("/catalog/").content.decode()
    assert SurveyAnswer.objects.get(user=bob).dismissed
    assert AuditEvent.objects.filter(action="survey.dismissed").count() == 1
    next_quarter = timezone.now() + dt.timedelta(days=100)
    assert survey_due(user=bob, now=next_quarter)


def test_once_a_quarter_and_only_0_to_10(bob):
    with pytest.raises(PlatformInvalid, match="0 \\(not at all\\) to 10"):
        survey_answer(actor=bob, score=11)
    with pytest.raises(PlatformInvalid):
        survey_answer(actor=bob, score="ten")
    assert not SurveyAnswer.objects.exists()  # a bad answer changes nothing
    survey_answer(actor=bob, score=0)
    with pytest.raises(PlatformInvalid, match="already answered or dismissed"):
        survey_dismiss(actor=bob)
    assert SurveyAnswer.objects.get().score == 0


def test_an_inactive_or_anonymous_user_is_not_asked(client, bob):
    bob.is_active = False
    bob.save()
    assert not survey_due(user=bob)
    assert QUESTION not in client.get("/accounts/login/").content.decode()


def test_a_bad_answer_comes_back_as_a_message_and_next_stays_on_the_site(client, bob):
    client.force_login(bob)
    response = client.post("/survey/", {"score": "42", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert "Choose a whole number from 0" in client.get("/").content.decode()
