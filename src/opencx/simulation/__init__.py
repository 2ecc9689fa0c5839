"""Simulated contact-centre traffic driving the real router: staffing what-ifs."""
