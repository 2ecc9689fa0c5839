"""Public fakes for tests of OpenCX and of code built on it."""

from opencx.testing.fakes import FakeClock, InMemoryBlobStore, RecordingJobQueue, RecordingPublisher

__all__ = ["FakeClock", "InMemoryBlobStore", "RecordingJobQueue", "RecordingPublisher"]
