"""Local gridloop stack: real Kafka (KRaft), Redis and PostgreSQL servers on 127.0.0.1."""
