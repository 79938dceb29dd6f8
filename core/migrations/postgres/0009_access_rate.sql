-- For the unusual-access-rate check (R6): reads per actor over time.
CREATE INDEX audit_entries_actor_time ON audit_entries (actor_id, at);
