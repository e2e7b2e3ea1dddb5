"""The kit's logging: noise from the AMQP client filtered, nothing else."""

import logging

from amqp.abstract_channel import IGNORED_METHOD_DURING_CHANNEL_CLOSE

import services.kit.logging  # noqa: F401 - installs the filter


def test_the_closing_channel_warning_of_py_amqp_is_filtered_and_other_warnings_are_not(caplog):
    with caplog.at_level(logging.WARNING, logger="amqp"):
        logging.getLogger("amqp").warning(IGNORED_METHOD_DURING_CHANNEL_CLOSE, (60, 80), 1)
        logging.getLogger("amqp").warning("a real problem")
    assert [r.getMessage() for r in caplog.records] == ["a real problem"]
