"""Public fakes for tests of OpenCX and of code built on it."""

from opencx.testing.fakes import FakeClock, InMemoryBlobStore, RecordingJobQueue, RecordingPublisher
from opencx.testing.transports import FakeHttp, FakeMail, SentMail

__all__ = [
    "FakeClock",
    "FakeHttp",
    "FakeMail",
    "InMemoryBlobStore",
    "RecordingJobQueue",
    "RecordingPublisher",
    "SentMail",
]
