"""WEBHOOK_* settings from the environment; bad values stop the app."""

import pytest

from commentsvc.config import ConfigError, from_environment


def test_webhook_settings_are_read_from_the_environment():
    found = from_environment(
        {
            "COMMENTSVC_WEBHOOK_TIMEOUT": "2.5",
            "COMMENTSVC_WEBHOOK_ATTEMPT_DEADLINE": "7.5",
            "COMMENTSVC_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8, ::1, localhost",
            "COMMENTSVC_WEBHOOK_POLL_INTERVAL": "0.5",
            "COMMENTSVC_WEBHOOK_BATCH_SIZE": "20",
            "COMMENTSVC_WEBHOOK_CONCURRENCY": "4",
            "COMMENTSVC_WEBHOOK_LEASE_SECONDS": "30",
            "COMMENTSVC_WEBHOOK_RETRY_DELAYS": "1,2,3",
        }
    )
    assert found["WEBHOOK_TIMEOUT"] == 2.5
    assert found["WEBHOOK_ATTEMPT_DEADLINE"] == 7.5
    assert found["WEBHOOK_BATCH_SIZE"] == 20
    assert found["WEBHOOK_RETRY_DELAYS"] == "1,2,3"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "10.0.0.0/40", "neither a network"),
        ("WEBHOOK_RETRY_DELAYS", "5,soon", "not a number of seconds"),
        ("WEBHOOK_RETRY_DELAYS", "", "at least one"),
        ("WEBHOOK_TIMEOUT", "0", "above zero"),
        ("WEBHOOK_ATTEMPT_DEADLINE", "0", "above zero"),
        ("WEBHOOK_ATTEMPT_DEADLINE", "inf", "finite"),
        ("WEBHOOK_BATCH_SIZE", "many", "must be a int"),
    ],
)
def test_bad_webhook_settings_stop_the_app(name, value, message):
    with pytest.raises(ConfigError) as error:
        from_environment({f"COMMENTSVC_{name}": value})
    assert name in str(error.value)
    assert message in str(error.value)
