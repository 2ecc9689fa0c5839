"""The event log and the audit trail: appended inside the caller's transaction
(``record``) and read by integrators and admins (``history``)."""
