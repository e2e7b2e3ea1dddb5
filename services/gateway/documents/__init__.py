"""The PDFs the gateway draws itself, from what the services answer: the 签到表 of a session
and the 结业证书 of completed enrolments (the reports' PDFs are reporting's)."""
