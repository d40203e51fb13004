"""Fixtures for tests with TCP upstreams; import them into a test module by name."""

from typing import List

import pytest

from harness import TcpEcho


@pytest.fixture
def start_tcp_echo():
    """Factory: start_tcp_echo(name, banner=False) -> a `TcpEcho` on 127.0.0.1, closed at
    teardown."""
    echoes: List[TcpEcho] = []

    def start(name: str, banner: bool = False) -> TcpEcho:
        echoes.append(TcpEcho(name, banner=banner))
        return echoes[-1]

    try:
        yield start
    finally:
        for echo in echoes:
            echo.close()
