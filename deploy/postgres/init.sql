-- PostgreSQL first-boot script for `docker compose` (mounted into /docker-entrypoint-initdb.d/).
-- Each service owns its own database (DESIGN §7); the services create their tables themselves
-- through their migrations, so this only makes the four empty databases, owned by POSTGRES_USER.
-- It runs once, when the data volume is empty: a database added here later needs
-- `docker compose down -v` or a manual CREATE DATABASE.
CREATE DATABASE peixun_scheduling;
CREATE DATABASE peixun_enrollment;
CREATE DATABASE peixun_reporting;
CREATE DATABASE peixun_gateway;
