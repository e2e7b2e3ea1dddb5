"""Fault runs at system level (`make chaos`, DESIGN §3 and docs/RELIABILITY.md).

Each scenario starts the services as processes on a broker and databases of its own, drives
known traffic through them while it does harm (kill -9, SIGTERM, a broker node away, PostgreSQL
away, hostile messages), and then compares what the services hold with what it published
itself. One line per scenario: `CHAOS <scenario> events=N lost=L doubled=D dead_letters=K/K
PASS|FAIL`."""
