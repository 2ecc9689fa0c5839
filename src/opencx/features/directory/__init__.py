"""Sites, teams, skills, queues, business hours and contact reasons."""
